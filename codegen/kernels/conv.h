// Single-precision convolution kernels over NCHW tensors (1-D convolutions arrive as H = 1):
// - kiln_f32_conv2d: im2col straight into the GEMM core's packed panels (gemm.h), one chunk of
//   output pixels at a time, so the im2col buffer is bounded by K x NC floats of scratch and stays
//   in cache while every block of output channels passes over it; 1x1 stride-1 convolutions pack
//   with plain copies.
// - kiln_f32_conv2d_dw: depthwise (one input channel per group) as a direct convolution over a
//   zero-padded copy of the channel, a block of output columns in registers.
// - kiln_f32_conv_transpose2d: scatter-accumulate into a scratch image, then bias and epilogue.
// Every shape is a template argument. The epilogue runs on each output value after the bias, as
// the last step before the single store of that element.
#pragma once

#include "codegen/kernels/gemm.h"
#include "runtime_stub/kiln_runtime.h"

/// Packs columns [n0, n0+nc) of the im2col matrix of one group (rows k = (ic, kh, kw) over the
/// group's C channels, columns n = (oh, ow)) as K x NR panels for kiln_gemm_packed.
template <long C, long H, long W, long OW, long KH, long KW, long SH, long SW, long DH, long DW,
          long PT, long PL>
void kiln_conv_pack(const kiln_f32 *x, long n0, long nc, kiln_f32 *dst) {
  constexpr long NR = kiln_gemm_cfg::nr, K = C * KH * KW;
  const long panels = (nc + NR - 1) / NR;
  constexpr bool direct = KH == 1 && KW == 1 && SH == 1 && SW == 1 && PT == 0 && PL == 0 && OW == W;
  for (long k = 0; k < K; ++k) {
    const long ic = k / (KH * KW), kh = k / KW % KH, kw = k % KW;
    const kiln_f32 *xc = x + ic * H * W;
    if constexpr (direct) {
      // Column n of a 1x1 stride-1 convolution is input pixel n: whole panels are copies.
      const kiln_f32 *src = xc + n0;
      for (long p = 0; p < panels; ++p) {
        const long nv = nc - p * NR < NR ? nc - p * NR : NR;
        kiln_f32 *d = dst + p * K * NR + k * NR;
        if (nv == NR) {
          for (long j = 0; j < NR; ++j)
            d[j] = src[p * NR + j];
        } else {
          for (long j = 0; j < NR; ++j)
            d[j] = j < nv ? src[p * NR + j] : 0.0f;
        }
      }
    } else {
      long oh = n0 / OW, ow = n0 % OW;
      for (long t = 0; t < nc; ++t) {
        const long ih = oh * SH - PT + kh * DH, iw = ow * SW - PL + kw * DW;
        const bool in = ih >= 0 && ih < H && iw >= 0 && iw < W;
        dst[(t / NR) * K * NR + k * NR + t % NR] = in ? xc[ih * W + iw] : 0.0f;
        if (++ow == OW) {
          ow = 0;
          ++oh;
        }
      }
      for (long t = nc; t < panels * NR; ++t)
        dst[(t / NR) * K * NR + k * NR + t % NR] = 0.0f;
    }
  }
}

/// Conv of X [N, C, H, W] with W [OC, C/G, KH, KW] into Y [N, OC, OH, OW]; pads PT/PL are the
/// begins (the ends are implied by OH/OW). NC: output pixels per im2col chunk, a multiple of the
/// GEMM's NR; scratch holds (C/G)*KH*KW*NC floats.
template <long N, long C, long H, long W, long OC, long OH, long OW, long KH, long KW, long SH,
          long SW, long DH, long DW, long PT, long PL, long G, long NC, bool HAS_B, class Epi>
void kiln_f32_conv2d(const kiln_f32 *x, const kiln_f32 *w, const kiln_f32 *bias, kiln_f32 *y,
                     unsigned char *scratch, Epi epi) {
  constexpr long CG = C / G, OCG = OC / G, K = CG * KH * KW, P = OH * OW;
  static_assert(CG * G == C && OCG * G == OC, "groups must divide the channels");
  kiln_f32 *packed = reinterpret_cast<kiln_f32 *>(scratch);
  for (long b = 0; b < N; ++b)
    for (long g = 0; g < G; ++g) {
      const kiln_f32 *xg = x + (b * C + g * CG) * H * W;
      auto pack = [xg](long n0, long nc, kiln_f32 *dst) {
        kiln_conv_pack<CG, H, W, OW, KH, KW, SH, SW, DH, DW, PT, PL>(xg, n0, nc, dst);
      };
      const long oc0 = g * OCG;
      kiln_f32 *yg = y + (b * OC + oc0) * P;
      const long base = (b * OC + oc0) * P;
      auto store = [=, &epi](long m, long n, auto v) {
        if constexpr (std::is_same_v<decltype(v), kiln_vf32>) {
          if constexpr (HAS_B)
            v += kiln_vset1(bias[oc0 + m]);
          kiln_vstore(yg + m * P + n, epi.template vec<false>(v, base + m * P + n, oc0 + m));
        } else {
          if constexpr (HAS_B)
            v += bias[oc0 + m];
          yg[m * P + n] = epi(v, base + m * P + n, oc0 + m);
        }
      };
      kiln_gemm_packed<OCG, P, K, NC, K, 1>(w + oc0 * K, packed, pack, store);
    }
}

/// One tile of the depthwise kernel: RB output rows from oh0 by DB vectors of columns from
/// vector v0, all RB*DB accumulators in registers (independent FMA chains: one chain per row
/// would wait on the FMA latency at every tap). A row's last vector may be partial: it is
/// computed whole (the plane is padded for it) and stored lane by lane.
template <long RB, long DB, long OW, long KH, long KW, long SH, long SW, long DH, long DW,
          long PWS, class Epi>
KILN_INLINE void kiln_dw_tile(const kiln_f32 *plane, const kiln_f32 *wc, float bv, kiln_f32 *yc,
                              long base, long oc, long oh0, long v0, const Epi &epi) {
  constexpr long VL = kiln_vcfg::vl, RS = SW * PWS;
  kiln_vf32 acc[RB][DB];
#pragma GCC unroll 16
  for (long r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (long v = 0; v < DB; ++v)
      acc[r][v] = kiln_vset1(bv);
  for (long kh = 0; kh < KH; ++kh)
    for (long kw = 0; kw < KW; ++kw) {
      const kiln_vf32 wv = kiln_vset1(wc[kh * KW + kw]);
      const kiln_f32 *src = plane + (oh0 * SH + kh * DH) * RS + (kw * DW) % SW * PWS +
                            (kw * DW) / SW + v0 * VL;
#pragma GCC unroll 16
      for (long r = 0; r < RB; ++r)
#pragma GCC unroll 16
        for (long v = 0; v < DB; ++v)
          acc[r][v] += wv * kiln_vload(src + r * SH * RS + v * VL);
    }
#pragma GCC unroll 16
  for (long r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (long v = 0; v < DB; ++v) {
      const long ow = (v0 + v) * VL, i = (oh0 + r) * OW + ow;
      if (ow + VL <= OW) {
        kiln_vstore(yc + i, epi.template vec<false>(acc[r][v], base + i, oc));
      } else {
        for (long j = 0; j < OW - ow; ++j)
          yc[i + j] = epi(acc[r][v][j], base + i + j, oc);
      }
    }
}

/// All output rows of one depthwise output channel over its padded plane: tiles of RB rows by
/// DB vectors, DB the target's block (kiln_target::dw_block columns) capped at a row, RB rows so
/// that about eight accumulator chains are in flight; the row and column tails are tiles of
/// their own sizes, all decided at compile time.
template <long OH, long OW, long KH, long KW, long SH, long SW, long DH, long DW, long PWS,
          class Epi>
void kiln_dw_rows(const kiln_f32 *plane, const kiln_f32 *wc, float bv, kiln_f32 *yc, long base,
                  long oc, const Epi &epi) {
  constexpr long VL = kiln_vcfg::vl, OWV = (OW + VL - 1) / VL;
  constexpr long DB0 = kiln_target::dw_block / VL > 0 ? kiln_target::dw_block / VL : 1;
  constexpr long DB = DB0 < OWV ? DB0 : OWV, RB0 = (8 + DB - 1) / DB, RB = RB0 < OH ? RB0 : OH;
  constexpr long RT = OH % RB, DT = OWV % DB; // row and column tails
  for (long oh0 = 0; oh0 + RB <= OH; oh0 += RB) {
    long v0 = 0;
    for (; v0 + DB <= OWV; v0 += DB)
      kiln_dw_tile<RB, DB, OW, KH, KW, SH, SW, DH, DW, PWS>(plane, wc, bv, yc, base, oc, oh0, v0,
                                                            epi);
    if constexpr (DT > 0)
      kiln_dw_tile<RB, DT, OW, KH, KW, SH, SW, DH, DW, PWS>(plane, wc, bv, yc, base, oc, oh0, v0,
                                                            epi);
  }
  if constexpr (RT > 0) {
    constexpr long oh0 = OH - RT;
    long v0 = 0;
    for (; v0 + DB <= OWV; v0 += DB)
      kiln_dw_tile<RT, DB, OW, KH, KW, SH, SW, DH, DW, PWS>(plane, wc, bv, yc, base, oc, oh0, v0,
                                                            epi);
    if constexpr (DT > 0)
      kiln_dw_tile<RT, DT, OW, KH, KW, SH, SW, DH, DW, PWS>(plane, wc, bv, yc, base, oc, oh0, v0,
                                                            epi);
  }
}

/// Depthwise Conv: G == C groups of one input channel, MULT = OC / C output channels each.
/// scratch holds one zero-padded input channel of PH rows, PH = (OH-1)*SH + (KH-1)*DH + 1 (the
/// rows the windows read), each row split into SW phases of PWS columns: column q is stored at
/// phase q % SW, position q / SW. Split that way the SW-strided columns a tap reads for
/// consecutive outputs are contiguous, so every inner load is a plain vector load whatever the
/// stride. PWS = ceil(PW / SW) plus the lanes that round OW up to whole vectors (PW = (OW-1)*SW +
/// (KW-1)*DW + 1): a row's last, partial vector of outputs reads zero padding, not the next row.
/// The selector sizes scratch the same way (codegen/SelectConv.cpp).
template <long N, long C, long MULT, long H, long W, long OH, long OW, long KH, long KW, long SH,
          long SW, long DH, long DW, long PT, long PL, bool HAS_B, class Epi>
void kiln_f32_conv2d_dw(const kiln_f32 *x, const kiln_f32 *w, const kiln_f32 *bias, kiln_f32 *y,
                        unsigned char *scratch, Epi epi) {
  constexpr long PH = (OH - 1) * SH + (KH - 1) * DH + 1, PW = (OW - 1) * SW + (KW - 1) * DW + 1;
  constexpr long VL = kiln_vcfg::vl, OWV = (OW + VL - 1) / VL; // output vectors per row
  constexpr long PWS = (PW + SW - 1) / SW + (OWV * VL - OW), RS = SW * PWS; // phase, row stride
  kiln_f32 *plane = reinterpret_cast<kiln_f32 *>(scratch);
  for (long b = 0; b < N; ++b)
    for (long c = 0; c < C; ++c) {
      const kiln_f32 *xc = x + (b * C + c) * H * W;
      // Rows [r0, r1) hold input rows, the rest are zero padding. Three loops with constant
      // bounds rather than one loop with a per-row branch: g++ 12.2 at -O3 with AVX2 if-converts
      // that branch into masked loads and miscompiles the row fill
      // (tests/lit/Inputs/compiler-bugs/gcc12-dw-rowfill.cpp).
      constexpr long r0 = PT < PH ? PT : PH, r1 = PT + H < PH ? (PT + H > r0 ? PT + H : r0) : PH;
      for (long i = 0; i < r0 * RS; ++i)
        plane[i] = 0.0f;
      for (long r = r0; r < r1; ++r) {
        const kiln_f32 *row = xc + (r - PT) * W;
        kiln_f32 *dst = plane + r * RS;
        if constexpr (SW == 1) {
          // Left pad, the input row (clipped to the columns the windows read), right pad.
          constexpr long lo = PL < PW ? PL : PW, hi = PL + W < PW ? PL + W : PW;
          for (long q = 0; q < lo; ++q)
            dst[q] = 0.0f;
          for (long q = lo; q < hi; ++q)
            dst[q] = row[q - PL];
          for (long q = hi; q < PWS; ++q) // PWS: the right pad and the vector round-up
            dst[q] = 0.0f;
        } else {
          // Phase f holds columns q = t*SW + f: input column q - PL for t in [lo, hi).
          for (long f = 0; f < SW; ++f) {
            const long lo0 = PL - f > 0 ? (PL - f + SW - 1) / SW : 0;
            const long hi0 = PL + W - f > 0 ? (PL + W - f + SW - 1) / SW : 0;
            const long lo = lo0 < PWS ? lo0 : PWS, hi = hi0 < PWS ? (hi0 > lo ? hi0 : lo) : PWS;
            kiln_f32 *d = dst + f * PWS;
            for (long t = 0; t < lo; ++t)
              d[t] = 0.0f;
            for (long t = lo; t < hi; ++t)
              d[t] = row[t * SW + f - PL];
            for (long t = hi; t < PWS; ++t)
              d[t] = 0.0f;
          }
        }
      }
      for (long i = r1 * RS; i < PH * RS; ++i)
        plane[i] = 0.0f;
      for (long mi = 0; mi < MULT; ++mi) {
        const long oc = c * MULT + mi;
        const long base = (b * C * MULT + oc) * OH * OW;
        kiln_dw_rows<OH, OW, KH, KW, SH, SW, DH, DW, PWS>(
            plane, w + oc * KH * KW, HAS_B ? bias[oc] : 0.0f, y + base, base, oc, epi);
      }
    }
}

/// ConvTranspose of X [N, C, H, W] with W [C, OC/G, KH, KW] into Y [N, OC, OH, OW]: input pixel
/// (ih, iw) feeds output (ih*SH - PT + kh*DH, iw*SW - PL + kw*DW). Output padding and the end pads
/// only decide OH/OW. scratch holds one output image (OC*OH*OW floats) of accumulators.
template <long N, long C, long H, long W, long OC, long OH, long OW, long KH, long KW, long SH,
          long SW, long DH, long DW, long PT, long PL, long G, bool HAS_B, class Epi>
void kiln_f32_conv_transpose2d(const kiln_f32 *x, const kiln_f32 *w, const kiln_f32 *bias,
                               kiln_f32 *y, unsigned char *scratch, Epi epi) {
  constexpr long CG = C / G, OCG = OC / G;
  static_assert(CG * G == C && OCG * G == OC, "groups must divide the channels");
  kiln_f32 *acc = reinterpret_cast<kiln_f32 *>(scratch);
  for (long b = 0; b < N; ++b) {
    for (long i = 0; i < OC * OH * OW; ++i)
      acc[i] = 0.0f;
    for (long ic = 0; ic < C; ++ic) {
      const long g = ic / CG;
      const kiln_f32 *xc = x + (b * C + ic) * H * W;
      for (long m = 0; m < OCG; ++m) {
        const long oc = g * OCG + m;
        const kiln_f32 *wk = w + (ic * OCG + m) * KH * KW;
        kiln_f32 *ac = acc + oc * OH * OW;
        for (long kh = 0; kh < KH; ++kh)
          for (long kw = 0; kw < KW; ++kw) {
            const float wv = wk[kh * KW + kw];
            // Input columns whose output column lands inside [0, OW).
            const long off = kw * DW - PL;
            long lo = off >= 0 ? 0 : (-off + SW - 1) / SW;
            long hi = (OW - 1 - off) >= 0 ? (OW - 1 - off) / SW + 1 : 0;
            if (hi > W)
              hi = W;
            for (long ih = 0; ih < H; ++ih) {
              const long oh = ih * SH - PT + kh * DH;
              if (oh < 0 || oh >= OH)
                continue;
              kiln_f32 *arow = ac + oh * OW;
              const kiln_f32 *xrow = xc + ih * W;
              for (long iw = lo; iw < hi; ++iw)
                arow[iw * SW + off] += wv * xrow[iw];
            }
          }
      }
    }
    const long base = b * OC * OH * OW;
    for (long oc = 0; oc < OC; ++oc) {
      const float bv = HAS_B ? bias[oc] : 0.0f;
      for (long p = 0; p < OH * OW; ++p) {
        const long i = oc * OH * OW + p;
        y[base + i] = epi(acc[i] + bv, base + i, oc);
      }
    }
  }
}
