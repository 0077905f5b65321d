// Kernel selection for Conv and ConvTranspose (kernels in codegen/kernels/conv.h and gemm.h).
// Decides from the node's static types and canonical attributes: 1-D convolutions run as 2-D ones
// with H = 1; a depthwise convolution (one input channel per group) gets the direct depthwise
// kernel; every other Conv is im2col + blocked GEMM whose im2col chunk is sized to stay in cache;
// ConvTranspose scatters into a scratch image. Output sizes come from the result type, which the
// reference semantics computed.
#include "codegen/KernelSelect.h"
#include "ir/OpParams.h"

#include <fmt/format.h>

namespace kiln {
namespace {

/// Spatial geometry normalized to 2-D (a 1-D window gets H = KH = SH = DH = 1, PT = 0).
struct Geometry {
  int64_t n = 0, c = 0, h = 1, w = 0, oc = 0, oh = 1, ow = 0;
  int64_t kh = 1, kw = 0, sh = 1, sw = 0, dh = 1, dw = 0, pt = 0, pl = 0, group = 1;
};

} // namespace

llvm::Expected<KernelCall> selectConvKernel(const Node &n, const Target &t) {
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
  auto window = convParams(n);
  if (!window)
    return selectError(n, llvm::toString(window.takeError()));
  const std::vector<int64_t> &kernel = window->kernel, &strides = window->strides,
                             &dil = window->dilations, &pads = window->padsBegin;

  Geometry g;
  g.group = window->group;
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

  const char *bias = hasBias ? "in2" : "nullptr";
  const char *hasB = hasBias ? "true" : "false";
  KernelCall call;
  call.kernelFiles = {"gemm.h", "conv.h"};

  if (transpose) {
    // convParams already turned an output_shape into pads (extra padding at the begin).
    call.scratchBytes = g.oc * g.oh * g.ow * 4;
    call.statement = fmt::format(
        "kiln_f32_conv_transpose2d<{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
        "{}>(in0, in1, {}, out0, scratch, epi);",
        g.n, g.c, g.h, g.w, g.oc, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl,
        g.group, hasB, bias);
    return call;
  }

  const int64_t cg = g.c / g.group;
  if (cg == 1 && g.group > 1) {
    // Depthwise: a GEMM would have a single reduction row per group; the direct kernel keeps a
    // block of output columns in registers over a zero-padded, stride-phase-split copy of the
    // channel.
    const int64_t ph = (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1;
    const int64_t pw = (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1;
    // Rows of PW columns split into SW phases of ceil(PW / SW), each phase padded by the lanes
    // that round OW up to whole vectors (see kiln_f32_conv2d_dw).
    const int64_t vl = t.vectorFloats(), owv = (g.ow + vl - 1) / vl;
    call.scratchBytes = ph * g.sw * ((pw + g.sw - 1) / g.sw + (owv * vl - g.ow)) * 4;
    call.statement = fmt::format(
        "kiln_f32_conv2d_dw<{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}>(in0, "
        "in1, {}, out0, scratch, epi);",
        g.n, g.c, g.oc / g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl,
        hasB, bias);
    return call;
  }

  const int64_t k = cg * g.kh * g.kw;
  const int64_t nc = packedChunkColumns(k, g.oh * g.ow, t);
  call.scratchBytes = k * nc * 4;
  if (g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 &&
      g.oh == g.h && g.ow == g.w) {
    // Pointwise: the input is the GEMM's B as it is; only a partial last panel is packed.
    const int64_t p = g.h * g.w;
    call.scratchBytes = p % t.gemmNr ? cg * t.gemmNr * 4 : 0;
    call.statement = fmt::format("kiln_f32_conv2d_1x1<{}, {}, {}, {}, {}, {}>(in0, in1, {}, out0, "
                                 "scratch, epi);",
                                 g.n, g.c, p, g.oc, g.group, hasB, bias);
    return call;
  }
  // The implicit GEMM (kiln_f32_conv2d_igemm) over a padded, stride-phase-split copy of one
  // group's input packs nothing. Taken for kernels larger than 1x1 at strides 1, and at larger
  // strides when every phase is read (no dilation, kernel at least the stride), where the copy
  // needs no more scratch than the im2col chunk, so the arena never grows for it. Floats as
  // kiln_conv_igemm_dims::scratch counts them.
  const bool unitStride = g.sh == 1 && g.sw == 1;
  if ((unitStride && g.kh * g.kw > 1) ||
      (!unitStride && g.dh == 1 && g.dw == 1 && g.kh >= g.sh && g.kw >= g.sw)) {
    const int64_t hp = g.oh + (g.kh - 1) * g.dh / g.sh, wp = g.ow + (g.kw - 1) * g.dw / g.sw;
    const int64_t np = (g.oh * wp + t.gemmNr - 1) / t.gemmNr * t.gemmNr;
    const int64_t bytes = ((cg * g.sh * g.sw - 1) * hp * wp + (g.kh - 1) * g.dh / g.sh * wp +
                           (g.kw - 1) * g.dw / g.sw + np) *
                          4;
    if (bytes <= call.scratchBytes) {
      call.scratchBytes = bytes;
      call.statement = fmt::format("kiln_f32_conv2d_igemm<{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
                                   "{}, {}, {}, {}, {}, {}, {}>(in0, in1, {}, out0, scratch, epi);",
                                   g.n, g.c, g.h, g.w, g.oc, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw,
                                   g.dh, g.dw, g.pt, g.pl, g.group, hasB, bias);
      return call;
    }
  }
  call.statement = fmt::format("kiln_f32_conv2d<{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
                               "{}, {}, {}, {}, {}, {}>(in0, "
                               "in1, {}, out0, scratch, epi);",
                               g.n, g.c, g.h, g.w, g.oc, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh,
                               g.dw, g.pt, g.pl, g.group, nc, hasB, bias);
  return call;
}

} // namespace kiln
