// Kernel selection for MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool (kernels in
// codegen/kernels/pool.h). Windowed pools are 1-D or 2-D (1-D runs as 2-D with H = 1) and take
// their output size from the result type, which is where ceil_mode took effect; global pools
// reduce all spatial dims of any rank >= 3 as one plane per (batch, channel).
#include "codegen/KernelSelect.h"
#include "ir/OpParams.h"

#include <fmt/format.h>

namespace kiln {
namespace {

KernelDecision poolCall(Kernel k, std::initializer_list<int64_t> targs, int64_t cost) {
  KernelDecision d;
  d.variant = Variant::Pool;
  KernelCall c;
  c.kernel = k;
  for (int64_t v : targs)
    c.templateArgs.push_back(TemplateArg::integer(v));
  c.args = {CallArg::operand(0), CallArg::result(0)};
  d.calls.push_back(std::move(c));
  d.cost = cost;
  return d;
}

} // namespace

llvm::Expected<KernelDecision> selectPoolKernel(const Node &n) {
  const OpKind op = n.op();
  if (op != OpKind::MaxPool && op != OpKind::AveragePool && op != OpKind::GlobalAveragePool &&
      op != OpKind::GlobalMaxPool)
    return selectError(n, "expected a pooling op, found another op");
  if (n.numOperands() != 1)
    return selectError(n, fmt::format("expected one operand, found {}", n.numOperands()));
  if (n.numResults() != 1)
    return selectError(n, fmt::format("expected one result (no Indices output), found {} results",
                                      n.numResults()));
  const Value *x = n.operand(0), *y = n.result(0);
  if (auto e = checkDenseF32(n, x, "input X"))
    return e;
  if (auto e = checkDenseF32(n, y, "result"))
    return e;
  const Shape &xs = x->type().shape, &ys = y->type().shape;
  const int rank = x->type().rank();
  if (rank < 3 || y->type().rank() != rank || ys[0] != xs[0] || ys[1] != xs[1])
    return selectError(
        n, fmt::format("expected input of rank >= 3 and a result with the same batch and "
                       "channels, found {} and {}",
                       typeString(x->type()), typeString(y->type())));
  const int64_t planes = xs[0] * xs[1];

  if (op == OpKind::GlobalAveragePool || op == OpKind::GlobalMaxPool) {
    const int64_t spatial = x->type().numElements() / (planes ? planes : 1);
    return poolCall(op == OpKind::GlobalAveragePool ? Kernel::GlobalAvgPool : Kernel::GlobalMaxPool,
                    {planes, spatial}, planes * spatial);
  }

  if (rank != 3 && rank != 4)
    return selectError(
        n, fmt::format("expected a 1-D or 2-D pool (input of rank 3 or 4), found input {}",
                       typeString(x->type())));
  const size_t nsp = static_cast<size_t>(rank - 2);
  // The verifier typed the node with poolWindow: kernel, strides and dilations are positive and
  // the output extents follow from them; the kernels pad only outward.
  auto window = poolParams(n);
  if (!window)
    return selectError(n, llvm::toString(window.takeError()));
  const std::vector<int64_t> &kernel = window->kernel, &strides = window->strides,
                             &dil = window->dilations, &begins = window->padsBegin,
                             &ends = window->padsEnd;
  for (size_t i = 0; i < nsp; ++i)
    if (begins[i] < 0 || ends[i] < 0)
      return selectError(n, fmt::format("expected non-negative pads, found begins [{}], ends [{}]",
                                        fmt::join(begins, ","), fmt::join(ends, ",")));
  // Normalized to 2-D: {H, W, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR}.
  int64_t h = 1, oh = 1, kh = 1, sh = 1, dh = 1, pt = 0, pb = 0;
  const size_t sp = nsp - 1;
  const int64_t w = xs[rank - 1], ow = ys[rank - 1], kw = kernel[sp], sw = strides[sp],
                dw = dil[sp], pl = begins[sp], pr = ends[sp];
  if (nsp == 2) {
    h = xs[2];
    oh = ys[2];
    kh = kernel[0];
    sh = strides[0];
    dh = dil[0];
    pt = begins[0];
    pb = ends[0];
  }
  if (op == OpKind::MaxPool) {
    return poolCall(Kernel::MaxPool, {planes, h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl},
                    planes * oh * ow * kh * kw);
  }
  const bool includePad = window->countIncludePad;
  KernelDecision d =
      poolCall(Kernel::AvgPool, {planes, h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr},
               planes * oh * ow * kh * kw);
  d.calls[0].templateArgs.push_back(TemplateArg::boolean(includePad));
  return d;
}

} // namespace kiln
