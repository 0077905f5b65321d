// Single-precision pooling kernels over NCHW tensors (1-D pools arrive as H = 1): windowed max and
// average pooling with strides, begin pads, dilations and the output size the reference semantics
// computed (ceil_mode shows up only there), and global max / average over all spatial elements.
// Window positions outside the input are skipped; AveragePool's divisor follows ONNX: the
// positions inside the input, or with count_include_pad the positions inside the explicitly
// padded input — never the ceil_mode overhang beyond it. Every shape is a template argument.
#pragma once

#include "runtime_stub/kiln_runtime.h"
#include "runtime_stub/kiln_vec.h"

/// MaxPool of NC = N*C planes of H x W into OH x OW, one vector of output columns at a time with
/// its maximum in a register over every in-bounds tap (kh, kw). The KH input rows of an output
/// row are first copied into local rows padded with -infinity (PL columns before, enough after
/// for the last vector), so that every tap of every vector is one load (at stride 2, a pair of
/// loads and a shuffle) with no bounds check; rows outside the input are skipped. Strides above
/// 2 load lane by lane from the same rows. When the padded rows would not fit in KILN_POOL_ROWS
/// floats (a local array), the lanes are gathered from the input with bounds checks instead. The
/// last vector of a row may be partial: its lanes past OW are dropped. `v > m ? v : m` skips NaN
/// as the reference does.
template <long NC, long H, long W, long OH, long OW, long KH, long KW, long SH, long SW, long DH,
          long DW, long PT, long PL>
void kiln_f32_maxpool2d(const kiln_f32 *x, kiln_f32 *y) {
  constexpr long VL = kiln_vcfg::vl, OWV = (OW + VL - 1) / VL;
  // Columns a padded row needs: the last vector's last tap, plus the odd float a stride-2 pair
  // of loads reads past it.
  constexpr long PR = (OWV * VL - 1) * SW + (KW - 1) * DW + 1 + (SW == 2 ? 1 : 0);
  constexpr long PRW = (PR > PL + W ? PR : PL + W), KILN_POOL_ROWS = 2048;
  constexpr bool padded = KH * PRW <= KILN_POOL_ROWS;
  float rows[padded ? KH : 1][padded ? PRW : 1];
  if constexpr (padded)
    for (long kh = 0; kh < KH; ++kh)
      for (long q = 0; q < PRW; ++q)
        rows[kh][q] = -INFINITY; // the pads; each row's input columns are rewritten below
  for (long c = 0; c < NC; ++c) {
    const kiln_f32 *xc = x + c * H * W;
    kiln_f32 *yc = y + c * OH * OW;
    for (long oh = 0; oh < OH; ++oh) {
      if constexpr (padded)
        for (long kh = 0; kh < KH; ++kh) {
          const long ih = oh * SH - PT + kh * DH;
          if (ih >= 0 && ih < H)
            std::memcpy(&rows[kh][PL], xc + ih * W, W * sizeof(float));
        }
      for (long j = 0; j < OWV; ++j) {
        const long ow = j * VL;
        kiln_vf32 acc = kiln_vset1(-INFINITY);
#pragma GCC unroll 8
        for (long kh = 0; kh < KH; ++kh) {
          const long ih = oh * SH - PT + kh * DH;
          if (ih < 0 || ih >= H)
            continue;
#pragma GCC unroll 8
          for (long kw = 0; kw < KW; ++kw) {
            kiln_vf32 v;
            if constexpr (padded) {
              const float *p = &rows[kh][ow * SW + kw * DW];
              if constexpr (SW == 1) {
                v = kiln_vload(p);
              } else if constexpr (SW == 2) {
                v = kiln_vload_even(p);
              } else {
                for (long l = 0; l < VL; ++l)
                  v[l] = p[l * SW];
              }
            } else {
              const kiln_f32 *xr = xc + ih * W;
              v = kiln_vset1(-INFINITY);
              for (long l = 0; l < VL; ++l) {
                const long iw = ow * SW + kw * DW - PL + l * SW;
                if (iw >= 0 && iw < W)
                  v[l] = xr[iw];
              }
            }
            acc = kiln_vselect(v > acc, v, acc);
          }
        }
        if (ow + VL <= OW) {
          kiln_vstore(yc + oh * OW + ow, acc);
        } else {
          kiln_vstore_lanes(yc + oh * OW + ow, acc, OW - ow);
        }
      }
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
