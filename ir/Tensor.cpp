// Constant tensor data: typed element access, construction and a stable content hash.
#include "ir/Tensor.h"

#include <cmath>
#include <limits>
#include <type_traits>

namespace kiln {

namespace {
template <class T> T load(const uint8_t *p, int64_t i) {
  T v;
  std::memcpy(&v, p + i * sizeof(T), sizeof(T));
  return v;
}
template <class T> void store(uint8_t *p, int64_t i, T v) { std::memcpy(p + i * sizeof(T), &v, sizeof(T)); }

float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float v;
  if (exp == 0)
    v = std::ldexp(static_cast<float>(man), -24);
  else if (exp == 31)
    v = man ? NAN : INFINITY;
  else
    v = std::ldexp(static_cast<float>(man | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}
uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int exp = static_cast<int>((x >> 23) & 0xff) - 127 + 15;
  uint32_t man = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff)
    return static_cast<uint16_t>(sign | 0x7c00 | (man ? 0x200 : 0));
  if (exp >= 31)
    return static_cast<uint16_t>(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10)
      return static_cast<uint16_t>(sign);
    man |= 0x800000;
    uint32_t shift = static_cast<uint32_t>(14 - exp);
    uint32_t h = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1)))
      ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = sign | (static_cast<uint32_t>(exp) << 10) | (man >> 13);
  uint32_t rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
    ++h;
  return static_cast<uint16_t>(h);
}
} // namespace

double Tensor::getDouble(int64_t i) const {
  const uint8_t *p = raw();
  switch (dtype) {
  case DType::F32: return load<float>(p, i);
  case DType::F64: return load<double>(p, i);
  case DType::F16: return halfToFloat(load<uint16_t>(p, i));
  case DType::I8: return load<int8_t>(p, i);
  case DType::U8: return load<uint8_t>(p, i);
  case DType::I16: return load<int16_t>(p, i);
  case DType::I32: return load<int32_t>(p, i);
  case DType::I64: return static_cast<double>(load<int64_t>(p, i));
  case DType::Bool: return load<uint8_t>(p, i) ? 1.0 : 0.0;
  case DType::Undefined: return 0;
  }
  return 0;
}

int64_t Tensor::getInt(int64_t i) const {
  if (dtype == DType::I64)
    return load<int64_t>(raw(), i);
  return static_cast<int64_t>(getDouble(i));
}

std::vector<int64_t> Tensor::toInts() const {
  std::vector<int64_t> v(static_cast<size_t>(numElements()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = getInt(static_cast<int64_t>(i));
  return v;
}

std::vector<double> Tensor::toDoubles() const {
  std::vector<double> v(static_cast<size_t>(numElements()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = getDouble(static_cast<int64_t>(i));
  return v;
}

namespace {

/// x converted to To without undefined behaviour: out-of-range values saturate (NaN becomes 0 for
/// integers), where a plain cast is undefined. Folding a model's constants (Cast of 1e30 to int32,
/// say) must not depend on what the compiler makes of that.
template <class To> To narrow(double x) {
  if constexpr (std::is_integral_v<To>) {
    if (std::isnan(x))
      return 0;
    if (x <= static_cast<double>(std::numeric_limits<To>::min()))
      return std::numeric_limits<To>::min();
    // max() may not be exact as a double (2^63 - 1 rounds to 2^63): compare with >=.
    if (x >= static_cast<double>(std::numeric_limits<To>::max()))
      return std::numeric_limits<To>::max();
    return static_cast<To>(x);
  } else {
    if (x > static_cast<double>(std::numeric_limits<To>::max()))
      return std::numeric_limits<To>::infinity();
    if (x < -static_cast<double>(std::numeric_limits<To>::max()))
      return -std::numeric_limits<To>::infinity();
    return static_cast<To>(x);
  }
}

} // namespace

Tensor Tensor::fromDoubles(DType t, Shape s, const std::vector<double> &v) {
  std::vector<uint8_t> b(v.size() * dtypeSize(t));
  uint8_t *p = b.data();
  for (size_t k = 0; k < v.size(); ++k) {
    int64_t i = static_cast<int64_t>(k);
    double x = v[k];
    switch (t) {
    case DType::F32: store<float>(p, i, narrow<float>(x)); break;
    case DType::F64: store<double>(p, i, x); break;
    case DType::F16: store<uint16_t>(p, i, floatToHalf(narrow<float>(x))); break;
    case DType::I8: store<int8_t>(p, i, narrow<int8_t>(x)); break;
    case DType::U8: store<uint8_t>(p, i, narrow<uint8_t>(x)); break;
    case DType::I16: store<int16_t>(p, i, narrow<int16_t>(x)); break;
    case DType::I32: store<int32_t>(p, i, narrow<int32_t>(x)); break;
    case DType::I64: store<int64_t>(p, i, narrow<int64_t>(x)); break;
    case DType::Bool: store<uint8_t>(p, i, x != 0 ? 1 : 0); break;
    case DType::Undefined: break;
    }
  }
  return Tensor(t, std::move(s), std::move(b));
}

Tensor Tensor::fromInts(DType t, Shape s, const std::vector<int64_t> &v) {
  if (t == DType::I64)
    return fromVector<int64_t>(t, std::move(s), v);
  std::vector<double> d(v.begin(), v.end());
  return fromDoubles(t, std::move(s), d);
}

uint64_t Tensor::hash() const {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void *data, size_t n) {
    const uint8_t *p = static_cast<const uint8_t *>(data);
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ull;
    }
  };
  uint8_t d = static_cast<uint8_t>(dtype);
  mix(&d, 1);
  for (int64_t s : shape)
    mix(&s, sizeof s);
  if (bytes)
    mix(bytes->data(), bytes->size());
  return h;
}

} // namespace kiln
