// Data-movement kernels of kiln's generated code: copies, strided views (Transpose, Slice, Expand,
// Tile, Split), row scatters (Concat), Gather, Pad and Cast. They work on raw bytes and move
// elements with memcpy of a compile-time size, so one instantiation serves every dtype of the same
// width and no access breaks strict aliasing. Shapes, strides and offsets are template arguments:
// the selector (codegen/SelectDataMovement.cpp) collapses dimensions first, so a handful of
// recursive templates covers every rank and every loop has a compile-time trip count.
// Unless a kernel says otherwise, `out` must not overlap `in`.
#pragma once

#include "runtime_stub/kiln_runtime.h"

/// A compile-time list of sizes, strides or offsets.
template <long... V> struct kiln_mv_list {};

/// Product of a list of sizes (1 for the empty list).
template <long... V> struct kiln_mv_prod { static constexpr long value = (1L * ... * V); };

/// Copies N bytes; a no-op when the planner gave the result the operand's buffer (Reshape,
/// Identity and friends are views of the same bytes).
template <long N> KILN_INLINE void kiln_mv_copy(unsigned char *out, const unsigned char *in) {
  if (out != in)
    std::memmove(out, in, static_cast<size_t>(N));
}

/// Sets N bytes to `byte` (Dropout's all-true mask).
template <long N> KILN_INLINE void kiln_mv_set(unsigned char *out, unsigned char byte) {
  std::memset(out, byte, static_cast<size_t>(N));
}

/// Writes Count copies of the E-byte element at `value`.
template <long E, long Count>
KILN_INLINE void kiln_mv_fill(unsigned char *out, const unsigned char *value) {
  for (long k = 0; k < Count; ++k)
    std::memcpy(out + k * E, value, E);
}

/// Rows copies of RowBytes bytes, the rows OutStride / InStride bytes apart. Concat writes each
/// operand as such a row set into its slot of the result.
template <long Rows, long RowBytes, long OutStride, long InStride>
KILN_INLINE void kiln_mv_rows(unsigned char *out, const unsigned char *in) {
  for (long r = 0; r < Rows; ++r)
    std::memcpy(out + r * OutStride, in + r * InStride, RowBytes);
}

/// Dense result over Dims, element (i0, i1, ...) read from in + sum(ik * Strides[k]) bytes; an
/// element is E bytes. Strides may be negative (Slice with negative steps) or zero (broadcast).
template <long E, class Dims, class Strides> struct kiln_mv_strided;

template <long E> struct kiln_mv_strided<E, kiln_mv_list<>, kiln_mv_list<>> {
  static KILN_INLINE void run(unsigned char *out, const unsigned char *in) {
    std::memcpy(out, in, E);
  }
};

template <long E, long D, long... Ds, long S, long... Ss>
struct kiln_mv_strided<E, kiln_mv_list<D, Ds...>, kiln_mv_list<S, Ss...>> {
  static_assert(sizeof...(Ds) == sizeof...(Ss), "one stride per dimension");
  static constexpr long OutBlock = E * kiln_mv_prod<Ds...>::value;
  static KILN_INLINE void run(unsigned char *out, const unsigned char *in) {
    for (long i = 0; i < D; ++i)
      kiln_mv_strided<E, kiln_mv_list<Ds...>, kiln_mv_list<Ss...>>::run(out + i * OutBlock,
                                                                        in + i * S);
  }
};

/// Transpose, Slice, Expand, Tile and Split: a strided view of `in` written densely to `out`.
template <long E, class Dims, class Strides>
inline void kiln_mv_view(unsigned char *out, const unsigned char *in) {
  kiln_mv_strided<E, Dims, Strides>::run(out, in);
}

/// Gather along one axis: data is Outer x AxisDim x (InnerBytes bytes), the result
/// Outer x N x (InnerBytes bytes), with N indices of type Index (int32_t or int64_t) read as bytes.
/// Negative indices count from the end; an index still out of range is clamped so that a bad
/// runtime index can never read outside the operand.
template <long Outer, long AxisDim, long N, long InnerBytes, class Index>
inline void kiln_mv_gather(unsigned char *out, const unsigned char *data,
                           const unsigned char *indices) {
  for (long o = 0; o < Outer; ++o) {
    for (long n = 0; n < N; ++n) {
      Index raw;
      std::memcpy(&raw, indices + n * static_cast<long>(sizeof(Index)), sizeof(Index));
      int64_t k = static_cast<int64_t>(raw);
      if (k < 0)
        k += AxisDim;
      if (k < 0)
        k = 0;
      if (k >= AxisDim)
        k = AxisDim - 1;
      std::memcpy(out + (o * N + n) * InnerBytes,
                  data + (o * AxisDim + static_cast<long>(k)) * InnerBytes, InnerBytes);
    }
  }
}

/// Pad modes (ONNX `mode`).
enum { kiln_mv_pad_constant = 0, kiln_mv_pad_reflect = 1, kiln_mv_pad_edge = 2 };

/// Pad over dense tensors: per dimension the result has OutDims[k] entries, result index o reads
/// input index o - Begins[k] of InDims[k]; a negative begin crops. Out of range indices take the
/// E-byte `value` (constant), mirror without repeating the border (reflect), or clamp (edge).
template <int Mode, long E, class OutDims, class Begins, class InDims> struct kiln_mv_pad;

template <int Mode, long E>
struct kiln_mv_pad<Mode, E, kiln_mv_list<>, kiln_mv_list<>, kiln_mv_list<>> {
  static KILN_INLINE void run(unsigned char *out, const unsigned char *in, const unsigned char *) {
    std::memcpy(out, in, E);
  }
};

template <int Mode, long E, long D, long... Ds, long B, long... Bs, long I, long... Is>
struct kiln_mv_pad<Mode, E, kiln_mv_list<D, Ds...>, kiln_mv_list<B, Bs...>,
                   kiln_mv_list<I, Is...>> {
  static constexpr long OutCount = kiln_mv_prod<Ds...>::value;
  static constexpr long OutBlock = E * OutCount;
  static constexpr long InBlock = E * kiln_mv_prod<Is...>::value;
  // Reflect is periodic with period 2 * (I - 1); a single entry reflects onto itself.
  static constexpr long Period = I > 1 ? 2 * (I - 1) : 1;

  static KILN_INLINE void run(unsigned char *out, const unsigned char *in,
                              const unsigned char *value) {
    typedef kiln_mv_pad<Mode, E, kiln_mv_list<Ds...>, kiln_mv_list<Bs...>, kiln_mv_list<Is...>>
        Inner;
    for (long o = 0; o < D; ++o) {
      long i = o - B;
      if (i < 0 || i >= I) {
        if (Mode == kiln_mv_pad_constant) {
          kiln_mv_fill<E, OutCount>(out + o * OutBlock, value);
          continue;
        }
        if (Mode == kiln_mv_pad_edge) {
          i = i < 0 ? 0 : I - 1;
        } else {
          i %= Period;
          if (i < 0)
            i += Period;
          if (i >= I)
            i = Period - i;
        }
      }
      Inner::run(out + o * OutBlock, in + i * InBlock, value);
    }
  }
};

template <int Mode, long E, class OutDims, class Begins, class InDims>
inline void kiln_mv_pad_run(unsigned char *out, const unsigned char *in,
                            const unsigned char *value) {
  kiln_mv_pad<Mode, E, OutDims, Begins, InDims>::run(out, in, value);
}

/// Element codecs for Cast: load an element's bytes into an arithmetic value, store a value as
/// an element. f16 and bool have tags because their C++ storage types say nothing of their meaning.
struct kiln_mv_f16 {};
struct kiln_mv_bool {};

template <class T> struct kiln_mv_codec {
  enum : long { Size = static_cast<long>(sizeof(T)) };
  static KILN_INLINE T load(const unsigned char *p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  }
  // static_cast truncates floats toward zero, as ONNX Cast specifies for float -> int.
  template <class V> static KILN_INLINE void store(unsigned char *p, V v) {
    T t = static_cast<T>(v);
    std::memcpy(p, &t, sizeof(T));
  }
};

template <> struct kiln_mv_codec<kiln_mv_bool> {
  enum : long { Size = 1 };
  static KILN_INLINE uint8_t load(const unsigned char *p) { return *p != 0 ? 1 : 0; }
  template <class V> static KILN_INLINE void store(unsigned char *p, V v) {
    *p = v != V(0) ? 1 : 0;
  }
};

template <> struct kiln_mv_codec<kiln_mv_f16> {
  enum : long { Size = 2 };
  static KILN_INLINE float load(const unsigned char *p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
    if (exp == 0x1f) {
      bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
      bits = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) {
      bits = sign;
    } else {
      // Subnormal half: normalize the mantissa into a float exponent.
      uint32_t e = 113;
      while ((man & 0x400u) == 0) {
        man <<= 1;
        --e;
      }
      bits = sign | (e << 23) | ((man & 0x3ffu) << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  // Round to nearest even; overflow goes to infinity, NaN stays NaN.
  template <class V> static KILN_INLINE void store(unsigned char *p, V v) {
    float f = static_cast<float>(v);
    uint32_t x;
    std::memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t fexp = (x >> 23) & 0xffu, man = x & 0x7fffffu;
    int32_t exp = static_cast<int32_t>(fexp) - 127 + 15;
    uint32_t h;
    if (fexp == 0xff) {
      h = sign | 0x7c00u | (man ? 0x200u : 0u);
    } else if (exp >= 31) {
      h = sign | 0x7c00u;
    } else if (exp <= 0) {
      if (exp < -10) {
        h = sign;
      } else {
        man |= 0x800000u;
        uint32_t shift = static_cast<uint32_t>(14 - exp);
        uint32_t q = man >> shift, rem = man & ((1u << shift) - 1u), half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (q & 1u)))
          ++q;
        h = sign | q;
      }
    } else {
      h = sign | (static_cast<uint32_t>(exp) << 10) | (man >> 13);
      uint32_t rem = man & 0x1fffu;
      if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
        ++h; // a carry into the exponent is the correct rounding
    }
    uint16_t hv = static_cast<uint16_t>(h);
    std::memcpy(p, &hv, 2);
  }
};

/// Cast of N elements From -> To (arithmetic types, kiln_mv_f16 or kiln_mv_bool).
template <class From, class To, long N>
inline void kiln_mv_cast(unsigned char *out, const unsigned char *in) {
  for (long i = 0; i < N; ++i)
    kiln_mv_codec<To>::store(out + i * kiln_mv_codec<To>::Size,
                             kiln_mv_codec<From>::load(in + i * kiln_mv_codec<From>::Size));
}
