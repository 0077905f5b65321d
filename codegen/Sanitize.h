// AddressSanitizer annotations of the generated NAME_run: proof that the code touches only the
// arena bytes the plan says are in use at each step. Under ASan (g++'s __SANITIZE_ADDRESS__ or
// clang's __has_feature(address_sanitizer)) NAME_run poisons the whole arena on entry; before each
// node it re-poisons what the previous node touched and unpoisons exactly the bytes this node
// touches (its arena operands and results, unpadded, and its scratch), so reading or writing any
// other slot, a dead value, or the alignment padding after a tensor is reported; on exit it
// unpoisons the arena so the caller's tools see it clean. In every other build the annotations are
// empty macros and compile to nothing. The ranges come from the emitter's own offsets: the emitter
// hands over, per node, the (offset, bytes) pairs it binds.
#pragma once

#include "codegen/Writer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

/// Bytes [offset, offset + bytes) of the arena.
struct ArenaRange {
  int64_t offset = 0;
  int64_t bytes = 0;
  bool operator==(const ArenaRange &o) const { return offset == o.offset && bytes == o.bytes; }
  bool operator<(const ArenaRange &o) const {
    return offset != o.offset ? offset < o.offset : bytes < o.bytes;
  }
};

/// Prints the preprocessor lines defining KILN_ASAN_POISON / KILN_ASAN_UNPOISON (pointer, bytes):
/// calls into <sanitizer/asan_interface.h> under ASan, `(void)0` otherwise. Goes at file scope.
void asanPrelude(Writer &w);

/// Prints the statements at the start of NAME_run: poison all `arenaBytes` bytes of `arena` (a
/// pointer expression to the arena's first byte).
void asanEntry(Writer &w, const std::string &arena, int64_t arenaBytes);

/// Prints the statements at the start of a node's block: poison the ranges the previous node
/// touched that this one does not (`previous` is empty for the first node), then unpoison every
/// range this node touches. Overlapping ranges (a value reusing a dead one's bytes, in-place
/// results) are fine: unpoisoning comes last. Both lists are normalized (sorted, empty ranges and
/// duplicates dropped).
void asanStep(Writer &w, const std::string &arena, const std::vector<ArenaRange> &previous,
              const std::vector<ArenaRange> &current);

/// Prints the statements before NAME_run returns: unpoison the whole arena.
void asanExit(Writer &w, const std::string &arena, int64_t arenaBytes);

} // namespace kiln
