// Elementwise kernels of kiln's generated code: unary maps, n-ary maps with numpy broadcasting
// (binary ops, Where, fused elementwise chains), and inference BatchNormalization. Element types
// are template arguments spelled as plain types (float, int64_t, ...) and accessed through the
// may_alias views of kiln_view.
// Broadcasting is decided at compile time: the selector (codegen/SelectElementwise.cpp) collapses
// the output shape into as few dimensions as the operands' broadcast patterns allow and passes the
// dimensions and each operand's strides (0 where it is broadcast) as kiln_ew_list arguments, so a
// same-shape operation is one flat loop, a per-channel or scalar operand a loop with stride 0, and
// every trip count a constant. `out` may be the same buffer as an operand of the same shape (the
// variadic ops accumulate in place); it must not partially overlap one.
#pragma once

#include "runtime_stub/kiln_runtime.h"
#include "runtime_stub/kiln_vec.h"

// C math functions (expf, ...), not std::exp(float): see runtime_stub/kiln_runtime.h.
#include <math.h>

/// A compile-time list of dimensions or strides.
template <long... V> struct kiln_ew_list {};

template <class T> using kiln_ew_ptr = typename kiln_view<T>::type *;
template <class T> using kiln_ew_cptr = const typename kiln_view<T>::type *;

// ---- unary ----------------------------------------------------------------------------------

/// out[i] = f(in[i]); f32 to f32 through f's vector form when it has one (kiln_vapply), whole
/// vectors then a scalar tail (out may be in: each vector is loaded before it is stored).
template <class TO, class TI, long N, class F>
inline void kiln_ew_unary(kiln_ew_ptr<TO> out, kiln_ew_cptr<TI> in, F f) {
  constexpr bool vec =
      std::is_same_v<TO, float> && std::is_same_v<TI, float> && kiln_has_vec<F>::value;
  constexpr long NV = vec ? N / kiln_vcfg::vl * kiln_vcfg::vl : 0; // constant bounds throughout
  if constexpr (vec) {
    for (long i = 0; i < NV; i += kiln_vcfg::vl)
      kiln_vstore(out + i, f.vec(kiln_vload(in + i)));
  }
  for (long i = NV; i < N; ++i)
    out[i] = f(in[i]);
}

// An elementwise functor of K operands followed by the node's epilogue: the first K values go to
// f, the rest (the operands of the epilogue's binary steps, in step order) to the epilogue, so a
// fused chain such as Add -> Mul(scale) -> Relu is one loop with no stored temporary.
template <int K, class F, class E> struct kiln_ew_then;
template <class F, class E> struct kiln_ew_then<1, F, E> {
  F f;
  E e;
  template <class A, class... X> KILN_INLINE float operator()(A a, X... x) const {
    return e(static_cast<float>(f(a)), static_cast<float>(x)...);
  }
};
template <class F, class E> struct kiln_ew_then<2, F, E> {
  F f;
  E e;
  template <class A, class B, class... X> KILN_INLINE float operator()(A a, B b, X... x) const {
    return e(static_cast<float>(f(a, b)), static_cast<float>(x)...);
  }
};
template <int K, class F, class E> KILN_INLINE kiln_ew_then<K, F, E> kiln_ew_fuse(F f, const E &e) {
  return kiln_ew_then<K, F, E>{f, e};
}

// Math functors. NaN propagates as in ONNX's reference (comparisons are written so that a NaN
// input takes the branch returning it).
// Functors with a `vec` form run on whole vectors in the matrix kernels' epilogues (kiln_vapply);
// each computes exactly what its scalar form does, NaN included.
struct kiln_ew_relu {
  template <class T> KILN_INLINE T operator()(T x) const { return x < T(0) ? T(0) : x; }
  KILN_INLINE kiln_vf32 vec(kiln_vf32 x) const {
    return kiln_vselect(x < kiln_vf32{}, kiln_vf32{}, x);
  }
};
struct kiln_ew_leaky_relu {
  float alpha;
  KILN_INLINE float operator()(float x) const { return x < 0.0f ? alpha * x : x; }
  KILN_INLINE kiln_vf32 vec(kiln_vf32 x) const {
    return kiln_vselect(x < kiln_vf32{}, kiln_vset1(alpha) * x, x);
  }
};
/// min(max(y, 0), 1) as the scalar functors write it: y < 0 ? 0 : (y > 1 ? 1 : y).
template <int = 0> KILN_INLINE kiln_vf32 kiln_vunit_clamp(kiln_vf32 y) {
  return kiln_vselect(y < kiln_vf32{}, kiln_vf32{}, kiln_vselect(y > kiln_vset1(1.0f), kiln_vset1(1.0f), y));
}
struct kiln_ew_sigmoid {
  KILN_INLINE float operator()(float x) const { return 1.0f / (1.0f + expf(-x)); }
  KILN_INLINE kiln_vf32 vec(kiln_vf32 x) const { return 1.0f / (1.0f + kiln_vexp(-x)); }
};
struct kiln_ew_hard_sigmoid {
  float alpha, beta;
  KILN_INLINE float operator()(float x) const {
    float y = alpha * x + beta;
    return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
  }
  KILN_INLINE kiln_vf32 vec(kiln_vf32 x) const {
    return kiln_vunit_clamp(kiln_vset1(alpha) * x + kiln_vset1(beta));
  }
};
struct kiln_ew_silu {
  KILN_INLINE float operator()(float x) const { return x / (1.0f + expf(-x)); }
  KILN_INLINE kiln_vf32 vec(kiln_vf32 x) const { return x / (1.0f + kiln_vexp(-x)); }
};
struct kiln_ew_hard_swish {
  KILN_INLINE float operator()(float x) const {
    float y = x * (1.0f / 6.0f) + 0.5f;
    return x * (y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y));
  }
  KILN_INLINE kiln_vf32 vec(kiln_vf32 x) const {
    return x * kiln_vunit_clamp(x * kiln_vset1(1.0f / 6.0f) + kiln_vset1(0.5f));
  }
};
struct kiln_ew_tanh {
  KILN_INLINE float operator()(float x) const { return tanhf(x); }
};
struct kiln_ew_elu {
  float alpha;
  KILN_INLINE float operator()(float x) const { return x < 0.0f ? alpha * (expf(x) - 1.0f) : x; }
};
struct kiln_ew_selu {
  float alpha, gamma;
  KILN_INLINE float operator()(float x) const {
    return gamma * (x <= 0.0f ? alpha * (expf(x) - 1.0f) : x);
  }
};
struct kiln_ew_softplus {
  // log(1 + e^x) without overflow for large x.
  KILN_INLINE float operator()(float x) const { return x > 20.0f ? x : log1pf(expf(x)); }
};
struct kiln_ew_gelu {
  KILN_INLINE float operator()(float x) const {
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
  }
};
struct kiln_ew_gelu_tanh {
  KILN_INLINE float operator()(float x) const {
    return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
  }
};
struct kiln_ew_sqrt {
  KILN_INLINE float operator()(float x) const { return sqrtf(x); }
};
struct kiln_ew_exp {
  KILN_INLINE float operator()(float x) const { return expf(x); }
  KILN_INLINE kiln_vf32 vec(kiln_vf32 x) const { return kiln_vexp(x); }
};
struct kiln_ew_log {
  KILN_INLINE float operator()(float x) const { return logf(x); }
};
struct kiln_ew_abs {
  template <class T> KILN_INLINE T operator()(T x) const { return x < T(0) ? T(-x) : x; }
  KILN_INLINE kiln_vf32 vec(kiln_vf32 x) const { return kiln_vselect(x < kiln_vf32{}, -x, x); }
};
struct kiln_ew_neg {
  template <class T> KILN_INLINE T operator()(T x) const { return T(-x); }
  KILN_INLINE kiln_vf32 vec(kiln_vf32 x) const { return -x; }
};
struct kiln_ew_reciprocal {
  KILN_INLINE float operator()(float x) const { return 1.0f / x; }
};
struct kiln_ew_erf {
  KILN_INLINE float operator()(float x) const { return erff(x); }
};
struct kiln_ew_floor {
  KILN_INLINE float operator()(float x) const { return floorf(x); }
};
struct kiln_ew_ceil {
  KILN_INLINE float operator()(float x) const { return ceilf(x); }
};
struct kiln_ew_not {
  KILN_INLINE uint8_t operator()(uint8_t x) const { return x ? 0 : 1; }
};
/// Clip with compile-time bounds (the selector reads the constant min/max operands).
template <class T> struct kiln_ew_clip {
  T lo, hi;
  KILN_INLINE T operator()(T x) const { return x < lo ? lo : (x > hi ? hi : x); }
  KILN_INLINE kiln_vf32 vec(kiln_vf32 x) const {
    const kiln_vf32 l = kiln_vset1(static_cast<float>(lo)), h = kiln_vset1(static_cast<float>(hi));
    return kiln_vselect(x < l, l, kiln_vselect(x > h, h, x));
  }
};
/// Division by a constant (Mean divides the sum by the operand count, as the reference does).
struct kiln_ew_div_by {
  float d;
  KILN_INLINE float operator()(float x) const { return x / d; }
};

// ---- maps with broadcasting -------------------------------------------------------------------

template <class S> struct kiln_ew_split;
template <long A, long... As> struct kiln_ew_split<kiln_ew_list<A, As...>> {
  static constexpr long head = A;
  using tail = kiln_ew_list<As...>;
};

/// out = f(p0, p1, ...) over the collapsed dimensions D, operand k read at the strides of the
/// k-th list S (in elements, one per dimension; 0 = broadcast). The innermost dimension is one
/// loop with constant strides, so a same-shape operand is read contiguously.
template <class D, class... S> struct kiln_ew_map;

template <long D, class... S> struct kiln_ew_map<kiln_ew_list<D>, S...> {
  template <class O, class F, class... P>
  static KILN_INLINE void run(O *out, F f, const P *...p) {
    for (long i = 0; i < D; ++i)
      out[i] = f(p[i * kiln_ew_split<S>::head]...);
  }
};

template <long D, long D2, long... Ds, class... S>
struct kiln_ew_map<kiln_ew_list<D, D2, Ds...>, S...> {
  static constexpr long inner = (D2 * ... * Ds);
  template <class O, class F, class... P>
  static KILN_INLINE void run(O *out, F f, const P *...p) {
    for (long i = 0; i < D; ++i)
      kiln_ew_map<kiln_ew_list<D2, Ds...>, typename kiln_ew_split<S>::tail...>::run(
          out + i * inner, f, (p + i * kiln_ew_split<S>::head)...);
  }
};

/// out = f(a, b) with numpy broadcasting (D the collapsed dimensions, SA / SB the strides).
template <class TO, class TA, class TB, class D, class SA, class SB, class F>
inline void kiln_ew_binary(kiln_ew_ptr<TO> out, kiln_ew_cptr<TA> a, kiln_ew_cptr<TB> b, F f) {
  kiln_ew_map<D, SA, SB>::run(out, f, a, b);
}

struct kiln_ew_add {
  template <class T> KILN_INLINE T operator()(T a, T b) const { return T(a + b); }
};
struct kiln_ew_sub {
  template <class T> KILN_INLINE T operator()(T a, T b) const { return T(a - b); }
};
struct kiln_ew_mul {
  template <class T> KILN_INLINE T operator()(T a, T b) const { return T(a * b); }
};
struct kiln_ew_div {
  // Integer division truncates toward zero, as ONNX's reference does.
  template <class T> KILN_INLINE T operator()(T a, T b) const { return T(a / b); }
};
struct kiln_ew_pow {
  template <class B> KILN_INLINE float operator()(float a, B b) const {
    return powf(a, static_cast<float>(b));
  }
  // An integer base gives its own type (ONNX), computed in double and truncated like the
  // reference's astype: exact wherever the power is representable.
  template <class B> KILN_INLINE int32_t operator()(int32_t a, B b) const {
    return static_cast<int32_t>(pow(static_cast<double>(a), static_cast<double>(b)));
  }
  template <class B> KILN_INLINE int64_t operator()(int64_t a, B b) const {
    return static_cast<int64_t>(pow(static_cast<double>(a), static_cast<double>(b)));
  }
};
struct kiln_ew_prelu {
  KILN_INLINE float operator()(float x, float slope) const { return x < 0.0f ? slope * x : x; }
};
/// NaN test that is simply false for integers (a self-comparison there draws warnings). Class
/// members rather than free functions: clang flags unused inline functions of an anonymous
/// namespace, and a model pastes this header whole.
template <class T> struct kiln_ew_nan {
  static KILN_INLINE bool is(T) { return false; }
};
template <> struct kiln_ew_nan<float> {
  static KILN_INLINE bool is(float v) { return v != v; }
};
template <> struct kiln_ew_nan<double> {
  static KILN_INLINE bool is(double v) { return v != v; }
};
// Max / Min propagate NaN like numpy's maximum / minimum (the ONNX reference).
struct kiln_ew_max {
  template <class T> KILN_INLINE T operator()(T a, T b) const {
    return b > a || kiln_ew_nan<T>::is(b) ? b : a;
  }
};
struct kiln_ew_min {
  template <class T> KILN_INLINE T operator()(T a, T b) const {
    return b < a || kiln_ew_nan<T>::is(b) ? b : a;
  }
};
struct kiln_ew_equal {
  template <class T> KILN_INLINE uint8_t operator()(T a, T b) const { return a == b; }
};
struct kiln_ew_less {
  template <class T> KILN_INLINE uint8_t operator()(T a, T b) const { return a < b; }
};
struct kiln_ew_greater {
  template <class T> KILN_INLINE uint8_t operator()(T a, T b) const { return a > b; }
};

// ---- Where ----------------------------------------------------------------------------------

struct kiln_ew_select {
  template <class T> KILN_INLINE T operator()(kiln_bool c, T x, T y) const { return c ? x : y; }
};

template <class T, class D, class SC, class SX, class SY>
inline void kiln_ew_where(kiln_ew_ptr<T> out, const kiln_bool *c, kiln_ew_cptr<T> x,
                          kiln_ew_cptr<T> y) {
  kiln_ew_map<D, SC, SX, SY>::run(out, kiln_ew_select{}, c, x, y);
}

// ---- BatchNormalization (inference) ---------------------------------------------------------

/// y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c] over an N x C x S tensor, folded
/// into one multiply-add per element; the per-channel factors are computed as each channel starts.
template <long N, long C, long S>
inline void kiln_ew_batchnorm(kiln_f32 *y, const kiln_f32 *x, const kiln_f32 *scale,
                              const kiln_f32 *bias, const kiln_f32 *mean, const kiln_f32 *var,
                              float eps) {
  for (long n = 0; n < N; ++n)
    for (long c = 0; c < C; ++c) {
      const float s = scale[c] / sqrtf(var[c] + eps);
      const float t = bias[c] - mean[c] * s;
      const long base = (n * C + c) * S;
      for (long i = 0; i < S; ++i)
        y[base + i] = x[base + i] * s + t;
    }
}
