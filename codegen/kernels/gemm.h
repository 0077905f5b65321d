// Single-precision matrix kernels: the blocked GEMM core shared by Gemm, MatMul and the im2col
// convolution, and the Gemm / MatMul entry points the selectors instantiate. Every shape is a
// template argument, so trip counts are compile-time constants and the C++ compiler unrolls and
// vectorizes the register-blocked micro-kernel. B is packed into `scratch` a chunk of columns at a
// time (panels of K x NR, zero-padded), so that the micro-kernel reads it contiguously and the
// chunk stays in cache while every row block of A passes over it. Matrices with fewer rows than
// one register block (batch-1 fully connected layers) skip packing: there it would cost as much
// as the product itself. Each output element is stored exactly once, after the epilogue, so an
// epilogue may read a residual that shares the output's buffer.
#pragma once

#include "kiln_target.h"
#include "runtime_stub/kiln_runtime.h"
#include "runtime_stub/kiln_vec.h"

// The micro-kernel keeps its accumulators in vectors of the vector layer (kiln_vf32, the
// target's width): plain arrays are left in memory by g++ -O2 and scalarized by clang.
typedef kiln_vf32 kiln_gemm_vec;

/// Register block of the micro-kernel: MR rows by NR = NV vectors of columns, the target's
/// numbers (codegen/Target.cpp says why each fits its register file). The selector sizes column
/// chunks in whole panels of NR; a struct keeps the constants free of unused-variable warnings.
struct kiln_gemm_cfg {
  static constexpr long vl = kiln_target::vec_floats;
  static constexpr long mr = kiln_target::gemm_mr;
  static constexpr long nr = kiln_target::gemm_nr;
  static constexpr long nv = nr / vl;
  static_assert(nv * vl == nr && nv > 0, "the GEMM block is whole vectors of columns");
};

/// Rows of A (M x K weights) per chunk of a GEMM whose B is read in place: whole register blocks
/// of rows whose K weights fit kiln_target::cache_floats, at least one block, at most all M. The
/// kernels pass every column panel over one chunk before the next, so that weights larger than
/// the cache are read from memory once rather than once per panel.
template <int = 0> constexpr long kiln_gemm_row_chunk(long m, long k) {
  const long mr = kiln_gemm_cfg::mr, fit = kiln_target::cache_floats / k / mr * mr;
  return fit < mr ? mr : (fit < m ? fit : m);
}

/// Stores lanes [0, n) of v, n <= VL, as output elements gi .. gi + n - 1 of channel c (at dst)
/// after the epilogue. The epilogue runs on the whole vector when its operand reads, elements
/// gi .. gi + VL - 1, stay inside the output (TOTAL elements), and the n lanes are copied out;
/// only the last vectors of the output run lane by lane. The lanes past n are computed and
/// dropped: an operand read there is one the kernel has not overwritten yet, or one it drops.
template <long TOTAL, class Epi>
KILN_INLINE void kiln_store_lanes(kiln_f32 *dst, long gi, long c, kiln_vf32 v, long n,
                                  const Epi &epi) {
  if (gi + kiln_vcfg::vl <= TOTAL) {
    kiln_vstore_lanes(dst, epi.template vec<false>(v, gi, c), n);
  } else {
    for (long l = 0; l < n; ++l)
      dst[l] = epi(v[l], gi + l, c);
  }
}

/// Multiplies R rows of A (element (i, k) at a[i*ASM + k*ASK]) by one packed K x NR panel and
/// hands the nv valid columns (starting at column n) of row m0 + i to the store: a full panel as
/// vectors, store(m0 + i, n + v*VL, kiln_vf32) for VL consecutive columns, so that bias and
/// epilogue run in registers before one vector store; a partial panel by its whole vectors, then
/// column by column, store(m0 + i, n + j, float).
template <long R, long K, long ASM, long ASK, class Store>
KILN_INLINE void kiln_gemm_block(const kiln_f32 *a, const kiln_f32 *panel, long m0, long n, long nv,
                                 Store &store) {
  constexpr long NR = kiln_gemm_cfg::nr, VL = kiln_gemm_cfg::vl, NV = kiln_gemm_cfg::nv;
  const kiln_f32 *am = a + m0 * ASM;
  // Zero-initialized in the declaration: with a loop, g++ -O3 cannot always see through the
  // partial-panel store and warns (-Wmaybe-uninitialized) on a constant column count.
  kiln_gemm_vec acc[R][NV] = {};
  // g++ -O2 does not fully unroll the row loops by itself, and only fully unrolled loops keep the
  // accumulators in registers.
  for (long k = 0; k < K; ++k) {
    kiln_gemm_vec bv[NV];
#pragma GCC unroll 8
    for (long v = 0; v < NV; ++v)
      std::memcpy(&bv[v], panel + k * NR + v * VL, sizeof bv[v]);
#pragma GCC unroll 8
    for (long i = 0; i < R; ++i) {
      const float av = am[i * ASM + k * ASK];
#pragma GCC unroll 8
      for (long v = 0; v < NV; ++v)
        acc[i][v] += av * bv[v];
    }
  }
  if (nv == NR) {
#pragma GCC unroll 8
    for (long i = 0; i < R; ++i)
#pragma GCC unroll 8
      for (long v = 0; v < NV; ++v)
        store(m0 + i, n + v * VL, acc[i][v]);
  } else {
    // A partial panel: its whole vectors as vectors, the rest column by column.
    const long whole = nv / VL;
    for (long i = 0; i < R; ++i) {
      for (long v = 0; v < whole; ++v)
        store(m0 + i, n + v * VL, acc[i][v]);
      for (long j = whole * VL; j < nv; ++j)
        store(m0 + i, n + j, acc[i][j / VL][j % VL]);
    }
  }
}

/// C = A * B for an M x K matrix A (element (m, k) at a[m*ASM + k*ASK]) and a K x N matrix B
/// that pack(n0, nc, dst) writes, nc columns from n0 at a time (nc <= NC), as ceil(nc / NR)
/// zero-padded panels of K x NR into `packed` (K * NC floats). store(m, n, v) receives every
/// element of C exactly once.
template <long M, long N, long K, long NC, long ASM, long ASK, class Pack, class Store>
void kiln_gemm_packed(const kiln_f32 *a, kiln_f32 *packed, Pack &pack, Store &store) {
  constexpr long NR = kiln_gemm_cfg::nr, MR = kiln_gemm_cfg::mr;
  static_assert(NC % NR == 0 && NC > 0, "column chunk must be whole panels");
  for (long n0 = 0; n0 < N; n0 += NC) {
    const long nc = N - n0 < NC ? N - n0 : NC;
    const long panels = (nc + NR - 1) / NR;
    pack(n0, nc, packed);
    for (long m0 = 0; m0 + MR <= M; m0 += MR)
      for (long p = 0; p < panels; ++p) {
        const long nv = nc - p * NR < NR ? nc - p * NR : NR;
        kiln_gemm_block<MR, K, ASM, ASK>(a, packed + p * K * NR, m0, n0 + p * NR, nv, store);
      }
    if constexpr (M % MR != 0) {
      for (long p = 0; p < panels; ++p) {
        const long nv = nc - p * NR < NR ? nc - p * NR : NR;
        kiln_gemm_block<M % MR, K, ASM, ASK>(a, packed + p * K * NR, M - M % MR, n0 + p * NR, nv,
                                             store);
      }
    }
  }
}

/// Packs columns [n0, n0+nc) of a K x N matrix B (element (k, n) at b[k*BSK + n*BSN]).
template <long K, long BSK, long BSN>
void kiln_gemm_pack_b(const kiln_f32 *b, long n0, long nc, kiln_f32 *dst) {
  constexpr long NR = kiln_gemm_cfg::nr;
  for (long p = 0; p * NR < nc; ++p) {
    const long nv = nc - p * NR < NR ? nc - p * NR : NR;
    const kiln_f32 *src = b + (n0 + p * NR) * BSN;
    kiln_f32 *d = dst + p * K * NR;
    if (nv == NR) {
      for (long k = 0; k < K; ++k)
        for (long j = 0; j < NR; ++j)
          d[k * NR + j] = src[k * BSK + j * BSN];
    } else {
      for (long k = 0; k < K; ++k)
        for (long j = 0; j < NR; ++j)
          d[k * NR + j] = j < nv ? src[k * BSK + j * BSN] : 0.0f;
    }
  }
}

/// Unpacked product for a few rows (M < MR): one output row at a time, B read in place. The
/// contiguous forms keep several independent vector accumulators, so that the FMA latency does
/// not bound a product whose B is in cache (one chain waits on it at every step: a 256 -> 128
/// fully connected layer went from 1.9 to 1.4 µs at x86-64-v4; a 1280 -> 1000 one is bound by
/// reading its 5 MB of weights either way).
template <long M, long N, long K, long ASM, long ASK, long BSK, long BSN, class Store>
void kiln_gemm_rows(const kiln_f32 *a, const kiln_f32 *b, Store &store) {
  constexpr long VL = kiln_vcfg::vl;
  for (long m = 0; m < M; ++m) {
    const kiln_f32 *am = a + m * ASM;
    if constexpr (BSN == 1) {
      // Row-major B: broadcast A(m, k) and stream NB contiguous columns of row k, NB / VL
      // vectors of them at a time, then single vectors, then the last columns one by one.
      constexpr long NV = 4, NB = NV * VL;
      long n0 = 0;
      for (; n0 + NB <= N; n0 += NB) {
        kiln_vf32 acc[NV] = {};
        for (long k = 0; k < K; ++k) {
          const float av = am[k * ASK];
          const kiln_f32 *bk = b + k * BSK + n0;
#pragma GCC unroll 4
          for (long v = 0; v < NV; ++v)
            acc[v] += av * kiln_vload(bk + v * VL);
        }
#pragma GCC unroll 4
        for (long v = 0; v < NV; ++v)
          store(m, n0 + v * VL, acc[v]);
      }
      for (; n0 + VL <= N; n0 += VL) {
        kiln_vf32 acc = {};
        for (long k = 0; k < K; ++k)
          acc += am[k * ASK] * kiln_vload(b + k * BSK + n0);
        store(m, n0, acc);
      }
      for (; n0 < N; ++n0) {
        float s = 0.0f;
        for (long k = 0; k < K; ++k)
          s += am[k * ASK] * b[k * BSK + n0];
        store(m, n0, s);
      }
    } else if constexpr (ASK == 1 && BSK == 1) {
      // A's row and B's columns contiguous in k (a fully connected layer's transposed weights):
      // NC columns at a time share each vector of A, NA vectors of k per column in flight, the
      // lanes summed at the end.
      constexpr long NC = 4, NA = 2, KV = K / (NA * VL) * (NA * VL);
      long n = 0;
      for (; n + NC <= N; n += NC) {
        kiln_vf32 acc[NC][NA] = {};
        for (long k = 0; k < KV; k += NA * VL)
#pragma GCC unroll 2
          for (long u = 0; u < NA; ++u) {
            const kiln_vf32 av = kiln_vload(am + k + u * VL);
#pragma GCC unroll 4
            for (long c = 0; c < NC; ++c)
              acc[c][u] += av * kiln_vload(b + (n + c) * BSN + k + u * VL);
          }
#pragma GCC unroll 4
        for (long c = 0; c < NC; ++c) {
          kiln_vf32 t = acc[c][0];
#pragma GCC unroll 2
          for (long u = 1; u < NA; ++u)
            t += acc[c][u];
          float s = 0.0f;
          for (long l = 0; l < VL; ++l)
            s += t[l];
          for (long k = KV; k < K; ++k)
            s += am[k] * b[(n + c) * BSN + k];
          store(m, n + c, s);
        }
      }
      for (; n < N; ++n) {
        kiln_vf32 acc = {};
        for (long k = 0; k < KV; k += VL)
          acc += kiln_vload(am + k) * kiln_vload(b + n * BSN + k);
        float s = 0.0f;
        for (long l = 0; l < VL; ++l)
          s += acc[l];
        for (long k = KV; k < K; ++k)
          s += am[k] * b[n * BSN + k];
        store(m, n, s);
      }
    } else {
      // Strided: a dot product per column, split into NL independent lanes so it vectorizes
      // without reassociating a single sum.
      constexpr long NL = 8;
      for (long n = 0; n < N; ++n) {
        const kiln_f32 *bn = b + n * BSN;
        float lane[NL];
        for (long l = 0; l < NL; ++l)
          lane[l] = 0.0f;
        long k = 0;
        for (; k + NL <= K; k += NL)
          for (long l = 0; l < NL; ++l)
            lane[l] += am[(k + l) * ASK] * bn[(k + l) * BSK];
        float s = 0.0f;
        for (long l = 0; l < NL; ++l)
          s += lane[l];
        for (; k < K; ++k)
          s += am[k * ASK] * bn[k * BSK];
        store(m, n, s);
      }
    }
  }
}

/// C = A * B with strided A and B; packs B through scratch unless NC == 0 (the unpacked row path,
/// chosen by the selector for M < MR).
template <long M, long N, long K, long NC, long ASM, long ASK, long BSK, long BSN, class Store>
void kiln_gemm_strided(const kiln_f32 *a, const kiln_f32 *b, unsigned char *scratch,
                       Store &store) {
  if constexpr (NC == 0) {
    (void)scratch;
    kiln_gemm_rows<M, N, K, ASM, ASK, BSK, BSN>(a, b, store);
  } else {
    auto pack = [b](long n0, long nc, kiln_f32 *dst) {
      kiln_gemm_pack_b<K, BSK, BSN>(b, n0, nc, dst);
    };
    kiln_gemm_packed<M, N, K, NC, ASM, ASK>(a, reinterpret_cast<kiln_f32 *>(scratch), pack,
                                            store);
  }
}

/// ONNX Gemm: Y = alpha * A' * B' + beta * C, A' = transA ? A^T : A (M x K), B' likewise (K x N).
/// C (when HAS_C) is read at c[m*CSM + n*CSN]: strides of 0 broadcast a scalar, a row or a column.
/// The epilogue sees flat index m*N + n and channel n.
template <long M, long N, long K, long NC, bool TA, bool TB, bool HAS_C, long CSM, long CSN,
          class Epi>
void kiln_f32_gemm(const kiln_f32 *a, const kiln_f32 *b, const kiln_f32 *c, kiln_f32 *y,
                   float alpha, float beta, unsigned char *scratch, Epi epi) {
  auto store = [=, &epi](long m, long n, auto v) {
    const long i = m * N + n;
    if constexpr (std::is_same_v<decltype(v), kiln_vf32>) {
      kiln_vf32 r = kiln_vset1(alpha) * v;
      if constexpr (HAS_C)
        r += kiln_vset1(beta) * (CSN == 1 ? kiln_vload(c + m * CSM + n) : kiln_vset1(c[m * CSM]));
      kiln_vstore(y + i, epi.template vec<true>(r, i, n));
    } else {
      float r = alpha * v;
      if constexpr (HAS_C)
        r += beta * c[m * CSM + n * CSN];
      y[i] = epi(r, i, n);
    }
  };
  kiln_gemm_strided<M, N, K, NC, TA ? 1 : K, TA ? M : 1, TB ? 1 : N, TB ? K : 1>(a, b, scratch,
                                                                                  store);
}

/// One M x K by K x N row-major product of a MatMul, its output at y + base.
template <long M, long N, long K, long NC, bool CROW, class Epi>
void kiln_matmul_one(const kiln_f32 *a, const kiln_f32 *b, kiln_f32 *y, long base,
                     unsigned char *scratch, Epi &epi) {
  auto store = [=, &epi](long m, long n, auto v) {
    const long i = base + m * N + n;
    if constexpr (std::is_same_v<decltype(v), kiln_vf32>)
      kiln_vstore(y + i, epi.template vec<!CROW>(v, i, CROW ? m : n));
    else
      y[i] = epi(v, i, CROW ? m : n);
  };
  kiln_gemm_strided<M, N, K, NC, K, 1, N, 1>(a, b, scratch, store);
}

/// ONNX MatMul over BATCH row-major products whose batch b reads A at a + b*ABS and B at
/// b + b*BBS (a stride of 0 broadcasts). CROW: the channel the epilogue sees is the row (the
/// output's last dim is M because B was a 1-D vector), else the column.
template <long BATCH, long M, long N, long K, long NC, long ABS, long BBS, bool CROW, class Epi>
void kiln_f32_matmul(const kiln_f32 *a, const kiln_f32 *b, kiln_f32 *y, unsigned char *scratch,
                     Epi epi) {
  for (long bi = 0; bi < BATCH; ++bi)
    kiln_matmul_one<M, N, K, NC, CROW>(a + bi * ABS, b + bi * BBS, y, bi * M * N, scratch, epi);
}

/// MatMul whose broadcast batch dims are not a single stride: per-batch element offsets of A and
/// B come from tables the selector computes.
template <long BATCH, long M, long N, long K, long NC, bool CROW, class Epi>
void kiln_f32_matmul_bcast(const kiln_f32 *a, const kiln_f32 *b, kiln_f32 *y, const long *aoff,
                           const long *boff, unsigned char *scratch, Epi epi) {
  for (long bi = 0; bi < BATCH; ++bi)
    kiln_matmul_one<M, N, K, NC, CROW>(a + aoff[bi], b + boff[bi], y, bi * M * N, scratch, epi);
}
