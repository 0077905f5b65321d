// Small spelling helpers shared by the emitter and the selectors: C++ names of element types and
// exact literals for constants baked into the generated code.
#pragma once

#include "ir/Types.h"

#include <string>

namespace kiln {

/// Plain C++ element type of a dtype ("float", "int64_t", bool as "uint8_t"); nullptr for a dtype
/// generated code cannot hold (f16).
const char *cElementType(DType t);
/// The runtime stub's may_alias view of a dtype ("kiln_f32", bool as "kiln_bool"); nullptr as
/// above.
const char *viewType(DType t);
/// A float literal that reads back as exactly float(v): "0.5f", "1e-05f", "-HUGE_VALF", "NAN".
std::string floatLiteral(double v);

/// A C string literal holding s: printable ASCII as is, quotes, backslashes, '?' (no trigraphs)
/// and every other byte as octal escapes.
std::string cStringLiteral(const std::string &s);

} // namespace kiln
