// Unit tests of the elementwise kernel templates (codegen/kernels/elementwise.h), compiled here as
// ordinary C++ and compared with straightforward reference loops written in the test.
#include "codegen/kernels/elementwise.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace {

std::vector<float> ramp(size_t n, float start, float step) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = start + step * float(i);
  return v;
}

} // namespace

TEST(ElementwiseKernel, UnaryFunctorsMatchTheirDefinitions) {
  std::vector<float> x = ramp(41, -4.0f, 0.2f), y(41);
  auto check = [&](auto f, auto ref, const char *name) {
    kiln_ew_unary<float, float, 41>(y.data(), x.data(), f);
    for (size_t i = 0; i < x.size(); ++i)
      EXPECT_NEAR(y[i], ref(double(x[i])), 1e-5 * (1 + std::fabs(ref(double(x[i])))))
          << name << " at x = " << x[i];
  };
  check(
      kiln_ew_relu{}, [](double v) { return v > 0 ? v : 0; }, "relu");
  check(
      kiln_ew_leaky_relu{0.1f}, [](double v) { return v >= 0 ? v : 0.1 * v; }, "leaky");
  check(
      kiln_ew_sigmoid{}, [](double v) { return 1 / (1 + std::exp(-v)); }, "sigmoid");
  check(
      kiln_ew_hard_sigmoid{0.2f, 0.5f},
      [](double v) { return std::max(0.0, std::min(1.0, 0.2 * v + 0.5)); }, "hard_sigmoid");
  check(
      kiln_ew_hard_swish{}, [](double v) { return v * std::max(0.0, std::min(1.0, v / 6 + 0.5)); },
      "hard_swish");
  check(
      kiln_ew_tanh{}, [](double v) { return std::tanh(v); }, "tanh");
  check(
      kiln_ew_elu{1.5f}, [](double v) { return v >= 0 ? v : 1.5 * (std::exp(v) - 1); }, "elu");
  check(
      kiln_ew_selu{1.6732632f, 1.0507010f},
      [](double v) { return 1.0507010 * (v > 0 ? v : 1.6732632 * (std::exp(v) - 1)); }, "selu");
  check(
      kiln_ew_softplus{}, [](double v) { return std::log(std::exp(v) + 1); }, "softplus");
  check(
      kiln_ew_gelu{}, [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); },
      "gelu");
  check(
      kiln_ew_gelu_tanh{},
      [](double v) {
        return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
      },
      "gelu_tanh");
  check(
      kiln_ew_abs{}, [](double v) { return std::fabs(v); }, "abs");
  check(
      kiln_ew_neg{}, [](double v) { return -v; }, "neg");
  check(
      kiln_ew_erf{}, [](double v) { return std::erf(v); }, "erf");
  check(
      kiln_ew_floor{}, [](double v) { return std::floor(v); }, "floor");
  check(
      kiln_ew_ceil{}, [](double v) { return std::ceil(v); }, "ceil");
  check(
      kiln_ew_exp{}, [](double v) { return std::exp(v); }, "exp");
  check(
      kiln_ew_clip<float>{-1.0f, 2.5f}, [](double v) { return std::min(2.5, std::max(-1.0, v)); },
      "clip");

  std::vector<float> pos = ramp(41, 0.1f, 0.3f);
  auto checkPos = [&](auto f, auto ref, const char *name) {
    kiln_ew_unary<float, float, 41>(y.data(), pos.data(), f);
    for (size_t i = 0; i < pos.size(); ++i)
      EXPECT_NEAR(y[i], ref(double(pos[i])), 1e-5 * (1 + std::fabs(ref(double(pos[i]))))) << name;
  };
  checkPos(
      kiln_ew_sqrt{}, [](double v) { return std::sqrt(v); }, "sqrt");
  checkPos(
      kiln_ew_log{}, [](double v) { return std::log(v); }, "log");
  checkPos(
      kiln_ew_reciprocal{}, [](double v) { return 1 / v; }, "reciprocal");
}

// The vector exp behind the vector forms of Exp, Sigmoid and SiLU (runtime_stub/kiln_vec.h):
// within 2 ulp of expf (relative 2.4e-7) over [-87, 88.7], subnormal-small below, +inf above
// log(FLT_MAX), NaN kept; and the vectorized unary map agrees with the scalar functors.
TEST(ElementwiseKernel, VectorExpMatchesExpf) {
  constexpr long VL = kiln_vcfg::vl;
  float worst = 0.0f;
  for (long i = 0; i <= 400000; i += VL) {
    kiln_vf32 x;
    for (long l = 0; l < VL; ++l)
      x[l] = -87.0f + 175.7f * float(i + l) / 400000.0f;
    const kiln_vf32 y = kiln_vexp(x);
    for (long l = 0; l < VL; ++l) {
      const float want = expf(x[l]);
      worst = std::max(worst, std::fabs(y[l] - want) / want);
    }
  }
  EXPECT_LT(worst, 2.4e-7f);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  const float special[] = {-inf, -200.0f, -104.0f, -90.0f, 0.0f, -0.0f, 88.72f, 88.73f, 100.0f, inf, nan};
  for (float v : special) {
    const float got = kiln_vexp(kiln_vset1(v))[0], want = expf(v);
    if (std::isnan(want))
      EXPECT_TRUE(std::isnan(got)) << v;
    else if (std::isinf(want))
      EXPECT_EQ(got, want) << v;
    else
      EXPECT_NEAR(got, want, 1e-38f + 3e-7f * want) << v;
  }
  // The unary map: whole vectors through vec, then the scalar tail.
  std::vector<float> in(37), out(37), outs(37);
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = -9.0f + 0.5f * float(i);
  in[3] = nan;
  in[4] = -inf;
  kiln_ew_unary<float, float, 37>(out.data(), in.data(), kiln_ew_sigmoid{});
  for (size_t i = 0; i < in.size(); ++i)
    outs[i] = kiln_ew_sigmoid{}(in[i]);
  for (size_t i = 0; i < in.size(); ++i) {
    if (std::isnan(outs[i]))
      EXPECT_TRUE(std::isnan(out[i])) << i;
    else
      EXPECT_NEAR(out[i], outs[i], 1e-6f) << i;
  }
  kiln_ew_unary<float, float, 37>(out.data(), in.data(), kiln_ew_silu{});
  for (size_t i = 5; i < in.size(); ++i)
    EXPECT_NEAR(out[i], kiln_ew_silu{}(in[i]), 1e-6f * (1.0f + std::fabs(in[i]))) << i;
}

TEST(ElementwiseKernel, SoftplusDoesNotOverflow) {
  float x[2] = {100.0f, -100.0f}, y[2];
  kiln_ew_unary<float, float, 2>(y, x, kiln_ew_softplus{});
  EXPECT_FLOAT_EQ(y[0], 100.0f);
  EXPECT_GE(y[1], 0.0f);
  EXPECT_LT(y[1], 1e-30f);
}

TEST(ElementwiseKernel, IntegerAndBoolUnary) {
  int64_t a[4] = {-3, 0, 5, -7}, b[4];
  kiln_ew_unary<int64_t, int64_t, 4>(b, a, kiln_ew_abs{});
  EXPECT_EQ(std::vector<int64_t>(b, b + 4), (std::vector<int64_t>{3, 0, 5, 7}));
  kiln_ew_unary<int64_t, int64_t, 4>(b, a, kiln_ew_neg{});
  EXPECT_EQ(std::vector<int64_t>(b, b + 4), (std::vector<int64_t>{3, 0, -5, 7}));
  uint8_t c[3] = {0, 1, 1}, d[3];
  kiln_ew_unary<uint8_t, uint8_t, 3>(d, c, kiln_ew_not{});
  EXPECT_EQ(std::vector<uint8_t>(d, d + 3), (std::vector<uint8_t>{1, 0, 0}));
}

// out[2,3,4] = a[2,3,4] op b[3,1]: b collapsed to strides (0, 1, 0) over dims (2, 3, 4).
TEST(ElementwiseKernel, BinaryBroadcastMatchesReferenceLoop) {
  std::vector<float> a = ramp(24, -2.0f, 0.37f), b = {0.5f, -1.25f, 3.0f}, out(24);
  kiln_ew_binary<float, float, float, kiln_ew_list<2, 3, 4>, kiln_ew_list<12, 4, 1>,
                 kiln_ew_list<0, 1, 0>>(out.data(), a.data(), b.data(), kiln_ew_sub{});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k)
        EXPECT_FLOAT_EQ(out[(i * 3 + j) * 4 + k], a[(i * 3 + j) * 4 + k] - b[j]);

  // Both operands broadcast: a[2,1] x b[1,3] -> out[2,3] (outer product).
  float x[2] = {2, 3}, y[3] = {1, 10, 100}, z[6];
  kiln_ew_binary<float, float, float, kiln_ew_list<2, 3>, kiln_ew_list<1, 0>, kiln_ew_list<0, 1>>(
      z, x, y, kiln_ew_mul{});
  EXPECT_EQ(std::vector<float>(z, z + 6), (std::vector<float>{2, 20, 200, 3, 30, 300}));

  // Scalar operand and in-place accumulation (out is the first operand).
  std::vector<float> acc = ramp(24, 0, 1);
  float s = 0.5f;
  kiln_ew_binary<float, float, float, kiln_ew_list<24>, kiln_ew_list<1>, kiln_ew_list<0>>(
      acc.data(), acc.data(), &s, kiln_ew_add{});
  for (int i = 0; i < 24; ++i)
    EXPECT_FLOAT_EQ(acc[size_t(i)], float(i) + 0.5f);
}

// A fused chain: out[2,3,4] = relu((a - b[3,1]) * c[4] + d) in one n-ary loop, the epilogue
// taking the binary steps' operands (c, d) as values after the op's own (a, b).
namespace {
struct ChainEpilogue {
  KILN_INLINE float operator()(float v, float c, float d) const {
    v = v * c;
    v = v + d;
    return kiln_ew_relu{}(v);
  }
};
} // namespace

TEST(ElementwiseKernel, FusedChainMatchesReferenceLoop) {
  std::vector<float> a = ramp(24, -2.0f, 0.37f), b = {0.5f, -1.25f, 3.0f},
                     c = {1.0f, -2.0f, 0.5f, 3.0f}, d = ramp(24, 1.0f, -0.11f), out(24);
  kiln_ew_map<kiln_ew_list<2, 3, 4>, kiln_ew_list<12, 4, 1>, kiln_ew_list<0, 1, 0>,
              kiln_ew_list<0, 0, 1>, kiln_ew_list<12, 4, 1>>::run(out.data(),
                                                                  kiln_ew_fuse<2>(kiln_ew_sub{},
                                                                                  ChainEpilogue{}),
                                                                  a.data(), b.data(), c.data(),
                                                                  d.data());
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) {
        int f = (i * 3 + j) * 4 + k;
        float want = (a[size_t(f)] - b[size_t(j)]) * c[size_t(k)] + d[size_t(f)];
        EXPECT_FLOAT_EQ(out[size_t(f)], want < 0 ? 0.0f : want) << f;
      }
  // In place over the same-shaped step operand d: each element is read before it is written.
  kiln_ew_map<kiln_ew_list<2, 3, 4>, kiln_ew_list<12, 4, 1>, kiln_ew_list<0, 1, 0>,
              kiln_ew_list<0, 0, 1>, kiln_ew_list<12, 4, 1>>::run(d.data(),
                                                                  kiln_ew_fuse<2>(kiln_ew_sub{},
                                                                                  ChainEpilogue{}),
                                                                  a.data(), b.data(), c.data(),
                                                                  d.data());
  EXPECT_EQ(d, out);
}

TEST(ElementwiseKernel, BinaryOpsAndDtypes) {
  int64_t a[4] = {7, -7, 9, 0}, b[4] = {2, 2, -4, 5}, q[4];
  kiln_ew_binary<int64_t, int64_t, int64_t, kiln_ew_list<4>, kiln_ew_list<1>, kiln_ew_list<1>>(
      q, a, b, kiln_ew_div{});
  EXPECT_EQ(std::vector<int64_t>(q, q + 4), (std::vector<int64_t>{3, -3, -2, 0})); // truncation

  float x[4] = {1, 2, 3, std::numeric_limits<float>::quiet_NaN()};
  float y[4] = {2, 2, 2, 0};
  uint8_t r[4];
  kiln_ew_binary<uint8_t, float, float, kiln_ew_list<4>, kiln_ew_list<1>, kiln_ew_list<1>>(
      r, x, y, kiln_ew_less{});
  EXPECT_EQ(std::vector<uint8_t>(r, r + 4), (std::vector<uint8_t>{1, 0, 0, 0}));
  kiln_ew_binary<uint8_t, float, float, kiln_ew_list<4>, kiln_ew_list<1>, kiln_ew_list<1>>(
      r, x, y, kiln_ew_equal{});
  EXPECT_EQ(std::vector<uint8_t>(r, r + 4), (std::vector<uint8_t>{0, 1, 0, 0}));
  kiln_ew_binary<uint8_t, float, float, kiln_ew_list<4>, kiln_ew_list<1>, kiln_ew_list<1>>(
      r, x, y, kiln_ew_greater{});
  EXPECT_EQ(std::vector<uint8_t>(r, r + 4), (std::vector<uint8_t>{0, 0, 1, 0}));

  // Max / Min propagate NaN from either side, like numpy.
  float m[4];
  kiln_ew_binary<float, float, float, kiln_ew_list<4>, kiln_ew_list<1>, kiln_ew_list<1>>(
      m, x, y, kiln_ew_max{});
  EXPECT_EQ(m[0], 2.0f);
  EXPECT_EQ(m[2], 3.0f);
  EXPECT_TRUE(std::isnan(m[3]));
  kiln_ew_binary<float, float, float, kiln_ew_list<4>, kiln_ew_list<1>, kiln_ew_list<1>>(
      m, y, x, kiln_ew_min{});
  EXPECT_EQ(m[0], 1.0f);
  EXPECT_TRUE(std::isnan(m[3]));

  // Pow with an integer exponent; PRelu with a per-channel slope.
  int64_t e[1] = {3};
  kiln_ew_binary<float, float, int64_t, kiln_ew_list<3>, kiln_ew_list<1>, kiln_ew_list<0>>(
      m, x, e, kiln_ew_pow{});
  EXPECT_FLOAT_EQ(m[1], 8.0f);
  float v[4] = {-1, 2, -3, 4}, slope[2] = {0.5f, 0.25f}, p[4];
  kiln_ew_binary<float, float, float, kiln_ew_list<2, 2>, kiln_ew_list<2, 1>, kiln_ew_list<1, 0>>(
      p, v, slope, kiln_ew_prelu{});
  EXPECT_EQ(std::vector<float>(p, p + 4), (std::vector<float>{-0.5f, 2, -0.75f, 4}));
}

TEST(ElementwiseKernel, WhereBroadcastsAllThree) {
  // cond[2,1], x[1,3], y scalar -> out[2,3]
  uint8_t c[2] = {1, 0};
  float x[3] = {1, 2, 3}, y = -1, out[6];
  kiln_ew_where<float, kiln_ew_list<2, 3>, kiln_ew_list<1, 0>, kiln_ew_list<0, 1>,
                kiln_ew_list<0, 0>>(out, c, x, &y);
  EXPECT_EQ(std::vector<float>(out, out + 6), (std::vector<float>{1, 2, 3, -1, -1, -1}));
}

TEST(ElementwiseKernel, BatchNormMatchesFormula) {
  const int N = 2, C = 3, S = 5;
  std::vector<float> x = ramp(N * C * S, -1.0f, 0.13f), y(x.size());
  float scale[C] = {1.0f, 0.5f, 2.0f}, bias[C] = {0.1f, -0.2f, 0.3f};
  float mean[C] = {0.0f, 1.0f, -1.0f}, var[C] = {1.0f, 4.0f, 0.25f};
  kiln_ew_batchnorm<N, C, S>(y.data(), x.data(), scale, bias, mean, var, 1e-5f);
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int s = 0; s < S; ++s) {
        size_t i = size_t((n * C + c) * S + s);
        double ref = (x[i] - mean[c]) / std::sqrt(double(var[c]) + 1e-5) * scale[c] + bias[c];
        EXPECT_NEAR(y[i], ref, 1e-5);
      }
}
