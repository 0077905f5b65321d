// Element types, layouts and tensor types of kiln's IR.
//
// A TensorType is element type + static shape + layout. Quantization lives in the element type
// (storage type plus scale/zero-point, per tensor or per axis), so a Quantize/Dequantize pair is a
// type change and buffer sizes stay right. The layout is a general descriptor (dimension order and
// block sizes) so that layout passes are type-changing rewrites the verifier can check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kiln {

enum class DType : uint8_t { Undefined, F32, F64, F16, I8, U8, I16, I32, I64, Bool };

/// Bytes per element of the storage type.
size_t dtypeSize(DType t);
/// Short name used in .kir and diagnostics: f32, f64, f16, i8, u8, i16, i32, i64, bool.
const char *dtypeName(DType t);
/// Inverse of dtypeName; nullopt for an unknown name.
std::optional<DType> parseDType(const std::string &name);
bool isFloat(DType t);

using Shape = std::vector<int64_t>;
int64_t numElements(const Shape &s);
/// numElements without overflow: nullopt when a dimension is negative or the product does not fit
/// in int64. Readers of untrusted shapes (frontend, .kir parser) check with it, so that every
/// shape in a graph has an element count and byte size that numElements/byteSize compute exactly.
std::optional<int64_t> checkedNumElements(const Shape &s);

/// The largest object, in bytes, that generated code may hold in one tensor or one arena:
/// PTRDIFF_MAX of a 32-bit target (2^31 - 1). The generic target's C++ must build and run on 32-bit
/// cores, where a larger object cannot be addressed (pointer differences and sizeof overflow), so
/// kiln refuses such a tensor or arena with a diagnostic instead of writing code that cannot work.
constexpr int64_t kMaxObjectBytes = 2147483647;
/// "1x3x224x224"; "scalar" for rank 0.
std::string shapeString(const Shape &s);

/// Affine quantization parameters: real = scale * (stored - zeroPoint). Per tensor when axis < 0
/// (one scale, one zero point), else one pair per index of `axis`.
struct QuantParams {
  int axis = -1;
  std::vector<float> scales;
  std::vector<int32_t> zeroPoints;
  bool operator==(const QuantParams &o) const {
    return axis == o.axis && scales == o.scales && zeroPoints == o.zeroPoints;
  }
};

struct ElementType {
  DType storage = DType::F32;
  std::optional<QuantParams> quant;
  ElementType() = default;
  ElementType(DType t) : storage(t) {}
  bool isQuantized() const { return quant.has_value(); }
  bool operator==(const ElementType &o) const { return storage == o.storage && quant == o.quant; }
  bool operator!=(const ElementType &o) const { return !(*this == o); }
};

/// Physical arrangement of a tensor's logical dimensions. `order` lists logical dims from
/// outermost to innermost; `blocks` splits a logical dim into (dim / size) outer and (size) inner
/// parts, the inner parts stored innermost in the listed order (NCHW16c: order {0,1,2,3},
/// blocks {{1,16}}). The empty descriptor means dense row-major, the form at the model boundary.
struct Layout {
  std::vector<int> order;
  std::vector<std::pair<int, int>> blocks;
  bool isRowMajor() const;
  bool operator==(const Layout &o) const { return order == o.order && blocks == o.blocks; }
  bool operator!=(const Layout &o) const { return !(*this == o); }
};

struct TensorType {
  ElementType elem;
  Shape shape;
  Layout layout;

  TensorType() = default;
  TensorType(ElementType e, Shape s, Layout l = {})
      : elem(std::move(e)), shape(std::move(s)), layout(std::move(l)) {}
  DType dtype() const { return elem.storage; }
  int rank() const { return static_cast<int>(shape.size()); }
  int64_t numElements() const { return kiln::numElements(shape); }
  /// Storage bytes, including padding that a blocked layout adds.
  int64_t byteSize() const;
  /// byteSize without overflow: nullopt for a negative dimension or more than int64 can count.
  std::optional<int64_t> checkedByteSize() const;
  bool operator==(const TensorType &o) const {
    return elem == o.elem && shape == o.shape && layout == o.layout;
  }
  bool operator!=(const TensorType &o) const { return !(*this == o); }
};

/// The .kir spelling: f32[1,3,224,224], with a layout or quantization suffix when present.
std::string typeString(const TensorType &t);

} // namespace kiln
