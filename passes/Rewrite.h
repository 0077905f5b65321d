// Small rewriting helpers shared by passes: value replacement that keeps the names of graph
// outputs stable (they appear in the generated API), and constant inspection.
#pragma once

#include "ir/Graph.h"

#include <functional>
#include <optional>

namespace kiln {

/// Replaces every use of `from` by `to`. When `from` is a graph output and `to` is a node result
/// that is not an output yet, `to` takes over the output's name.
void replaceValue(Graph &g, Value *from, Value *to);

/// The only user of v, when v has exactly one using node and is not a graph output.
Node *soleUser(const Graph &g, const Value *v);

/// When v is a constant whose elements all equal one value, that value.
std::optional<double> splatValue(const Value *v);

/// A Clip whose min and max, where present, are rank-0 constants: an activation with fixed bounds.
bool isClipWithScalarBounds(const Node *n);

/// Per-channel affine form of an inference BatchNormalization: y = scale[c] * x + shift[c], with
/// scale = gamma / sqrt(var + eps) and shift = beta - mean * scale.
struct BatchNormAffine {
  std::vector<double> scale, shift;
};
/// The affine form when all four parameters of `bn` are f32 constants.
std::optional<BatchNormAffine> batchNormAffine(const Node &bn);

/// Applies `rewrite` to nodes in execution order; after each node it rewrites (returns true) the
/// scan restarts, since the node list changed. Returns how many rewrites happened.
int64_t rewriteToFixpoint(Graph &g, const std::function<bool(Node *)> &rewrite);

/// Creates a constant named after `base`.
Value *addNamedConstant(Graph &g, const std::string &base, Tensor t);

} // namespace kiln
