// Structural and type checks of a graph: SSA (one definition per value, every operand defined
// before use), operand counts, result types equal to what the op's reference semantics infer,
// constants whose bytes match their type, outputs defined.
#pragma once

#include "ir/Graph.h"

#include <llvm/Support/Error.h>

namespace kiln {

/// Success, or an error naming the node, its op and what was expected versus found.
llvm::Error verifyGraph(const Graph &g);

} // namespace kiln
