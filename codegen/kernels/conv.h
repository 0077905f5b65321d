// Single-precision convolution kernels over NCHW tensors (1-D convolutions arrive as H = 1):
// - kiln_f32_conv2d: im2col straight into the GEMM core's packed panels (gemm.h), one chunk of
//   output pixels at a time, so the im2col buffer is bounded by K x NC floats of scratch and stays
//   in cache while every block of output channels passes over it; 1x1 stride-1 convolutions pack
//   with plain copies.
// - kiln_f32_conv2d_dw: depthwise (one input channel per group) as a direct convolution over a
//   zero-padded copy of the channel, a block of output columns in registers.
// - kiln_f32_conv2d_1x1: pointwise convolutions read the input in place as the GEMM's B.
// - kiln_f32_conv2d_igemm: convolutions as an implicit GEMM over a zero-padded copy of the input
//   split into stride phases (no im2col, nothing packed).
// - kiln_f32_conv2d_direct (conv_direct.h): output channels in vectors, output pixels broadcast,
//   over weights kiln packs at compile time.
// - kiln_f32_conv_transpose2d: scatter-accumulate into a scratch image, then bias and epilogue.
// Every shape is a template argument. The epilogue runs on each output value after the bias, as
// the last step before the single store of that element.
#pragma once

#include "codegen/kernels/conv_direct.h"
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
      // Output columns ow whose input column iw = ow*SW + off lies in [0, W): [lo, hi).
      const long off = kw * DW - PL;
      const long lo = off >= 0 ? 0 : (-off + SW - 1) / SW;
      const long hi0 = W - 1 - off >= 0 ? (W - 1 - off) / SW + 1 : 0, hi = hi0 < OW ? hi0 : OW;
      for (long p = 0; p < panels; ++p) {
        // The panel's columns, one output row's segment at a time: zeros, a strided (SW = 1:
        // contiguous) copy of the input row, zeros; every loop is branch-free.
        const long nv = nc - p * NR < NR ? nc - p * NR : NR;
        kiln_f32 *d = dst + p * K * NR + k * NR;
        long j = 0, oh = (n0 + p * NR) / OW, ow = (n0 + p * NR) % OW;
        while (j < nv) {
          const long end = ow + (OW - ow < nv - j ? OW - ow : nv - j); // this row's last + 1
          const long ih = oh * SH - PT + kh * DH;
          kiln_f32 *dr = d + j; // dr[q - ow] is column q of this output row
          if (ih < 0 || ih >= H) {
            for (long q = ow; q < end; ++q)
              dr[q - ow] = 0.0f;
          } else {
            const kiln_f32 *row = xc + ih * W;
            const long a = lo < ow ? ow : (lo < end ? lo : end);
            const long b = hi < a ? a : (hi < end ? hi : end);
            for (long q = ow; q < a; ++q)
              dr[q - ow] = 0.0f;
            for (long q = a; q < b; ++q)
              dr[q - ow] = row[q * SW + off];
            for (long q = b; q < end; ++q)
              dr[q - ow] = 0.0f;
          }
          j += end - ow;
          ow = 0;
          ++oh;
        }
        for (; j < NR; ++j)
          d[j] = 0.0f;
      }
    }
  }
}

/// The store a convolution hands its GEMM: element (m, n) is pixel n of output channel oc0 + m
/// (P pixels per channel, `base` the flat index of the group's first output), a vector of VL
/// consecutive pixels or one; the bias and then the epilogue run before the single store.
template <long P, bool HAS_B, class Epi> struct kiln_conv_store {
  kiln_f32 *y;
  const kiln_f32 *bias;
  long oc0, base;
  const Epi &epi;
  template <class V> KILN_INLINE void operator()(long m, long n, V v) const {
    const long i = base + m * P + n;
    if constexpr (std::is_same_v<V, kiln_vf32>) {
      if constexpr (HAS_B)
        v += kiln_vset1(bias[oc0 + m]);
      kiln_vstore(y + i, epi.template vec<false>(v, i, oc0 + m));
    } else {
      if constexpr (HAS_B)
        v += bias[oc0 + m];
      y[i] = epi(v, i, oc0 + m);
    }
  }
};

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
      kiln_conv_store<P, HAS_B, Epi> store{y, bias, oc0, (b * OC + oc0) * P, epi};
      kiln_gemm_packed<OCG, P, K, NC, K, 1>(w + oc0 * K, packed, pack, store);
    }
}

/// Convolution as an implicit GEMM (no im2col): the input is copied once into a zero-padded
/// image split into SH x SW stride phases, phase (ph, pw) holding padded rows ph, ph + SH, ... and
/// columns pw, pw + SW, ...; each phase has HP = OH + (KH-1)*DH/SH rows of WP = OW +
/// (KW-1)*DW/SW columns. The GEMM runs over "wide" output columns t = oh*WP + ow (ow < WP). In
/// that space row k = (ic, kh, kw) of the im2col matrix is phase ((kh*DH) % SH, (kw*DW) % SW)
/// of channel ic shifted by (kh*DH/SH)*WP + kw*DW/SW, so the micro-kernel reads B straight from
/// the phases, NR contiguous columns per tap, and nothing is packed. Columns with ow >= OW are
/// computed and dropped (WP - OW of every WP). Strides 1 have one phase: the plain padded image.
struct kiln_conv_igemm_dims {
  /// Floats of scratch: the phases plus the columns the last panel reads past them.
  static constexpr long scratch(long c, long oh, long ow, long kh, long kw, long sh, long sw,
                                long dh, long dw) {
    const long hp = oh + (kh - 1) * dh / sh, wp = ow + (kw - 1) * dw / sw, nr = kiln_gemm_cfg::nr;
    const long np = (oh * wp + nr - 1) / nr * nr;
    return (c * sh * sw - 1) * hp * wp + (kh - 1) * dh / sh * wp + (kw - 1) * dw / sw + np;
  }
};

/// R rows (output channels m0 ..) of the implicit GEMM by NR wide columns from t0; a[i*K + k]
/// are the weights of row m0 + i, xp the first phase of the group's first channel (phases of
/// HPWP floats, SH*SW per channel).
template <long R, long CG, long KH, long KW, long SH, long SW, long DH, long DW, long HPWP,
          long WP, class Store>
KILN_INLINE void kiln_conv_igemm_block(const kiln_f32 *a, const kiln_f32 *xp, long m0, long t0,
                                       Store &store) {
  constexpr long VL = kiln_gemm_cfg::vl, NV = kiln_gemm_cfg::nv;
  constexpr long K = CG * KH * KW;
  const kiln_f32 *am = a + m0 * K;
  kiln_vf32 acc[R][NV] = {};
  for (long ic = 0; ic < CG; ++ic) {
    const kiln_f32 *xc = xp + ic * SH * SW * HPWP + t0;
    const kiln_f32 *ac = am + ic * KH * KW;
#pragma GCC unroll 8
    for (long kh = 0; kh < KH; ++kh)
#pragma GCC unroll 8
      for (long kw = 0; kw < KW; ++kw) {
        const kiln_f32 *tap = xc + ((kh * DH) % SH * SW + (kw * DW) % SW) * HPWP +
                              (kh * DH) / SH * WP + (kw * DW) / SW;
        kiln_vf32 bv[NV];
#pragma GCC unroll 8
        for (long v = 0; v < NV; ++v)
          bv[v] = kiln_vload(tap + v * VL);
#pragma GCC unroll 8
        for (long i = 0; i < R; ++i) {
          const float av = ac[i * K + kh * KW + kw];
#pragma GCC unroll 8
          for (long v = 0; v < NV; ++v)
            acc[i][v] += av * bv[v];
        }
      }
  }
#pragma GCC unroll 8
  for (long i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (long v = 0; v < NV; ++v)
      store(m0 + i, t0 + v * VL, acc[i][v]);
}

/// Conv as an implicit GEMM (see kiln_conv_igemm_dims): X [N, C, H, W], W [OC, C/G, KH, KW], Y
/// [N, OC, OH, OW]; scratch holds kiln_conv_igemm_dims::scratch(C/G, ...) floats (one group's
/// phases at a time). Bias and epilogue run on whole vectors where a vector of wide columns lies
/// inside one output row, lane by lane where it straddles a row end.
template <long N, long C, long H, long W, long OC, long OH, long OW, long KH, long KW, long SH,
          long SW, long DH, long DW, long PT, long PL, long G, bool HAS_B, class Epi>
void kiln_f32_conv2d_igemm(const kiln_f32 *x, const kiln_f32 *w, const kiln_f32 *bias,
                           kiln_f32 *y, unsigned char *scratch, Epi epi) {
  constexpr long CG = C / G, OCG = OC / G, K = CG * KH * KW, P = OH * OW;
  constexpr long HP = OH + (KH - 1) * DH / SH, WP = OW + (KW - 1) * DW / SW, HPWP = HP * WP;
  constexpr long NR = kiln_gemm_cfg::nr, MR = kiln_gemm_cfg::mr, VL = kiln_gemm_cfg::vl;
  constexpr long NT = OH * WP, PANELS = (NT + NR - 1) / NR;
  constexpr long SCR = kiln_conv_igemm_dims::scratch(CG, OH, OW, KH, KW, SH, SW, DH, DW);
  constexpr long MC = kiln_gemm_row_chunk(OCG, K);
  static_assert(CG * G == C && OCG * G == OC, "groups must divide the channels");
  kiln_f32 *xp = reinterpret_cast<kiln_f32 *>(scratch);
  for (long b = 0; b < N; ++b)
    for (long g = 0; g < G; ++g) {
      const kiln_f32 *xg = x + (b * C + g * CG) * H * W;
      for (long ic = 0; ic < CG; ++ic)
        for (long ph = 0; ph < SH; ++ph)
          for (long pw = 0; pw < SW; ++pw) {
            kiln_f32 *pc = xp + ((ic * SH + ph) * SW + pw) * HPWP;
            const kiln_f32 *xc = xg + ic * H * W;
            // Phase rows r and columns q read input row r*SH + ph - PT and column q*SW + pw - PL:
            // rows [r0, r1) and columns [q0, q1) of the phase lie inside the input.
            const long r0a = PT - ph > 0 ? (PT - ph + SH - 1) / SH : 0;
            const long r1a = H + PT - ph > 0 ? (H + PT - ph + SH - 1) / SH : 0;
            const long r0 = r0a < HP ? r0a : HP, r1 = r1a < HP ? (r1a > r0 ? r1a : r0) : HP;
            const long q0a = PL - pw > 0 ? (PL - pw + SW - 1) / SW : 0;
            const long q1a = W + PL - pw > 0 ? (W + PL - pw + SW - 1) / SW : 0;
            const long q0 = q0a < WP ? q0a : WP, q1 = q1a < WP ? (q1a > q0 ? q1a : q0) : WP;
            for (long i = 0; i < r0 * WP; ++i)
              pc[i] = 0.0f;
            for (long r = r0; r < r1; ++r) {
              kiln_f32 *d = pc + r * WP;
              const kiln_f32 *src = xc + (r * SH + ph - PT) * W;
              for (long q = 0; q < q0; ++q)
                d[q] = 0.0f;
              long q = q0;
              if constexpr (SW == 2) // a vector at a time while the pair of loads stays in the row
                for (; q + VL <= q1 && 2 * (q + VL) + pw - PL <= W; q += VL)
                  kiln_vstore(d + q, kiln_vload_even(src + 2 * q + pw - PL));
              for (; q < q1; ++q)
                d[q] = src[q * SW + pw - PL];
              for (long q = q1; q < WP; ++q)
                d[q] = 0.0f;
            }
            for (long i = r1 * WP; i < HPWP; ++i)
              pc[i] = 0.0f;
          }
      for (long i = CG * SH * SW * HPWP; i < SCR; ++i) // read only by dropped columns
        xp[i] = 0.0f;
      const long oc0 = g * OCG;
      kiln_f32 *yg = y + (b * OC + oc0) * P;
      const long base = (b * OC + oc0) * P;
      auto store = [=, &epi](long m, long t, kiln_vf32 v) {
        long oh = t / WP, ow = t % WP;
        if constexpr (HAS_B)
          v += kiln_vset1(bias[oc0 + m]);
        if (ow + VL <= OW && t + VL <= NT) {
          const long i = m * P + oh * OW + ow;
          kiln_vstore(yg + i, epi.template vec<false>(v, base + i, oc0 + m));
          return;
        }
        // The vector straddles row ends: lanes [l, l + n) are columns ow .. of row oh, lanes of
        // the padding columns OW .. WP - 1 are dropped. Each row's segment is moved to lane 0
        // through a buffer (lanes past the vector are zeros) and stored with kiln_store_lanes.
        float buf[2 * VL] = {};
        kiln_vstore(buf, v);
        for (long l = 0; l < VL && oh < OH;) {
          if (ow >= OW) {
            l += WP - ow;
            ow = 0;
            ++oh;
            continue;
          }
          const long n = OW - ow < VL - l ? OW - ow : VL - l, i = m * P + oh * OW + ow;
          kiln_store_lanes<N * OC * P>(yg + i, base + i, oc0 + m, kiln_vload(buf + l), n, epi);
          l += n;
          ow += n;
        }
      };
      const kiln_f32 *wg = w + oc0 * K;
      for (long mc = 0; mc < OCG; mc += MC) // chunks of rows whose weights stay in cache
        for (long p = 0; p < PANELS; ++p) {
          const long mend = mc + MC < OCG ? mc + MC : OCG;
          for (long m0 = mc; m0 + MR <= mend; m0 += MR)
            kiln_conv_igemm_block<MR, CG, KH, KW, SH, SW, DH, DW, HPWP, WP>(wg, xp, m0, p * NR,
                                                                            store);
          if constexpr (OCG % MR != 0)
            if (mend == OCG)
              kiln_conv_igemm_block<OCG % MR, CG, KH, KW, SH, SW, DH, DW, HPWP, WP>(
                  wg, xp, OCG - OCG % MR, p * NR, store);
        }
    }
}

/// R rows (m0 ..) of a pointwise convolution over its full column panels [p0, p1), read in place
/// from X (K rows of HW), then, with `partial` (HW not whole panels), the packed partial panel.
template <long R, long K, long HW, class Store>
KILN_INLINE void kiln_conv_1x1_block(const kiln_f32 *wg, const kiln_f32 *xg, const kiln_f32 *panel,
                                    long m0, long p0, long p1, bool partial, Store &store) {
  constexpr long NR = kiln_gemm_cfg::nr, FULL = HW / NR;
  for (long p = p0; p < p1; ++p)
    kiln_conv_igemm_block<R, K, 1, 1, 1, 1, 1, 1, HW, HW>(wg, xg, m0, p * NR, store);
  if constexpr (HW % NR != 0)
    if (partial)
      kiln_gemm_block<R, K, K, 1>(wg, panel, m0, FULL * NR, HW % NR, store);
}

/// Rows [m0, m1) of a pointwise convolution with OCG rows (m0 a multiple of MR; m1 too, or OCG),
/// register block by register block, the OCG % MR tail last when the range ends at OCG; each
/// block as kiln_conv_1x1_block.
template <long OCG, long K, long HW, class Store>
KILN_INLINE void kiln_conv_1x1_rows(const kiln_f32 *wg, const kiln_f32 *xg, const kiln_f32 *panel,
                                    long m0, long m1, long p0, long p1, bool partial,
                                    Store &store) {
  constexpr long MR = kiln_gemm_cfg::mr;
  for (long m = m0; m + MR <= m1; m += MR)
    kiln_conv_1x1_block<MR, K, HW>(wg, xg, panel, m, p0, p1, partial, store);
  if constexpr (OCG % MR != 0)
    if (m1 == OCG)
      kiln_conv_1x1_block<OCG % MR, K, HW>(wg, xg, panel, OCG - OCG % MR, p0, p1, partial, store);
}

/// Pointwise convolution (1x1, strides 1, no pads): Y = W x X per image, X read in place as the
/// K x P matrix B of the GEMM (row k = input channel k), nothing packed; only the last, partial
/// panel of P % NR columns is packed (zero-padded) into scratch, K * NR floats, so that no load
/// reads past the input. scratch is unused when NR divides P.
template <long N, long C, long HW, long OC, long G, bool HAS_B, class Epi>
void kiln_f32_conv2d_1x1(const kiln_f32 *x, const kiln_f32 *w, const kiln_f32 *bias, kiln_f32 *y,
                         unsigned char *scratch, Epi epi) {
  constexpr long CG = C / G, OCG = OC / G, K = CG;
  constexpr long NR = kiln_gemm_cfg::nr, FULL = HW / NR;
  constexpr long MC = kiln_gemm_row_chunk(OCG, K);
  static_assert(CG * G == C && OCG * G == OC, "groups must divide the channels");
  for (long b = 0; b < N; ++b)
    for (long g = 0; g < G; ++g) {
      const kiln_f32 *xg = x + (b * C + g * CG) * HW;
      const long oc0 = g * OCG;
      kiln_conv_store<HW, HAS_B, Epi> store{y, bias, oc0, (b * OC + oc0) * HW, epi};
      const kiln_f32 *wg = w + oc0 * K;
      kiln_f32 *panel = reinterpret_cast<kiln_f32 *>(scratch);
      if constexpr (HW % NR != 0) // the partial last panel, packed once
        kiln_gemm_pack_b<K, HW, 1>(xg, FULL * NR, HW % NR, panel);
      else
        (void)panel;
      if constexpr (K * HW <= kiln_target::cache_floats) {
        // X stays in cache: each block of rows passes over every column, its weights read once.
        kiln_conv_1x1_rows<OCG, K, HW>(wg, xg, panel, 0, OCG, 0, FULL, true, store);
      } else {
        // Chunks of rows whose weights stay in cache, each passed over by every column panel.
        for (long mc = 0; mc < OCG; mc += MC) {
          const long mend = mc + MC < OCG ? mc + MC : OCG;
          for (long p = 0; p < FULL; ++p)
            kiln_conv_1x1_rows<OCG, K, HW>(wg, xg, panel, mc, mend, p, p + 1, false, store);
          if constexpr (HW % NR != 0)
            kiln_conv_1x1_rows<OCG, K, HW>(wg, xg, panel, mc, mend, FULL, FULL, true, store);
        }
      }
    }
}

/// One tile of the depthwise kernel: RB output rows from oh0 by DB vectors of columns from
/// vector v0, all RB*DB accumulators in registers (independent FMA chains: one chain per row
/// would wait on the FMA latency at every tap). A row's last vector may be partial: it is
/// computed whole (the plane is padded for it) and stored lane by lane.
template <long TOTAL, long RB, long DB, long OW, long KH, long KW, long SH, long SW, long DH,
          long DW, long PWS, class Epi>
KILN_INLINE void kiln_dw_tile(const kiln_f32 *plane, const kiln_f32 *wc, float bv, kiln_f32 *yc,
                              long base, long oc, long oh0, long v0, const Epi &epi) {
  constexpr long VL = kiln_vcfg::vl, RS = SW * PWS;
  kiln_vf32 acc[RB][DB];
#pragma GCC unroll 16
  for (long r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (long v = 0; v < DB; ++v)
      acc[r][v] = kiln_vset1(bv);
  // Taps unrolled too: at stride 1 tap (kh, kw) of row r and tap (kh - 1, kw) of row r + 1
  // read the same vector, which the compilers then load once.
#pragma GCC unroll 8
  for (long kh = 0; kh < KH; ++kh)
#pragma GCC unroll 8
    for (long kw = 0; kw < KW; ++kw) {
      const float wv = wc[kh * KW + kw];
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
      if (ow + VL <= OW)
        kiln_vstore(yc + i, epi.template vec<false>(acc[r][v], base + i, oc));
      else
        kiln_store_lanes<TOTAL>(yc + i, base + i, oc, acc[r][v], OW - ow, epi);
    }
}

/// Rows oh0 .. oh0+RB-1 of one depthwise output channel: tiles of DB vectors across the OWV
/// vectors of a row, then the column tail's tile.
template <long TOTAL, long RB, long DB, long OWV, long OW, long KH, long KW, long SH, long SW,
          long DH, long DW, long PWS, class Epi>
KILN_INLINE void kiln_dw_row_block(const kiln_f32 *plane, const kiln_f32 *wc, float bv,
                                   kiln_f32 *yc, long base, long oc, long oh0, const Epi &epi) {
  constexpr long DT = OWV % DB; // the column tail
  long v0 = 0;
  for (; v0 + DB <= OWV; v0 += DB)
    kiln_dw_tile<TOTAL, RB, DB, OW, KH, KW, SH, SW, DH, DW, PWS>(plane, wc, bv, yc, base, oc, oh0, v0,
                                                          epi);
  if constexpr (DT > 0)
    kiln_dw_tile<TOTAL, RB, DT, OW, KH, KW, SH, SW, DH, DW, PWS>(plane, wc, bv, yc, base, oc, oh0, v0,
                                                          epi);
}

/// All output rows of one depthwise output channel over its padded plane: tiles of RB rows by
/// DB vectors, DB the target's block (kiln_target::dw_block columns) capped at a row, RB rows so
/// that about eight accumulator chains are in flight; the row and column tails are tiles of
/// their own sizes, all decided at compile time. TOTAL: the elements of the whole output.
template <long TOTAL, long OH, long OW, long KH, long KW, long SH, long SW, long DH, long DW,
          long PWS, class Epi>
void kiln_dw_rows(const kiln_f32 *plane, const kiln_f32 *wc, float bv, kiln_f32 *yc, long base,
                  long oc, const Epi &epi) {
  constexpr long VL = kiln_vcfg::vl, OWV = (OW + VL - 1) / VL;
  constexpr long DB0 = kiln_target::dw_block / VL > 0 ? kiln_target::dw_block / VL : 1;
  constexpr long DB = DB0 < OWV ? DB0 : OWV, RB0 = (8 + DB - 1) / DB, RB = RB0 < OH ? RB0 : OH;
  constexpr long RT = OH % RB; // the row tail
  for (long oh0 = 0; oh0 + RB <= OH; oh0 += RB)
    kiln_dw_row_block<TOTAL, RB, DB, OWV, OW, KH, KW, SH, SW, DH, DW, PWS>(plane, wc, bv, yc, base, oc,
                                                                    oh0, epi);
  if constexpr (RT > 0)
    kiln_dw_row_block<TOTAL, RT, DB, OWV, OW, KH, KW, SH, SW, DH, DW, PWS>(plane, wc, bv, yc, base, oc,
                                                                    OH - RT, epi);
}

/// The positions [lo, hi) of phase F of a depthwise plane row (column q = t*SW + F at position t)
/// that hold input columns (t*SW + F - PL in [0, W)), clipped to the PWS positions of a phase.
template <long F, long W, long SW, long PL, long PWS> struct kiln_dw_phase_cols {
  static constexpr long lo0 = PL - F > 0 ? (PL - F + SW - 1) / SW : 0;
  static constexpr long hi0 = PL + W - F > 0 ? (PL + W - F + SW - 1) / SW : 0;
  static constexpr long lo = lo0 < PWS ? lo0 : PWS;
  static constexpr long hi = hi0 < PWS ? (hi0 > lo ? hi0 : lo) : PWS;
};

/// Phases F.. of one plane row: the positions outside [LO, HI), where some phase has no input
/// column, one phase at a time.
template <long F, long W, long SW, long PL, long PWS, long LO, long HI>
KILN_INLINE void kiln_dw_fill_edges(const kiln_f32 *row, kiln_f32 *dst) {
  using P = kiln_dw_phase_cols<F, W, SW, PL, PWS>;
  kiln_f32 *d = dst + F * PWS;
  for (long t = P::lo; t < (LO < P::hi ? LO : P::hi); ++t)
    d[t] = row[t * SW + F - PL];
  for (long t = (HI > P::lo ? HI : P::lo); t < P::hi; ++t)
    d[t] = row[t * SW + F - PL];
  if constexpr (F + 1 < SW)
    kiln_dw_fill_edges<F + 1, W, SW, PL, PWS, LO, HI>(row, dst);
}

/// The smallest lo and the largest hi over phases F..SW-1 (kiln_dw_phase_cols).
template <long F, long W, long SW, long PL, long PWS> struct kiln_dw_phase_span {
  using P = kiln_dw_phase_cols<F, W, SW, PL, PWS>;
  using Rest = kiln_dw_phase_span<(F + 1 < SW ? F + 1 : F), W, SW, PL, PWS>;
  static constexpr bool last = F + 1 >= SW;
  static constexpr long lo = last ? P::lo : (P::lo > Rest::lo ? P::lo : Rest::lo); // max lo
  static constexpr long hi = last ? P::hi : (P::hi < Rest::hi ? P::hi : Rest::hi); // min hi
};

/// Writes one input row into its plane row: in [LO, HI), where every phase has its input column,
/// the SW phases together from contiguous input (t*SW + F - PL, F = 0..SW-1; at stride 2 a vector
/// pair at a time, split by kiln_vdeinterleave2); the few positions outside, phase by phase.
template <long W, long SW, long PL, long PWS>
KILN_INLINE void kiln_dw_fill_row(const kiln_f32 *row, kiln_f32 *dst) {
  using S = kiln_dw_phase_span<0, W, SW, PL, PWS>;
  constexpr long LO = S::lo, HI = S::hi > S::lo ? S::hi : S::lo;
  if constexpr (SW == 1) {
    std::memcpy(dst + LO, row + LO - PL, (HI - LO) * sizeof(kiln_f32));
  } else {
    long t = LO;
    if constexpr (SW == 2) {
      constexpr long VL = kiln_vcfg::vl;
      for (; t + VL <= HI; t += VL) {
        kiln_vf32 even, odd;
        kiln_vdeinterleave2(row + 2 * t - PL, &even, &odd);
        kiln_vstore(dst + t, even);
        kiln_vstore(dst + PWS + t, odd);
      }
    }
    for (; t < HI; ++t)
#pragma GCC unroll 8
      for (long f = 0; f < SW; ++f)
        dst[f * PWS + t] = row[t * SW + f - PL];
    kiln_dw_fill_edges<0, W, SW, PL, PWS, LO, HI>(row, dst);
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
  constexpr long r0 = PT < PH ? PT : PH, r1 = PT + H < PH ? (PT + H > r0 ? PT + H : r0) : PH;
  kiln_f32 *plane = reinterpret_cast<kiln_f32 *>(scratch);
  // The padding is the same for every channel: zero the plane once, then each channel writes
  // only the input's rows [r0, r1) and, in each phase, the columns kiln_dw_phase_cols gives.
  for (long i = 0; i < PH * RS; ++i)
    plane[i] = 0.0f;
  for (long b = 0; b < N; ++b)
    for (long c = 0; c < C; ++c) {
      const kiln_f32 *xc = x + (b * C + c) * H * W;
      for (long r = r0; r < r1; ++r)
        kiln_dw_fill_row<W, SW, PL, PWS>(xc + (r - PT) * W, plane + r * RS);
      for (long mi = 0; mi < MULT; ++mi) {
        const long oc = c * MULT + mi;
        const long base = (b * C * MULT + oc) * OH * OW;
        kiln_dw_rows<N * C * MULT * OH * OW, OH, OW, KH, KW, SH, SW, DH, DW, PWS>(
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
