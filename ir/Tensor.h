// Constant tensor data. A Tensor owns its bytes once (shared, immutable); passes that fold or
// repack create new tensors instead of mutating.
#pragma once

#include "ir/Types.h"

#include <cstring>
#include <memory>
#include <vector>

namespace kiln {

struct Tensor {
  DType dtype = DType::F32;
  Shape shape;
  std::shared_ptr<const std::vector<uint8_t>> bytes;

  Tensor() = default;
  Tensor(DType t, Shape s, std::vector<uint8_t> data)
      : dtype(t), shape(std::move(s)),
        bytes(std::make_shared<const std::vector<uint8_t>>(std::move(data))) {}

  int64_t numElements() const { return kiln::numElements(shape); }
  size_t byteSize() const { return bytes ? bytes->size() : 0; }
  const uint8_t *raw() const { return bytes ? bytes->data() : nullptr; }

  /// Element i converted to double / int64 (any dtype).
  double getDouble(int64_t i) const;
  int64_t getInt(int64_t i) const;
  /// All elements as int64 (for shape-like operands) / double.
  std::vector<int64_t> toInts() const;
  std::vector<double> toDoubles() const;

  template <class T> static Tensor fromVector(DType t, Shape s, const std::vector<T> &v) {
    std::vector<uint8_t> b(v.size() * sizeof(T));
    if (!v.empty())
      std::memcpy(b.data(), v.data(), b.size());
    return Tensor(t, std::move(s), std::move(b));
  }
  /// A tensor of dtype t whose elements are converted from doubles.
  static Tensor fromDoubles(DType t, Shape s, const std::vector<double> &v);
  static Tensor fromInts(DType t, Shape s, const std::vector<int64_t> &v);

  /// FNV-1a 64 of dtype, shape and bytes: stable across runs and machines.
  uint64_t hash() const;
};

} // namespace kiln
