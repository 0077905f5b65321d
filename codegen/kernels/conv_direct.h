// Direct convolution over NCHW input with weights packed at compile time (kiln_f32_conv2d_direct):
// the output channels are the vector dimension and the output pixels the broadcast one, so a
// register block is R output pixels by NV vectors of output channels. The weights arrive packed
// by kiln (codegen/WeightPack.cpp) as panels of NR = NV * VL output channels, each panel K x NR
// floats with k = (ic, kh, kw) and the channels past OC / G zero; one vector load per tap and
// vector of channels, aligned and contiguous. The input is read at the pixels' window origins
// with compile-time offsets (from a zero-padded copy in scratch when the window leaves the
// image), one scalar broadcast per tap and pixel. Unlike the implicit GEMM, whose vectors run
// along output rows and compute the padding columns of every row, nothing is computed that is
// not stored: a block is a segment of one output row, or whole rows when rows are short, so
// 7x7 and 13x13 layers waste no lane. The accumulators are transposed in registers (VL x VL by
// shuffles) into vectors of consecutive pixels of one channel, which get the bias and the
// epilogue and are stored once each.
#pragma once

#include "codegen/kernels/gemm.h"
#include "runtime_stub/kiln_runtime.h"
#include "runtime_stub/kiln_vec.h"

#include <utility>

/// Lanes of a and b swapped across bit H of the lane and row index: lane l of a becomes b's lane
/// l - H where l has bit H, and b's lane l becomes a's lane l + H where l lacks it (one stage of
/// a VL x VL transpose, two shuffles).
template <long H, long... I>
KILN_INLINE void kiln_vtranspose_stage_(kiln_vf32 &a, kiln_vf32 &b,
                                        std::integer_sequence<long, I...>) {
  constexpr long VL = kiln_vcfg::vl;
  const kiln_vf32 lo = __builtin_shufflevector(a, b, ((I & H) ? VL + I - H : I)...);
  const kiln_vf32 hi = __builtin_shufflevector(a, b, ((I & H) ? VL + I : I + H)...);
  a = lo;
  b = hi;
}

/// Transposes the VL x VL matrix m (row r is m[r]) in place: log2(VL) stages of VL / 2 shuffle
/// pairs, each stage swapping one bit of the row and lane index.
template <long H = kiln_vcfg::vl / 2> KILN_INLINE void kiln_vtranspose(kiln_vf32 *m) {
  if constexpr (H >= 1) {
#pragma GCC unroll 16
    for (long r = 0; r < kiln_vcfg::vl; ++r)
      if ((r & H) == 0)
        kiln_vtranspose_stage_<H>(m[r], m[r + H],
                                  std::make_integer_sequence<long, kiln_vcfg::vl>{});
    kiln_vtranspose<H / 2>(m);
  }
}

/// The compile-time shape of a direct convolution's register block: R pixels, BOW of them per
/// output row (BOW = R: a segment of one row; BOW = OW: whole rows), NV vectors of channels;
/// the input at row stride XR and channel stride XP.
template <long R, long BOW, long NV, long KH, long KW, long SH, long SW, long DH, long DW,
          long XR, long XP>
struct kiln_conv_direct_block {
  static constexpr long VL = kiln_vcfg::vl, NR = NV * VL;

  /// acc[i][v] += the products of pixel i (window origin at xs + offset(i)) with channel vector
  /// v of the panel wp, over every tap of input channels [ic0, ic1). With PF, each tap also
  /// prefetches the weights as far past the chunk as the chunk is long (the next chunk, or the
  /// next panel: they follow in memory), which the first block of a chunk does so that the
  /// weights stream from memory while it computes rather than stalling the next block.
  template <bool PF>
  static KILN_INLINE void run(const kiln_f32 *xs, const kiln_f32 *wp, long ic0, long ic1,
                              kiln_vf32 (&acc)[R][NV]) {
    const long ahead = (ic1 - ic0) * KH * KW * NR;
    for (long ic = ic0; ic < ic1; ++ic) {
      const kiln_f32 *xc = xs + ic * XP;
      const kiln_f32 *wc = wp + ic * KH * KW * NR;
#pragma GCC unroll 8
      for (long kh = 0; kh < KH; ++kh)
#pragma GCC unroll 8
        for (long kw = 0; kw < KW; ++kw) {
          if constexpr (PF)
#pragma GCC unroll 8
            for (long v = 0; v < NV; ++v)
              __builtin_prefetch(wc + ahead + (kh * KW + kw) * NR + v * VL, 0, 3);
          kiln_vf32 wv[NV];
#pragma GCC unroll 8
          for (long v = 0; v < NV; ++v)
            wv[v] = kiln_vload(wc + (kh * KW + kw) * NR + v * VL);
          const kiln_f32 *tap = xc + kh * DH * XR + kw * DW;
#pragma GCC unroll 16
          for (long i = 0; i < R; ++i) {
            const float a = tap[(i / BOW) * SH * XR + (i % BOW) * SW];
#pragma GCC unroll 8
            for (long v = 0; v < NV; ++v)
              acc[i][v] += a * wv[v];
          }
        }
    }
  }
};

/// Stores a block: pixel i of acc is output pixel p0 + i (consecutive), lane j of vector v is
/// channel c0 + v * VL + j of the group (OCG channels; the panel's channels past it are dropped),
/// output element (channel c, pixel p) at y[c * P + p], flat index base + c * P + p, epilogue
/// channel cbase + c. VL pixels at a time are transposed into one vector per channel.
template <long R, long NV, long OCG, long P, long TOTAL, bool HAS_B, class Epi>
KILN_INLINE void kiln_conv_direct_store(kiln_vf32 (&acc)[R][NV], kiln_f32 *y, const kiln_f32 *bias,
                                        long c0, long p0, long base, long cbase, const Epi &epi) {
  constexpr long VL = kiln_vcfg::vl;
#pragma GCC unroll 8
  for (long v = 0; v < NV; ++v)
#pragma GCC unroll 4
    for (long q = 0; q < R; q += VL) {
      kiln_vf32 t[VL];
#pragma GCC unroll 16
      for (long l = 0; l < VL; ++l)
        t[l] = q + l < R ? acc[q + l][v] : kiln_vf32{};
      kiln_vtranspose(t);
      const long n = R - q < VL ? R - q : VL;
#pragma GCC unroll 16
      for (long j = 0; j < VL; ++j) {
        const long c = c0 + v * VL + j;
        if (OCG % (NV * VL) != 0 && c >= OCG)
          break;
        kiln_vf32 r = t[j];
        if constexpr (HAS_B)
          r += kiln_vset1(bias[cbase + c]);
        const long i = c * P + p0 + q;
        if (n == VL)
          kiln_vstore(y + i, epi.template vec<false>(r, base + i, cbase + c));
        else
          kiln_store_lanes<TOTAL>(y + i, base + i, cbase + c, r, n, epi);
      }
    }
}

/// One block over input channels [ic0, ic1): its accumulators start at zero (first) or from
/// `part`, and go to the output through the epilogue (last) or back to `part`; `prefetch`: it
/// prefetches the weights that follow the chunk's.
template <class Blk, long RMAX, long NV, long OCG, long P, long TOTAL, bool HAS_B, class Epi>
KILN_INLINE void kiln_conv_direct_step(const kiln_f32 *xs, const kiln_f32 *wp, long ic0, long ic1,
                                       bool first, bool last, bool prefetch,
                                       kiln_vf32 (*part)[NV], kiln_f32 *y, const kiln_f32 *bias,
                                       long c0, long p0, long base, long cbase, const Epi &epi) {
  constexpr long R = Blk::rows;
  static_assert(R <= RMAX, "a block fits its partial-sum slot");
  kiln_vf32 acc[R][NV];
#pragma GCC unroll 16
  for (long i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (long v = 0; v < NV; ++v)
      acc[i][v] = first ? kiln_vf32{} : part[i][v];
  if (prefetch)
    Blk::template run<true>(xs, wp, ic0, ic1, acc);
  else
    Blk::template run<false>(xs, wp, ic0, ic1, acc);
  if (last) {
    kiln_conv_direct_store<R, NV, OCG, P, TOTAL, HAS_B>(acc, y, bias, c0, p0, base, cbase, epi);
  } else {
#pragma GCC unroll 16
    for (long i = 0; i < R; ++i)
#pragma GCC unroll 8
      for (long v = 0; v < NV; ++v)
        part[i][v] = acc[i][v];
  }
}

/// A block shape with its pixel count as `rows` (what kiln_conv_direct_step reads).
template <long R, long BOW, long NV, long KH, long KW, long SH, long SW, long DH, long DW,
          long XR, long XP>
struct kiln_conv_direct_shape : kiln_conv_direct_block<R, BOW, NV, KH, KW, SH, SW, DH, DW, XR, XP> {
  static constexpr long rows = R;
};

/// Conv of X [N, C, H, W] with weights packed by kiln (see the file comment: G groups of
/// ceil((OC/G) / NR) panels of K x NR floats, K = (C/G) * KH * KW) into Y [N, OC, OH, OW]; pads
/// PT / PL are the begins. Blocks: with ROWS > 1, ROWS whole output rows (R = ROWS * OW pixels);
/// with ROWS = 1, each row in segments of R pixels, the last one shorter. When a panel's weights
/// exceed kiln_target::l1_floats, the input channels go in chunks whose weights fit, each chunk
/// passed over by a group of blocks whose partial sums wait in registers' stead on the stack, so
/// that the chunk is read from the L1d rather than streamed from the L2 once per block. scratch
/// holds the group's zero-padded input, (C/G) * HPAD * WPAD floats, when the windows leave the
/// image, else it is unused and X is read in place.
template <long N, long C, long H, long W, long OC, long OH, long OW, long KH, long KW, long SH,
          long SW, long DH, long DW, long PT, long PL, long G, long NV, long R, long ROWS,
          bool HAS_B, class Epi>
void kiln_f32_conv2d_direct(const kiln_f32 *x, const kiln_f32 *wp, const kiln_f32 *bias,
                            kiln_f32 *y, unsigned char *scratch, Epi epi) {
  constexpr long VL = kiln_vcfg::vl, NR = NV * VL, CG = C / G, OCG = OC / G, P = OH * OW;
  constexpr long K = CG * KH * KW, PANELS = (OCG + NR - 1) / NR;
  constexpr long HPAD = (OH - 1) * SH + (KH - 1) * DH + 1, WPAD = (OW - 1) * SW + (KW - 1) * DW + 1;
  constexpr bool COPY = PT > 0 || PL > 0 || HPAD > H || WPAD > W;
  constexpr long XR = COPY ? WPAD : W, XP = COPY ? HPAD * WPAD : H * W, TOTAL = N * OC * P;
  static_assert(CG * G == C && OCG * G == OC, "groups must divide the channels");
  static_assert(ROWS >= 1 && R >= 1 && (ROWS == 1 || R == ROWS * OW), "a block is rows or a segment");
  // Blocks of a panel: whole-row blocks (the last one the OH % ROWS rows left), or NB segments
  // per row (the last one RT pixels).
  constexpr long NB = ROWS > 1 ? 1 : (OW + R - 1) / R, RT = ROWS > 1 ? OH % ROWS * OW : OW - (NB - 1) * R;
  constexpr long NBLK = ROWS > 1 ? (OH + ROWS - 1) / ROWS : OH * NB;
  // Input channels per chunk, and blocks per group (their partial sums: at most 4096 floats).
  constexpr long TAPW = KH * KW * NR;
  constexpr long KC0 = kiln_target::l1_floats / TAPW;
  constexpr long KC = kiln_target::l1_floats == 0 || KC0 >= CG ? CG : (KC0 > 0 ? KC0 : 1);
  constexpr long BG0 = 4096 / (R * NR);
  constexpr long BG = KC == CG ? NBLK : (BG0 < 1 ? 1 : (BG0 < NBLK ? BG0 : NBLK));
  constexpr long RT1 = RT > 0 ? RT : 1; // a tail block, instantiated even where there is none
  using Full = kiln_conv_direct_shape<R, (ROWS > 1 ? OW : R), NV, KH, KW, SH, SW, DH, DW, XR, XP>;
  using Tail =
      kiln_conv_direct_shape<RT1, (ROWS > 1 ? OW : RT1), NV, KH, KW, SH, SW, DH, DW, XR, XP>;
  for (long b = 0; b < N; ++b)
    for (long g = 0; g < G; ++g) {
      const kiln_f32 *xs = x + (b * C + g * CG) * H * W;
      if constexpr (COPY) {
        // The padded copy: rows [PT, PT + H) and columns [PL, PL + W) of it are the input (as
        // far as the windows reach), everything else zero.
        kiln_f32 *xp = reinterpret_cast<kiln_f32 *>(scratch);
        constexpr long RH = H < HPAD - PT ? H : HPAD - PT, RW = W < WPAD - PL ? W : WPAD - PL;
        for (long ic = 0; ic < CG; ++ic) {
          kiln_f32 *d = xp + ic * XP;
          const kiln_f32 *s = xs + ic * H * W;
          for (long i = 0; i < PT * WPAD; ++i)
            d[i] = 0.0f;
          for (long r = 0; r < RH; ++r) {
            kiln_f32 *dr = d + (PT + r) * WPAD;
            for (long q = 0; q < PL; ++q)
              dr[q] = 0.0f;
            std::memcpy(dr + PL, s + r * W, RW * sizeof(float));
            for (long q = PL + RW; q < WPAD; ++q)
              dr[q] = 0.0f;
          }
          for (long i = (PT + RH) * WPAD; i < XP; ++i)
            d[i] = 0.0f;
        }
        xs = xp;
      } else {
        (void)scratch;
      }
      const long cbase = g * OCG, base = (b * OC + cbase) * P;
      kiln_f32 *yg = y + base;
      kiln_vf32 part[KC == CG ? 1 : BG][KC == CG ? 1 : R][NV];
      for (long p = 0; p < PANELS; ++p) {
        const kiln_f32 *wpp = wp + (g * PANELS + p) * K * NR;
        const long c0 = p * NR;
        for (long b0 = 0; b0 < NBLK; b0 += BG)
          for (long ic0 = 0; ic0 < CG; ic0 += KC) {
            const long ic1 = ic0 + KC < CG ? ic0 + KC : CG;
            const bool first = ic0 == 0, last = ic1 == CG;
            const long bend = b0 + BG < NBLK ? b0 + BG : NBLK;
            for (long bl = b0; bl < bend; ++bl) {
              kiln_vf32(*slot)[NV] = part[KC == CG ? 0 : bl - b0];
              // The block's first output row and pixel, and whether it is the shorter tail.
              const long oh = ROWS > 1 ? bl * ROWS : bl / NB, s = ROWS > 1 ? 0 : bl % NB;
              const bool tail = ROWS > 1 ? oh + ROWS > OH : s + 1 == NB;
              const kiln_f32 *xb = xs + oh * SH * XR + s * R * SW;
              const long p0 = oh * OW + s * R;
              if (tail && RT != R)
                kiln_conv_direct_step<Tail, R, NV, OCG, P, TOTAL, HAS_B>(
                    xb, wpp, ic0, ic1, first, last, bl == b0, slot, yg, bias, c0, p0, base, cbase,
                    epi);
              else
                kiln_conv_direct_step<Full, R, NV, OCG, P, TOTAL, HAS_B>(
                    xb, wpp, ic0, ic1, first, last, bl == b0, slot, yg, bias, c0, p0, base, cbase,
                    epi);
            }
          }
      }
    }
}
