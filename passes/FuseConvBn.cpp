// fuse-conv-bn: folds an inference BatchNormalization into the weights and bias of the Conv or
// Gemm that feeds it: with s = scale / sqrt(var + eps), W'[k] = s[k] * W[k] and
// b'[k] = s[k] * (b[k] - mean[k]) + beta[k], k the output channel.
// Fires only when: the producer's result has the BatchNormalization as its sole user, the
// producer has an empty epilogue, weights, bias and all four BN parameters are f32 constants, and
// (Gemm) the output channel is a column of B. Creates new constants; the old ones are dropped
// when nothing else uses them.
#include "ir/OpParams.h"
#include "passes/Pass.h"
#include "passes/Rewrite.h"

#include <cmath>

namespace kiln {

namespace {

bool allConstF32(const std::vector<Value *> &vs) {
  for (Value *v : vs)
    if (!v->isConstant() || v->type().dtype() != DType::F32)
      return false;
  return true;
}

bool fuse(Graph &g, Node *bn) {
  if (bn->op() != OpKind::BatchNormalization || bn->numOperands() != 5 || bn->numResults() != 1)
    return false;
  Node *p = bn->operand(0)->producer();
  if (!p || (p->op() != OpKind::Conv && p->op() != OpKind::Gemm) || !p->epilogue().empty() ||
      soleUser(g, p->result()) != bn)
    return false;
  std::vector<Value *> params = {bn->operand(1), bn->operand(2), bn->operand(3), bn->operand(4)};
  if (!allConstF32(params) || !allConstF32({p->operand(1)}) ||
      (p->numOperands() > 2 && !allConstF32({p->operand(2)})))
    return false;
  const Tensor &w = p->operand(1)->constant();
  int64_t channels = params[0]->type().numElements();
  // Layout of the weight along the output channel: Conv W[K, ...]; Gemm B[N, K] (transB) or
  // B[K, N]. Gemm with alpha != 1 or a C that is not a per-column vector is left alone.
  int64_t outer = 1, inner = 1;
  if (p->op() == OpKind::Conv) {
    if (w.shape.empty() || w.shape[0] != channels)
      return false;
    inner = w.numElements() / channels;
  } else {
    const GemmParams gp = gemmParams(*p);
    if (gp.alpha != 1.0 || gp.transA || w.shape.size() != 2)
      return false;
    bool transB = gp.transB;
    if ((transB ? w.shape[0] : w.shape[1]) != channels)
      return false;
    if (transB)
      inner = w.shape[1];
    else
      outer = w.shape[0];
    if (p->numOperands() > 2 && (p->operand(2)->type().numElements() != channels || gp.beta != 1.0))
      return false;
  }
  bool transposedGemm = p->op() == OpKind::Gemm && !gemmParams(*p).transB;
  std::optional<BatchNormAffine> affine = batchNormAffine(*bn);
  if (!affine)
    return false;
  const std::vector<double> &s = affine->scale;
  std::vector<double> wv = w.toDoubles();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < channels; ++k)
      for (int64_t i = 0; i < inner; ++i) {
        size_t idx = transposedGemm ? static_cast<size_t>(o * channels + k)
                                    : static_cast<size_t>(k * inner + i);
        wv[idx] *= s[static_cast<size_t>(k)];
      }
  std::vector<double> bias(static_cast<size_t>(channels), 0.0);
  if (p->numOperands() > 2)
    bias = p->operand(2)->constant().toDoubles();
  for (size_t k = 0; k < bias.size(); ++k)
    bias[k] = s[k] * bias[k] + affine->shift[k]; // = s (b - mean) + beta

  Value *newW = addNamedConstant(g, p->operand(1)->name() + ".bn",
                                 Tensor::fromDoubles(DType::F32, w.shape, wv));
  Value *newB = addNamedConstant(g, p->name() + ".bn_bias",
                                 Tensor::fromDoubles(DType::F32, {channels}, bias));
  p->setOperand(1, newW);
  if (p->numOperands() > 2)
    p->setOperand(2, newB);
  else
    p->addOperand(newB);
  replaceValue(g, bn->result(), p->result());
  g.eraseNode(bn);
  return true;
}

} // namespace

PassResult runFuseConvBn(Graph &g, PassContext &) {
  PassResult r;
  int64_t fused = 0;
  for (Node *n : g.nodes())
    fused += fuse(g, n);
  g.eraseUnusedConstants();
  r.counters["batchnorms-fused"] = fused;
  r.changed = fused > 0;
  return r;
}

} // namespace kiln
