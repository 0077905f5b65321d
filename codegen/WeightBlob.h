// Weight emission: the bytes of all constants of a model laid out in one 64-byte aligned blob and
// printed as a C++ string literal. A string literal compiles an order of magnitude faster and
// leaner than a brace list of numbers (45 MB: ~2 s / 0.5 GB versus ~39 s / 4.7 GB with g++), and
// the encoding keeps source bytes per weight byte low.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

struct WeightBlob {
  std::vector<uint8_t> bytes;   // all constants, each starting at a multiple of the alignment
  std::vector<int64_t> offsets; // one per added constant
  /// Appends `size` bytes at the next aligned offset and returns that offset.
  int64_t add(const uint8_t *data, size_t size, int64_t alignment = 64);
};

/// Encodes bytes as adjacent string literals, one per line of about `lineBytes` source bytes, each
/// line `"..."` followed by a newline. Printable ASCII is written raw except `"`, `\` and `?` (no
/// trigraphs); other bytes are octal escapes of minimal length, three digits when the next source
/// character is a digit (an escape would otherwise swallow it). Returns `""` for no bytes.
std::string encodeStringLiteral(const uint8_t *data, size_t size, size_t lineBytes = 4096);

} // namespace kiln
