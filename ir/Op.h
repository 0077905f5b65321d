// OpKind: the single op table of kiln (rows in ir/Ops.def).
#pragma once

#include <optional>
#include <string>

namespace kiln {

enum class OpKind : uint16_t {
#define KILN_OP(E, N, K, F) E,
#include "ir/Ops.def"
};

enum class OpClass : uint8_t { Unary, Binary, Variadic, Other };

const char *opName(OpKind k);
OpClass opClass(OpKind k);
/// Lookup by the printed (ONNX) name; nullopt for an op not in the table.
std::optional<OpKind> opFromName(const std::string &name);
/// Number of rows in the table.
unsigned numOps();

} // namespace kiln
