// kiln's tiny runtime, pasted verbatim at the top of every generated NAME.cpp (inside no namespace;
// everything here is static or in an anonymous namespace, so several generated models link into one
// program). Standard library only.
#pragma once

// -ffast-math (and -Ofast, -ffinite-math-only) lets the compiler assume that no value is NaN or
// infinite. The kernels depend on both: pooling and Max/ReduceMax start from -infinity, Softmax
// and Exp overflow to infinity, and NaN inputs must propagate as ONNX defines. Under those flags
// the pair would compute wrong answers without a warning, so it refuses to build instead.
#if defined(__FAST_MATH__) || (defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__)
#error "kiln: generated code needs IEEE-754 floating point (NaN and infinity); build this file without -ffast-math, -Ofast or -ffinite-math-only"
#endif

#include <cmath>
#include <cstdint>
#include <cstring>

// Tensors live in unsigned-char storage (the arena, the weight blob). They are read and written
// through these may_alias views, never through plain casts that would break strict aliasing.
#if defined(__GNUC__) || defined(__clang__)
#define KILN_MAY_ALIAS __attribute__((__may_alias__))
#define KILN_INLINE inline __attribute__((always_inline))
#else
#define KILN_MAY_ALIAS
#define KILN_INLINE inline
#endif

typedef float KILN_MAY_ALIAS kiln_f32;
typedef double KILN_MAY_ALIAS kiln_f64;
typedef int64_t KILN_MAY_ALIAS kiln_i64;
typedef int32_t KILN_MAY_ALIAS kiln_i32;
typedef int16_t KILN_MAY_ALIAS kiln_i16;
typedef int8_t KILN_MAY_ALIAS kiln_i8;
typedef uint8_t KILN_MAY_ALIAS kiln_u8;
typedef uint8_t KILN_MAY_ALIAS kiln_bool;

namespace {

/// The may_alias view of a plain element type, for kernels templated on the element type:
/// a view typedef used directly as a template argument loses its attribute (g++ says
/// -Wignored-attributes), so kernels take `typename kiln_view<T>::type *` and the emitter names the
/// plain type (float, int64_t, ...) explicitly.
template <class T> struct kiln_view;
template <> struct kiln_view<float> { typedef kiln_f32 type; };
template <> struct kiln_view<double> { typedef kiln_f64 type; };
template <> struct kiln_view<int64_t> { typedef kiln_i64 type; };
template <> struct kiln_view<int32_t> { typedef kiln_i32 type; };
template <> struct kiln_view<int16_t> { typedef kiln_i16 type; };
template <> struct kiln_view<int8_t> { typedef kiln_i8 type; };
template <> struct kiln_view<uint8_t> { typedef kiln_u8 type; };

/// The empty epilogue.
struct kiln_epi_none {
  KILN_INLINE float operator()(float v, long, long) const { return v; }
  /// The vector form the matrix kernels call (see the epilogue structs kiln prints).
  template <bool CV, class V> KILN_INLINE V vec(V v, long, long) const { return v; }
};

} // namespace
