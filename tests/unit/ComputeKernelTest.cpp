// Unit tests of the compute kernels (codegen/kernels/conv.h, gemm.h, pool.h) and their selectors.
// Kernels are instantiated directly on random data for varied shapes and compared with plain
// reference loops written here from the ONNX definitions; an epilogue functor records the flat
// index and channel of every store, so each output must be stored exactly once with the right
// channel. Selectors are run on hand-built graph nodes: the printed decision must name the right kernel
// with the node's literal shape numbers, and unsupported cases must fail naming node and op.
#include "runtime_stub/kiln_runtime.h"

#include "codegen/kernels/conv.h"
#include "codegen/kernels/gemm.h"
#include "codegen/kernels/pool.h"

#include "codegen/KernelSelect.h"
#include "codegen/WeightPack.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

std::vector<float> randomData(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

/// The output's value before the kernel runs.
constexpr float kUnstored = -99.0f;

/// Leaky-relu plus a channel-dependent offset, so that a wrong channel changes the value, plus an
/// in-place residual: the output itself, read at i, adds 1000 unless element i is still
/// kUnstored, so that an element stored twice (its epilogue run again after its store) comes out
/// wrong. Records how often each flat index reached the epilogue and with which channel. Kernels
/// may run the vector form on lanes they then drop (a partial vector), so an index may be seen
/// more than once; the values say which evaluation was stored.
struct RecordingEpi {
  int *hits;
  long *chan;
  const float *out;
  long size;      // elements of the output
  long *outside;  // epilogue calls at an index outside the output
  float operator()(float v, long i, long c) const {
    if (i < 0 || i >= size) {
      ++*outside;
      return v;
    }
    ++hits[i];
    chan[i] = c;
    return refEpi(v, c) + (out[i] == kUnstored ? 0.0f : 1000.0f);
  }
  // The vector form the kernels call on whole vectors: lane l is element i + l of channel
  // c + l (CV) or c.
  template <bool CV> kiln_vf32 vec(kiln_vf32 v, long i, long c) const {
    for (long l = 0; l < kiln_vcfg::vl; ++l)
      v[l] = (*this)(v[l], i + l, CV ? c + l : c);
    return v;
  }
  static float refEpi(float v, long c) { return (v > 0 ? v : 0.125f * v) + 0.01f * float(c); }
};

struct EpiRecord {
  std::vector<int> hits;
  std::vector<long> chan;
  long outside = 0;
  explicit EpiRecord(size_t n) : hits(n, 0), chan(n, -1) {}
  /// out: the kernel's output, filled with kUnstored.
  RecordingEpi epi(const std::vector<float> &out) {
    return RecordingEpi{hits.data(), chan.data(), out.data(), long(out.size()), &outside};
  }
  /// No index outside the output reached the epilogue (its operand reads would overrun); every
  /// index reached it; one seen once was seen with channel channelOf(i).
  template <class F> void expectChannels(F channelOf) const {
    ASSERT_EQ(outside, 0) << "epilogue calls outside the output";
    for (size_t i = 0; i < hits.size(); ++i) {
      ASSERT_GE(hits[i], 1) << "flat index " << i;
      if (hits[i] == 1) {
        ASSERT_EQ(chan[i], channelOf(long(i))) << "flat index " << i;
      }
    }
  }
};

void expectClose(const std::vector<float> &got, const std::vector<float> &want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::fabs(got[i] - want[i]), 1e-4f * std::max(1.0f, std::fabs(want[i])))
        << "index " << i << ": got " << got[i] << ", want " << want[i];
}

/// 64-byte aligned scratch of the given size (plus a canary region checked for overruns).
struct Scratch {
  std::vector<unsigned char> buf;
  size_t bytes;
  explicit Scratch(size_t n) : buf(n + 128 + 64, 0xAB), bytes(n) {}
  unsigned char *ptr() {
    auto p = reinterpret_cast<uintptr_t>(buf.data());
    return buf.data() + ((64 - p % 64) % 64);
  }
  void expectNoOverrun() {
    unsigned char *p = ptr();
    for (size_t i = bytes; i < bytes + 64; ++i)
      ASSERT_EQ(p[i], 0xAB) << "scratch overrun at byte " << i << " of " << bytes;
  }
};

// ----------------------------------------------------------------------------------------------
// Conv

struct ConvGeom {
  long n, c, h, w, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, g;
  long oh() const { return (h + pt + pb - ((kh - 1) * dh + 1)) / sh + 1; }
  long ow() const { return (w + pl + pr - ((kw - 1) * dw + 1)) / sw + 1; }
};

std::vector<float> refConv(const ConvGeom &p, const std::vector<float> &x,
                           const std::vector<float> &w, const float *bias) {
  const long oh = p.oh(), ow = p.ow(), cg = p.c / p.g, ocg = p.oc / p.g;
  std::vector<float> y(size_t(p.n * p.oc * oh * ow));
  for (long b = 0; b < p.n; ++b)
    for (long o = 0; o < p.oc; ++o)
      for (long i = 0; i < oh; ++i)
        for (long j = 0; j < ow; ++j) {
          double s = bias ? bias[o] : 0.0;
          const long g = o / ocg;
          for (long ci = 0; ci < cg; ++ci)
            for (long a = 0; a < p.kh; ++a)
              for (long e = 0; e < p.kw; ++e) {
                long ih = i * p.sh - p.pt + a * p.dh, iw = j * p.sw - p.pl + e * p.dw;
                if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w)
                  continue;
                s += double(x[size_t(((b * p.c + g * cg + ci) * p.h + ih) * p.w + iw)]) *
                     w[size_t(((o * cg + ci) * p.kh + a) * p.kw + e)];
              }
          const long idx = ((b * p.oc + o) * oh + i) * ow + j;
          y[size_t(idx)] = RecordingEpi::refEpi(float(s), o);
        }
  return y;
}

/// Column chunks of the packed GEMM are whole panels of the target's NR (kiln_target.h, the
/// numbers of the target these tests are built for: build/tests/unit/targets/NAME/): kNC is the
/// smallest chunk of at least 16 columns, as the selectors size them.
constexpr long kNC = kiln_gemm_cfg::nr > 16 ? kiln_gemm_cfg::nr : 16;

/// Runs the im2col GEMM kernel, the depthwise kernel (DEPTHWISE) or the implicit GEMM (S1, any
/// stride) on one geometry.
template <long N, long C, long H, long W, long OC, long KH, long KW, long SH, long SW, long DH,
          long DW, long PT, long PL, long PB, long PR, long G, bool HAS_B, bool DEPTHWISE = false,
          long NC = 0, bool S1 = false>
void checkConv() {
  const ConvGeom p{N, C, H, W, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, G};
  constexpr long OH = (H + PT + PB - ((KH - 1) * DH + 1)) / SH + 1;
  constexpr long OW = (W + PL + PR - ((KW - 1) * DW + 1)) / SW + 1;
  constexpr long K = C / G * KH * KW;
  constexpr long NCX = NC ? NC : (OH * OW + kNC - 1) / kNC * kNC;
  auto x = randomData(size_t(N * C * H * W), 1);
  auto w = randomData(size_t(OC * (C / G) * KH * KW), 2);
  auto b = randomData(size_t(OC), 3);
  std::vector<float> y(size_t(N * OC * OH * OW), kUnstored);
  EpiRecord rec(y.size());
  if constexpr (DEPTHWISE) {
    constexpr long PH = (OH - 1) * SH + (KH - 1) * DH + 1, PW = (OW - 1) * SW + (KW - 1) * DW + 1;
    // Phases padded by the lanes that round OW up to whole vectors (as the selector sizes it).
    constexpr long VL = kiln_vcfg::vl, RU = (OW + VL - 1) / VL * VL - OW;
    Scratch s(size_t(PH * SW * ((PW + SW - 1) / SW + RU) * 4));
    kiln_f32_conv2d_dw<N, C, OC / C, H, W, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, HAS_B>(
        x.data(), w.data(), HAS_B ? b.data() : nullptr, y.data(), s.ptr(), rec.epi(y));
    s.expectNoOverrun();
  } else if constexpr (S1) {
    Scratch s(size_t(kiln_conv_igemm_dims::scratch(C / G, OH, OW, KH, KW, SH, SW, DH, DW) * 4));
    kiln_f32_conv2d_igemm<N, C, H, W, OC, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, G, HAS_B>(
        x.data(), w.data(), HAS_B ? b.data() : nullptr, y.data(), s.ptr(), rec.epi(y));
    s.expectNoOverrun();
  } else {
    Scratch s(size_t(K * NCX * 4));
    kiln_f32_conv2d<N, C, H, W, OC, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, G, NCX, HAS_B>(
        x.data(), w.data(), HAS_B ? b.data() : nullptr, y.data(), s.ptr(), rec.epi(y));
    s.expectNoOverrun();
  }
  expectClose(y, refConv(p, x, w, HAS_B ? b.data() : nullptr));
  rec.expectChannels([](long i) { return i / (OH * OW) % OC; });
}

TEST(ComputeKernelTest, ConvGemmPath) {
  // N, C, H, W, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, G, bias
  checkConv<1, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true>();   // odd sizes, same pad
  checkConv<2, 4, 8, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 1, false>();   // batch, stride 2, no bias
  checkConv<1, 5, 10, 9, 7, 3, 2, 2, 1, 1, 1, 2, 0, 1, 3, 1, true>();   // asymmetric pads
  checkConv<1, 3, 12, 12, 4, 3, 3, 1, 1, 2, 3, 2, 3, 2, 3, 1, true>();  // dilation
  checkConv<1, 8, 7, 7, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true>();    // 1x1 (copy packing)
  checkConv<1, 8, 7, 7, 6, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, false>();   // 1x1 stride 2
  checkConv<2, 8, 6, 5, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, true>();   // groups
  checkConv<1, 3, 1, 17, 5, 1, 4, 1, 2, 1, 1, 0, 2, 0, 1, 1, true>();   // 1-D as H = 1
  checkConv<1, 4, 1, 20, 6, 1, 3, 1, 1, 1, 2, 0, 2, 0, 2, 2, false>();  // 1-D, dilated, grouped
}

TEST(ComputeKernelTest, ConvGemmChunked) {
  // Chunks of kNC (16 or NR) columns over 81 / 49 output pixels: several chunks and a partial
  // last one.
  checkConv<1, 6, 9, 9, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, false, kNC>();
  checkConv<1, 16, 7, 7, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, false, 2 * kNC>();
}

/// The pointwise kernel (kiln_f32_conv2d_1x1) against the reference: P = H*W columns with and
/// without a partial last panel, output-channel counts with and without an MR tail, groups.
template <long N, long C, long H, long W, long OC, long G, bool HAS_B> void checkPointwise() {
  const ConvGeom p{N, C, H, W, OC, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, G};
  auto x = randomData(size_t(N * C * H * W), 1);
  auto w = randomData(size_t(OC * (C / G)), 2);
  auto b = randomData(size_t(OC), 3);
  std::vector<float> y(size_t(N * OC * H * W), kUnstored);
  EpiRecord rec(y.size());
  Scratch s(size_t((H * W) % kiln_gemm_cfg::nr ? C / G * kiln_gemm_cfg::nr * 4 : 0));
  kiln_f32_conv2d_1x1<N, C, H * W, OC, G, HAS_B>(x.data(), w.data(), HAS_B ? b.data() : nullptr,
                                                 y.data(), s.ptr(), rec.epi(y));
  s.expectNoOverrun();
  expectClose(y, refConv(p, x, w, HAS_B ? b.data() : nullptr));
  rec.expectChannels([](long i) { return i / (H * W) % OC; });
}

TEST(ComputeKernelTest, ConvPointwise) {
  checkPointwise<1, 8, 7, 7, 9, 1, true>();     // 49 columns: partial panel, MR tail
  checkPointwise<2, 5, 8, 8, 16, 1, false>();   // 64 columns: whole panels, batch
  checkPointwise<1, 12, 3, 11, 20, 4, true>();  // groups
  checkPointwise<1, 3, 1, 1, 7, 1, true>();     // one pixel
  checkPointwise<1, 33, 16, 16, 24, 1, true>(); // 256 columns
  // X larger than kiln_target::cache_floats on every target: chunks of output channels, each
  // passed over by every panel, the partial panel last (a partial row block in the last chunk).
  checkPointwise<1, 512, 15, 21, 301, 1, true>();
}

TEST(ComputeKernelTest, ConvStridedImplicitGemm) {
  // Stride phases: resnet's 7x7 s2 stem shape (reduced), 3x3 s2 with pads, asymmetric strides,
  // odd sizes whose phases differ in length, 1-D, groups, a 2x2 s2 window.
  checkConv<1, 3, 20, 22, 8, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, true, false, 0, true>();
  checkConv<2, 5, 11, 13, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true, false, 0, true>();
  checkConv<1, 4, 9, 15, 6, 3, 5, 1, 3, 1, 1, 1, 2, 0, 1, 1, false, false, 0, true>();
  checkConv<1, 3, 1, 31, 5, 1, 4, 1, 2, 1, 1, 0, 2, 0, 1, 1, true, false, 0, true>();
  checkConv<1, 8, 10, 10, 12, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 4, true, false, 0, true>();
  checkConv<1, 6, 8, 8, 17, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, true, false, 0, true>();
}

TEST(ComputeKernelTest, ConvStride1ImplicitGemm) {
  // N, C, H, W, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, G, bias
  checkConv<1, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, false, 0, true>();  // odd, same
  checkConv<2, 5, 10, 9, 7, 3, 2, 1, 1, 1, 1, 2, 0, 1, 3, 1, true, false, 0, true>();  // asym pads
  checkConv<1, 3, 12, 12, 4, 3, 3, 1, 1, 2, 3, 2, 3, 2, 3, 1, false, false, 0, true>(); // dilated
  checkConv<2, 8, 6, 5, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, true, false, 0, true>();  // groups
  checkConv<1, 4, 1, 20, 6, 1, 3, 1, 1, 1, 2, 0, 2, 0, 2, 2, false, false, 0, true>(); // 1-D
  checkConv<1, 16, 7, 7, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, false, 0, true>(); // 7x7, MR tail
  checkConv<1, 6, 14, 14, 8, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, false, 0, true>(); // valid 5x5
  checkConv<1, 2, 40, 37, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, false, 0, true>(); // wide rows
}

/// The direct kernel (kiln_f32_conv2d_direct) over weights packed as kiln packs them
/// (codegen/WeightPack.h): NV vectors of channels, blocks of R pixels (ROWS whole rows or row
/// segments).
template <long N, long C, long H, long W, long OC, long KH, long KW, long SH, long SW, long DH,
          long DW, long PT, long PL, long PB, long PR, long G, long NV, long R, long ROWS,
          bool HAS_B>
void checkDirect() {
  const ConvGeom p{N, C, H, W, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, G};
  constexpr long OH = (H + PT + PB - ((KH - 1) * DH + 1)) / SH + 1;
  constexpr long OW = (W + PL + PR - ((KW - 1) * DW + 1)) / SW + 1;
  constexpr long K = C / G * KH * KW;
  auto x = randomData(size_t(N * C * H * W), 1);
  auto w = randomData(size_t(OC * K), 2);
  auto b = randomData(size_t(OC), 3);
  kiln::PackedWeight pw{kiln::PackedWeight::Kind::ConvPanels, 1, G, OC / G, K,
                        NV * kiln_vcfg::vl};
  const std::vector<float> packed = kiln::packWeight(pw, w.data());
  ASSERT_EQ(long(packed.size()), kiln::packedFloats(pw));
  std::vector<float> y(size_t(N * OC * OH * OW), kUnstored);
  EpiRecord rec(y.size());
  constexpr long HP = (OH - 1) * SH + (KH - 1) * DH + 1, WP = (OW - 1) * SW + (KW - 1) * DW + 1;
  Scratch s(size_t(C / G * HP * WP * 4));
  kiln_f32_conv2d_direct<N, C, H, W, OC, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, G, NV, R, ROWS,
                         HAS_B>(x.data(), packed.data(), HAS_B ? b.data() : nullptr, y.data(),
                                s.ptr(), rec.epi(y));
  s.expectNoOverrun();
  expectClose(y, refConv(p, x, w, HAS_B ? b.data() : nullptr));
  rec.expectChannels([](long i) { return i / (OH * OW) % OC; });
}

TEST(ComputeKernelTest, ConvDirect) {
  // N, C, H, W, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, G, NV, R, ROWS, bias
  checkDirect<1, 5, 9, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 1, true>();  // channel tail
  checkDirect<2, 4, 8, 8, 37, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 1, 2, 3, 1, false>(); // stride 2, batch
  checkDirect<1, 6, 7, 7, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 14, 2, true>(); // 2 rows + tail row
  checkDirect<1, 3, 12, 13, 9, 3, 3, 1, 1, 2, 3, 2, 3, 2, 3, 1, 1, 5, 1, true>(); // dilation
  checkDirect<1, 8, 6, 5, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, 1, 5, 1, true>();  // groups
  checkDirect<1, 16, 7, 7, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 2, 7, 1, true>(); // 1x1, read in place
  checkDirect<1, 8, 9, 9, 6, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 5, 1, false>();  // 1x1 stride 2
  checkDirect<1, 3, 1, 31, 5, 1, 4, 1, 2, 1, 1, 0, 2, 0, 1, 1, 2, 6, 1, true>();  // 1-D as H = 1
  checkDirect<1, 3, 20, 22, 19, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, 2, 8, 1, true>(); // 7x7 s2 stem
  checkDirect<1, 5, 10, 9, 7, 3, 2, 1, 1, 1, 1, 2, 0, 1, 3, 1, 2, 9, 1, true>();  // asymmetric pads
  // More pixels per block than a vector has lanes (transposed a vector at a time).
  checkDirect<1, 4, 5, 20, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 20, 1, true>();
  // Weights past kiln_target::l1_floats on every target: chunks of input channels (the last one
  // shorter), partial sums per block between them; with 24x24 pixels in blocks of 4 or 8, more
  // blocks than one group of partial sums holds.
  checkDirect<1, 130, 5, 6, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 1, true>();
  checkDirect<1, 600, 24, 24, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 2, 4, 1, true>();
  checkDirect<1, 600, 24, 24, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 2, 8, 1, false>();
}

TEST(ComputeKernelTest, ConvDepthwise) {
  checkConv<1, 5, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, true, true>();    // same pad
  checkConv<2, 4, 12, 13, 4, 3, 3, 2, 2, 1, 1, 0, 1, 1, 1, 4, false, true>();  // stride 2
  checkConv<1, 3, 10, 21, 6, 3, 5, 1, 2, 2, 1, 2, 1, 3, 2, 3, true, true>();   // multiplier 2
  checkConv<1, 4, 1, 30, 4, 1, 5, 1, 1, 1, 2, 0, 4, 0, 4, 4, true, true>();    // 1-D
  checkConv<1, 6, 16, 16, 6, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 6, true, true>();   // 5x5 s2
  checkConv<1, 3, 9, 61, 3, 3, 4, 3, 3, 1, 2, 1, 0, 1, 5, 3, true, true>();    // stride 3, wide
  checkConv<1, 2, 6, 40, 2, 3, 3, 1, 1, 1, 1, 3, 3, 3, 3, 2, false, true>();   // pads >= kernel
}

// The layers g++ 12.2 miscompiled at -O3 with AVX2 before the row fill lost its per-row branch
// (mobilenet_v2's 384- and 576-channel 14x14 depthwise convolutions; the reduction is
// tests/lit/Inputs/compiler-bugs/gcc12-dw-rowfill.cpp). The build matrix
// (tests/e2e/build_matrix.py) compiles this file with every compiler and flag set.
TEST(ComputeKernelTest, ConvDepthwise14x14SamePad) {
  checkConv<1, 384, 14, 14, 384, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 384, true, true>();
  checkConv<1, 576, 14, 14, 576, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 576, true, true>();
  checkConv<1, 1, 14, 14, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false, true>();
}

// ----------------------------------------------------------------------------------------------
// ConvTranspose

template <long N, long C, long H, long W, long OC, long KH, long KW, long SH, long SW, long DH,
          long DW, long PT, long PL, long PB, long PR, long OPH, long OPW, long G, bool HAS_B>
void checkConvTranspose() {
  constexpr long OH = SH * (H - 1) + OPH + (KH - 1) * DH + 1 - PT - PB;
  constexpr long OW = SW * (W - 1) + OPW + (KW - 1) * DW + 1 - PL - PR;
  constexpr long CG = C / G, OCG = OC / G;
  auto x = randomData(size_t(N * C * H * W), 4);
  auto w = randomData(size_t(C * OCG * KH * KW), 5);
  auto b = randomData(size_t(OC), 6);
  std::vector<double> acc(size_t(N * OC * OH * OW), 0.0);
  for (long n = 0; n < N; ++n)
    for (long ic = 0; ic < C; ++ic)
      for (long m = 0; m < OCG; ++m)
        for (long ih = 0; ih < H; ++ih)
          for (long iw = 0; iw < W; ++iw)
            for (long a = 0; a < KH; ++a)
              for (long e = 0; e < KW; ++e) {
                long oh = ih * SH - PT + a * DH, ow = iw * SW - PL + e * DW;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW)
                  continue;
                long oc = ic / CG * OCG + m;
                acc[size_t(((n * OC + oc) * OH + oh) * OW + ow)] +=
                    double(x[size_t(((n * C + ic) * H + ih) * W + iw)]) *
                    w[size_t(((ic * OCG + m) * KH + a) * KW + e)];
              }
  std::vector<float> want(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    long oc = long(i) / (OH * OW) % OC;
    want[i] = RecordingEpi::refEpi(float(acc[i] + (HAS_B ? b[size_t(oc)] : 0.0f)), oc);
  }
  std::vector<float> y(want.size(), kUnstored);
  EpiRecord rec(y.size());
  Scratch s(size_t(OC * OH * OW * 4));
  kiln_f32_conv_transpose2d<N, C, H, W, OC, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, G, HAS_B>(
      x.data(), w.data(), HAS_B ? b.data() : nullptr, y.data(), s.ptr(), rec.epi(y));
  s.expectNoOverrun();
  expectClose(y, want);
  rec.expectChannels([](long i) { return i / (OH * OW) % OC; });
}

TEST(ComputeKernelTest, ConvTranspose) {
  // N, C, H, W, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, OPH, OPW, G, bias
  checkConvTranspose<1, 3, 5, 6, 4, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, true>();
  checkConvTranspose<2, 4, 4, 5, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, false>();
  checkConvTranspose<1, 2, 3, 7, 3, 2, 4, 3, 2, 2, 1, 0, 2, 1, 1, 0, 1, 1, true>();
  checkConvTranspose<1, 3, 1, 9, 2, 1, 5, 1, 3, 1, 2, 0, 1, 0, 2, 0, 2, 1, true>(); // 1-D
}

// ----------------------------------------------------------------------------------------------
// Gemm and MatMul

/// Gemm with C of shape (cm, cn) (cm, cn in {0 = absent dim, 1, M / N}).
template <long M, long N, long K, long NC, bool TA, bool TB, bool HAS_C, long CSM, long CSN>
void checkGemm(float alpha, float beta) {
  auto a = randomData(size_t(M * K), 7);
  auto b = randomData(size_t(K * N), 8);
  auto c = randomData(size_t(M * N), 9);
  std::vector<float> want(size_t(M * N));
  for (long m = 0; m < M; ++m)
    for (long n = 0; n < N; ++n) {
      double s = 0;
      for (long k = 0; k < K; ++k)
        s += double(TA ? a[size_t(k * M + m)] : a[size_t(m * K + k)]) *
             (TB ? b[size_t(n * K + k)] : b[size_t(k * N + n)]);
      s *= alpha;
      if (HAS_C)
        s += double(beta) * c[size_t(m * CSM + n * CSN)];
      want[size_t(m * N + n)] = RecordingEpi::refEpi(float(s), n);
    }
  std::vector<float> y(want.size(), kUnstored);
  EpiRecord rec(y.size());
  Scratch s(size_t(K * NC * 4));
  kiln_f32_gemm<M, N, K, NC, TA, TB, HAS_C, CSM, CSN>(a.data(), b.data(),
                                                      HAS_C ? c.data() : nullptr, y.data(), alpha,
                                                      beta, s.ptr(), rec.epi(y));
  s.expectNoOverrun();
  expectClose(y, want);
  rec.expectChannels([](long i) { return i % N; });
}

TEST(ComputeKernelTest, GemmTransposesAndC) {
  checkGemm<7, 13, 9, kNC, false, false, true, 13, 1>(1.0f, 1.0f);  // C [M,N]
  checkGemm<7, 13, 9, kNC, true, false, true, 0, 1>(0.5f, 2.0f);    // C [N] / [1,N]
  checkGemm<7, 13, 9, kNC, false, true, true, 1, 0>(1.5f, -1.0f);   // C [M,1]
  checkGemm<7, 13, 9, kNC, true, true, true, 0, 0>(1.0f, 0.25f);    // scalar C
  checkGemm<9, 37, 20, kNC, false, true, false, 0, 0>(2.0f, 0.0f);  // no C, several chunks
  checkGemm<4, 5, 3, kNC, true, true, true, 5, 1>(1.0f, 1.0f);      // one row block, tiny
  checkGemm<17, 64, 33, 64, false, false, true, 0, 1>(1.0f, 1.0f);  // whole panels
}

TEST(ComputeKernelTest, GemmFewRowsUnpacked) {
  checkGemm<1, 37, 19, 0, false, true, true, 0, 1>(1.0f, 1.0f);  // FC layer form
  checkGemm<3, 35, 21, 0, false, false, true, 1, 0>(0.5f, 1.0f); // row-major B, N tail
  checkGemm<2, 9, 5, 0, true, true, false, 0, 0>(1.0f, 0.0f);
  // Long enough for every target's vector paths: K past two vectors with a tail, N past
  // groups of four columns (transposed B) or four vectors of columns (row-major B) with tails.
  checkGemm<2, 70, 100, 0, false, true, true, 0, 1>(1.0f, 1.0f);
  checkGemm<3, 150, 21, 0, false, false, true, 1, 0>(1.0f, 0.5f);
}

/// MatMul with per-batch element offsets of A and B given as tables (the broadcast kernel) or,
/// when REGULAR, as strides ABS/BBS.
template <long BATCH, long M, long N, long K, long NC, bool CROW, long ABS, long BBS,
          bool REGULAR>
void checkMatMul(const std::vector<long> &aoff, const std::vector<long> &boff, size_t asize,
                 size_t bsize) {
  auto a = randomData(asize, 10);
  auto b = randomData(bsize, 11);
  std::vector<float> want(size_t(BATCH * M * N));
  for (long bi = 0; bi < BATCH; ++bi)
    for (long m = 0; m < M; ++m)
      for (long n = 0; n < N; ++n) {
        double s = 0;
        for (long k = 0; k < K; ++k)
          s += double(a[size_t(aoff[size_t(bi)] + m * K + k)]) *
               b[size_t(boff[size_t(bi)] + k * N + n)];
        want[size_t((bi * M + m) * N + n)] = RecordingEpi::refEpi(float(s), CROW ? m : n);
      }
  std::vector<float> y(want.size(), kUnstored);
  EpiRecord rec(y.size());
  Scratch s(size_t(K * NC * 4));
  if constexpr (REGULAR)
    kiln_f32_matmul<BATCH, M, N, K, NC, ABS, BBS, CROW>(a.data(), b.data(), y.data(), s.ptr(),
                                                        rec.epi(y));
  else
    kiln_f32_matmul_bcast<BATCH, M, N, K, NC, CROW>(a.data(), b.data(), y.data(), aoff.data(),
                                                    boff.data(), s.ptr(), rec.epi(y));
  s.expectNoOverrun();
  expectClose(y, want);
  rec.expectChannels([](long i) { return CROW ? i / N % M : i % N; });
}

TEST(ComputeKernelTest, MatMulBatched) {
  // [3,5,7] x [3,7,11]: both batched.
  checkMatMul<3, 5, 11, 7, kNC, false, 35, 77, true>({0, 35, 70}, {0, 77, 154}, 105, 231);
  // [2,6,9] x [9,20]: B shared across batches.
  checkMatMul<2, 6, 20, 9, kNC, false, 54, 0, true>({0, 54}, {0, 0}, 108, 180);
  // [2,1,4,3] x [1,3,3,5] -> [2,3,4,5]: offsets of an outer-product broadcast.
  checkMatMul<6, 4, 5, 3, kNC, false, 0, 0, false>({0, 0, 0, 12, 12, 12}, {0, 15, 30, 0, 15, 30},
                                                   24, 45);
  // [1,8] x [8,10] (1-D A prepended): one row, unpacked path.
  checkMatMul<1, 1, 10, 8, 0, false, 0, 0, true>({0}, {0}, 8, 80);
  // [2,5,8] x [8] (1-D B appended): N = 1, the channel is the row.
  checkMatMul<2, 5, 1, 8, kNC, true, 40, 0, true>({0, 40}, {0, 0}, 80, 8);
}

// ----------------------------------------------------------------------------------------------
// Pools

struct PoolGeom {
  long nc, h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
};

std::vector<float> refPool(const PoolGeom &p, const std::vector<float> &x, bool avg,
                           bool includePad) {
  std::vector<float> y(size_t(p.nc * p.oh * p.ow));
  for (long c = 0; c < p.nc; ++c)
    for (long i = 0; i < p.oh; ++i)
      for (long j = 0; j < p.ow; ++j) {
        double s = 0, m = -INFINITY;
        long cnt = 0, padCnt = 0;
        for (long a = 0; a < p.kh; ++a)
          for (long e = 0; e < p.kw; ++e) {
            long ih = i * p.sh - p.pt + a * p.dh, iw = j * p.sw - p.pl + e * p.dw;
            if (ih >= -p.pt && ih < p.h + p.pb && iw >= -p.pl && iw < p.w + p.pr)
              ++padCnt;
            if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w)
              continue;
            double v = x[size_t((c * p.h + ih) * p.w + iw)];
            s += v;
            m = std::max(m, v);
            ++cnt;
          }
        y[size_t((c * p.oh + i) * p.ow + j)] =
            float(avg ? s / double(includePad ? padCnt : cnt) : m);
      }
  return y;
}

/// OH/OW as ONNX computes them, with ceil_mode.
constexpr long poolOut(long in, long k, long s, long d, long pb, long pe, bool ceil) {
  long span = in + pb + pe - ((k - 1) * d + 1);
  long out = ceil ? (span + s - 1) / s + 1 : span / s + 1;
  if (ceil && (out - 1) * s >= in + pb)
    --out;
  return out;
}

template <long NC, long H, long W, long KH, long KW, long SH, long SW, long DH, long DW, long PT,
          long PL, long PB, long PR, bool CEIL>
void checkPools() {
  constexpr long OH = poolOut(H, KH, SH, DH, PT, PB, CEIL);
  constexpr long OW = poolOut(W, KW, SW, DW, PL, PR, CEIL);
  const PoolGeom p{NC, H, W, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR};
  auto x = randomData(size_t(NC * H * W), 12);
  std::vector<float> y(size_t(NC * OH * OW));
  kiln_f32_maxpool2d<NC, H, W, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL>(x.data(), y.data());
  expectClose(y, refPool(p, x, false, false));
  kiln_f32_avgpool2d<NC, H, W, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, false>(x.data(),
                                                                                      y.data());
  expectClose(y, refPool(p, x, true, false));
  kiln_f32_avgpool2d<NC, H, W, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, true>(x.data(),
                                                                                     y.data());
  expectClose(y, refPool(p, x, true, true));
}

TEST(ComputeKernelTest, Pools) {
  // NC, H, W, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, ceil_mode
  checkPools<3, 9, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false>();  // resnet stem form
  checkPools<2, 7, 8, 3, 2, 2, 3, 1, 1, 0, 0, 0, 0, true>();    // ceil_mode overhang
  checkPools<2, 8, 9, 3, 3, 2, 2, 1, 1, 1, 0, 2, 1, true>();    // ceil + asymmetric pads
  checkPools<1, 11, 12, 3, 2, 1, 2, 2, 3, 2, 1, 2, 2, false>(); // dilation
  checkPools<4, 1, 15, 1, 4, 1, 3, 1, 1, 0, 1, 0, 2, true>();   // 1-D
  checkPools<2, 5, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false>();  // stride 1, partial vectors
  checkPools<2, 6, 53, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, true>();   // squeezenet form, vector tails
  checkPools<1, 4, 1500, 2, 3, 1, 2, 1, 2, 0, 1, 0, 1, false>(); // rows too wide to pad locally
  checkPools<1, 3, 700, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false>(); // 3 padded rows > the local limit
}

TEST(ComputeKernelTest, AvgPoolCountIncludePadExcludesCeilOverhang) {
  // 1x4 input, kernel 3, stride 2, pad 1 both sides, ceil_mode: OW = 3 and the last window
  // [3, 6) covers input 3, pad 4 and overhang 5: divisor 2 with count_include_pad, 1 without.
  static_assert(poolOut(4, 3, 2, 1, 1, 1, true) == 3, "geometry of this case");
  const float x[4] = {1, 2, 3, 4};
  float y[3];
  kiln_f32_avgpool2d<1, 1, 4, 1, 3, 1, 3, 1, 2, 1, 1, 0, 1, 0, 1, true>(x, y);
  EXPECT_FLOAT_EQ(y[0], 3.0f / 3);
  EXPECT_FLOAT_EQ(y[1], 9.0f / 3);
  EXPECT_FLOAT_EQ(y[2], 4.0f / 2);
  kiln_f32_avgpool2d<1, 1, 4, 1, 3, 1, 3, 1, 2, 1, 1, 0, 1, 0, 1, false>(x, y);
  EXPECT_FLOAT_EQ(y[0], 3.0f / 2);
  EXPECT_FLOAT_EQ(y[2], 4.0f);
}

TEST(ComputeKernelTest, GlobalPools) {
  auto x = randomData(6 * 37, 13);
  std::vector<float> y(6);
  kiln_f32_global_avgpool<6, 37>(x.data(), y.data());
  for (size_t c = 0; c < 6; ++c) {
    double s = 0;
    for (size_t i = 0; i < 37; ++i)
      s += x[c * 37 + i];
    EXPECT_NEAR(y[c], s / 37, 1e-5);
  }
  kiln_f32_global_maxpool<6, 37>(x.data(), y.data());
  for (size_t c = 0; c < 6; ++c)
    EXPECT_EQ(y[c], *std::max_element(x.begin() + long(c) * 37, x.begin() + long(c + 1) * 37));
}

// ----------------------------------------------------------------------------------------------
// Selectors

using kiln::Attributes;
using kiln::DType;
using kiln::Graph;
using kiln::Node;
using kiln::OpKind;
using kiln::Shape;
using kiln::TensorType;

TensorType f32(Shape s) { return TensorType(DType::F32, std::move(s)); }

Attributes convAttrs(std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> d,
                     std::vector<int64_t> p, int64_t group) {
  Attributes a;
  a.set("kernel_shape", k);
  a.set("strides", s);
  a.set("dilations", d);
  a.set("pads", p);
  a.set("group", group);
  return a;
}

std::string statementOf(const Node &n) {
  auto call = kiln::selectKernel(n, kiln::genericTarget());
  if (!call) {
    ADD_FAILURE() << llvm::toString(call.takeError());
    return "";
  }
  return kiln::printDecision(*call);
}

std::string errorOf(const Node &n) {
  auto call = kiln::selectKernel(n, kiln::genericTarget());
  if (call) {
    ADD_FAILURE() << "expected an error, got " << kiln::printDecision(*call);
    return "";
  }
  return llvm::toString(call.takeError());
}

TEST(ComputeKernelTest, SelectConv) {
  Graph g;
  auto *x = g.addInput("x", f32({1, 3, 224, 224}));
  auto *w = g.addInput("w", f32({64, 3, 7, 7}));
  auto *b = g.addInput("b", f32({64}));
  Node *conv = g.addNode(OpKind::Conv, "stem", {x, w, b}, {f32({1, 64, 112, 112})}, {"y"},
                         convAttrs({7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}, 1));
  auto call = kiln::selectKernel(*conv, kiln::genericTarget());
  ASSERT_TRUE(bool(call)) << llvm::toString(call.takeError());
  EXPECT_EQ(call->variant, kiln::Variant::ConvIm2col);
  EXPECT_STREQ(kiln::familyHeader(call->family()), "conv.h");
  // K = 147: 256 KiB / (147 * 4) rounded down to whole 16-column panels = 432.
  EXPECT_EQ(kiln::printDecision(*call), "kiln_f32_conv2d<1, 3, 224, 224, 64, 112, 112, 7, 7, 2, 2, 1, 1, 3, "
                             "3, 1, 432, true>(in0, in1, in2, out0, scratch, epi);");
  EXPECT_EQ(call->scratchBytes, 147 * 432 * 4);

  // Depthwise with a multiplier of 2, asymmetric pads, no bias.
  auto *xd = g.addInput("xd", f32({2, 8, 15, 15}));
  auto *wd = g.addInput("wd", f32({16, 1, 3, 3}));
  Node *dw = g.addNode(OpKind::Conv, "dw", {xd, wd}, {f32({2, 16, 8, 8})}, {"yd"},
                       convAttrs({3, 3}, {2, 2}, {1, 1}, {1, 0, 1, 2}, 8));
  call = kiln::selectKernel(*dw, kiln::genericTarget());
  ASSERT_TRUE(bool(call)) << llvm::toString(call.takeError());
  EXPECT_EQ(kiln::printDecision(*call), "kiln_f32_conv2d_dw<2, 8, 2, 15, 15, 8, 8, 3, 3, 2, 2, 1, 1, 1, 0, "
                             "false>(in0, in1, nullptr, out0, scratch, epi);");
  EXPECT_EQ(call->scratchBytes, 17 * 2 * 9 * 4); // 17 rows of 17 columns in 2 phases of 9

  // 1-D conv runs as 2-D with H = 1; a bias fused as epilogue operand is not the op's bias.
  auto *x1 = g.addInput("x1", f32({1, 4, 50}));
  auto *w1 = g.addInput("w1", f32({6, 4, 5}));
  auto *b1 = g.addInput("b1", f32({6}));
  Node *c1 = g.addNode(OpKind::Conv, "c1", {x1, w1, b1}, {f32({1, 6, 23})}, {"y1"},
                       convAttrs({5}, {2}, {1}, {0, 0}, 1));
  kiln::EpilogueStep bias;
  bias.kind = kiln::EpilogueStep::Kind::BiasAdd;
  bias.operand = 2;
  c1->epilogue().steps.push_back(bias);
  // (A 1x5 window at stride 2 reads both column phases: the implicit GEMM.)
  EXPECT_EQ(statementOf(*c1), "kiln_f32_conv2d_igemm<1, 4, 1, 50, 6, 1, 23, 1, 5, 1, 2, 1, 1, 0, "
                              "0, 1, false>(in0, in1, nullptr, out0, scratch, epi);");

  // ConvTranspose: weight [C, OC/G, KH, KW]; scratch is one output image.
  auto *xt = g.addInput("xt", f32({1, 4, 5, 5}));
  auto *wt = g.addInput("wt", f32({4, 3, 3, 3}));
  Attributes ta = convAttrs({3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 1);
  ta.set("output_padding", std::vector<int64_t>{1, 1});
  Node *ct = g.addNode(OpKind::ConvTranspose, "up", {xt, wt}, {f32({1, 3, 10, 10})}, {"yt"}, ta);
  call = kiln::selectKernel(*ct, kiln::genericTarget());
  ASSERT_TRUE(bool(call)) << llvm::toString(call.takeError());
  EXPECT_EQ(kiln::printDecision(*call), "kiln_f32_conv_transpose2d<1, 4, 5, 5, 3, 10, 10, 3, 3, 2, 2, 1, 1, "
                             "1, 1, 1, false>(in0, in1, nullptr, out0, scratch, epi);");
  EXPECT_EQ(call->scratchBytes, 3 * 10 * 10 * 4);
}

TEST(ComputeKernelTest, SelectConvErrors) {
  Graph g;
  auto *x3 = g.addInput("x3", f32({1, 2, 4, 4, 4}));
  auto *w3 = g.addInput("w3", f32({2, 2, 3, 3, 3}));
  Node *c3 = g.addNode(OpKind::Conv, "vol", {x3, w3}, {f32({1, 2, 2, 2, 2})}, {"y3"},
                       convAttrs({3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0, 0, 0, 0}, 1));
  std::string e = errorOf(*c3);
  EXPECT_NE(e.find("node 'vol' (Conv): expected a 1-D or 2-D convolution"), std::string::npos)
      << e;
  EXPECT_NE(e.find("found input f32[1,2,4,4,4]"), std::string::npos) << e;

  auto *xd = g.addInput("xd", TensorType(DType::F64, {1, 2, 4, 4}));
  auto *wd = g.addInput("wd", TensorType(DType::F64, {2, 2, 3, 3}));
  Node *cd = g.addNode(OpKind::Conv, "dbl", {xd, wd}, {TensorType(DType::F64, {1, 2, 2, 2})},
                       {"yd"}, convAttrs({3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 1));
  e = errorOf(*cd);
  EXPECT_NE(e.find("node 'dbl' (Conv): expected input X of type f32"), std::string::npos) << e;
  EXPECT_NE(e.find("found f64[1,2,4,4]"), std::string::npos) << e;
}

TEST(ComputeKernelTest, SelectGemm) {
  Graph g;
  auto *a = g.addInput("a", f32({1, 512}));
  auto *b = g.addInput("b", f32({1000, 512}));
  auto *c = g.addInput("c", f32({1000}));
  Attributes at;
  at.set("transA", int64_t(0));
  at.set("transB", int64_t(1));
  at.set("alpha", 1.0);
  at.set("beta", 0.5);
  Node *fc = g.addNode(OpKind::Gemm, "fc", {a, b, c}, {f32({1, 1000})}, {"y"}, at);
  auto call = kiln::selectKernel(*fc, kiln::genericTarget());
  ASSERT_TRUE(bool(call)) << llvm::toString(call.takeError());
  EXPECT_STREQ(kiln::familyHeader(call->family()), "gemm.h");
  EXPECT_EQ(kiln::printDecision(*call), "kiln_f32_gemm<1, 1000, 512, 0, false, true, true, 0, 1>(in0, in1, "
                             "in2, out0, 1.0f, 0.5f, scratch, epi);");
  EXPECT_EQ(call->scratchBytes, 0);

  // transA with a [M,1] C and enough rows to pack B.
  auto *a2 = g.addInput("a2", f32({20, 8}));
  auto *b2 = g.addInput("b2", f32({20, 30}));
  auto *c2 = g.addInput("c2", f32({8, 1}));
  Attributes at2;
  at2.set("transA", int64_t(1));
  at2.set("transB", int64_t(0));
  at2.set("alpha", 2.0);
  at2.set("beta", 1.0);
  Node *g2 = g.addNode(OpKind::Gemm, "g2", {a2, b2, c2}, {f32({8, 30})}, {"y2"}, at2);
  EXPECT_EQ(statementOf(*g2), "kiln_f32_gemm<8, 30, 20, 32, true, false, true, 1, 0>(in0, in1, "
                              "in2, out0, 2.0f, 1.0f, scratch, epi);");

  auto *c3 = g.addInput("c3", f32({3, 30}));
  Node *g3 = g.addNode(OpKind::Gemm, "g3", {a2, b2, c3}, {f32({8, 30})}, {"y3"}, at2);
  std::string e = errorOf(*g3);
  EXPECT_NE(e.find("node 'g3' (Gemm): expected C unidirectionally broadcastable to [8,30], found "
                   "f32[3,30]"),
            std::string::npos)
      << e;
}

TEST(ComputeKernelTest, SelectMatMul) {
  Graph g;
  // Both batched: regular strides.
  auto *a = g.addInput("a", f32({3, 5, 7}));
  auto *b = g.addInput("b", f32({3, 7, 11}));
  Node *m1 = g.addNode(OpKind::MatMul, "m1", {a, b}, {f32({3, 5, 11})}, {"y1"});
  EXPECT_EQ(statementOf(*m1), "kiln_f32_matmul<3, 5, 11, 7, 16, 35, 77, false>(in0, in1, out0, "
                              "scratch, epi);");
  // A batched over a shared 2-D B: folded into one product of 3 * 5 rows.
  auto *w = g.addInput("w", f32({7, 40}));
  Node *m2 = g.addNode(OpKind::MatMul, "m2", {a, w}, {f32({3, 5, 40})}, {"y2"});
  EXPECT_EQ(statementOf(*m2), "kiln_f32_matmul<1, 15, 40, 7, 48, 0, 0, false>(in0, in1, out0, "
                              "scratch, epi);");
  // Outer broadcast [2,1,4,3] x [3,3,5] -> [2,3,4,5]: offset tables.
  auto *a3 = g.addInput("a3", f32({2, 1, 4, 3}));
  auto *b3 = g.addInput("b3", f32({3, 3, 5}));
  Node *m3 = g.addNode(OpKind::MatMul, "m3", {a3, b3}, {f32({2, 3, 4, 5})}, {"y3"});
  EXPECT_EQ(statementOf(*m3), "static const long kiln_aoff[6] = {0, 0, 0, 12, 12, 12};\n"
                              "static const long kiln_boff[6] = {0, 15, 30, 0, 15, 30};\n"
                              "kiln_f32_matmul_bcast<6, 4, 5, 3, 16, false>(in0, in1, out0, "
                              "kiln_aoff, kiln_boff, scratch, epi);");
  // 1-D operands: [7] x [7,11] -> [11] and [3,5,7] x [7] -> [3,5].
  auto *v = g.addInput("v", f32({7}));
  auto *w2 = g.addInput("w2", f32({7, 11}));
  Node *m4 = g.addNode(OpKind::MatMul, "m4", {v, w2}, {f32({11})}, {"y4"});
  EXPECT_EQ(statementOf(*m4), "kiln_f32_matmul<1, 1, 11, 7, 0, 0, 0, false>(in0, in1, out0, "
                              "scratch, epi);");
  Node *m5 = g.addNode(OpKind::MatMul, "m5", {a, v}, {f32({3, 5})}, {"y5"});
  EXPECT_EQ(statementOf(*m5), "kiln_f32_matmul<3, 5, 1, 7, 16, 35, 0, true>(in0, in1, out0, "
                              "scratch, epi);");

  auto *bad = g.addInput("bad", f32({6, 11}));
  Node *m6 = g.addNode(OpKind::MatMul, "m6", {a, bad}, {f32({3, 5, 11})}, {"y6"});
  std::string e = errorOf(*m6);
  EXPECT_NE(e.find("node 'm6' (MatMul): expected B with 7 rows"), std::string::npos) << e;
}

TEST(ComputeKernelTest, SelectPools) {
  Graph g;
  auto *x = g.addInput("x", f32({1, 64, 112, 112}));
  Attributes mp;
  mp.set("kernel_shape", std::vector<int64_t>{3, 3});
  mp.set("strides", std::vector<int64_t>{2, 2});
  mp.set("dilations", std::vector<int64_t>{1, 1});
  mp.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  mp.set("ceil_mode", int64_t(0));
  Node *p = g.addNode(OpKind::MaxPool, "pool", {x}, {f32({1, 64, 56, 56})}, {"y"}, mp);
  auto call = kiln::selectKernel(*p, kiln::genericTarget());
  ASSERT_TRUE(bool(call)) << llvm::toString(call.takeError());
  EXPECT_STREQ(kiln::familyHeader(call->family()), "pool.h");
  EXPECT_EQ(kiln::printDecision(*call), "kiln_f32_maxpool2d<64, 112, 112, 56, 56, 3, 3, 2, 2, 1, 1, 1, "
                             "1>(in0, out0);");

  Attributes ap = mp;
  ap.set("count_include_pad", int64_t(1));
  ap.set("pads", std::vector<int64_t>{0, 1, 2, 0});
  Node *a = g.addNode(OpKind::AveragePool, "avg", {x}, {f32({1, 64, 56, 56})}, {"ya"}, ap);
  EXPECT_EQ(statementOf(*a), "kiln_f32_avgpool2d<64, 112, 112, 56, 56, 3, 3, 2, 2, 1, 1, 0, 1, "
                             "2, 0, true>(in0, out0);");

  auto *x5 = g.addInput("x5", f32({2, 3, 4, 5, 6}));
  Node *gap = g.addNode(OpKind::GlobalAveragePool, "gap", {x5}, {f32({2, 3, 1, 1, 1})}, {"yg"});
  EXPECT_EQ(statementOf(*gap), "kiln_f32_global_avgpool<6, 120>(in0, out0);");
  Node *gmp = g.addNode(OpKind::GlobalMaxPool, "gmp", {x}, {f32({1, 64, 1, 1})}, {"ym"});
  EXPECT_EQ(statementOf(*gmp), "kiln_f32_global_maxpool<64, 12544>(in0, out0);");

  Node *idx = g.addNode(OpKind::MaxPool, "withidx", {x},
                        {f32({1, 64, 56, 56}), TensorType(DType::I64, {1, 64, 56, 56})},
                        {"yi", "ii"}, mp);
  std::string e = errorOf(*idx);
  EXPECT_NE(e.find("node 'withidx' (MaxPool): expected one result (no Indices output), found 2"),
            std::string::npos)
      << e;
  auto *x3 = g.addInput("x3", f32({1, 2, 4, 4, 4}));
  Attributes m3;
  m3.set("kernel_shape", std::vector<int64_t>{2, 2, 2});
  Node *p3 = g.addNode(OpKind::MaxPool, "p3", {x3}, {f32({1, 2, 3, 3, 3})}, {"y3"}, m3);
  e = errorOf(*p3);
  EXPECT_NE(e.find("node 'p3' (MaxPool): expected a 1-D or 2-D pool"), std::string::npos) << e;
}

} // namespace
