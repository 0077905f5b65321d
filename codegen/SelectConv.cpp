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

#include <algorithm>

namespace kiln {
namespace {

/// Spatial geometry normalized to 2-D (a 1-D window gets H = KH = SH = DH = 1, PT = 0).
struct Geometry {
  int64_t n = 0, c = 0, h = 1, w = 0, oc = 0, oh = 1, ow = 0;
  int64_t kh = 1, kw = 0, sh = 1, sw = 0, dh = 1, dw = 0, pt = 0, pl = 0, group = 1;
  bool transpose = false, hasBias = false, constWeight = false;
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
  case Variant::ConvDirect:
    return g.constWeight ? ""
                         : "expected a constant weight W (it is packed at compile time), found a "
                           "computed one";
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

/// A pointwise convolution (1x1, strides 1, no padding) as one row of its H * W pixels.
Geometry pointwiseAsRow(const Geometry &g) {
  Geometry r = g;
  r.w = r.ow = g.h * g.w;
  r.h = r.oh = 1;
  return r;
}

/// The register block of the direct kernel: NV vectors of output channels by R output pixels,
/// ROWS > 1 whole rows of OW pixels (R = ROWS * OW) or ROWS = 1 segments of at most R pixels of
/// one row.
struct DirectBlock {
  int64_t nv = 1, r = 1, rows = 1;
};

/// The default block: half the vector registers hold accumulators (measured at x86-64-v4: 16
/// accumulators of 32 registers run at 80-89 % of the FMA peak on the 3x3 layers of resnet18,
/// 20 or more spill), two vectors of channels unless one holds every channel of a group, and
/// rows split into equal segments, or gathered whole when two or more fit.
DirectBlock directBlock(const Geometry &g, const Target &t) {
  DirectBlock b;
  const int64_t vl = t.vectorFloats(), acc = std::max<int64_t>(2, t.vectorRegisters / 2);
  b.nv = g.oc / g.group <= vl ? 1 : 2;
  const int64_t rmax = std::max<int64_t>(1, acc / b.nv);
  if (2 * g.ow <= rmax) {
    b.rows = std::min(g.oh, rmax / g.ow);
    b.r = b.rows * g.ow;
  } else {
    const int64_t segments = (g.ow + rmax - 1) / rmax;
    b.r = (g.ow + segments - 1) / segments;
  }
  return b;
}

/// The block a forced decision sets (tunables nv, r, rows), checked against the geometry.
llvm::Expected<DirectBlock> forcedDirectBlock(const Node &n, const Geometry &g, DirectBlock b,
                                              const ForcedVariant *forced) {
  if (!forced)
    return b;
  for (const Tunable &tu : forced->tunables) {
    if (tu.name == "nv")
      b.nv = tu.value;
    else if (tu.name == "r")
      b.r = tu.value;
    else if (tu.name == "rows")
      b.rows = tu.value;
  }
  const bool ok = b.nv >= 1 && b.nv <= 8 && b.r >= 1 && b.r <= 64 && b.rows >= 1 &&
                  (b.rows == 1 ? b.r <= g.ow : b.rows <= g.oh && b.r == b.rows * g.ow);
  if (!ok)
    return selectError(n, fmt::format("variant conv_direct: expected nv in [1, 8] and either "
                                      "rows = 1 with r in [1, min(OW = {}, 64)] or rows in [2, "
                                      "OH = {}] with r = rows * OW, found nv {}, r {}, rows {}",
                                      g.ow, g.oh, b.nv, b.r, b.rows));
  return b;
}

/// Whether the direct kernel reads a zero-padded copy of the input (its windows leave the
/// image), and the copy's floats per group.
int64_t directCopyFloats(const Geometry &g) {
  const int64_t hpad = (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1;
  const int64_t wpad = (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1;
  const bool copy = g.pt > 0 || g.pl > 0 || hpad > g.h || wpad > g.w;
  return copy ? g.cg() * hpad * wpad : 0;
}

/// Estimated cost in multiply-accumulates, weighted by what each kernel was measured to sustain
/// at x86-64-v4 (docs/performance.md): the MACs a variant computes, including lanes it drops
/// (the implicit GEMM's padding columns, the pointwise kernel's partial panel, the direct kernel's
/// padding channels), times 1.15 for the implicit GEMM's line-splitting loads, plus 12 per output
/// element for the direct kernel's in-register transpose and store, 64 when it has fewer than 8
/// input channels per group (fitted on single layers: the direct kernel loses on 3-channel stems
/// and on 1x1 expansions of fewer than about OC / 3 input channels, and wins on 3x3 layers of 16
/// or more), and a penalty when its block has fewer than 12 accumulators.
int64_t estimatedCost(Variant v, const Geometry &g, const Target &t) {
  const int64_t ocg = g.oc / g.group, p = g.oh * g.ow, nr = t.gemmNr;
  const int64_t batchGroups = g.n * g.group;
  switch (v) {
  case Variant::ConvDirect: {
    const DirectBlock b =
        directBlock(whyNot(Variant::ConvPointwise, g).empty() ? pointwiseAsRow(g) : g, t);
    const int64_t width = b.nv * t.vectorFloats(), ocp = (ocg + width - 1) / width * width;
    const int64_t accs = b.r * b.nv, work = batchGroups * ocp * p * (g.k() + (g.cg() < 8 ? 64 : 12));
    return accs >= 12 ? work : work * 12 / accs;
  }
  case Variant::ConvImplicitGemm: {
    const int64_t wp = g.ow + (g.kw - 1) * g.dw / g.sw, nt = (g.oh * wp + nr - 1) / nr * nr;
    return batchGroups * ocg * nt * g.k() * 115 / 100;
  }
  case Variant::ConvPointwise:
    return batchGroups * ocg * ((p + nr - 1) / nr * nr) * g.k();
  default:
    return batchGroups * ocg * ((p + nr - 1) / nr * nr) * g.k() * 120 / 100;
  }
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
  case Variant::ConvDirect: {
    // The weights become panels of NV vectors of output channels (codegen/WeightPack.h), which
    // the kernel reads in place of W. A pointwise convolution's pixels are consecutive in X
    // whatever the rows, so it runs as one row of H * W pixels (full blocks across row ends).
    const Geometry &dg = whyNot(Variant::ConvPointwise, g).empty() ? pointwiseAsRow(g) : g;
    auto b = forcedDirectBlock(n, dg, directBlock(dg, t), forced);
    if (!b)
      return b.takeError();
    KernelDecision d =
        oneCall(v, Kernel::ConvDirect,
                ints({dg.n, dg.c, dg.h, dg.w, dg.oc, dg.oh, dg.ow, dg.kh, dg.kw, dg.sh, dg.sw, dg.dh,
                      dg.dw, dg.pt, dg.pl, dg.group, b->nv, b->r, b->rows}),
                dg, directCopyFloats(dg) * 4);
    PackedWeight pw;
    pw.kind = PackedWeight::Kind::ConvPanels;
    pw.operand = 1;
    pw.groups = g.group;
    pw.rows = g.oc / g.group;
    pw.k = g.k();
    pw.width = b->nv * t.vectorFloats();
    d.packed = {pw};
    d.calls[0].args[1] = CallArg::packed(0);
    d.tunables = {{"nv", b->nv}, {"r", b->r}, {"rows", b->rows}};
    return d;
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

/// The GEMM-shaped rule: a pointwise convolution runs the 1x1 GEMM; the implicit GEMM takes
/// kernels larger than 1x1 at strides 1, and larger strides when every phase is read (no
/// dilation, kernel at least the stride), as long as its copy needs no more scratch than the
/// im2col chunk, so the arena never grows for it; everything else is im2col.
Variant gemmVariant(const Geometry &g, const Target &t) {
  if (whyNot(Variant::ConvPointwise, g).empty())
    return Variant::ConvPointwise;
  const bool unitStride = g.sh == 1 && g.sw == 1;
  if ((!unitStride || g.kh * g.kw > 1) && whyNot(Variant::ConvImplicitGemm, g).empty() &&
      igemmScratch(g, t) <= g.k() * defaultChunk(g, t) * 4)
    return Variant::ConvImplicitGemm;
  return Variant::ConvIm2col;
}

/// Scratch bytes of a variant under the default tunables.
int64_t scratchOf(Variant v, const Geometry &g, const Target &t) {
  switch (v) {
  case Variant::ConvDirect:
    return directCopyFloats(g) * 4;
  case Variant::ConvImplicitGemm:
    return igemmScratch(g, t);
  case Variant::ConvPointwise:
    return g.h * g.w % t.gemmNr ? g.cg() * t.gemmNr * 4 : 0;
  default:
    return g.k() * defaultChunk(g, t) * 4;
  }
}

/// The default rule: ConvTranspose scatters; a depthwise convolution (one input channel per
/// group, more than one group) runs the depthwise kernel; otherwise the direct kernel over packed
/// weights where the weights are constant, the target has vectors of at least 4 floats, its cost
/// estimate beats the GEMM-shaped variant's and it needs no more scratch (so the arena never
/// grows for it), else the GEMM-shaped variant.
Variant defaultVariant(const Geometry &g, const Target &t) {
  if (g.transpose)
    return Variant::ConvTranspose;
  if (g.cg() == 1 && g.group > 1)
    return Variant::ConvDepthwise;
  const Variant gemm = gemmVariant(g, t);
  if (whyNot(Variant::ConvDirect, g).empty() && t.vectorFloats() >= 4 &&
      scratchOf(Variant::ConvDirect, g, t) <= scratchOf(gemm, g, t) &&
      estimatedCost(Variant::ConvDirect, g, t) < estimatedCost(gemm, g, t))
    return Variant::ConvDirect;
  return gemm;
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
  g.constWeight = wt->isConstant();
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

  const Variant v = forced ? forced->variant : defaultVariant(g, t);
  if (forced)
    if (std::string why = whyNot(v, g); !why.empty())
      return selectError(n, fmt::format("variant {} does not apply: {}", variantName(v), why));
  auto d = build(n, v, g, t, forced);
  if (d && !g.transpose && v != Variant::ConvDepthwise)
    d->cost = estimatedCost(v, g, t);
  return d;
}

} // namespace kiln
