// Reference evaluation of every op in ir/Ops.def on constant tensors (ONNX opset-17 semantics, the
// canonical form of ir/Ops.def). This is what the rest of kiln is checked against, so every kernel
// here is the plainest loop that is obviously right, not a fast one. Floating point runs in double
// and is rounded to the result dtype once; integer arithmetic runs in int64 so that shape math
// stays exact; bools are 0/1. Data movement (Transpose, Slice, Gather, Pad, ...) copies element
// bytes, exact for every dtype. Parameters decided by constant operands come from the helpers in
// ir/Semantics.cpp, shared with type inference.
#include "ir/Semantics.h"
#include "ir/SemanticsDetail.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace kiln {

namespace {

using sem::fail;
using sem::Operand;
using Tensors = std::vector<Tensor>;

const char *nm(OpKind op) { return opName(op); }

// ---- element access -------------------------------------------------------------------------

template <class T> std::vector<T> valuesOf(const Tensor &t);
template <> std::vector<double> valuesOf<double>(const Tensor &t) { return t.toDoubles(); }
template <> std::vector<int64_t> valuesOf<int64_t>(const Tensor &t) { return t.toInts(); }

Tensor make(DType t, const Shape &s, const std::vector<double> &v) {
  return Tensor::fromDoubles(t, s, v);
}
Tensor make(DType t, const Shape &s, const std::vector<int64_t> &v) {
  return Tensor::fromInts(t, s, v);
}

/// Integer dtypes and bool compute in exact int64; floats in double.
bool exactInts(DType t) { return !isFloat(t); }

/// Row-major index of a multi-index / multi-index of a row-major index.
void unravel(int64_t lin, const Shape &shape, std::vector<int64_t> &idx) {
  idx.resize(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] ? lin % shape[d] : 0;
    lin = shape[d] ? lin / shape[d] : 0;
  }
}
int64_t ravel(const std::vector<int64_t> &idx, const Shape &shape) {
  int64_t lin = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    lin = lin * shape[d] + idx[d];
  return lin;
}

/// For each element of `out` (row-major), the element of `in` that numpy broadcasting reads.
std::vector<int64_t> broadcastMap(const Shape &in, const Shape &out) {
  size_t r = out.size(), off = r - in.size();
  int64_t n = numElements(out);
  std::vector<int64_t> map(static_cast<size_t>(n)), idx, src(in.size());
  for (int64_t k = 0; k < n; ++k) {
    unravel(k, out, idx);
    for (size_t d = 0; d < in.size(); ++d)
      src[d] = in[d] == 1 ? 0 : idx[off + d];
    map[k] = ravel(src, in);
  }
  return map;
}

/// A tensor of the given shape whose element k is src's element idx[k] (bytes copied; -1 means
/// `fill`, a one-element tensor of src's dtype).
Tensor pick(const Tensor &src, const std::vector<int64_t> &idx, const Shape &shape,
            const Tensor *fill = nullptr) {
  size_t es = dtypeSize(src.dtype);
  std::vector<uint8_t> out(idx.size() * es);
  for (size_t k = 0; k < idx.size(); ++k) {
    const uint8_t *from = idx[k] < 0 ? fill->raw() : src.raw() + idx[k] * es;
    std::memcpy(out.data() + k * es, from, es);
  }
  return Tensor(src.dtype, shape, std::move(out));
}

/// Same bytes, new shape (Reshape and friends).
Tensor reshaped(const Tensor &src, const Shape &shape) {
  Tensor t;
  t.dtype = src.dtype;
  t.shape = shape;
  t.bytes = src.bytes;
  return t;
}

// ---- elementwise ----------------------------------------------------------------------------

double unaryF(OpKind op, double x, const Attributes &a) {
  switch (op) {
  case OpKind::Relu:
    return x > 0 ? x : 0;
  case OpKind::LeakyRelu:
    return x >= 0 ? x : a.getFloat("alpha", 0.01) * x;
  case OpKind::Sigmoid:
    return 1 / (1 + std::exp(-x));
  case OpKind::HardSigmoid:
    return std::max(0.0, std::min(1.0, a.getFloat("alpha", 0.2) * x + a.getFloat("beta", 0.5)));
  case OpKind::HardSwish:
    return x * std::max(0.0, std::min(1.0, x / 6 + 0.5));
  case OpKind::Tanh:
    return std::tanh(x);
  case OpKind::Elu:
    return x >= 0 ? x : a.getFloat("alpha", 1.0) * (std::exp(x) - 1);
  case OpKind::Selu: {
    double alpha = a.getFloat("alpha", 1.67326319217681884765625);
    double gamma = a.getFloat("gamma", 1.05070102214813232421875);
    return x > 0 ? gamma * x : gamma * (alpha * std::exp(x) - alpha);
  }
  case OpKind::Softplus:
    return std::log(std::exp(x) + 1);
  case OpKind::Gelu:
    if (a.getString("approximate", "none") == "tanh")
      return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  case OpKind::Sqrt:
    return std::sqrt(x);
  case OpKind::Exp:
    return std::exp(x);
  case OpKind::Log:
    return std::log(x);
  case OpKind::Abs:
    return std::fabs(x);
  case OpKind::Neg:
    return -x;
  case OpKind::Reciprocal:
    return 1 / x;
  case OpKind::Erf:
    return std::erf(x);
  case OpKind::Floor:
    return std::floor(x);
  case OpKind::Ceil:
    return std::ceil(x);
  case OpKind::Not:
    return x != 0 ? 0 : 1;
  default:
    return 0;
  }
}

llvm::Expected<Tensors> evalUnary(OpKind op, const Tensor &x, const Attributes &attrs,
                                  const TensorType &rt) {
  if (exactInts(x.dtype)) {
    std::vector<int64_t> v = x.toInts();
    for (int64_t &e : v) {
      switch (op) {
      case OpKind::Relu:
        e = std::max<int64_t>(e, 0);
        break;
      // Integer arithmetic wraps (two's complement, as ONNX runtimes compute it): in uint64_t,
      // where overflow is defined, so that -INT64_MIN in a model's constants is no UB.
      case OpKind::Abs:
        e = e < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(e)) : e;
        break;
      case OpKind::Neg:
        e = static_cast<int64_t>(0 - static_cast<uint64_t>(e));
        break;
      case OpKind::Not:
        e = e ? 0 : 1;
        break;
      default:
        e = Tensor::fromDoubles(DType::I64, {}, {unaryF(op, static_cast<double>(e), attrs)})
                .getInt(0); // saturating, where a plain cast of an out-of-range double is UB
        break;
      }
    }
    return Tensors{make(rt.dtype(), rt.shape, v)};
  }
  std::vector<double> v = x.toDoubles();
  for (double &e : v)
    e = unaryF(op, e, attrs);
  return Tensors{make(rt.dtype(), rt.shape, v)};
}

/// a + b, a - b, a * b; integers wrap (two's complement, as ONNX runtimes compute them) through
/// unsigned arithmetic, where overflow is defined, instead of overflowing a signed type (UB).
template <class T> T wrapAdd(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) +
                          static_cast<std::make_unsigned_t<T>>(b));
  else
    return a + b;
}
template <class T> T wrapSub(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) -
                          static_cast<std::make_unsigned_t<T>>(b));
  else
    return a - b;
}
template <class T> T wrapMul(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) *
                          static_cast<std::make_unsigned_t<T>>(b));
  else
    return a * b;
}

template <class T> llvm::Expected<T> binaryT(OpKind op, T a, T b) {
  switch (op) {
  case OpKind::Add:
  case OpKind::Sum:
  case OpKind::Mean:
    return wrapAdd(a, b);
  case OpKind::Sub:
    return wrapSub(a, b);
  case OpKind::Mul:
    return wrapMul(a, b);
  case OpKind::Div:
    if constexpr (std::is_integral_v<T>) {
      if (b == 0)
        return fail("Div expects nonzero integer divisors, found 0");
      if (b == -1)
        return wrapSub(T(0), a); // INT_MIN / -1 wraps to INT_MIN instead of trapping
    }
    return a / b; // integers: truncation toward zero, as ONNX runtimes do
  case OpKind::PRelu:
    return a < 0 ? wrapMul(a, b) : a;
  case OpKind::Max:
    return std::max(a, b);
  case OpKind::Min:
    return std::min(a, b);
  default:
    return static_cast<T>(0);
  }
}

template <class T>
llvm::Expected<Tensors> evalNAryT(OpKind op, const Tensors &xs, const TensorType &rt) {
  std::vector<T> acc;
  {
    std::vector<T> v = valuesOf<T>(xs[0]);
    std::vector<int64_t> m = broadcastMap(xs[0].shape, rt.shape);
    for (int64_t i : m)
      acc.push_back(v[i]);
  }
  for (size_t k = 1; k < xs.size(); ++k) {
    std::vector<T> v = valuesOf<T>(xs[k]);
    std::vector<int64_t> m = broadcastMap(xs[k].shape, rt.shape);
    for (size_t i = 0; i < acc.size(); ++i) {
      auto r = binaryT<T>(op, acc[i], v[m[i]]);
      if (!r)
        return r.takeError();
      acc[i] = *r;
    }
  }
  if (op == OpKind::Mean)
    for (T &e : acc)
      e = e / static_cast<T>(xs.size());
  return Tensors{make(rt.dtype(), rt.shape, acc)};
}

llvm::Expected<Tensors> evalNAry(OpKind op, const Tensors &xs, const TensorType &rt) {
  if (op == OpKind::Pow) {
    std::vector<double> a = xs[0].toDoubles(), b = xs[1].toDoubles(), r;
    std::vector<int64_t> ma = broadcastMap(xs[0].shape, rt.shape),
                         mb = broadcastMap(xs[1].shape, rt.shape);
    for (size_t i = 0; i < ma.size(); ++i)
      r.push_back(std::pow(a[ma[i]], b[mb[i]]));
    return Tensors{make(rt.dtype(), rt.shape, r)};
  }
  if (op == OpKind::Equal || op == OpKind::Less || op == OpKind::Greater) {
    std::vector<int64_t> ma = broadcastMap(xs[0].shape, rt.shape),
                         mb = broadcastMap(xs[1].shape, rt.shape), r;
    auto cmp = [&](auto a, auto b) -> int64_t {
      return op == OpKind::Equal ? a == b : op == OpKind::Less ? a < b : a > b;
    };
    if (exactInts(xs[0].dtype)) {
      std::vector<int64_t> a = xs[0].toInts(), b = xs[1].toInts();
      for (size_t i = 0; i < ma.size(); ++i)
        r.push_back(cmp(a[ma[i]], b[mb[i]]));
    } else {
      std::vector<double> a = xs[0].toDoubles(), b = xs[1].toDoubles();
      for (size_t i = 0; i < ma.size(); ++i)
        r.push_back(cmp(a[ma[i]], b[mb[i]]));
    }
    return Tensors{make(DType::Bool, rt.shape, r)};
  }
  if (exactInts(rt.dtype()))
    return evalNAryT<int64_t>(op, xs, rt);
  return evalNAryT<double>(op, xs, rt);
}

template <class T> Tensors evalClipT(const Tensors &xs, const TensorType &rt) {
  T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
  if (std::is_floating_point_v<T>) {
    lo = -std::numeric_limits<T>::infinity();
    hi = std::numeric_limits<T>::infinity();
  }
  if (xs.size() > 1 && xs[1].numElements() == 1)
    lo = valuesOf<T>(xs[1])[0];
  if (xs.size() > 2 && xs[2].numElements() == 1)
    hi = valuesOf<T>(xs[2])[0];
  std::vector<T> v = valuesOf<T>(xs[0]);
  for (T &e : v)
    e = std::min(std::max(e, lo), hi);
  return Tensors{make(rt.dtype(), rt.shape, v)};
}

Tensors evalWhere(const Tensors &xs, const TensorType &rt) {
  std::vector<int64_t> mc = broadcastMap(xs[0].shape, rt.shape),
                       mx = broadcastMap(xs[1].shape, rt.shape),
                       my = broadcastMap(xs[2].shape, rt.shape);
  size_t es = dtypeSize(rt.dtype());
  std::vector<uint8_t> out(mc.size() * es);
  for (size_t i = 0; i < mc.size(); ++i) {
    const Tensor &src = xs[0].getDouble(mc[i]) != 0 ? xs[1] : xs[2];
    int64_t at = &src == &xs[1] ? mx[i] : my[i];
    std::memcpy(out.data() + i * es, src.raw() + at * es, es);
  }
  return Tensors{Tensor(rt.dtype(), rt.shape, std::move(out))};
}

// ---- matrix ops -----------------------------------------------------------------------------

template <class T> Tensors evalMatMulT(const Tensors &xs, const TensorType &rt) {
  Shape a = xs[0].shape, b = xs[1].shape;
  if (a.size() == 1)
    a.insert(a.begin(), 1);
  if (b.size() == 1)
    b.push_back(1);
  int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
  Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  Shape batch = ba.size() > bb.size() ? ba : bb;
  // The broadcast batch shape: the larger of each aligned pair (inference already checked it).
  {
    size_t r = std::max(ba.size(), bb.size());
    batch.assign(r, 1);
    for (size_t i = 0; i < r; ++i) {
      int64_t da = i + ba.size() >= r ? ba[i + ba.size() - r] : 1;
      int64_t db = i + bb.size() >= r ? bb[i + bb.size() - r] : 1;
      batch[i] = da == 1 ? db : da;
    }
  }
  std::vector<int64_t> mapA = broadcastMap(ba, batch), mapB = broadcastMap(bb, batch);
  std::vector<T> va = valuesOf<T>(xs[0]), vb = valuesOf<T>(xs[1]);
  std::vector<T> out(static_cast<size_t>(numElements(batch) * m * n), T(0));
  for (size_t p = 0; p < mapA.size(); ++p) {
    const T *pa = va.data() + mapA[p] * m * k, *pb = vb.data() + mapB[p] * k * n;
    T *po = out.data() + p * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        T acc = 0;
        for (int64_t q = 0; q < k; ++q)
          acc = wrapAdd(acc, wrapMul(pa[i * k + q], pb[q * n + j]));
        po[i * n + j] = acc;
      }
  }
  return Tensors{make(rt.dtype(), rt.shape, out)};
}

Tensors evalGemm(const Tensors &xs, const Attributes &attrs, const TensorType &rt) {
  bool ta = attrs.getInt("transA", 0) != 0, tb = attrs.getInt("transB", 0) != 0;
  double alpha = attrs.getFloat("alpha", 1.0), beta = attrs.getFloat("beta", 1.0);
  std::vector<double> a = xs[0].toDoubles(), b = xs[1].toDoubles();
  int64_t m = rt.shape[0], n = rt.shape[1], k = ta ? xs[0].shape[0] : xs[0].shape[1];
  std::vector<double> c, out(static_cast<size_t>(m * n));
  std::vector<int64_t> mc;
  if (xs.size() == 3) {
    c = xs[2].toDoubles();
    mc = broadcastMap(xs[2].shape, rt.shape);
  }
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t q = 0; q < k; ++q)
        acc += a[ta ? q * m + i : i * k + q] * b[tb ? j * k + q : q * n + j];
      acc *= alpha;
      if (!c.empty())
        acc += beta * c[mc[i * n + j]];
      out[i * n + j] = acc;
    }
  return Tensors{make(rt.dtype(), rt.shape, out)};
}

// ---- windows: Conv, ConvTranspose, pools ----------------------------------------------------

/// All multi-indices of a shape, row-major (kernel offsets, output positions).
std::vector<std::vector<int64_t>> allIndices(const Shape &s) {
  std::vector<std::vector<int64_t>> r(static_cast<size_t>(numElements(s)));
  for (size_t k = 0; k < r.size(); ++k)
    unravel(static_cast<int64_t>(k), s, r[k]);
  return r;
}

Tensors evalConv(const Tensors &xs, const sem::Window &w, const TensorType &rt) {
  const Shape &xsh = xs[0].shape, &wsh = xs[1].shape;
  Shape inSp(xsh.begin() + 2, xsh.end()), outSp(rt.shape.begin() + 2, rt.shape.end());
  int64_t nb = xsh[0], c = xsh[1], m = wsh[0], cg = c / w.group, mg = m / w.group;
  int64_t inSize = numElements(inSp), outSize = numElements(outSp), kSize = numElements(w.kernel);
  std::vector<double> x = xs[0].toDoubles(), wt = xs[1].toDoubles(), bias;
  if (xs.size() == 3)
    bias = xs[2].toDoubles();
  auto outPos = allIndices(outSp), kPos = allIndices(w.kernel);
  std::vector<double> y(static_cast<size_t>(nb * m * outSize));
  std::vector<int64_t> at(inSp.size());
  for (int64_t n = 0; n < nb; ++n)
    for (int64_t oc = 0; oc < m; ++oc) {
      int64_t g = oc / mg;
      for (int64_t p = 0; p < outSize; ++p) {
        double acc = bias.empty() ? 0 : bias[oc];
        for (int64_t kk = 0; kk < kSize; ++kk) {
          bool inside = true;
          for (size_t d = 0; d < inSp.size() && inside; ++d) {
            at[d] = outPos[p][d] * w.strides[d] - w.padsBegin[d] + kPos[kk][d] * w.dilations[d];
            inside = at[d] >= 0 && at[d] < inSp[d];
          }
          if (!inside)
            continue;
          int64_t xi = ravel(at, inSp);
          for (int64_t ic = 0; ic < cg; ++ic)
            acc += x[(n * c + g * cg + ic) * inSize + xi] * wt[(oc * cg + ic) * kSize + kk];
        }
        y[(n * m + oc) * outSize + p] = acc;
      }
    }
  return Tensors{make(rt.dtype(), rt.shape, y)};
}

Tensors evalConvTranspose(const Tensors &xs, const sem::Window &w, const TensorType &rt) {
  const Shape &xsh = xs[0].shape;
  Shape inSp(xsh.begin() + 2, xsh.end()), outSp(rt.shape.begin() + 2, rt.shape.end());
  int64_t nb = xsh[0], c = xsh[1], m = rt.shape[1], cg = c / w.group, mg = m / w.group;
  int64_t inSize = numElements(inSp), outSize = numElements(outSp), kSize = numElements(w.kernel);
  std::vector<double> x = xs[0].toDoubles(), wt = xs[1].toDoubles();
  auto inPos = allIndices(inSp), kPos = allIndices(w.kernel);
  std::vector<double> y(static_cast<size_t>(nb * m * outSize), 0.0);
  std::vector<int64_t> at(inSp.size());
  for (int64_t n = 0; n < nb; ++n)
    for (int64_t ic = 0; ic < c; ++ic) {
      int64_t g = ic / cg;
      for (int64_t p = 0; p < inSize; ++p) {
        double xv = x[(n * c + ic) * inSize + p];
        for (int64_t kk = 0; kk < kSize; ++kk) {
          bool inside = true;
          for (size_t d = 0; d < inSp.size() && inside; ++d) {
            at[d] = inPos[p][d] * w.strides[d] - w.padsBegin[d] + kPos[kk][d] * w.dilations[d];
            inside = at[d] >= 0 && at[d] < outSp[d];
          }
          if (!inside)
            continue;
          int64_t yi = ravel(at, outSp);
          for (int64_t om = 0; om < mg; ++om)
            y[(n * m + g * mg + om) * outSize + yi] += xv * wt[(ic * mg + om) * kSize + kk];
        }
      }
    }
  if (xs.size() == 3) {
    std::vector<double> bias = xs[2].toDoubles();
    for (int64_t n = 0; n < nb; ++n)
      for (int64_t oc = 0; oc < m; ++oc)
        for (int64_t p = 0; p < outSize; ++p)
          y[(n * m + oc) * outSize + p] += bias[oc];
  }
  return Tensors{make(rt.dtype(), rt.shape, y)};
}

Tensors evalPool(OpKind op, const Tensor &xt, const sem::Window &w, const Attributes &attrs,
                 const std::vector<TensorType> &rts) {
  const TensorType &rt = rts[0];
  Shape inSp(xt.shape.begin() + 2, xt.shape.end()), outSp(rt.shape.begin() + 2, rt.shape.end());
  int64_t planes = xt.shape[0] * xt.shape[1];
  int64_t inSize = numElements(inSp), outSize = numElements(outSp), kSize = numElements(w.kernel);
  bool includePad = attrs.getInt("count_include_pad", 0) != 0;
  bool colMajor = attrs.getInt("storage_order", 0) != 0;
  std::vector<double> x = xt.toDoubles(), y(static_cast<size_t>(planes * outSize));
  std::vector<int64_t> ind(y.size());
  auto outPos = allIndices(outSp), kPos = allIndices(w.kernel);
  std::vector<int64_t> at(inSp.size());
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t p = 0; p < outSize; ++p) {
      double best = -std::numeric_limits<double>::infinity(), sum = 0;
      int64_t bestAt = -1, count = 0;
      for (int64_t kk = 0; kk < kSize; ++kk) {
        bool inside = true, inPadded = true;
        for (size_t d = 0; d < inSp.size(); ++d) {
          at[d] = outPos[p][d] * w.strides[d] - w.padsBegin[d] + kPos[kk][d] * w.dilations[d];
          inside = inside && at[d] >= 0 && at[d] < inSp[d];
          inPadded = inPadded && at[d] >= -w.padsBegin[d] && at[d] < inSp[d] + w.padsEnd[d];
        }
        if (includePad ? inPadded : inside)
          ++count;
        if (!inside)
          continue;
        int64_t xi = ravel(at, inSp);
        double v = x[pl * inSize + xi];
        sum += v;
        if (v > best || bestAt < 0) {
          best = v;
          // Indices are flat over the whole input tensor; storage_order=1 is column-major
          // over the spatial dims.
          int64_t flat = xi;
          if (colMajor) {
            flat = 0;
            for (size_t d = inSp.size(); d-- > 0;)
              flat = flat * inSp[d] + at[d];
          }
          bestAt = pl * inSize + flat;
        }
      }
      y[pl * outSize + p] = op == OpKind::MaxPool ? best : (count ? sum / count : 0);
      ind[pl * outSize + p] = bestAt;
    }
  Tensors r{make(rt.dtype(), rt.shape, y)};
  if (rts.size() == 2)
    r.push_back(make(DType::I64, rts[1].shape, ind));
  return r;
}

Tensors evalGlobalPool(OpKind op, const Tensor &xt, const TensorType &rt) {
  int64_t planes = xt.shape[0] * xt.shape[1],
          inner = numElements(xt.shape) / std::max<int64_t>(planes, 1);
  std::vector<double> x = xt.toDoubles(), y;
  for (int64_t pl = 0; pl < planes; ++pl) {
    double acc = op == OpKind::GlobalMaxPool ? -std::numeric_limits<double>::infinity() : 0;
    for (int64_t i = 0; i < inner; ++i) {
      double v = x[pl * inner + i];
      acc = op == OpKind::GlobalMaxPool ? std::max(acc, v) : acc + v;
    }
    y.push_back(op == OpKind::GlobalMaxPool ? acc : acc / inner);
  }
  return Tensors{make(rt.dtype(), rt.shape, y)};
}

// ---- normalization, softmax, reductions -----------------------------------------------------

Tensors evalBatchNorm(const Tensors &xs, const Attributes &attrs, const TensorType &rt) {
  double eps = attrs.getFloat("epsilon", 1e-5);
  std::vector<double> x = xs[0].toDoubles(), s = xs[1].toDoubles(), b = xs[2].toDoubles(),
                      mean = xs[3].toDoubles(), var = xs[4].toDoubles();
  int64_t c = xs[0].shape[1], inner = 1;
  for (size_t d = 2; d < xs[0].shape.size(); ++d)
    inner *= xs[0].shape[d];
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t ch = (static_cast<int64_t>(i) / inner) % c;
    x[i] = s[ch] * (x[i] - mean[ch]) / std::sqrt(var[ch] + eps) + b[ch];
  }
  return Tensors{make(rt.dtype(), rt.shape, x)};
}

Tensors evalSoftmax(OpKind op, const Tensor &xt, int64_t axis, const TensorType &rt) {
  std::vector<double> x = xt.toDoubles();
  int64_t dim = xt.shape[axis], inner = 1;
  for (size_t d = axis + 1; d < xt.shape.size(); ++d)
    inner *= xt.shape[d];
  int64_t outer = dim * inner != 0 ? xt.numElements() / (dim * inner) : 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) -> double & { return x[(o * dim + j) * inner + i]; };
      double mx = -std::numeric_limits<double>::infinity(), sum = 0;
      for (int64_t j = 0; j < dim; ++j)
        mx = std::max(mx, at(j));
      for (int64_t j = 0; j < dim; ++j)
        sum += std::exp(at(j) - mx);
      for (int64_t j = 0; j < dim; ++j)
        at(j) = op == OpKind::Softmax ? std::exp(at(j) - mx) / sum : at(j) - mx - std::log(sum);
    }
  return Tensors{make(rt.dtype(), rt.shape, x)};
}

template <class T>
Tensors evalReduceT(OpKind op, const Tensor &xt, const std::vector<bool> &red,
                    const TensorType &rt) {
  Shape keep = xt.shape;
  for (size_t d = 0; d < red.size(); ++d)
    if (red[d])
      keep[d] = 1;
  int64_t n = numElements(keep), count = n ? xt.numElements() / n : 0;
  T init = 0;
  if (op == OpKind::ReduceMax)
    init = std::is_floating_point_v<T> ? -std::numeric_limits<T>::infinity()
                                       : std::numeric_limits<T>::lowest();
  if (op == OpKind::ReduceMin)
    init = std::is_floating_point_v<T> ? std::numeric_limits<T>::infinity()
                                       : std::numeric_limits<T>::max();
  std::vector<T> acc(static_cast<size_t>(n), init), x = valuesOf<T>(xt);
  std::vector<int64_t> idx;
  for (size_t i = 0; i < x.size(); ++i) {
    unravel(static_cast<int64_t>(i), xt.shape, idx);
    for (size_t d = 0; d < red.size(); ++d)
      if (red[d])
        idx[d] = 0;
    T &a = acc[ravel(idx, keep)];
    if (op == OpKind::ReduceMax)
      a = std::max(a, x[i]);
    else if (op == OpKind::ReduceMin)
      a = std::min(a, x[i]);
    else
      a = wrapAdd(a, x[i]);
  }
  if (op == OpKind::ReduceMean)
    for (T &a : acc)
      a = count ? a / static_cast<T>(count) : a;
  return Tensors{make(rt.dtype(), rt.shape, acc)};
}

// ---- data movement --------------------------------------------------------------------------

Tensors evalConcat(const Tensors &xs, int64_t axis, const TensorType &rt) {
  size_t es = dtypeSize(rt.dtype());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= rt.shape[d];
  for (size_t d = axis + 1; d < rt.shape.size(); ++d)
    inner *= rt.shape[d];
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(rt.numElements()) * es);
  for (int64_t o = 0; o < outer; ++o)
    for (const Tensor &t : xs) {
      size_t chunk = static_cast<size_t>(t.shape[axis] * inner) * es;
      const uint8_t *p = t.raw() + o * chunk;
      out.insert(out.end(), p, p + chunk);
    }
  return Tensors{Tensor(rt.dtype(), rt.shape, std::move(out))};
}

Tensors evalSplit(const Tensor &x, int64_t axis, const std::vector<TensorType> &rts) {
  size_t es = dtypeSize(x.dtype);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.shape[d];
  for (size_t d = axis + 1; d < x.shape.size(); ++d)
    inner *= x.shape[d];
  Tensors r;
  int64_t offset = 0;
  for (const TensorType &rt : rts) {
    int64_t len = rt.shape[axis];
    std::vector<uint8_t> out;
    for (int64_t o = 0; o < outer; ++o) {
      const uint8_t *p = x.raw() + ((o * x.shape[axis] + offset) * inner) * es;
      out.insert(out.end(), p, p + len * inner * es);
    }
    offset += len;
    r.push_back(Tensor(rt.dtype(), rt.shape, std::move(out)));
  }
  return r;
}

Tensors evalTranspose(const Tensor &x, const Attributes &attrs, const TensorType &rt) {
  std::vector<int64_t> perm;
  for (int64_t i = static_cast<int64_t>(x.shape.size()) - 1; i >= 0; --i)
    perm.push_back(i);
  perm = attrs.getInts("perm", perm);
  std::vector<int64_t> map(static_cast<size_t>(rt.numElements())), o, in(x.shape.size());
  for (size_t k = 0; k < map.size(); ++k) {
    unravel(static_cast<int64_t>(k), rt.shape, o);
    for (size_t d = 0; d < perm.size(); ++d)
      in[perm[d]] = o[d];
    map[k] = ravel(in, x.shape);
  }
  return Tensors{pick(x, map, rt.shape)};
}

Tensors evalSlice(const Tensor &x, const sem::SliceDims &s, const TensorType &rt) {
  std::vector<int64_t> map(static_cast<size_t>(rt.numElements())), o, in(x.shape.size());
  for (size_t k = 0; k < map.size(); ++k) {
    unravel(static_cast<int64_t>(k), rt.shape, o);
    for (size_t d = 0; d < o.size(); ++d)
      in[d] = s.start[d] + o[d] * s.step[d];
    map[k] = ravel(in, x.shape);
  }
  return Tensors{pick(x, map, rt.shape)};
}

llvm::Expected<Tensors> evalGather(const Tensor &x, const Tensor &indices, int64_t axis,
                                   const TensorType &rt) {
  int64_t pre = 1, post = 1, dim = x.shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    pre *= x.shape[d];
  for (size_t d = axis + 1; d < x.shape.size(); ++d)
    post *= x.shape[d];
  std::vector<int64_t> idx = indices.toInts(), map;
  for (int64_t &i : idx) {
    if (i < -dim || i >= dim)
      return fail(fmt::format("Gather expects indices in [{}, {}), found {}", -dim, dim, i));
    if (i < 0)
      i += dim;
  }
  map.reserve(static_cast<size_t>(rt.numElements()));
  for (int64_t o = 0; o < pre; ++o)
    for (int64_t i : idx)
      for (int64_t in = 0; in < post; ++in)
        map.push_back((o * dim + i) * post + in);
  return Tensors{pick(x, map, rt.shape)};
}

Tensors evalTile(const Tensor &x, const TensorType &rt) {
  std::vector<int64_t> map(static_cast<size_t>(rt.numElements())), o;
  for (size_t k = 0; k < map.size(); ++k) {
    unravel(static_cast<int64_t>(k), rt.shape, o);
    for (size_t d = 0; d < o.size(); ++d)
      o[d] %= x.shape[d];
    map[k] = ravel(o, x.shape);
  }
  return Tensors{pick(x, map, rt.shape)};
}

Tensors evalPad(const Tensors &xs, const std::vector<int64_t> &pads, const Attributes &attrs,
                const TensorType &rt) {
  const Tensor &x = xs[0];
  std::string mode = attrs.getString("mode", "constant");
  double cv = xs.size() > 2 && xs[2].numElements() == 1 ? xs[2].getDouble(0) : 0.0;
  Tensor fill = xs.size() > 2 && xs[2].numElements() == 1 && xs[2].dtype == x.dtype
                    ? xs[2]
                    : Tensor::fromDoubles(x.dtype, {}, {cv});
  size_t r = x.shape.size();
  std::vector<int64_t> map(static_cast<size_t>(rt.numElements())), o;
  for (size_t k = 0; k < map.size(); ++k) {
    unravel(static_cast<int64_t>(k), rt.shape, o);
    bool outside = false;
    for (size_t d = 0; d < r; ++d) {
      int64_t i = o[d] - pads[d], n = x.shape[d];
      if (i >= 0 && i < n) {
        o[d] = i;
        continue;
      }
      if (mode == "edge") {
        i = std::clamp<int64_t>(i, 0, n - 1);
      } else if (mode == "reflect") {
        // Mirror without repeating the edge; loops only when pads exceed the dim.
        while (n > 1 && (i < 0 || i >= n))
          i = i < 0 ? -i : 2 * (n - 1) - i;
        if (n == 1)
          i = 0;
      } else {
        outside = true;
      }
      o[d] = i;
    }
    map[k] = outside ? -1 : ravel(o, x.shape);
  }
  return Tensors{pick(x, map, rt.shape, &fill)};
}

Tensors evalCast(const Tensor &x, const TensorType &rt) {
  if (exactInts(x.dtype) && exactInts(rt.dtype())) {
    std::vector<int64_t> v = x.toInts();
    if (rt.dtype() == DType::Bool)
      for (int64_t &e : v)
        e = e != 0;
    return Tensors{make(rt.dtype(), rt.shape, v)};
  }
  return Tensors{make(rt.dtype(), rt.shape, x.toDoubles())};
}

Tensors evalRange(const Tensors &xs, const TensorType &rt) {
  int64_t n = rt.shape[0];
  if (exactInts(rt.dtype())) {
    int64_t s = xs[0].getInt(0), d = xs[2].getInt(0);
    std::vector<int64_t> v;
    for (int64_t i = 0; i < n; ++i)
      v.push_back(wrapAdd(s, wrapMul(i, d)));
    return Tensors{make(rt.dtype(), rt.shape, v)};
  }
  double s = xs[0].getDouble(0), d = xs[2].getDouble(0);
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i)
    v.push_back(s + static_cast<double>(i) * d);
  return Tensors{make(rt.dtype(), rt.shape, v)};
}

llvm::Error checkOperandDTypes(OpKind op, const Tensors &xs) {
  for (size_t i = 0; i < xs.size(); ++i)
    if (xs[i].dtype == DType::Undefined || !xs[i].bytes ||
        static_cast<int64_t>(xs[i].byteSize()) !=
            xs[i].numElements() * static_cast<int64_t>(dtypeSize(xs[i].dtype)))
      return fail(fmt::format("{} expects operand {} to hold {} elements of {}, found {} bytes",
                              nm(op), i, xs[i].numElements(), dtypeName(xs[i].dtype),
                              xs[i].byteSize()));
  return llvm::Error::success();
}

/// The operands' types (and data) as shape inference takes them.
std::vector<Operand> operandsOf(const std::vector<Tensor> &xs) {
  std::vector<Operand> ops;
  for (const Tensor &t : xs)
    ops.push_back({TensorType(ElementType(t.dtype), t.shape), &t});
  return ops;
}

} // namespace

llvm::Expected<std::vector<Tensor>> evaluate(OpKind op, const std::vector<Tensor> &xs,
                                             const Attributes &attrs,
                                             const std::vector<TensorType> &resultTypes) {
  if (auto e = checkOperandDTypes(op, xs))
    return e;
  std::vector<Operand> ops = operandsOf(xs);
  if (resultTypes.empty())
    return fail(fmt::format("{} evaluation expects result types, found none", nm(op)));
  const TensorType &rt = resultTypes[0];

  switch (opClass(op)) {
  case OpClass::Unary:
    return evalUnary(op, xs[0], attrs, rt);
  case OpClass::Binary:
  case OpClass::Variadic:
    return evalNAry(op, xs, rt);
  case OpClass::Other:
    break;
  }

  switch (op) {
  case OpKind::Conv:
  case OpKind::ConvTranspose: {
    auto w = sem::convWindow(op, ops, attrs);
    if (!w)
      return w.takeError();
    return op == OpKind::Conv ? evalConv(xs, *w, rt) : evalConvTranspose(xs, *w, rt);
  }
  case OpKind::MaxPool:
  case OpKind::AveragePool: {
    auto w = sem::poolWindow(op, ops, attrs);
    if (!w)
      return w.takeError();
    return evalPool(op, xs[0], *w, attrs, resultTypes);
  }
  case OpKind::GlobalAveragePool:
  case OpKind::GlobalMaxPool:
    return evalGlobalPool(op, xs[0], rt);
  case OpKind::Gemm:
    return evalGemm(xs, attrs, rt);
  case OpKind::MatMul:
    return exactInts(rt.dtype()) ? evalMatMulT<int64_t>(xs, rt) : evalMatMulT<double>(xs, rt);
  case OpKind::BatchNormalization:
    return evalBatchNorm(xs, attrs, rt);
  case OpKind::Clip:
    return exactInts(rt.dtype()) ? evalClipT<int64_t>(xs, rt) : evalClipT<double>(xs, rt);
  case OpKind::Where:
    return evalWhere(xs, rt);
  case OpKind::Concat: {
    auto ax = sem::normAxis(op, attrs.getInt("axis", 0), static_cast<int64_t>(rt.shape.size()));
    if (!ax)
      return ax.takeError();
    return evalConcat(xs, *ax, rt);
  }
  case OpKind::Split: {
    int64_t axis = 0;
    Attributes a = attrs;
    if (!a.has("num_outputs"))
      a.set("num_outputs", static_cast<int64_t>(resultTypes.size()));
    auto sizes = sem::splitSizes(ops, a, axis);
    if (!sizes)
      return sizes.takeError();
    return evalSplit(xs[0], axis, resultTypes);
  }
  case OpKind::Reshape:
  case OpKind::Flatten:
  case OpKind::Squeeze:
  case OpKind::Unsqueeze:
  case OpKind::Identity:
    return Tensors{reshaped(xs[0], rt.shape)};
  case OpKind::Dropout: {
    if (xs.size() == 3 && xs[2].getDouble(0) != 0 && xs.size() > 1 && xs[1].getDouble(0) != 0)
      return fail("Dropout expects inference mode for evaluation (training mode is random), "
                  "found training_mode=true with a nonzero ratio");
    Tensors r{reshaped(xs[0], rt.shape)};
    if (resultTypes.size() == 2)
      r.push_back(make(DType::Bool, rt.shape,
                       std::vector<int64_t>(static_cast<size_t>(rt.numElements()), 1)));
    return r;
  }
  case OpKind::Transpose:
    return evalTranspose(xs[0], attrs, rt);
  case OpKind::DepthToSpace: {
    auto y = sem::evalDepthToSpace(xs[0], attrs);
    if (!y)
      return y.takeError();
    return Tensors{std::move(*y)};
  }
  case OpKind::Slice: {
    auto s = sem::sliceDims(ops);
    if (!s)
      return s.takeError();
    return evalSlice(xs[0], *s, rt);
  }
  case OpKind::Gather: {
    auto ax = sem::normAxis(op, attrs.getInt("axis", 0), static_cast<int64_t>(xs[0].shape.size()));
    if (!ax)
      return ax.takeError();
    return evalGather(xs[0], xs[1], *ax, rt);
  }
  case OpKind::Expand:
    return Tensors{pick(xs[0], broadcastMap(xs[0].shape, rt.shape), rt.shape)};
  case OpKind::Tile:
    return evalTile(xs[0], rt);
  case OpKind::Softmax:
  case OpKind::LogSoftmax: {
    auto ax = sem::normAxis(op, attrs.getInt("axis", -1), static_cast<int64_t>(xs[0].shape.size()));
    if (!ax)
      return ax.takeError();
    return evalSoftmax(op, xs[0], *ax, rt);
  }
  case OpKind::Pad: {
    auto p = sem::padAmounts(ops);
    if (!p)
      return p.takeError();
    return evalPad(xs, *p, attrs, rt);
  }
  case OpKind::ReduceMean:
  case OpKind::ReduceSum:
  case OpKind::ReduceMax:
  case OpKind::ReduceMin: {
    auto red = sem::reducedDims(op, ops, attrs);
    if (!red)
      return red.takeError();
    if (exactInts(rt.dtype()) && op != OpKind::ReduceMean)
      return evalReduceT<int64_t>(op, xs[0], *red, rt);
    return evalReduceT<double>(op, xs[0], *red, rt);
  }
  case OpKind::Shape: {
    int64_t r = static_cast<int64_t>(xs[0].shape.size());
    int64_t s = attrs.getInt("start", 0);
    s = std::clamp<int64_t>(s < 0 ? s + r : s, 0, r);
    std::vector<int64_t> v(xs[0].shape.begin() + s, xs[0].shape.begin() + s + rt.shape[0]);
    return Tensors{make(DType::I64, rt.shape, v)};
  }
  case OpKind::Cast:
    return evalCast(xs[0], rt);
  case OpKind::ConstantOfShape:
    return Tensors{make(
        rt.dtype(), rt.shape,
        std::vector<double>(static_cast<size_t>(rt.numElements()), attrs.getFloat("value", 0.0)))};
  case OpKind::Range:
    return evalRange(xs, rt);
  default:
    break;
  }
  return fail(fmt::format("{} has no evaluation rule", nm(op)));
}

namespace {

/// One step of a node's epilogue over the value computed so far, spelled through the ops whose
/// semantics it shares (a bias_add is an Add of the channel vector, silu is x * Sigmoid(x), ...),
/// so the epilogue has no reference semantics of its own to get wrong.
llvm::Expected<Tensor> applyStep(const Node &n, const EpilogueStep &st, const Tensor &v,
                                 const std::vector<Tensor> &operands) {
  auto run = [&](OpKind op, std::vector<Tensor> xs, const Attributes &attrs) -> llvm::Expected<Tensor> {
    auto types = sem::infer(op, operandsOf(xs), attrs);
    if (!types)
      return types.takeError();
    auto r = evaluate(op, xs, attrs, *types);
    if (!r)
      return r.takeError();
    return std::move((*r)[0]);
  };
  auto scalar = [](double x) { return make(DType::F32, {}, std::vector<double>{x}); };
  Attributes none;
  switch (st.kind) {
  case EpilogueStep::Kind::BiasAdd: {
    // [C, 1, ...] right-aligned so that C lands on the result's channel dimension.
    Tensor b = operands[static_cast<size_t>(st.operand)];
    const int rank = static_cast<int>(v.shape.size());
    Shape s(static_cast<size_t>(rank - epilogueChannelDim(n.op(), rank)), 1);
    s[0] = b.numElements();
    b.shape = s;
    return run(OpKind::Add, {v, b}, none);
  }
  case EpilogueStep::Kind::ResidualAdd:
    return run(OpKind::Add, {v, operands[static_cast<size_t>(st.operand)]}, none);
  case EpilogueStep::Kind::Binary: {
    const Tensor &x = operands[static_cast<size_t>(st.operand)];
    OpKind op = binaryOp(st.bin);
    return st.swapped ? run(op, {x, v}, none) : run(op, {v, x}, none);
  }
  case EpilogueStep::Kind::Requantize:
    return fail("the requantize epilogue step has no evaluation rule");
  case EpilogueStep::Kind::Activation:
    break;
  }
  if (st.act == ActKind::Clip)
    return run(OpKind::Clip, {v, scalar(st.alpha), scalar(st.beta)}, none);
  if (st.act == ActKind::SiLU) {
    auto sig = run(OpKind::Sigmoid, {v}, none);
    if (!sig)
      return sig.takeError();
    return run(OpKind::Mul, {v, *sig}, none);
  }
  if (auto op = activationOp(st))
    return run(op->first, {v}, op->second);
  return fail("unknown activation");
}

} // namespace

llvm::Expected<Tensor> applyEpilogue(const Node &n, Tensor v, const std::vector<Tensor> &operands) {
  if (operands.size() != n.numOperands())
    return fail(fmt::format("{} '{}' expects {} operand values, found {}", nm(n.op()), n.name(),
                            n.numOperands(), operands.size()));
  for (const EpilogueStep &st : n.epilogue().steps) {
    auto r = applyStep(n, st, v, operands);
    if (!r)
      return fail(fmt::format("{} '{}' epilogue: {}", nm(n.op()), n.name(),
                              llvm::toString(r.takeError())));
    v = std::move(*r);
  }
  return v;
}

llvm::Expected<std::vector<Tensor>> evaluateNode(const Node &n,
                                                 const std::vector<Tensor> &operands) {
  if (operands.size() != n.numOperands())
    return fail(fmt::format("{} '{}' expects {} operand values, found {}", nm(n.op()), n.name(),
                            n.numOperands(), operands.size()));
  std::vector<Tensor> xs;
  for (unsigned i = 0; i < n.numOperands(); ++i)
    if (!n.isEpilogueOperand(i))
      xs.push_back(operands[i]);
  // The result count decides Split's pieces and Dropout's/MaxPool's optional second result.
  Attributes attrs = n.attrs();
  if ((n.op() == OpKind::Split || n.op() == OpKind::Dropout || n.op() == OpKind::MaxPool) &&
      !attrs.has("num_outputs"))
    attrs.set("num_outputs", static_cast<int64_t>(n.numResults()));
  auto types = sem::infer(n.op(), operandsOf(xs), attrs);
  if (!types)
    return fail(
        fmt::format("{} '{}': {}", nm(n.op()), n.name(), llvm::toString(types.takeError())));
  if (types->size() != n.numResults())
    return fail(fmt::format("{} '{}' expects {} results, found {}", nm(n.op()), n.name(),
                            types->size(), n.numResults()));
  auto r = evaluate(n.op(), xs, attrs, *types);
  if (!r)
    return fail(fmt::format("{} '{}': {}", nm(n.op()), n.name(), llvm::toString(r.takeError())));
  if (!n.epilogue().empty()) {
    auto v = applyEpilogue(n, std::move((*r)[0]), operands);
    if (!v)
      return v.takeError();
    (*r)[0] = std::move(*v);
  }
  return r;
}

llvm::Expected<std::vector<Tensor>> evaluateNode(const Node &n) {
  std::vector<Tensor> xs;
  for (unsigned i = 0; i < n.numOperands(); ++i) {
    const Value *v = n.operand(i);
    if (!v->isConstant())
      return fail(fmt::format("{} '{}' expects constant operands for evaluation, found "
                              "non-constant operand {} ({})",
                              nm(n.op()), n.name(), i, v->name()));
    xs.push_back(v->constant());
  }
  return evaluateNode(n, xs);
}

} // namespace kiln
