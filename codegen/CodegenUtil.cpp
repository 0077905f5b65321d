// Spelling helpers: see CodegenUtil.h.
#include "codegen/CodegenUtil.h"

#include <fmt/format.h>

#include <cmath>

namespace kiln {

const char *cElementType(DType t) {
  switch (t) {
  case DType::F32:
    return "float";
  case DType::F64:
    return "double";
  case DType::I64:
    return "int64_t";
  case DType::I32:
    return "int32_t";
  case DType::I16:
    return "int16_t";
  case DType::I8:
    return "int8_t";
  case DType::U8:
    return "uint8_t";
  case DType::Bool:
    return "uint8_t";
  default:
    return nullptr;
  }
}

const char *viewType(DType t) {
  switch (t) {
  case DType::F32:
    return "kiln_f32";
  case DType::F64:
    return "kiln_f64";
  case DType::I64:
    return "kiln_i64";
  case DType::I32:
    return "kiln_i32";
  case DType::I16:
    return "kiln_i16";
  case DType::I8:
    return "kiln_i8";
  case DType::U8:
    return "kiln_u8";
  case DType::Bool:
    return "kiln_bool";
  default:
    return nullptr;
  }
}

std::string floatLiteral(double v) {
  float f = static_cast<float>(v);
  if (std::isnan(f))
    return "NAN";
  if (std::isinf(f))
    return f < 0 ? "-HUGE_VALF" : "HUGE_VALF";
  // fmt prints the shortest decimal that reads back as the same float.
  std::string s = fmt::format("{}", f);
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s + "f";
}

std::string cStringLiteral(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\' || c == '?')
      out += fmt::format("\\{:03o}", c);
    else if (c >= 0x20 && c <= 0x7e)
      out += static_cast<char>(c);
    else
      out += fmt::format("\\{:03o}", c);
  }
  return out + "\"";
}

} // namespace kiln
