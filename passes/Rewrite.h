// Small rewriting helpers shared by passes: value replacement that keeps the names of graph
// outputs stable (they appear in the generated API), and constant inspection.
#pragma once

#include "ir/Graph.h"

#include <optional>

namespace kiln {

/// Replaces every use of `from` by `to`. When `from` is a graph output and `to` is a node result
/// that is not an output yet, `to` takes over the output's name.
void replaceValue(Graph &g, Value *from, Value *to);

/// The only user of v, when v has exactly one using node and is not a graph output.
Node *soleUser(const Graph &g, const Value *v);

/// When v is a constant whose elements all equal one value, that value.
std::optional<double> splatValue(const Value *v);

/// Creates a constant named after `base`.
Value *addNamedConstant(Graph &g, const std::string &base, Tensor t);

} // namespace kiln
