// Element types, shapes and layouts: names, sizes and printing.
#include "ir/Types.h"

#include <fmt/format.h>

namespace kiln {

size_t dtypeSize(DType t) {
  switch (t) {
  case DType::F32: case DType::I32: return 4;
  case DType::F64: case DType::I64: return 8;
  case DType::F16: case DType::I16: return 2;
  case DType::I8: case DType::U8: case DType::Bool: return 1;
  case DType::Undefined: return 0;
  }
  return 0;
}

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F32: return "f32";
  case DType::F64: return "f64";
  case DType::F16: return "f16";
  case DType::I8: return "i8";
  case DType::U8: return "u8";
  case DType::I16: return "i16";
  case DType::I32: return "i32";
  case DType::I64: return "i64";
  case DType::Bool: return "bool";
  case DType::Undefined: return "undef";
  }
  return "undef";
}

std::optional<DType> parseDType(const std::string &name) {
  for (DType t : {DType::F32, DType::F64, DType::F16, DType::I8, DType::U8, DType::I16, DType::I32,
                  DType::I64, DType::Bool})
    if (name == dtypeName(t))
      return t;
  return std::nullopt;
}

bool isFloat(DType t) { return t == DType::F32 || t == DType::F64 || t == DType::F16; }

int64_t numElements(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

std::optional<int64_t> checkedNumElements(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    if (d < 0 || __builtin_mul_overflow(n, d, &n))
      return std::nullopt;
  return n;
}

std::string shapeString(const Shape &s) {
  if (s.empty())
    return "scalar";
  return fmt::format("{}", fmt::join(s, "x"));
}

bool Layout::isRowMajor() const {
  if (!blocks.empty())
    return false;
  for (size_t i = 0; i < order.size(); ++i)
    if (order[i] != static_cast<int>(i))
      return false;
  return true;
}

int64_t TensorType::byteSize() const {
  int64_t n = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    int64_t e = shape[d];
    for (auto &b : layout.blocks)
      if (b.first == static_cast<int>(d))
        e = (e + b.second - 1) / b.second * b.second; // a blocked dim is padded to whole blocks
    n *= e;
  }
  return n * static_cast<int64_t>(dtypeSize(elem.storage));
}

std::optional<int64_t> TensorType::checkedByteSize() const {
  int64_t n = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    int64_t e = shape[d];
    if (e < 0)
      return std::nullopt;
    for (auto &b : layout.blocks)
      if (b.first == static_cast<int>(d) && b.second > 0) {
        // Padded to whole blocks, as byteSize does, without overflowing on the way.
        int64_t blocks = e / b.second + (e % b.second != 0);
        if (__builtin_mul_overflow(blocks, b.second, &e))
          return std::nullopt;
      }
    if (__builtin_mul_overflow(n, e, &n))
      return std::nullopt;
  }
  if (__builtin_mul_overflow(n, static_cast<int64_t>(dtypeSize(elem.storage)), &n))
    return std::nullopt;
  return n;
}

std::string typeString(const TensorType &t) {
  std::string s;
  if (t.elem.quant) {
    const QuantParams &q = *t.elem.quant;
    s = fmt::format("q{}<axis={},scales=[{}],zero_points=[{}]>", dtypeName(t.elem.storage), q.axis,
                    fmt::join(q.scales, ","), fmt::join(q.zeroPoints, ","));
  } else {
    s = dtypeName(t.elem.storage);
  }
  s += fmt::format("[{}]", fmt::join(t.shape, ","));
  if (!t.layout.isRowMajor()) {
    std::vector<std::string> bl;
    for (auto &b : t.layout.blocks)
      bl.push_back(fmt::format("{}:{}", b.first, b.second));
    s += fmt::format("{{order=[{}],blocks=[{}]}}", fmt::join(t.layout.order, ","),
                     fmt::join(bl, ","));
  }
  return s;
}

} // namespace kiln
