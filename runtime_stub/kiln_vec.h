// kiln's vector layer: one float vector type of the target's width (kiln_target::vec_floats,
// printed by kiln for --target, never a macro of the user's compiler) and the few operations the
// kernels and epilogues build on. The type is a GNU vector extension (g++ and clang++ both
// compile it to the target's registers: zmm for x86-64-v4, ymm for v3, q registers for aarch64);
// a target without SIMD has one-float vectors, which are scalar code. Loads and stores go through
// memcpy, so they need no alignment and break no aliasing rule; the compilers turn them into
// single vector moves. Comparisons are written so that NaN behaves as in the scalar functors.
#pragma once

#include "kiln_target.h"
#include "runtime_stub/kiln_runtime.h"

#include <cstring>
#include <type_traits>
#include <utility>

typedef float kiln_vf32 __attribute__((vector_size(kiln_target::vec_floats * sizeof(float))));
typedef int32_t kiln_vi32 __attribute__((vector_size(kiln_target::vec_floats * sizeof(int32_t))));

// The functions are templates (of a defaulted parameter) so that a pair that pastes this file
// but calls some of them draws no unused-function warning (clang warns on unused internal
// non-template functions, inline or not).
namespace {

/// Lanes of kiln_vf32 (a struct keeps the constant free of unused-variable warnings).
struct kiln_vcfg {
  static constexpr long vl = kiln_target::vec_floats;
};

template <int = 0> KILN_INLINE kiln_vf32 kiln_vload(const float *p) {
  kiln_vf32 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <int = 0> KILN_INLINE void kiln_vstore(float *p, kiln_vf32 v) { std::memcpy(p, &v, sizeof v); }
/// x in every lane. Not `kiln_vf32{} + x`: that is an addition (0 + -0 is +0), which the compilers
/// must keep. Kernels multiplying by a scalar write `s * v`: the implicit splat folds into the FMA.
template <int = 0> KILN_INLINE kiln_vf32 kiln_vset1(float x) {
  kiln_vf32 v;
  for (long l = 0; l < kiln_target::vec_floats; ++l)
    v[l] = x;
  return v;
}
/// m ? a : b per lane, m a comparison result (all bits set or clear per lane). The vector
/// conditional rather than bit operations: the compilers see `v > m ? v : m` as maxps / fmax.
template <int = 0> KILN_INLINE kiln_vf32 kiln_vselect(kiln_vi32 m, kiln_vf32 a, kiln_vf32 b) {
  return m ? a : b;
}
/// ONNX Max / Min of the epilogue's binary steps: b when b wins or is NaN, else a.
template <int = 0> KILN_INLINE kiln_vf32 kiln_vmax_nan(kiln_vf32 a, kiln_vf32 b) {
  return kiln_vselect((b > a) | (b != b), b, a);
}
template <int = 0> KILN_INLINE kiln_vf32 kiln_vmin_nan(kiln_vf32 a, kiln_vf32 b) {
  return kiln_vselect((b < a) | (b != b), b, a);
}

/// Lanes O, O + 2, O + 4, ... of the 2 * VL floats a:b (a's lanes first).
template <long O, long... I>
KILN_INLINE kiln_vf32 kiln_vpick2_(kiln_vf32 a, kiln_vf32 b, std::integer_sequence<long, I...>) {
  return __builtin_shufflevector(a, b, (2 * I + O)...);
}
/// The even floats p[0], p[2], ..., p[2 * VL - 2] (a stride-2 load: two loads and one shuffle).
template <int = 0> KILN_INLINE kiln_vf32 kiln_vload_even(const float *p) {
  return kiln_vpick2_<0>(kiln_vload(p), kiln_vload(p + kiln_vcfg::vl),
                         std::make_integer_sequence<long, kiln_vcfg::vl>{});
}
/// Copies n <= VL floats: two overlapping copies of the largest power-of-two size S <= n (sizes
/// known to the compiler, so each is one or two moves; a copy of n floats would be a call).
template <long S = kiln_target::vec_floats>
KILN_INLINE void kiln_copy_floats(float *dst, const float *src, long n) {
  if constexpr (S > 1) {
    if (n < S)
      return kiln_copy_floats<S / 2>(dst, src, n);
    // n - S clamped at 0: it is never negative here, but g++ 12 (-Warray-bounds) also checks
    // paths its jump threading made up where it would be.
    const long tail = n > S ? n - S : 0;
    std::memcpy(dst, src, S * sizeof(float));
    std::memcpy(dst + tail, src + tail, S * sizeof(float));
  } else {
    if (n == 1)
      dst[0] = src[0];
  }
}
/// Stores lanes [0, n) of v, n <= VL, at dst (a partial vector: the floats after them untouched).
template <int = 0> KILN_INLINE void kiln_vstore_lanes(float *dst, kiln_vf32 v, long n) {
  float lanes[kiln_target::vec_floats];
  kiln_vstore(lanes, v);
  kiln_copy_floats(dst, lanes, n);
}
/// Splits the 2 * VL consecutive floats at p into the even ones (*even) and the odd ones (*odd):
/// two loads and two shuffles (vpermt2ps, uzp1/uzp2), where a strided copy is one float at a time.
template <int = 0> KILN_INLINE void kiln_vdeinterleave2(const float *p, kiln_vf32 *even, kiln_vf32 *odd) {
  const kiln_vf32 a = kiln_vload(p), b = kiln_vload(p + kiln_vcfg::vl);
  *even = kiln_vpick2_<0>(a, b, std::make_integer_sequence<long, kiln_vcfg::vl>{});
  *odd = kiln_vpick2_<1>(a, b, std::make_integer_sequence<long, kiln_vcfg::vl>{});
}

/// e^x per lane, within 2 ulp of expf over the finite range: x = n ln2 + r with |r| <= ln2 / 2
/// (ln2 split in two so that n ln2 is exact), e^r by Cephes' degree-6 polynomial, times 2^n
/// built in the exponent bits in two halves (so that n from -150 to 128 needs no special case:
/// large x overflows to +inf, small x underflows through the subnormals to 0). NaN stays NaN;
/// it is replaced by 0 before the float-to-int conversion, which must not see it.
template <int = 0> KILN_INLINE kiln_vf32 kiln_vexp(kiln_vf32 x) {
  const kiln_vi32 nan = x != x;
  kiln_vf32 t = kiln_vselect(nan, kiln_vf32{}, x);
  t = kiln_vselect(t > kiln_vset1(88.7229f), kiln_vset1(88.7229f), t);
  t = kiln_vselect(t < kiln_vset1(-104.0f), kiln_vset1(-104.0f), t);
  const kiln_vf32 fx = t * 1.44269504088896341f + 0.5f;
  kiln_vi32 n = __builtin_convertvector(fx, kiln_vi32);           // truncation
  n += (kiln_vi32)(__builtin_convertvector(n, kiln_vf32) > fx);     // -1 where it rounded up: floor
  const kiln_vf32 fn = __builtin_convertvector(n, kiln_vf32);
  const kiln_vf32 r = t - fn * 0.693359375f - fn * -2.12194440e-4f;
  kiln_vf32 y = kiln_vset1(1.9875691500e-4f);
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * (r * r) + r + 1.0f;
  const kiln_vi32 h = n >> 1, l = n - h;
  const kiln_vf32 s1 = (kiln_vf32)((h + 127) << 23), s2 = (kiln_vf32)((l + 127) << 23);
  return kiln_vselect(nan, x, y * s1 * s2);
}

/// Whether functor F has a vector form `kiln_vf32 vec(kiln_vf32) const`.
template <class F, class = void> struct kiln_has_vec : std::false_type {};
template <class F>
struct kiln_has_vec<F, decltype((void)std::declval<const F &>().vec(kiln_vf32{}))>
    : std::true_type {};

/// f applied to every lane: through its vector form when it has one, else lane by lane (the
/// transcendental functors, whose scalar libm calls the compilers do not vectorize).
template <class F> KILN_INLINE kiln_vf32 kiln_vapply(const F &f, kiln_vf32 v) {
  if constexpr (kiln_has_vec<F>::value) {
    return f.vec(v);
  } else {
    for (long l = 0; l < kiln_vcfg::vl; ++l)
      v[l] = f(v[l]);
    return v;
  }
}
/// Binary f(a, b) lane by lane (powf).
template <class F> KILN_INLINE kiln_vf32 kiln_vapply2(const F &f, kiln_vf32 a, kiln_vf32 b) {
  for (long l = 0; l < kiln_vcfg::vl; ++l)
    a[l] = f(a[l], b[l]);
  return a;
}

} // namespace
