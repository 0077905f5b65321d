// Single-precision pooling kernels over NCHW tensors (1-D pools arrive as H = 1): windowed max and
// average pooling with strides, begin pads, dilations and the output size the reference semantics
// computed (ceil_mode shows up only there), and global max / average over all spatial elements.
// Window positions outside the input are skipped; AveragePool's divisor follows ONNX: the
// positions inside the input, or with count_include_pad the positions inside the explicitly
// padded input — never the ceil_mode overhang beyond it. Every shape is a template argument.
#pragma once

#include "runtime_stub/kiln_runtime.h"
#include "runtime_stub/kiln_vec.h"

/// MaxPool of NC = N*C planes of H x W into OH x OW. Row by row, in chunks of up to 256 output
/// columns kept in a local array (not the output, which the compiler must assume aliases the
/// input): the chunk starts at -infinity and each in-bounds tap (kh, kw) is folded into the
/// columns whose input column it hits, a range computed once per tap, so the inner loops have no
/// bounds checks; at strides 1 and 2 they run on whole vectors of the vector layer.
/// `v > m ? v : m` skips NaN as the reference does.
template <long NC, long H, long W, long OH, long OW, long KH, long KW, long SH, long SW, long DH,
          long DW, long PT, long PL>
void kiln_f32_maxpool2d(const kiln_f32 *x, kiln_f32 *y) {
  constexpr long CH = OW < 256 ? OW : 256, VL = kiln_vcfg::vl;
  for (long c = 0; c < NC; ++c) {
    const kiln_f32 *xc = x + c * H * W;
    kiln_f32 *yc = y + c * OH * OW;
    for (long oh = 0; oh < OH; ++oh)
      for (long ow0 = 0; ow0 < OW; ow0 += CH) {
        const long n = OW - ow0 < CH ? OW - ow0 : CH;
        float acc[CH];
        for (long j = 0; j < CH; ++j)
          acc[j] = -INFINITY;
        for (long kh = 0; kh < KH; ++kh) {
          const long ih = oh * SH - PT + kh * DH;
          if (ih < 0 || ih >= H)
            continue;
          const kiln_f32 *xr = xc + ih * W;
          for (long kw = 0; kw < KW; ++kw) {
            // Output columns ow with 0 <= ow*SW + off < W, clipped to this chunk.
            const long off = kw * DW - PL;
            const long lo0 = off >= 0 ? 0 : (-off + SW - 1) / SW;
            const long hi0 = W - 1 - off >= 0 ? (W - 1 - off) / SW + 1 : 0;
            const long lo = lo0 > ow0 ? lo0 : ow0, hi = hi0 < ow0 + n ? hi0 : ow0 + n;
            long ow = lo;
            if constexpr (SW == 1 || SW == 2) {
              // Whole vectors while their loads stay in the row (at stride 2, a pair of vectors
              // whose even floats are the taps).
              for (; ow + VL <= hi && SW * (ow + VL) + off - (SW - 1) <= W; ow += VL) {
                const kiln_vf32 v = SW == 1 ? kiln_vload(xr + ow + off)
                                            : kiln_vload_even(xr + 2 * ow + off);
                const kiln_vf32 m = kiln_vload(acc + ow - ow0);
                kiln_vstore(acc + ow - ow0, kiln_vselect(v > m, v, m));
              }
            }
            for (; ow < hi; ++ow) {
              const float v = xr[ow * SW + off], m = acc[ow - ow0];
              acc[ow - ow0] = v > m ? v : m;
            }
          }
        }
        for (long j = 0; j < n; ++j)
          yc[oh * OW + ow0 + j] = acc[j];
      }
  }
}

/// AveragePool of NC planes of H x W into OH x OW. PB/PR are the end pads; they matter only for
/// the divisor when INCLUDE_PAD (count_include_pad = 1).
template <long NC, long H, long W, long OH, long OW, long KH, long KW, long SH, long SW, long DH,
          long DW, long PT, long PL, long PB, long PR, bool INCLUDE_PAD>
void kiln_f32_avgpool2d(const kiln_f32 *x, kiln_f32 *y) {
  for (long c = 0; c < NC; ++c) {
    const kiln_f32 *xc = x + c * H * W;
    kiln_f32 *yc = y + c * OH * OW;
    for (long oh = 0; oh < OH; ++oh)
      for (long ow = 0; ow < OW; ++ow) {
        float s = 0.0f;
        long rows = 0, cols = 0, prows = 0, pcols = 0;
        for (long kh = 0; kh < KH; ++kh) {
          const long ih = oh * SH - PT + kh * DH;
          prows += ih >= -PT && ih < H + PB;
          if (ih < 0 || ih >= H)
            continue;
          ++rows;
          for (long kw = 0; kw < KW; ++kw) {
            const long iw = ow * SW - PL + kw * DW;
            if (iw < 0 || iw >= W)
              continue;
            s += xc[ih * W + iw];
          }
        }
        // The window is a rectangle, so the counts factor into rows times columns.
        for (long kw = 0; kw < KW; ++kw) {
          const long iw = ow * SW - PL + kw * DW;
          pcols += iw >= -PL && iw < W + PR;
          cols += iw >= 0 && iw < W;
        }
        const long count = INCLUDE_PAD ? prows * pcols : rows * cols;
        yc[oh * OW + ow] = count > 0 ? s / static_cast<float>(count) : 0.0f;
      }
  }
}

/// GlobalAveragePool: the mean of each of NC planes of S elements.
template <long NC, long S>
void kiln_f32_global_avgpool(const kiln_f32 *x, kiln_f32 *y) {
  constexpr long NL = 8; // independent partial sums, so the loop vectorizes in order
  for (long c = 0; c < NC; ++c) {
    const kiln_f32 *xc = x + c * S;
    float lane[NL];
    for (long l = 0; l < NL; ++l)
      lane[l] = 0.0f;
    long i = 0;
    for (; i + NL <= S; i += NL)
      for (long l = 0; l < NL; ++l)
        lane[l] += xc[i + l];
    float s = 0.0f;
    for (long l = 0; l < NL; ++l)
      s += lane[l];
    for (; i < S; ++i)
      s += xc[i];
    y[c] = s / static_cast<float>(S);
  }
}

/// GlobalMaxPool: the maximum of each of NC planes of S elements.
template <long NC, long S>
void kiln_f32_global_maxpool(const kiln_f32 *x, kiln_f32 *y) {
  for (long c = 0; c < NC; ++c) {
    const kiln_f32 *xc = x + c * S;
    float m = xc[0];
    for (long i = 1; i < S; ++i)
      m = xc[i] > m ? xc[i] : m;
    y[c] = m;
  }
}
