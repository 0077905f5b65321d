// decompose-batchnorm: a standalone BatchNormalization (one fuse-conv-bn could not fold into a
// conv) becomes a Mul by a per-channel scale and an Add of a per-channel shift, both f32
// constants of shape [C, 1, ...] computed here: s = scale / sqrt(var + eps), b = beta - mean * s.
// The Mul/Add pair then fuses like any elementwise chain and no BatchNormalization reaches codegen.
#include "passes/Pass.h"
#include "passes/Rewrite.h"

#include <cmath>

namespace kiln {

namespace {

bool decomposeBatchNorm(Graph &g, Node *bn) {
  if (bn->op() != OpKind::BatchNormalization || bn->numResults() != 1 ||
      bn->result()->type().dtype() != DType::F32)
    return false;
  std::optional<BatchNormAffine> a = batchNormAffine(*bn);
  if (!a)
    return false;
  const TensorType &t = bn->result()->type();
  if (t.rank() < 2)
    return false;
  int64_t c = t.shape[1];
  const std::vector<double> &s = a->scale, &b = a->shift;
  Shape cshape(static_cast<size_t>(t.rank() - 1), 1);
  cshape[0] = c;
  Value *sv = addNamedConstant(g, bn->name() + ".scale", Tensor::fromDoubles(DType::F32, cshape, s));
  Value *bv = addNamedConstant(g, bn->name() + ".shift", Tensor::fromDoubles(DType::F32, cshape, b));
  Node *mul = g.insertNodeBefore(bn, OpKind::Mul, bn->name() + ".mul", {bn->operand(0), sv}, {t},
                                 {g.freshName(bn->result()->name() + ".scaled")});
  Node *add = g.insertNodeBefore(bn, OpKind::Add, bn->name() + ".add", {mul->result(), bv}, {t},
                                 {g.freshName(bn->result()->name() + ".shifted")});
  replaceValue(g, bn->result(), add->result());
  g.eraseNode(bn);
  return true;
}

} // namespace

PassResult runDecomposeBatchNorm(Graph &g, PassContext &) {
  PassResult r;
  int64_t n = 0;
  for (Node *node : g.nodes())
    n += decomposeBatchNorm(g, node);
  g.eraseUnusedConstants();
  r.counters["batchnorms-decomposed"] = n;
  r.changed = n > 0;
  return r;
}

} // namespace kiln
