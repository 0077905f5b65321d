// Reduction kernels of kiln's generated code: ReduceSum / ReduceMean / ReduceMax / ReduceMin over
// any set of axes, Softmax / LogSoftmax along one axis, and LRN across channels. Shapes are template arguments; the
// selector (codegen/SelectReduction.cpp) collapses runs of reduced and of kept dimensions first.
// Kernels take the emitter's may_alias views (kiln_f32*, ...) spelled through kiln_rd_view, so the
// element type is named explicitly and never deduced from (and stripped off) a view type.
#pragma once

#include "runtime_stub/kiln_runtime.h"
#include "runtime_stub/kiln_vec.h"

/// The may_alias view of a plain element type.
template <class T> struct kiln_rd_view;
template <> struct kiln_rd_view<float> { typedef kiln_f32 type; };
template <> struct kiln_rd_view<double> { typedef kiln_f64 type; };
template <> struct kiln_rd_view<int32_t> { typedef kiln_i32 type; };
template <> struct kiln_rd_view<int64_t> { typedef kiln_i64 type; };

/// A compile-time list of sizes or strides.
template <long... V> struct kiln_rd_list {};

template <long... V> struct kiln_rd_prod { static constexpr long value = (1L * ... * V); };

/// Reduction operators: the identity the result starts from and the combining step.
struct kiln_rd_sum {
  template <class T> static KILN_INLINE T init() { return T(0); }
  template <class T> static KILN_INLINE T apply(T a, T b) { return a + b; }
};
struct kiln_rd_max {
  template <class T> static KILN_INLINE T init();
  template <class T> static KILN_INLINE T apply(T a, T b) { return b > a ? b : a; }
};
struct kiln_rd_min {
  template <class T> static KILN_INLINE T init();
  template <class T> static KILN_INLINE T apply(T a, T b) { return b < a ? b : a; }
};
template <> KILN_INLINE float kiln_rd_max::init<float>() { return -HUGE_VALF; }
template <> KILN_INLINE double kiln_rd_max::init<double>() { return -HUGE_VAL; }
template <> KILN_INLINE int32_t kiln_rd_max::init<int32_t>() { return INT32_MIN; }
template <> KILN_INLINE int64_t kiln_rd_max::init<int64_t>() { return INT64_MIN; }
template <> KILN_INLINE float kiln_rd_min::init<float>() { return HUGE_VALF; }
template <> KILN_INLINE double kiln_rd_min::init<double>() { return HUGE_VAL; }
template <> KILN_INLINE int32_t kiln_rd_min::init<int32_t>() { return INT32_MAX; }
template <> KILN_INLINE int64_t kiln_rd_min::init<int64_t>() { return INT64_MAX; }

/// Walks the dense input over Dims in order and combines element (i0, i1, ...) into
/// out[sum(ik * OutStrides[k])]; a reduced dimension has out-stride 0. Reading the input in order
/// keeps every pass sequential: when the innermost dimension is kept the inner loop is an
/// elementwise combine of two contiguous rows, when it is reduced a register accumulation.
template <class T, class Op, class Dims, class OutStrides> struct kiln_rd_walk;

template <class T, class Op, long D, long S>
struct kiln_rd_walk<T, Op, kiln_rd_list<D>, kiln_rd_list<S>> {
  typedef typename kiln_rd_view<T>::type V;
  static KILN_INLINE void run(V *out, const V *in) {
    if (S == 0) {
      T acc = out[0];
      for (long i = 0; i < D; ++i)
        acc = Op::apply(acc, T(in[i]));
      out[0] = acc;
    } else {
      for (long i = 0; i < D; ++i)
        out[i * S] = Op::apply(T(out[i * S]), T(in[i]));
    }
  }
};

template <class T, class Op, long D, long D2, long... Ds, long S, long S2, long... Ss>
struct kiln_rd_walk<T, Op, kiln_rd_list<D, D2, Ds...>, kiln_rd_list<S, S2, Ss...>> {
  typedef typename kiln_rd_view<T>::type V;
  static constexpr long InBlock = D2 * kiln_rd_prod<Ds...>::value;
  static KILN_INLINE void run(V *out, const V *in) {
    for (long i = 0; i < D; ++i)
      kiln_rd_walk<T, Op, kiln_rd_list<D2, Ds...>, kiln_rd_list<S2, Ss...>>::run(out + i * S,
                                                                                 in + i * InBlock);
  }
};

/// Reduce* over a dense input of shape Dims into OutCount results (OutStrides as in kiln_rd_walk).
/// Mean divides the sums by MeanDiv (the number of reduced elements); 0 means no division.
/// `out` must not overlap `in`.
template <class T, class Op, long OutCount, long MeanDiv, class Dims, class OutStrides>
inline void kiln_rd_reduce(typename kiln_rd_view<T>::type *out,
                           const typename kiln_rd_view<T>::type *in) {
  for (long i = 0; i < OutCount; ++i)
    out[i] = Op::template init<T>();
  kiln_rd_walk<T, Op, Dims, OutStrides>::run(out, in);
  if (MeanDiv != 0)
    for (long i = 0; i < OutCount; ++i)
      out[i] = T(out[i]) / T(MeanDiv);
}

/// Softmax (Log = false) or LogSoftmax (Log = true) of an Outer x N x Inner tensor along N,
/// stable by subtracting the maximum. With Inner > 1 the per-column maxima and sums live in
/// `scratch` (2 * Inner elements) so that every pass runs along contiguous rows. `out` may be `in`.
// C math functions, not std::exp/std::log: g++ may leave the std:: wrappers out of line as weak
// global symbols, and generated code must export nothing but its NAME_* API.
// Templates, so that a model without Softmax does not trip clang's unused-function warning.
template <class T> inline T kiln_rd_exp(T x) {
  return sizeof(T) == sizeof(float) ? T(expf(float(x))) : T(exp(double(x)));
}
template <class T> inline T kiln_rd_log(T x) {
  return sizeof(T) == sizeof(float) ? T(logf(float(x))) : T(log(double(x)));
}

template <class T, bool Log, long Outer, long N, long Inner>
inline void kiln_rd_softmax(typename kiln_rd_view<T>::type *out,
                            const typename kiln_rd_view<T>::type *in, unsigned char *scratch) {
  typedef typename kiln_rd_view<T>::type V;
  for (long o = 0; o < Outer; ++o) {
    const V *x = in + o * N * Inner;
    V *y = out + o * N * Inner;
    if (Inner == 1) {
      T m = x[0];
      for (long n = 1; n < N; ++n)
        m = T(x[n]) > m ? T(x[n]) : m;
      T s = T(0);
      for (long n = 0; n < N; ++n) {
        T e = kiln_rd_exp(T(x[n]) - m);
        s += e;
        if (!Log)
          y[n] = e;
      }
      if (Log) {
        T ls = kiln_rd_log(s) + m;
        for (long n = 0; n < N; ++n)
          y[n] = T(x[n]) - ls;
      } else {
        T r = T(1) / s;
        for (long n = 0; n < N; ++n)
          y[n] = T(y[n]) * r;
      }
      continue;
    }
    V *m = reinterpret_cast<V *>(scratch);
    V *s = m + Inner;
    for (long i = 0; i < Inner; ++i) {
      m[i] = x[i];
      s[i] = T(0);
    }
    for (long n = 1; n < N; ++n)
      for (long i = 0; i < Inner; ++i)
        m[i] = T(x[n * Inner + i]) > T(m[i]) ? T(x[n * Inner + i]) : T(m[i]);
    for (long n = 0; n < N; ++n)
      for (long i = 0; i < Inner; ++i) {
        T e = kiln_rd_exp(T(x[n * Inner + i]) - T(m[i]));
        s[i] = T(s[i]) + e;
        if (!Log)
          y[n * Inner + i] = e;
      }
    if (Log) {
      for (long i = 0; i < Inner; ++i)
        s[i] = kiln_rd_log(T(s[i])) + T(m[i]);
      for (long n = 0; n < N; ++n)
        for (long i = 0; i < Inner; ++i)
          y[n * Inner + i] = T(x[n * Inner + i]) - T(s[i]);
    } else {
      for (long i = 0; i < Inner; ++i)
        s[i] = T(1) / T(s[i]);
      for (long n = 0; n < N; ++n)
        for (long i = 0; i < Inner; ++i)
          y[n * Inner + i] = T(y[n * Inner + i]) * T(s[i]);
    }
  }
}

/// LRN over N x C x S (S the product of the spatial dims): y = x / (bias + a * sum)^beta, sum the
/// squares over channels [c - LO, c + HI] clipped to [0, C), a = alpha / size. The sums run on
/// whole vectors of positions (the channel window is a column of the same positions), the power
/// lane by lane (powf), as ONNX's formula states it.
template <long N, long C, long S, long LO, long HI>
void kiln_f32_lrn(kiln_f32 *y, const kiln_f32 *x, float a, float beta, float bias) {
  constexpr long VL = kiln_vcfg::vl;
  for (long b = 0; b < N; ++b)
    for (long c = 0; c < C; ++c) {
      const long c0 = c - LO > 0 ? c - LO : 0, c1 = c + HI < C - 1 ? c + HI : C - 1;
      const kiln_f32 *xb = x + b * C * S, *xc = xb + c * S;
      kiln_f32 *yc = y + (b * C + c) * S;
      long s = 0;
      for (; s + VL <= S; s += VL) {
        kiln_vf32 sum = kiln_vset1(0.0f);
        for (long k = c0; k <= c1; ++k) {
          const kiln_vf32 v = kiln_vload(xb + k * S + s);
          sum += v * v;
        }
        for (long l = 0; l < VL; ++l)
          yc[s + l] = xc[s + l] / powf(bias + a * sum[l], beta);
      }
      for (; s < S; ++s) {
        float sum = 0.0f;
        for (long k = c0; k <= c1; ++k)
          sum += xb[k * S + s] * xb[k * S + s];
        yc[s] = xc[s] / powf(bias + a * sum, beta);
      }
    }
}
