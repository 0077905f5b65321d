// The reduction family (ReduceMean/Sum/Max/Min, Softmax, LogSoftmax, LRN): shape inference, reference
// evaluation and the typed parameters of ir/OpParams.h — the reduced dims (axes operand or
// attribute, negative axes, empty axes reducing all or nothing) and the normalized softmax axis,
// from the rules inference applies, so the selectors do not re-derive them.
#include "ir/OpParams.h"

#include "ir/SemanticsDetail.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln {

namespace sem {
namespace {

const char *nm(OpKind op) { return opName(op); }

bool keepDimsOf(const Attributes &attrs) { return attrs.getInt("keepdims", 1) != 0; }

/// Softmax and LogSoftmax: `axis` (default -1) normalized on the input's rank.
llvm::Expected<int64_t> softmaxAxisOf(OpKind op, const std::vector<Operand> &ops,
                                      const Attributes &attrs) {
  if (auto e = arity(op, ops, 1, 1))
    return e;
  return normAxis(op, attrs.getInt("axis", -1), ops[0].type.rank());
}

/// LRN: size (required, at least 1), alpha, beta, bias; X of rank >= 3 (N x C x D1 ...).
llvm::Expected<LrnParams> lrnParamsOf(OpKind op, const std::vector<Operand> &ops,
                                      const Attributes &attrs) {
  if (auto e = arity(op, ops, 1, 1))
    return e;
  if (auto e = minRank(op, ops[0], 3))
    return e;
  LrnParams p;
  p.size = attrs.getInt("size", 0);
  p.alpha = attrs.getFloat("alpha", 1e-4);
  p.beta = attrs.getFloat("beta", 0.75);
  p.bias = attrs.getFloat("bias", 1.0);
  if (p.size < 1)
    return fail(fmt::format("{} expects attribute size >= 1, found {}", nm(op), p.size));
  return p;
}

/// LRN in double: each element over its window of channels.
Tensors evalLrn(const Tensor &xt, const LrnParams &p, const TensorType &rt) {
  const Shape &sh = xt.shape;
  const int64_t n = sh[0], c = sh[1], s = xt.numElements() / (n * c);
  std::vector<double> x = xt.toDoubles(), y(x.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < s; ++i) {
        double sum = 0;
        for (int64_t k = std::max<int64_t>(0, ch - p.below());
             k <= std::min<int64_t>(c - 1, ch + p.above()); ++k) {
          const double v = x[size_t((b * c + k) * s + i)];
          sum += v * v;
        }
        const size_t at = size_t((b * c + ch) * s + i);
        y[at] = x[at] / std::pow(p.bias + p.alpha / double(p.size) * sum, p.beta);
      }
  return Tensors{Tensor::fromDoubles(rt.dtype(), rt.shape, y)};
}

/// For each input dim whether it is reduced (all false for a no-op reduction, which sets *noop
/// when given).
llvm::Expected<std::vector<bool>> reducedDims(OpKind op, const std::vector<Operand> &ops,
                                              const Attributes &attrs, bool *noop = nullptr) {
  if (auto e = arity(op, ops, 1, 2))
    return e;
  int64_t rank = ops[0].type.rank();
  std::vector<int64_t> axes;
  if (ops.size() == 2) {
    auto a = constInts(op, ops, 1, "axes");
    if (!a)
      return a.takeError();
    axes = *a;
  } else {
    axes = attrs.getInts("axes");
  }
  if (axes.empty()) {
    bool none = attrs.getInt("noop_with_empty_axes", 0) != 0;
    if (noop)
      *noop = none;
    return std::vector<bool>(static_cast<size_t>(rank), !none);
  }
  std::vector<bool> red(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    auto ax = normAxis(op, a, rank);
    if (!ax)
      return ax.takeError();
    red[*ax] = true;
  }
  return red;
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

llvm::Expected<Types> inferRule(OpKind op, const std::vector<Operand> &ops,
                                const Attributes &attrs) {
  switch (op) {
  case OpKind::Softmax:
  case OpKind::LogSoftmax: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    if (auto e = needFloat(op, ops[0]))
      return e;
    auto ax = softmaxAxisOf(op, ops, attrs);
    if (!ax)
      return ax.takeError();
    return Types{rowMajor(ops[0].type.dtype(), ops[0].type.shape)};
  }
  case OpKind::LRN: {
    auto p = lrnParamsOf(op, ops, attrs);
    if (!p)
      return p.takeError();
    if (auto e = needFloat(op, ops[0]))
      return e;
    return Types{rowMajor(ops[0].type.dtype(), ops[0].type.shape)};
  }
  case OpKind::ReduceMean:
  case OpKind::ReduceSum:
  case OpKind::ReduceMax:
  case OpKind::ReduceMin: {
    auto red = reducedDims(op, ops, attrs);
    if (!red)
      return red.takeError();
    bool keep = keepDimsOf(attrs);
    Shape out;
    for (size_t i = 0; i < red->size(); ++i) {
      if (!(*red)[i])
        out.push_back(ops[0].type.shape[i]);
      else if (keep)
        out.push_back(1);
    }
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  default:
    break;
  }
  return fail(fmt::format("{} has no type inference rule", nm(op)));
}

llvm::Expected<Tensors> evaluateRule(OpKind op, const Tensors &xs, const Attributes &attrs,
                                     const Types &rts) {
  const std::vector<Operand> ops = operandsOf(xs);
  const TensorType &rt = rts[0];
  switch (op) {
  case OpKind::Softmax:
  case OpKind::LogSoftmax: {
    auto ax = softmaxAxisOf(op, ops, attrs);
    if (!ax)
      return ax.takeError();
    return evalSoftmax(op, xs[0], *ax, rt);
  }
  case OpKind::LRN: {
    auto p = lrnParamsOf(op, ops, attrs);
    if (!p)
      return p.takeError();
    return evalLrn(xs[0], *p, rt);
  }
  case OpKind::ReduceMean:
  case OpKind::ReduceSum:
  case OpKind::ReduceMax:
  case OpKind::ReduceMin: {
    auto red = reducedDims(op, ops, attrs);
    if (!red)
      return red.takeError();
    if (exactInts(rt.dtype()) && op != OpKind::ReduceMean)
      return evalReduceT<int64_t>(op, xs[0], *red, rt);
    return evalReduceT<double>(op, xs[0], *red, rt);
  }
  default:
    break;
  }
  return fail(fmt::format("{} has no evaluation rule", nm(op)));
}

std::vector<ShapeOperand> shapeOperandsRule(OpKind op) {
  // The operand that reducedDims reads through constInts; Softmax and LRN have none.
  if (op == OpKind::Softmax || op == OpKind::LogSoftmax || op == OpKind::LRN)
    return {};
  return {{1, "axes"}};
}

} // namespace

const FamilyRules kReduceRules = {&inferRule, &evaluateRule, &shapeOperandsRule};

} // namespace sem

llvm::Expected<ReduceParams> reduceParams(const Node &n) {
  ReduceParams p;
  auto red = sem::reducedDims(n.op(), sem::nodeOperands(n), n.attrs(), &p.noop);
  if (!red)
    return red.takeError();
  p.reduced = std::move(*red);
  p.keepDims = sem::keepDimsOf(n.attrs());
  return p;
}

llvm::Expected<int64_t> softmaxAxis(const Node &n) {
  return sem::softmaxAxisOf(n.op(), sem::nodeOperands(n), n.attrs());
}

llvm::Expected<LrnParams> lrnParams(const Node &n) {
  return sem::lrnParamsOf(n.op(), sem::nodeOperands(n), n.attrs());
}

} // namespace kiln
