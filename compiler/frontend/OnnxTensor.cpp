// ONNX tensors to kiln tensors: element-type mapping, TensorProto decoding (raw_data or the typed
// repeated fields) and the reader for serialized TensorProto files used by the backend test data.
#include "compiler/frontend/OnnxFrontend.h"
#include "compiler/frontend/OnnxImport.h"
#include "ir/Escape.h"

#include <llvm/Support/MemoryBuffer.h>

#include <fmt/format.h>

#include <cstring>

namespace kiln {
namespace onnxfe {

using onnx::TensorProto;

llvm::Error makeError(const std::string &msg) {
  // Frontend messages are one line and quote names from the model: escaped here, once for all.
  return llvm::createStringError(llvm::inconvertibleErrorCode(), escapeText(msg));
}

std::optional<DType> dtypeFromOnnx(int onnxType) {
  switch (onnxType) {
  case TensorProto::FLOAT:
    return DType::F32;
  case TensorProto::DOUBLE:
    return DType::F64;
  case TensorProto::FLOAT16:
    return DType::F16;
  case TensorProto::INT8:
    return DType::I8;
  case TensorProto::UINT8:
    return DType::U8;
  case TensorProto::INT16:
    return DType::I16;
  case TensorProto::INT32:
    return DType::I32;
  case TensorProto::INT64:
    return DType::I64;
  case TensorProto::BOOL:
    return DType::Bool;
  default:
    return std::nullopt;
  }
}

std::string onnxTypeName(int onnxType) {
  if (TensorProto::DataType_IsValid(onnxType))
    return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(onnxType));
  return fmt::format("data type {}", onnxType);
}

namespace {

// Copies a repeated field into little-endian storage of `Elem` (the machine is little-endian, as
// is ONNX's raw_data, so a memcpy of each converted element is the encoding).
template <class Elem, class Field> std::vector<uint8_t> packField(const Field &f) {
  std::vector<uint8_t> out(static_cast<size_t>(f.size()) * sizeof(Elem));
  for (int i = 0; i < f.size(); ++i) {
    Elem e = static_cast<Elem>(f.Get(i));
    std::memcpy(out.data() + static_cast<size_t>(i) * sizeof(Elem), &e, sizeof(Elem));
  }
  return out;
}

} // namespace

llvm::Expected<Tensor> tensorFromProto(const TensorProto &tp, const std::string &what) {
  if (tp.data_location() == TensorProto::EXTERNAL) {
    std::string where;
    for (const auto &e : tp.external_data())
      if (e.key() == "location")
        where = fmt::format(" in '{}'", e.value());
    return makeError(fmt::format("{}: expected data stored in the model, found external data{} "
                                 "(load the model with its external data and save it as one "
                                 "file)",
                                 what, where));
  }
  if (tp.has_segment())
    return makeError(fmt::format("{}: expected a whole tensor, found a segment", what));
  std::optional<DType> dt = dtypeFromOnnx(tp.data_type());
  if (!dt)
    return makeError(fmt::format("{}: expected element type {}, found {}", what,
                                 kSupportedOnnxTypes, onnxTypeName(tp.data_type())));
  Shape shape(tp.dims().begin(), tp.dims().end());
  for (int64_t d : shape)
    if (d < 0 || d > kMaxObjectBytes)
      return makeError(fmt::format("{}: expected dimensions from 0 to {}, found {}", what,
                                   kMaxObjectBytes, d));
  // The data is in the file, so no tensor that fits in it overflows; dims alone can claim anything.
  std::optional<int64_t> n = checkedNumElements(shape);
  int64_t expectBytes = 0;
  if (!n || __builtin_mul_overflow(*n, static_cast<int64_t>(dtypeSize(*dt)), &expectBytes))
    return makeError(fmt::format("{}: expected dimensions whose product fits in 64 bits, found {}",
                                 what, shapeString(shape)));

  std::vector<uint8_t> bytes;
  if (tp.has_raw_data()) {
    const std::string &raw = tp.raw_data();
    bytes.assign(raw.begin(), raw.end());
  } else {
    switch (tp.data_type()) {
    case TensorProto::FLOAT:
      bytes = packField<float>(tp.float_data());
      break;
    case TensorProto::DOUBLE:
      bytes = packField<double>(tp.double_data());
      break;
    case TensorProto::INT64:
      bytes = packField<int64_t>(tp.int64_data());
      break;
    case TensorProto::INT32:
      bytes = packField<int32_t>(tp.int32_data());
      break;
    case TensorProto::INT16:
      bytes = packField<int16_t>(tp.int32_data());
      break;
    case TensorProto::INT8:
      bytes = packField<int8_t>(tp.int32_data());
      break;
    case TensorProto::UINT8:
      bytes = packField<uint8_t>(tp.int32_data());
      break;
    case TensorProto::BOOL:
      bytes = packField<uint8_t>(tp.int32_data());
      break;
    // float16 values travel as their 16 bit patterns in int32_data.
    case TensorProto::FLOAT16:
      bytes = packField<uint16_t>(tp.int32_data());
      break;
    default:
      break;
    }
  }
  if (bytes.size() != static_cast<size_t>(expectBytes))
    return makeError(fmt::format("{}: expected {} bytes of data for {}[{}], found {}", what,
                                 expectBytes, dtypeName(*dt), shapeString(shape), bytes.size()));
  if (*dt == DType::Bool)
    for (uint8_t &b : bytes)
      b = b != 0;
  return Tensor(*dt, std::move(shape), std::move(bytes));
}

} // namespace onnxfe

llvm::Expected<Tensor> readTensorProtoFile(const std::string &path) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buf)
    return onnxfe::makeError(
        fmt::format("{}: cannot read file: {}", path, buf.getError().message()));
  onnx::TensorProto tp;
  if (!tp.ParseFromArray((*buf)->getBufferStart(), static_cast<int>((*buf)->getBufferSize())))
    return onnxfe::makeError(fmt::format(
        "{}: expected a serialized onnx.TensorProto, found data protobuf cannot parse", path));
  std::string what = tp.name().empty() ? "tensor" : fmt::format("tensor '{}'", tp.name());
  auto t = onnxfe::tensorFromProto(tp, what);
  if (!t)
    return onnxfe::makeError(fmt::format("{}: {}", path, llvm::toString(t.takeError())));
  return t;
}

} // namespace kiln
