// The elementwise family: the unary, binary and variadic ops of ir/Ops.def (Kind column) and
// Clip, Where, BatchNormalization, Dropout and Cast — their shape inference, reference
// evaluation and the typed parameters of ir/OpParams.h. The unary ops' alpha and beta come from
// the columns of ir/Activations.def (through activationStepOf), the table fuse-epilogue and
// codegen read, so an activation's default has one definition.
#include "ir/OpParams.h"

#include "ir/Epilogue.h"
#include "ir/SemanticsDetail.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace kiln {

namespace sem {
namespace {

const char *nm(OpKind op) { return opName(op); }

UnaryParams unaryParamsOf(OpKind op, const Attributes &attrs) {
  UnaryParams p;
  if (std::optional<EpilogueStep> st = activationStepOf(op, attrs)) {
    p.alpha = st->alpha;
    p.beta = st->beta;
  }
  return p;
}

llvm::Expected<GeluApproximation> geluApproximationOf(const Attributes &attrs) {
  const std::string a = attrs.getString("approximate", "none");
  if (a == "none")
    return GeluApproximation::None;
  if (a == "tanh")
    return GeluApproximation::Tanh;
  return fail(fmt::format("Gelu expects approximate \"none\" or \"tanh\", found \"{}\"", a));
}

BatchNormParams batchNormParamsOf(const Attributes &attrs) {
  BatchNormParams p;
  p.epsilon = attrs.getFloat("epsilon", 1e-5);
  p.training = attrs.getInt("training_mode", 0) != 0;
  return p;
}

bool isFloatOnlyUnary(OpKind op) {
  switch (op) {
  case OpKind::Sigmoid:
  case OpKind::HardSigmoid:
  case OpKind::HardSwish:
  case OpKind::Tanh:
  case OpKind::Elu:
  case OpKind::Selu:
  case OpKind::Softplus:
  case OpKind::Gelu:
  case OpKind::Sqrt:
  case OpKind::Exp:
  case OpKind::Log:
  case OpKind::Reciprocal:
  case OpKind::Floor:
  case OpKind::Ceil:
  case OpKind::LeakyRelu:
    return true;
  default:
    return false;
  }
}

llvm::Expected<Types> inferRule(OpKind op, const std::vector<Operand> &ops,
                                const Attributes &attrs) {
  switch (opClass(op)) {
  case OpClass::Unary: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    const Operand &x = ops[0];
    if (op == OpKind::Not) {
      if (x.type.dtype() != DType::Bool)
        return fail(fmt::format("Not expects a bool input, found {}", ts(x)));
    } else if (isFloatOnlyUnary(op)) {
      if (auto e = needFloat(op, x))
        return e;
    } else if (x.type.dtype() == DType::Bool) {
      return fail(fmt::format("{} expects a numeric input, found {}", nm(op), ts(x)));
    }
    return Types{rowMajor(x.type.dtype(), x.type.shape)};
  }
  case OpClass::Binary: {
    if (auto e = arity(op, ops, 2, 2))
      return e;
    if (op != OpKind::Pow)
      if (auto e = sameDType(op, ops[0], ops[1]))
        return e;
    auto s = broadcastOps(op, ops);
    if (!s)
      return s.takeError();
    if (op == OpKind::PRelu && *s != ops[0].type.shape)
      return fail(fmt::format("PRelu expects slope broadcastable to X {}, found {}", ts(ops[0]),
                              ts(ops[1])));
    bool cmp = op == OpKind::Equal || op == OpKind::Less || op == OpKind::Greater;
    return Types{rowMajor(cmp ? DType::Bool : ops[0].type.dtype(), *s)};
  }
  case OpClass::Variadic: {
    if (ops.empty())
      return fail(fmt::format("{} expects at least 1 operand, found 0", nm(op)));
    for (size_t i = 1; i < ops.size(); ++i)
      if (auto e = sameDType(op, ops[0], ops[i]))
        return e;
    auto s = broadcastOps(op, ops);
    if (!s)
      return s.takeError();
    return Types{rowMajor(ops[0].type.dtype(), *s)};
  }
  case OpClass::Other:
    break;
  }

  switch (op) {
  case OpKind::BatchNormalization: {
    if (auto e = arity(op, ops, 5, 5))
      return e;
    if (batchNormParamsOf(attrs).training)
      return fail("BatchNormalization expects training_mode=0 (inference), found 1");
    if (auto e = minRank(op, ops[0], 2))
      return e;
    int64_t c = ops[0].type.shape[1];
    for (size_t i = 1; i < 5; ++i)
      if (ops[i].type.shape != Shape{c})
        return fail(fmt::format("BatchNormalization expects scale, B, mean and var of shape [{}] "
                                "for input {}, found {}",
                                c, ts(ops[0]), ts(ops[i])));
    return Types{rowMajor(ops[0].type.dtype(), ops[0].type.shape)};
  }
  case OpKind::Clip: {
    if (auto e = arity(op, ops, 1, 3))
      return e;
    for (size_t i = 1; i < ops.size(); ++i) {
      if (ops[i].type.numElements() != 1)
        return fail(
            fmt::format("Clip expects scalar {}, found {}", i == 1 ? "min" : "max", ts(ops[i])));
      if (auto e = sameDType(op, ops[0], ops[i]))
        return e;
    }
    return Types{rowMajor(ops[0].type.dtype(), ops[0].type.shape)};
  }
  case OpKind::Where: {
    if (auto e = arity(op, ops, 3, 3))
      return e;
    if (ops[0].type.dtype() != DType::Bool)
      return fail(fmt::format("Where expects a bool condition, found {}", ts(ops[0])));
    if (auto e = sameDType(op, ops[1], ops[2]))
      return e;
    auto s = broadcastOps(op, ops);
    if (!s)
      return s.takeError();
    return Types{rowMajor(ops[1].type.dtype(), *s)};
  }
  case OpKind::Dropout: {
    if (auto e = arity(op, ops, 1, 3))
      return e;
    Types r{rowMajor(ops[0].type.dtype(), ops[0].type.shape)};
    if (attrs.getInt("num_outputs", 1) == 2)
      r.push_back(rowMajor(DType::Bool, ops[0].type.shape));
    return r;
  }
  case OpKind::Cast: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    int64_t to = attrs.getInt("to", -1);
    if (to <= static_cast<int64_t>(DType::Undefined) || to > static_cast<int64_t>(DType::Bool))
      return fail(fmt::format("Cast expects attribute 'to' holding a kiln DType, found {}", to));
    return Types{rowMajor(static_cast<DType>(to), ops[0].type.shape)};
  }
  default:
    break;
  }
  return fail(fmt::format("{} has no type inference rule", nm(op)));
}

/// `tanh`: Gelu's approximate is "tanh" (evaluation reads any other value as "none").
double unaryF(OpKind op, double x, const UnaryParams &p, bool tanh) {
  switch (op) {
  case OpKind::Relu:
    return x > 0 ? x : 0;
  case OpKind::LeakyRelu:
    return x >= 0 ? x : p.alpha * x;
  case OpKind::Sigmoid:
    return 1 / (1 + std::exp(-x));
  case OpKind::HardSigmoid:
    return std::max(0.0, std::min(1.0, p.alpha * x + p.beta));
  case OpKind::HardSwish:
    return x * std::max(0.0, std::min(1.0, x / 6 + 0.5));
  case OpKind::Tanh:
    return std::tanh(x);
  case OpKind::Elu:
    return x >= 0 ? x : p.alpha * (std::exp(x) - 1);
  case OpKind::Selu: // beta is ONNX's gamma
    return x > 0 ? p.beta * x : p.beta * (p.alpha * std::exp(x) - p.alpha);
  case OpKind::Softplus:
    return std::log(std::exp(x) + 1);
  case OpKind::Gelu:
    if (tanh)
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
  const UnaryParams p = unaryParamsOf(op, attrs);
  const bool tanh = op == OpKind::Gelu && attrs.getString("approximate", "none") == "tanh";
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
        e = Tensor::fromDoubles(DType::I64, {}, {unaryF(op, static_cast<double>(e), p, tanh)})
                .getInt(0); // saturating, where a plain cast of an out-of-range double is UB
        break;
      }
    }
    return Tensors{make(rt.dtype(), rt.shape, v)};
  }
  std::vector<double> v = x.toDoubles();
  for (double &e : v)
    e = unaryF(op, e, p, tanh);
  return Tensors{make(rt.dtype(), rt.shape, v)};
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

Tensors evalBatchNorm(const Tensors &xs, const Attributes &attrs, const TensorType &rt) {
  const double eps = batchNormParamsOf(attrs).epsilon;
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

llvm::Expected<Tensors> evaluateRule(OpKind op, const Tensors &xs, const Attributes &attrs,
                                     const Types &rts) {
  const TensorType &rt = rts[0];
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
  case OpKind::BatchNormalization:
    return evalBatchNorm(xs, attrs, rt);
  case OpKind::Clip:
    return exactInts(rt.dtype()) ? evalClipT<int64_t>(xs, rt) : evalClipT<double>(xs, rt);
  case OpKind::Where:
    return evalWhere(xs, rt);
  case OpKind::Dropout: {
    if (xs.size() == 3 && xs[2].getDouble(0) != 0 && xs.size() > 1 && xs[1].getDouble(0) != 0)
      return fail("Dropout expects inference mode for evaluation (training mode is random), "
                  "found training_mode=true with a nonzero ratio");
    Tensors r{reshaped(xs[0], rt.shape)};
    if (rts.size() == 2)
      r.push_back(make(DType::Bool, rt.shape,
                       std::vector<int64_t>(static_cast<size_t>(rt.numElements()), 1)));
    return r;
  }
  case OpKind::Cast:
    return evalCast(xs[0], rt);
  default:
    break;
  }
  return fail(fmt::format("{} has no evaluation rule", nm(op)));
}

std::vector<ShapeOperand> shapeOperandsRule(OpKind) { return {}; }

} // namespace

const FamilyRules kElementwiseRules = {&inferRule, &evaluateRule, &shapeOperandsRule};

} // namespace sem

UnaryParams unaryParams(const Node &n) { return sem::unaryParamsOf(n.op(), n.attrs()); }

llvm::Expected<GeluApproximation> geluApproximation(const Node &n) {
  return sem::geluApproximationOf(n.attrs());
}

BatchNormParams batchNormParams(const Node &n) { return sem::batchNormParamsOf(n.attrs()); }

llvm::Expected<ClipBounds> clipBounds(const Node &n) {
  const std::vector<sem::Operand> ops = sem::nodeOperands(n);
  ClipBounds b;
  for (size_t i = 1; i < ops.size() && i < 3; ++i) {
    const char *what = i == 1 ? "min" : "max";
    if (!ops[i].data || ops[i].data->numElements() != 1)
      return sem::fail(
          fmt::format("Clip expects a constant scalar {}, found {}", what, sem::ts(ops[i])));
    (i == 1 ? b.lo : b.hi) = ops[i].data->getDouble(0);
  }
  return b;
}

} // namespace kiln
