// Kernel selection for Conv and ConvTranspose (kernels in codegen/kernels/conv.h and gemm.h).
// Decides from the node's static types and canonical attributes: 1-D convolutions run as 2-D ones
// with H = 1. The variants (codegen/Kernels.def) are the direct depthwise kernel, the pointwise
// 1x1 GEMM, the implicit GEMM over a padded copy, im2col + blocked GEMM (the general fallback,
// its im2col chunk `nc` sized to stay in cache) and, for ConvTranspose, a scatter into a scratch
// image. Each has an applicability check and a builder; the default rule below picks one. Output
// sizes come from the result type, which the reference semantics computed.
#include "codegen/KernelSelect.h"
#include "ir/OpParams.h"

#include <fmt/format.h>

namespace kiln {
namespace {

/// Spatial geometry normalized to 2-D (a 1-D window gets H = KH = SH = DH = 1, PT = 0).
struct Geometry {
  int64_t n = 0, c = 0, h = 1, w = 0, oc = 0, oh = 1, ow = 0;
  int64_t kh = 1, kw = 0, sh = 1, sw = 0, dh = 1, dw = 0, pt = 0, pl = 0, group = 1;
  bool transpose = false, hasBias = false;
  int64_t cg() const { return c / group; }
  int64_t k() const { return cg() * kh * kw; }
};

std::string window(const Geometry &g) {
  return fmt::format("kernel {}x{}, strides {}x{}, dilations {}x{}, pads {},{}, {} group(s)", g.kh,
                     g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.group);
}

/// Why variant `v` cannot run the convolution ("" when it can).
std::string whyNot(Variant v, const Geometry &g) {
  if (v == Variant::ConvTranspose)
    return g.transpose ? "" : "expected a ConvTranspose, found a Conv";
  if (g.transpose)
    return "expected a Conv, found a ConvTranspose (only conv_transpose runs it)";
  switch (v) {
  case Variant::ConvDepthwise:
    return g.cg() == 1 ? ""
                       : fmt::format("expected one input channel per group, found {} channels "
                                     "in {} group(s)",
                                     g.c, g.group);
  case Variant::ConvPointwise:
    return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 &&
                   g.oh == g.h && g.ow == g.w
               ? ""
               : "expected a 1x1 kernel at stride 1 without padding, found " + window(g);
  case Variant::ConvImplicitGemm:
    return (g.sh == 1 && g.sw == 1) || (g.dh == 1 && g.dw == 1 && g.kh >= g.sh && g.kw >= g.sw)
               ? ""
               : "expected strides 1, or no dilation and a kernel at least the stride, found " +
                     window(g);
  case Variant::ConvIm2col:
    return "";
  default:
    return fmt::format("expected a conv variant, found {}", variantName(v));
  }
}

/// Arguments common to the conv kernels: (x, w, bias or nullptr, y, scratch, epi).
std::vector<CallArg> convArgs(const Geometry &g) {
  return {
      CallArg::operand(0), CallArg::operand(1), g.hasBias ? CallArg::operand(2) : CallArg::null(),
      CallArg::result(0),  CallArg::scratch(),  CallArg::epilogue()};
}

std::vector<TemplateArg> ints(std::initializer_list<int64_t> v) {
  std::vector<TemplateArg> out;
  for (int64_t x : v)
    out.push_back(TemplateArg::integer(x));
  return out;
}

KernelDecision oneCall(Variant v, Kernel k, std::vector<TemplateArg> targs, const Geometry &g,
                       int64_t scratchBytes) {
  KernelDecision d;
  d.variant = v;
  targs.push_back(TemplateArg::boolean(g.hasBias));
  d.calls.push_back({k, std::move(targs), convArgs(g), false});
  d.scratchBytes = scratchBytes;
  d.cost = g.transpose ? g.n * g.c * g.h * g.w * (g.oc / g.group) * g.kh * g.kw
                       : g.n * g.oc * g.oh * g.ow * g.k();
  return d;
}

/// The im2col chunk of the default rule: output pixels per packed chunk.
int64_t defaultChunk(const Geometry &g, const Target &t) {
  return packedChunkColumns(g.k(), g.oh * g.ow, t);
}

/// Scratch of the implicit GEMM's padded, stride-phase-split copy of one group's input, in
/// bytes (floats as kiln_conv_igemm_dims::scratch counts them).
int64_t igemmScratch(const Geometry &g, const Target &t) {
  const int64_t hp = g.oh + (g.kh - 1) * g.dh / g.sh, wp = g.ow + (g.kw - 1) * g.dw / g.sw;
  const int64_t np = (g.oh * wp + t.gemmNr - 1) / t.gemmNr * t.gemmNr;
  return ((g.cg() * g.sh * g.sw - 1) * hp * wp + (g.kh - 1) * g.dh / g.sh * wp +
          (g.kw - 1) * g.dw / g.sw + np) *
         4;
}

llvm::Expected<KernelDecision> build(const Node &n, Variant v, const Geometry &g, const Target &t,
                                     const ForcedVariant *forced) {
  switch (v) {
  case Variant::ConvTranspose:
    // convParams already turned an output_shape into pads (extra padding at the begin).
    return oneCall(v, Kernel::ConvTranspose,
                   ints({g.n, g.c, g.h, g.w, g.oc, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw,
                         g.pt, g.pl, g.group}),
                   g, g.oc * g.oh * g.ow * 4);
  case Variant::ConvDepthwise: {
    // A GEMM would have a single reduction row per group; the direct kernel keeps a block of
    // output columns in registers over a zero-padded, stride-phase-split copy of the channel.
    const int64_t ph = (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1;
    const int64_t pw = (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1;
    // Rows of PW columns split into SW phases of ceil(PW / SW), each phase padded by the lanes
    // that round OW up to whole vectors (see kiln_f32_conv2d_dw).
    const int64_t vl = t.vectorFloats(), owv = (g.ow + vl - 1) / vl;
    return oneCall(v, Kernel::ConvDepthwise,
                   ints({g.n, g.c, g.oc / g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh,
                         g.dw, g.pt, g.pl}),
                   g, ph * g.sw * ((pw + g.sw - 1) / g.sw + (owv * vl - g.ow)) * 4);
  }
  case Variant::ConvPointwise: {
    // The input is the GEMM's B as it is; only a partial last panel is packed.
    const int64_t p = g.h * g.w;
    return oneCall(v, Kernel::ConvPointwise, ints({g.n, g.c, p, g.oc, g.group}), g,
                   p % t.gemmNr ? g.cg() * t.gemmNr * 4 : 0);
  }
  case Variant::ConvImplicitGemm:
    // The implicit GEMM over a padded, stride-phase-split copy of one group's input packs
    // nothing: every tap of a phase is a shift.
    return oneCall(v, Kernel::ConvImplicitGemm,
                   ints({g.n, g.c, g.h, g.w, g.oc, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw,
                         g.pt, g.pl, g.group}),
                   g, igemmScratch(g, t));
  default: {
    auto nc = chunkTunable(n, forced, defaultChunk(g, t), t);
    if (!nc)
      return nc.takeError();
    KernelDecision d = oneCall(Variant::ConvIm2col, Kernel::ConvIm2col,
                               ints({g.n, g.c, g.h, g.w, g.oc, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw,
                                     g.dh, g.dw, g.pt, g.pl, g.group, *nc}),
                               g, g.k() * *nc * 4);
    d.tunables = {{"nc", *nc}};
    return d;
  }
  }
}

/// Today's rule: ConvTranspose scatters; a depthwise convolution (one input channel per group,
/// more than one group) runs the direct kernel; a pointwise one the 1x1 GEMM; the implicit GEMM
/// takes kernels larger than 1x1 at strides 1, and larger strides when every phase is read (no
/// dilation, kernel at least the stride), as long as its copy needs no more scratch than the
/// im2col chunk, so the arena never grows for it; everything else is im2col.
Variant defaultVariant(const Geometry &g, const Target &t) {
  if (g.transpose)
    return Variant::ConvTranspose;
  if (g.cg() == 1 && g.group > 1)
    return Variant::ConvDepthwise;
  if (whyNot(Variant::ConvPointwise, g).empty())
    return Variant::ConvPointwise;
  const bool unitStride = g.sh == 1 && g.sw == 1;
  if ((!unitStride || g.kh * g.kw > 1) && whyNot(Variant::ConvImplicitGemm, g).empty() &&
      igemmScratch(g, t) <= g.k() * defaultChunk(g, t) * 4)
    return Variant::ConvImplicitGemm;
  return Variant::ConvIm2col;
}

} // namespace

llvm::Expected<KernelDecision> selectConvKernel(const Node &n, const Target &t,
                                                const ForcedVariant *forced) {
  const bool transpose = n.op() == OpKind::ConvTranspose;
  if (n.op() != OpKind::Conv && !transpose)
    return selectError(n, "expected Conv or ConvTranspose, found another op");
  if (n.numOperands() < 2 || n.numResults() != 1)
    return selectError(
        n, fmt::format("expected operands X, W[, B] and one result, found {} operands and "
                       "{} results",
                       n.numOperands(), n.numResults()));
  const Value *x = n.operand(0), *wt = n.operand(1), *y = n.result(0);
  const bool hasBias = n.numOperands() >= 3 && !n.isEpilogueOperand(2);
  if (auto e = checkDenseF32(n, x, "input X"))
    return e;
  if (auto e = checkDenseF32(n, wt, "weight W"))
    return e;
  if (hasBias)
    if (auto e = checkDenseF32(n, n.operand(2), "bias B"))
      return e;
  if (auto e = checkDenseF32(n, y, "result"))
    return e;

  const Shape &xs = x->type().shape, &ys = y->type().shape;
  const int rank = x->type().rank();
  if (rank != 3 && rank != 4)
    return selectError(
        n, fmt::format("expected a 1-D or 2-D convolution (input of rank 3 or 4), found "
                       "input {}",
                       typeString(x->type())));
  // The verifier typed the node with the reference semantics: the window, group, weight, bias
  // and result shapes agree, so only what the kernels cannot do is rejected here.
  const size_t nsp = static_cast<size_t>(rank - 2);
  auto win = convParams(n);
  if (!win)
    return selectError(n, llvm::toString(win.takeError()));
  const std::vector<int64_t> &kernel = win->kernel, &strides = win->strides, &dil = win->dilations,
                             &pads = win->padsBegin;

  Geometry g;
  g.transpose = transpose;
  g.hasBias = hasBias;
  g.group = win->group;
  g.n = xs[0];
  g.c = xs[1];
  g.oc = ys[1];
  const size_t sp = nsp - 1; // index of the innermost spatial dim in the attribute lists
  g.w = xs[rank - 1];
  g.ow = ys[rank - 1];
  g.kw = kernel[sp];
  g.sw = strides[sp];
  g.dw = dil[sp];
  g.pl = pads[sp];
  if (nsp == 2) {
    g.h = xs[2];
    g.oh = ys[2];
    g.kh = kernel[0];
    g.sh = strides[0];
    g.dh = dil[0];
    g.pt = pads[0];
  }

  if (!forced)
    return build(n, defaultVariant(g, t), g, t, nullptr);
  if (std::string why = whyNot(forced->variant, g); !why.empty())
    return selectError(
        n, fmt::format("variant {} does not apply: {}", variantName(forced->variant), why));
  return build(n, forced->variant, g, t, forced);
}

} // namespace kiln
