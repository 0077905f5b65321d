// Reference result-type inference for every op in ir/Ops.def, with ONNX opset-17 semantics on the
// canonical form documented there. Evaluation lives in ir/SemanticsEval.cpp and reuses the geometry
// helpers defined here (Slice bounds, windows, reduced axes), so both agree by construction.
//
// Conventions the frontend relies on (attributes that are kiln's, not ONNX's):
//   - Split, Dropout, MaxPool: the number of results is the int attribute `num_outputs` (the
//     frontend sets it to the ONNX node's output count). Split without a `split` operand divides
//     the axis into num_outputs pieces (evenly; when it does not divide, the opset-18 rule: equal
//     pieces of ceil(dim / n) and a smaller last one). Dropout and MaxPool default to 1 result; the
//     second is Dropout's bool mask / MaxPool's i64 Indices.
//   - Cast `to` and ConstantOfShape `dtype` hold a kiln DType as int64
//     (static_cast<int64_t>(kiln::DType)), not ONNX's TensorProto enum. ConstantOfShape's `value`
//     is a double attribute (absent: 0.0) and `dtype` is absent for the ONNX default (f32).
//   - Reduce*: the axes come from the `axes` attribute (ReduceMean/Max/Min in opset 17) or from a
//     constant operand 1 (ReduceSum in opset 17, all of them in opset 18).
#include "ir/Semantics.h"
#include "ir/SemanticsDetail.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln {
namespace sem {

llvm::Error fail(const std::string &msg) {
  return llvm::make_error<llvm::StringError>(msg, llvm::inconvertibleErrorCode());
}

namespace {

using Types = std::vector<TensorType>;

TensorType rowMajor(DType t, Shape s) { return TensorType(ElementType(t), std::move(s)); }
std::string ts(const Operand &o) { return typeString(o.type); }
const char *nm(OpKind op) { return opName(op); }

llvm::Error arity(OpKind op, const std::vector<Operand> &ops, size_t lo, size_t hi) {
  if (ops.size() >= lo && ops.size() <= hi)
    return llvm::Error::success();
  if (lo == hi)
    return fail(fmt::format("{} expects {} operand{}, found {}", nm(op), lo, lo == 1 ? "" : "s",
                            ops.size()));
  return fail(fmt::format("{} expects {} to {} operands, found {}", nm(op), lo, hi, ops.size()));
}

/// The data of constant operand `i`, which decides shapes; `what` names it in the message.
llvm::Expected<std::vector<int64_t>> constInts(OpKind op, const std::vector<Operand> &ops, size_t i,
                                               const char *what) {
  if (i >= ops.size())
    return fail(fmt::format("{} expects a {} operand", nm(op), what));
  if (!ops[i].data)
    return fail(fmt::format("{} expects a constant {} operand, found a non-constant {}", nm(op),
                            what, ts(ops[i])));
  if (isFloat(ops[i].data->dtype))
    return fail(
        fmt::format("{} expects an integer {} operand, found {}", nm(op), what, ts(ops[i])));
  return ops[i].data->toInts();
}

llvm::Error sameDType(OpKind op, const Operand &a, const Operand &b) {
  if (a.type.dtype() == b.type.dtype())
    return llvm::Error::success();
  return fail(fmt::format("{} expects operands of one element type, found {} and {}", nm(op), ts(a),
                          ts(b)));
}

llvm::Error needFloat(OpKind op, const Operand &a) {
  if (isFloat(a.type.dtype()))
    return llvm::Error::success();
  return fail(fmt::format("{} expects a floating-point input, found {}", nm(op), ts(a)));
}

llvm::Error minRank(OpKind op, const Operand &a, int r, const char *what = "input") {
  if (a.type.rank() >= r)
    return llvm::Error::success();
  return fail(fmt::format("{} expects {} of rank >= {}, found {}", nm(op), what, r, ts(a)));
}

llvm::Error exactRank(OpKind op, const Operand &a, int r, const char *what = "input") {
  if (a.type.rank() == r)
    return llvm::Error::success();
  return fail(fmt::format("{} expects {} of rank {}, found {}", nm(op), what, r, ts(a)));
}

/// Numpy (multidirectional) broadcasting of all operand shapes.
llvm::Expected<Shape> broadcast(OpKind op, const std::vector<Shape> &shapes,
                                const std::vector<Operand> &ops) {
  size_t rank = 0;
  for (auto &s : shapes)
    rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (auto &s : shapes) {
    size_t off = rank - s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t d = s[i], &o = out[off + i];
      if (d == o || d == 1)
        continue;
      if (o == 1) {
        o = d;
        continue;
      }
      std::vector<std::string> found;
      for (auto &x : ops)
        found.push_back(ts(x));
      return fail(fmt::format("{} expects broadcastable operands, found {}", nm(op),
                              fmt::join(found, " and ")));
    }
  }
  return out;
}

llvm::Expected<Shape> broadcastOps(OpKind op, const std::vector<Operand> &ops) {
  std::vector<Shape> shapes;
  for (auto &o : ops)
    shapes.push_back(o.type.shape);
  return broadcast(op, shapes, ops);
}

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t ceilDiv(int64_t a, int64_t b) { return -floorDiv(-a, b); }

/// Shared by Conv/ConvTranspose/pools: reads kernel_shape, strides, dilations, pads with defaults.
llvm::Error readWindowAttrs(OpKind op, const Attributes &attrs, size_t nsp, Window &w) {
  w.strides = attrs.getInts("strides", std::vector<int64_t>(nsp, 1));
  w.dilations = attrs.getInts("dilations", std::vector<int64_t>(nsp, 1));
  std::vector<int64_t> pads = attrs.getInts("pads", std::vector<int64_t>(2 * nsp, 0));
  if (w.kernel.size() != nsp || w.strides.size() != nsp || w.dilations.size() != nsp ||
      pads.size() != 2 * nsp)
    return fail(fmt::format("{} expects kernel_shape, strides, dilations with {} entries and pads "
                            "with {}, found {}, {}, {} and {}",
                            nm(op), nsp, 2 * nsp, w.kernel.size(), w.strides.size(),
                            w.dilations.size(), pads.size()));
  for (size_t i = 0; i < nsp; ++i) {
    if (w.strides[i] < 1 || w.dilations[i] < 1 || w.kernel[i] < 1)
      return fail(fmt::format("{} expects positive kernel_shape, strides and dilations, found "
                              "[{}], [{}] and [{}]",
                              nm(op), fmt::join(w.kernel, ","), fmt::join(w.strides, ","),
                              fmt::join(w.dilations, ",")));
  }
  // Window sizes are products and sums of these with dims (themselves at most kMaxObjectBytes):
  // bounding every entry by the same limit keeps that arithmetic inside int64.
  for (const std::vector<int64_t> *v : {&w.kernel, &w.strides, &w.dilations, &pads})
    for (int64_t x : *v)
      if (x > kMaxObjectBytes || x < -kMaxObjectBytes)
        return fail(fmt::format("{} expects kernel_shape, strides, dilations and pads of at most "
                                "{} in magnitude, found [{}], [{}], [{}] and [{}]",
                                nm(op), kMaxObjectBytes, fmt::join(w.kernel, ","),
                                fmt::join(w.strides, ","), fmt::join(w.dilations, ","),
                                fmt::join(pads, ",")));
  w.padsBegin.assign(pads.begin(), pads.begin() + nsp);
  w.padsEnd.assign(pads.begin() + nsp, pads.end());
  return llvm::Error::success();
}

} // namespace

llvm::Expected<int64_t> normAxis(OpKind op, int64_t axis, int64_t rank, bool allowEnd) {
  int64_t hi = allowEnd ? rank : rank - 1;
  if (axis < -rank || axis > hi)
    return fail(fmt::format("{} expects axis in [{}, {}], found {}", nm(op), -rank, hi, axis));
  return axis < 0 ? axis + rank : axis;
}

std::vector<Operand> nodeOperands(const Node &n) {
  std::vector<Operand> ops;
  for (unsigned i = 0; i < n.numOperands(); ++i)
    if (!n.isEpilogueOperand(i)) {
      const Value *v = n.operand(i);
      ops.push_back({v->type(), v->isConstant() ? &v->constant() : nullptr});
    }
  return ops;
}

llvm::Expected<Window> convWindow(OpKind op, const std::vector<Operand> &ops,
                                  const Attributes &attrs) {
  if (auto e = arity(op, ops, 2, 3))
    return e;
  const Operand &x = ops[0], &wt = ops[1];
  if (auto e = minRank(op, x, 3))
    return e;
  if (wt.type.rank() != x.type.rank())
    return fail(fmt::format("{} expects weight of rank {} (same as input {}), found {}", nm(op),
                            x.type.rank(), ts(x), ts(wt)));
  size_t nsp = static_cast<size_t>(x.type.rank() - 2);
  Window w;
  w.group = attrs.getInt("group", 1);
  Shape wk(wt.type.shape.begin() + 2, wt.type.shape.end());
  w.kernel = attrs.getInts("kernel_shape", wk);
  if (w.kernel != wk)
    return fail(fmt::format("{} expects kernel_shape [{}] to match weight {}", nm(op),
                            fmt::join(w.kernel, ","), ts(wt)));
  if (auto e = readWindowAttrs(op, attrs, nsp, w))
    return e;
  int64_t c = x.type.shape[1];
  if (w.group < 1 || c % w.group != 0)
    return fail(fmt::format("{} expects group dividing the {} input channels, found group={}",
                            nm(op), c, w.group));
  if (op == OpKind::Conv) {
    if (wt.type.shape[1] * w.group != c || wt.type.shape[0] % w.group != 0)
      return fail(fmt::format("{} expects weight of shape [M,{},...] with M divisible by group={} "
                              "for input {}, found {}",
                              nm(op), c / w.group, w.group, ts(x), ts(wt)));
    for (size_t i = 0; i < nsp; ++i) {
      int64_t ek = w.dilations[i] * (w.kernel[i] - 1) + 1;
      int64_t in = x.type.shape[2 + i] + w.padsBegin[i] + w.padsEnd[i];
      if (in < ek)
        return fail(fmt::format("{} expects padded spatial dim {} ({}) >= dilated kernel {}, "
                                "found input {}",
                                nm(op), i, in, ek, ts(x)));
      w.out.push_back((in - ek) / w.strides[i] + 1);
    }
    if (ops.size() == 3 && ops[2].type.shape != Shape{wt.type.shape[0]})
      return fail(fmt::format("{} expects bias of shape [{}], found {}", nm(op), wt.type.shape[0],
                              ts(ops[2])));
    return w;
  }
  // ConvTranspose: weight is [C, M/group, k...].
  if (wt.type.shape[0] != c)
    return fail(fmt::format("{} expects weight of shape [{},M/group,...] for input {}, found {}",
                            nm(op), c, ts(x), ts(wt)));
  std::vector<int64_t> outPad = attrs.getInts("output_padding", std::vector<int64_t>(nsp, 0));
  if (outPad.size() != nsp)
    return fail(fmt::format("{} expects output_padding with {} entries, found {}", nm(op), nsp,
                            outPad.size()));
  std::vector<int64_t> outShape = attrs.getInts("output_shape");
  if (!outShape.empty()) {
    if (outShape.size() == nsp + 2)
      outShape.erase(outShape.begin(), outShape.begin() + 2);
    if (outShape.size() != nsp)
      return fail(fmt::format("{} expects output_shape with {} spatial entries, found [{}]", nm(op),
                              nsp, fmt::join(attrs.getInts("output_shape"), ",")));
  }
  for (size_t i = 0; i < nsp; ++i) {
    int64_t ek = w.dilations[i] * (w.kernel[i] - 1) + 1;
    int64_t full = w.strides[i] * (x.type.shape[2 + i] - 1) + outPad[i] + ek;
    if (!outShape.empty()) {
      // output_shape decides the pads (ONNX: total padding split with the extra at the begin,
      // floor division so a negative total extends the end). Pads that already agree are kept.
      int64_t total = full - outShape[i];
      if (w.padsBegin[i] + w.padsEnd[i] != total) {
        w.padsEnd[i] = floorDiv(total, 2);
        w.padsBegin[i] = total - w.padsEnd[i];
      }
      w.out.push_back(outShape[i]);
    } else {
      w.out.push_back(full - w.padsBegin[i] - w.padsEnd[i]);
    }
    if (w.out.back() < 1)
      return fail(fmt::format("{} expects a positive output size, found {} in spatial dim {}",
                              nm(op), w.out.back(), i));
  }
  int64_t m = wt.type.shape[1] * w.group;
  if (ops.size() == 3 && ops[2].type.shape != Shape{m})
    return fail(fmt::format("{} expects bias of shape [{}], found {}", nm(op), m, ts(ops[2])));
  return w;
}

llvm::Expected<Window> poolWindow(OpKind op, const std::vector<Operand> &ops,
                                  const Attributes &attrs) {
  if (auto e = arity(op, ops, 1, 1))
    return e;
  const Operand &x = ops[0];
  if (auto e = minRank(op, x, 3))
    return e;
  size_t nsp = static_cast<size_t>(x.type.rank() - 2);
  Window w;
  w.kernel = attrs.getInts("kernel_shape");
  if (auto e = readWindowAttrs(op, attrs, nsp, w))
    return e;
  bool ceilMode = attrs.getInt("ceil_mode", 0) != 0;
  for (size_t i = 0; i < nsp; ++i) {
    int64_t ek = w.dilations[i] * (w.kernel[i] - 1) + 1;
    int64_t in = x.type.shape[2 + i];
    int64_t span = in + w.padsBegin[i] + w.padsEnd[i] - ek;
    if (span < 0)
      return fail(fmt::format("{} expects padded spatial dim {} ({}) >= dilated kernel {}, found "
                              "input {}",
                              nm(op), i, span + ek, ek, ts(x)));
    int64_t out;
    if (ceilMode) {
      out = ceilDiv(span, w.strides[i]) + 1;
      // The last window must start inside the input or the left padding.
      if ((out - 1) * w.strides[i] >= in + w.padsBegin[i])
        --out;
    } else {
      out = span / w.strides[i] + 1;
    }
    w.out.push_back(out);
  }
  return w;
}

llvm::Expected<SliceDims> sliceDims(const std::vector<Operand> &ops) {
  const OpKind op = OpKind::Slice;
  if (auto e = arity(op, ops, 3, 5))
    return e;
  auto starts = constInts(op, ops, 1, "starts");
  if (!starts)
    return starts.takeError();
  auto ends = constInts(op, ops, 2, "ends");
  if (!ends)
    return ends.takeError();
  const Shape &in = ops[0].type.shape;
  int64_t rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> axes, steps(starts->size(), 1);
  if (ops.size() > 3) {
    auto a = constInts(op, ops, 3, "axes");
    if (!a)
      return a.takeError();
    axes = *a;
  } else {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(static_cast<int64_t>(i));
  }
  if (ops.size() > 4) {
    auto s = constInts(op, ops, 4, "steps");
    if (!s)
      return s.takeError();
    steps = *s;
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return fail(fmt::format("Slice expects starts, ends, axes and steps of one length, found {}, "
                            "{}, {} and {}",
                            starts->size(), ends->size(), axes.size(), steps.size()));
  SliceDims d;
  d.start.assign(in.size(), 0);
  d.step.assign(in.size(), 1);
  d.out = in;
  std::vector<bool> seen(in.size(), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    auto ax = normAxis(op, axes[i], rank);
    if (!ax)
      return ax.takeError();
    if (seen[*ax])
      return fail(fmt::format("Slice expects distinct axes, found axis {} twice", *ax));
    seen[*ax] = true;
    int64_t dim = in[*ax], step = steps[i], s = (*starts)[i], e = (*ends)[i];
    if (step == 0)
      return fail("Slice expects nonzero steps, found 0");
    SliceAxis a = sliceAxis(dim, s, e, step);
    d.start[*ax] = a.first;
    d.step[*ax] = step;
    d.out[*ax] = a.count;
  }
  return d;
}

llvm::Expected<std::vector<bool>> reducedDims(OpKind op, const std::vector<Operand> &ops,
                                              const Attributes &attrs, bool *noop) {
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

llvm::Expected<std::vector<int64_t>> splitSizes(const std::vector<Operand> &ops,
                                                const Attributes &attrs, int64_t &axis) {
  const OpKind op = OpKind::Split;
  if (auto e = arity(op, ops, 1, 2))
    return e;
  auto ax = normAxis(op, attrs.getInt("axis", 0), ops[0].type.rank());
  if (!ax)
    return ax.takeError();
  axis = *ax;
  int64_t dim = ops[0].type.shape[axis];
  if (ops.size() == 2) {
    auto s = constInts(op, ops, 1, "split");
    if (!s)
      return s.takeError();
    int64_t sum = 0;
    for (int64_t v : *s)
      sum += v;
    if (sum != dim || std::any_of(s->begin(), s->end(), [](int64_t v) { return v < 0; }))
      return fail(fmt::format("Split expects non-negative split sizes summing to {} (axis {} of "
                              "{}), found [{}]",
                              dim, axis, ts(ops[0]), fmt::join(*s, ",")));
    return *s;
  }
  int64_t n = attrs.getInt("num_outputs", 0);
  if (n < 1)
    return fail("Split without a split operand expects attribute num_outputs >= 1 (the number "
                "of results), found none");
  int64_t piece = ceilDiv(dim, n);
  std::vector<int64_t> sizes;
  int64_t left = dim;
  for (int64_t i = 0; i < n; ++i) {
    int64_t s = std::min(piece, left);
    sizes.push_back(s);
    left -= s;
  }
  if (piece * (n - 1) >= dim && dim > 0)
    return fail(fmt::format("Split expects axis {} of {} to split into {} non-empty pieces", axis,
                            ts(ops[0]), n));
  return sizes;
}

llvm::Expected<std::vector<int64_t>> padAmounts(const std::vector<Operand> &ops) {
  const OpKind op = OpKind::Pad;
  if (auto e = arity(op, ops, 2, 4))
    return e;
  auto p = constInts(op, ops, 1, "pads");
  if (!p)
    return p.takeError();
  int64_t rank = ops[0].type.rank();
  std::vector<int64_t> pads;
  if (ops.size() == 4) {
    // Opset-18 `axes` operand: pads cover only the listed axes.
    auto a = constInts(op, ops, 3, "axes");
    if (!a)
      return a.takeError();
    if (p->size() != 2 * a->size())
      return fail(fmt::format("Pad expects {} pads for {} axes, found {}", 2 * a->size(), a->size(),
                              p->size()));
    pads.assign(2 * rank, 0);
    for (size_t i = 0; i < a->size(); ++i) {
      auto ax = normAxis(op, (*a)[i], rank);
      if (!ax)
        return ax.takeError();
      pads[*ax] = (*p)[i];
      pads[rank + *ax] = (*p)[a->size() + i];
    }
  } else {
    pads = *p;
  }
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return fail(fmt::format("Pad expects {} pads for input {}, found {}", 2 * rank, ts(ops[0]),
                            pads.size()));
  for (int64_t i = 0; i < rank; ++i) {
    // Pads come from the model: the sum is checked for overflow before its sign.
    int64_t d = 0;
    if (__builtin_add_overflow(ops[0].type.shape[i], pads[i], &d) ||
        __builtin_add_overflow(d, pads[rank + i], &d))
      return fail(fmt::format("Pad expects pads giving dimensions int64 can count, found [{}] for "
                              "{}",
                              fmt::join(pads, ","), ts(ops[0])));
    if (d < 0)
      return fail(fmt::format("Pad expects pads leaving a non-negative dim {} of {}, found [{}]", i,
                              ts(ops[0]), fmt::join(pads, ",")));
  }
  return pads;
}

namespace {

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

llvm::Expected<Types> inferMatMul(const std::vector<Operand> &ops) {
  const OpKind op = OpKind::MatMul;
  if (auto e = arity(op, ops, 2, 2))
    return e;
  if (auto e = sameDType(op, ops[0], ops[1]))
    return e;
  Shape a = ops[0].type.shape, b = ops[1].type.shape;
  if (a.empty() || b.empty())
    return fail(fmt::format("MatMul expects operands of rank >= 1, found {} and {}", ts(ops[0]),
                            ts(ops[1])));
  bool vecA = a.size() == 1, vecB = b.size() == 1;
  if (vecA)
    a.insert(a.begin(), 1);
  if (vecB)
    b.push_back(1);
  if (a.back() != b[b.size() - 2])
    return fail(fmt::format("MatMul expects matching inner dimensions, found {} and {}", ts(ops[0]),
                            ts(ops[1])));
  auto batch = broadcast(op, {Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2)}, ops);
  if (!batch)
    return batch.takeError();
  Shape out = *batch;
  if (!vecA)
    out.push_back(a[a.size() - 2]);
  if (!vecB)
    out.push_back(b.back());
  return Types{rowMajor(ops[0].type.dtype(), out)};
}

llvm::Expected<Types> inferGemm(const std::vector<Operand> &ops, const Attributes &attrs) {
  const OpKind op = OpKind::Gemm;
  if (auto e = arity(op, ops, 2, 3))
    return e;
  if (auto e = exactRank(op, ops[0], 2, "A"))
    return e;
  if (auto e = exactRank(op, ops[1], 2, "B"))
    return e;
  const Shape &a = ops[0].type.shape, &b = ops[1].type.shape;
  bool ta = attrs.getInt("transA", 0) != 0, tb = attrs.getInt("transB", 0) != 0;
  int64_t m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
  int64_t kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
  if (k != kb)
    return fail(fmt::format("Gemm expects matching inner dimensions (transA={}, transB={}), found "
                            "{} and {}",
                            int(ta), int(tb), ts(ops[0]), ts(ops[1])));
  if (ops.size() == 3) {
    auto bc = broadcast(op, {ops[2].type.shape, Shape{m, n}}, ops);
    if (!bc)
      return bc.takeError();
    if (*bc != Shape{m, n})
      return fail(
          fmt::format("Gemm expects C broadcastable to [{},{}], found {}", m, n, ts(ops[2])));
  }
  return Types{rowMajor(ops[0].type.dtype(), {m, n})};
}

llvm::Expected<Types> inferReshape(const std::vector<Operand> &ops, const Attributes &attrs) {
  const OpKind op = OpKind::Reshape;
  if (auto e = arity(op, ops, 2, 2))
    return e;
  auto shape = constInts(op, ops, 1, "shape");
  if (!shape)
    return shape.takeError();
  const Shape &in = ops[0].type.shape;
  bool allowZero = attrs.getInt("allowzero", 0) != 0;
  Shape out = *shape;
  int inferAt = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0 && !allowZero) {
      if (i >= in.size())
        return fail(fmt::format("Reshape expects shape entry {} = 0 to copy an input dim, found "
                                "input {}",
                                i, ts(ops[0])));
      out[i] = in[i];
    }
    if (out[i] == -1) {
      if (inferAt >= 0)
        return fail(
            fmt::format("Reshape expects at most one -1 in shape [{}]", fmt::join(*shape, ",")));
      inferAt = static_cast<int>(i);
      continue;
    }
    if (out[i] < 0)
      return fail(
          fmt::format("Reshape expects shape entries >= -1, found [{}]", fmt::join(*shape, ",")));
    // Shape entries come from the model: their product may not fit in int64.
    if (__builtin_mul_overflow(known, out[i], &known))
      return fail(fmt::format("Reshape expects shape [{}] to hold {} elements of input {}, found "
                              "more than int64 can count",
                              fmt::join(*shape, ","), numElements(in), ts(ops[0])));
  }
  int64_t total = numElements(in);
  if (inferAt >= 0) {
    if (known == 0 || total % known != 0)
      return fail(fmt::format("Reshape cannot infer the -1 in shape [{}] for input {}",
                              fmt::join(*shape, ","), ts(ops[0])));
    out[inferAt] = total / known;
  } else if (known != total) {
    return fail(fmt::format("Reshape expects shape [{}] to hold {} elements of input {}, found {}",
                            fmt::join(*shape, ","), total, ts(ops[0]), known));
  }
  return Types{rowMajor(ops[0].type.dtype(), out)};
}

llvm::Expected<Types> inferConcat(const std::vector<Operand> &ops, const Attributes &attrs) {
  const OpKind op = OpKind::Concat;
  if (ops.empty())
    return fail("Concat expects at least 1 operand, found 0");
  auto ax = normAxis(op, attrs.getInt("axis", 0), ops[0].type.rank());
  if (!ax)
    return ax.takeError();
  Shape out = ops[0].type.shape;
  for (size_t i = 1; i < ops.size(); ++i) {
    const Shape &s = ops[i].type.shape;
    bool ok = s.size() == out.size() && ops[i].type.dtype() == ops[0].type.dtype();
    for (size_t d = 0; ok && d < s.size(); ++d)
      ok = static_cast<int64_t>(d) == *ax || s[d] == out[d];
    if (!ok)
      return fail(fmt::format("Concat expects operands matching {} except on axis {}, found {}",
                              ts(ops[0]), *ax, ts(ops[i])));
    out[*ax] += s[*ax];
  }
  return Types{rowMajor(ops[0].type.dtype(), out)};
}

llvm::Expected<Types> inferSqueeze(OpKind op, const std::vector<Operand> &ops) {
  bool squeeze = op == OpKind::Squeeze;
  if (auto e = arity(op, ops, squeeze ? 1 : 2, 2))
    return e;
  const Shape &in = ops[0].type.shape;
  std::vector<int64_t> axes;
  if (ops.size() == 2) {
    auto a = constInts(op, ops, 1, "axes");
    if (!a)
      return a.takeError();
    axes = *a;
  }
  if (squeeze) {
    std::vector<bool> drop(in.size(), false);
    if (ops.size() == 1) {
      for (size_t i = 0; i < in.size(); ++i)
        drop[i] = in[i] == 1;
    }
    for (int64_t a : axes) {
      auto ax = normAxis(op, a, static_cast<int64_t>(in.size()));
      if (!ax)
        return ax.takeError();
      if (in[*ax] != 1)
        return fail(fmt::format("Squeeze expects dim {} of size 1, found {}", *ax, ts(ops[0])));
      drop[*ax] = true;
    }
    Shape out;
    for (size_t i = 0; i < in.size(); ++i)
      if (!drop[i])
        out.push_back(in[i]);
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  int64_t rank = static_cast<int64_t>(in.size() + axes.size());
  std::vector<bool> ins(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    auto ax = normAxis(op, a, rank);
    if (!ax)
      return ax.takeError();
    if (ins[*ax])
      return fail(fmt::format("Unsqueeze expects distinct axes, found [{}]", fmt::join(axes, ",")));
    ins[*ax] = true;
  }
  Shape out;
  size_t k = 0;
  for (int64_t i = 0; i < rank; ++i)
    out.push_back(ins[i] ? 1 : in[k++]);
  return Types{rowMajor(ops[0].type.dtype(), out)};
}

llvm::Expected<Types> inferPool(OpKind op, const std::vector<Operand> &ops,
                                const Attributes &attrs) {
  if (op == OpKind::GlobalAveragePool || op == OpKind::GlobalMaxPool) {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    if (auto e = minRank(op, ops[0], 3))
      return e;
    Shape out = ops[0].type.shape;
    std::fill(out.begin() + 2, out.end(), 1);
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  auto w = poolWindow(op, ops, attrs);
  if (!w)
    return w.takeError();
  Shape out(ops[0].type.shape.begin(), ops[0].type.shape.begin() + 2);
  out.insert(out.end(), w->out.begin(), w->out.end());
  Types r{rowMajor(ops[0].type.dtype(), out)};
  if (op == OpKind::MaxPool && attrs.getInt("num_outputs", 1) == 2)
    r.push_back(rowMajor(DType::I64, out));
  return r;
}

} // namespace

llvm::Expected<std::vector<TensorType>> infer(OpKind op, const std::vector<Operand> &ops,
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
  case OpKind::Conv:
  case OpKind::ConvTranspose: {
    auto w = convWindow(op, ops, attrs);
    if (!w)
      return w.takeError();
    int64_t m = op == OpKind::Conv ? ops[1].type.shape[0] : ops[1].type.shape[1] * w->group;
    Shape out{ops[0].type.shape[0], m};
    out.insert(out.end(), w->out.begin(), w->out.end());
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  case OpKind::Gemm:
    return inferGemm(ops, attrs);
  case OpKind::MatMul:
    return inferMatMul(ops);
  case OpKind::BatchNormalization: {
    if (auto e = arity(op, ops, 5, 5))
      return e;
    if (attrs.getInt("training_mode", 0) != 0)
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
  case OpKind::MaxPool:
  case OpKind::AveragePool:
  case OpKind::GlobalAveragePool:
  case OpKind::GlobalMaxPool:
    return inferPool(op, ops, attrs);
  case OpKind::Concat:
    return inferConcat(ops, attrs);
  case OpKind::Split: {
    int64_t axis = 0;
    auto sizes = splitSizes(ops, attrs, axis);
    if (!sizes)
      return sizes.takeError();
    Types r;
    for (int64_t s : *sizes) {
      Shape sh = ops[0].type.shape;
      sh[axis] = s;
      r.push_back(rowMajor(ops[0].type.dtype(), sh));
    }
    return r;
  }
  case OpKind::Reshape:
    return inferReshape(ops, attrs);
  case OpKind::Flatten: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    const Shape &in = ops[0].type.shape;
    auto ax = normAxis(op, attrs.getInt("axis", 1), static_cast<int64_t>(in.size()), true);
    if (!ax)
      return ax.takeError();
    int64_t a = numElements(Shape(in.begin(), in.begin() + *ax));
    int64_t b = numElements(Shape(in.begin() + *ax, in.end()));
    return Types{rowMajor(ops[0].type.dtype(), {a, b})};
  }
  case OpKind::DepthToSpace: {
    auto t = inferDepthToSpace(ops, attrs);
    if (!t)
      return t.takeError();
    return Types{*t};
  }
  case OpKind::Transpose: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    const Shape &in = ops[0].type.shape;
    std::vector<int64_t> perm;
    for (int64_t i = static_cast<int64_t>(in.size()) - 1; i >= 0; --i)
      perm.push_back(i);
    perm = attrs.getInts("perm", perm);
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    bool ok = perm.size() == in.size();
    for (size_t i = 0; ok && i < sorted.size(); ++i)
      ok = sorted[i] == static_cast<int64_t>(i);
    if (!ok)
      return fail(fmt::format("Transpose expects perm to be a permutation of 0..{}, found [{}] for "
                              "{}",
                              static_cast<int64_t>(in.size()) - 1, fmt::join(perm, ","),
                              ts(ops[0])));
    Shape out;
    for (int64_t p : perm)
      out.push_back(in[p]);
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  case OpKind::Squeeze:
  case OpKind::Unsqueeze:
    return inferSqueeze(op, ops);
  case OpKind::Slice: {
    auto d = sliceDims(ops);
    if (!d)
      return d.takeError();
    return Types{rowMajor(ops[0].type.dtype(), d->out)};
  }
  case OpKind::Gather: {
    if (auto e = arity(op, ops, 2, 2))
      return e;
    if (isFloat(ops[1].type.dtype()) || ops[1].type.dtype() == DType::Bool)
      return fail(fmt::format("Gather expects integer indices, found {}", ts(ops[1])));
    const Shape &in = ops[0].type.shape;
    if (in.empty())
      return fail(fmt::format("Gather expects data of rank >= 1, found {}", ts(ops[0])));
    auto ax = normAxis(op, attrs.getInt("axis", 0), static_cast<int64_t>(in.size()));
    if (!ax)
      return ax.takeError();
    Shape out(in.begin(), in.begin() + *ax);
    out.insert(out.end(), ops[1].type.shape.begin(), ops[1].type.shape.end());
    out.insert(out.end(), in.begin() + *ax + 1, in.end());
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  case OpKind::Expand: {
    if (auto e = arity(op, ops, 2, 2))
      return e;
    auto shape = constInts(op, ops, 1, "shape");
    if (!shape)
      return shape.takeError();
    auto s = broadcast(op, {ops[0].type.shape, *shape}, ops);
    if (!s)
      return s.takeError();
    return Types{rowMajor(ops[0].type.dtype(), *s)};
  }
  case OpKind::Tile: {
    if (auto e = arity(op, ops, 2, 2))
      return e;
    auto rep = constInts(op, ops, 1, "repeats");
    if (!rep)
      return rep.takeError();
    Shape out = ops[0].type.shape;
    if (rep->size() != out.size() ||
        std::any_of(rep->begin(), rep->end(), [](int64_t r) { return r < 0; }))
      return fail(fmt::format("Tile expects {} non-negative repeats for {}, found [{}]", out.size(),
                              ts(ops[0]), fmt::join(*rep, ",")));
    for (size_t i = 0; i < out.size(); ++i)
      if (__builtin_mul_overflow(out[i], (*rep)[i], &out[i]))
        return fail(fmt::format("Tile expects repeats [{}] for {} to give dimensions int64 can "
                                "count, found an overflow at axis {}",
                                fmt::join(*rep, ","), ts(ops[0]), i));
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  case OpKind::Softmax:
  case OpKind::LogSoftmax: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    if (auto e = needFloat(op, ops[0]))
      return e;
    auto ax = normAxis(op, attrs.getInt("axis", -1), ops[0].type.rank());
    if (!ax)
      return ax.takeError();
    return Types{rowMajor(ops[0].type.dtype(), ops[0].type.shape)};
  }
  case OpKind::Pad: {
    auto p = padAmounts(ops);
    if (!p)
      return p.takeError();
    std::string mode = attrs.getString("mode", "constant");
    if (mode != "constant" && mode != "reflect" && mode != "edge")
      return fail(fmt::format("Pad expects mode constant, reflect or edge, found '{}'", mode));
    Shape out = ops[0].type.shape;
    size_t r = out.size();
    for (size_t i = 0; i < r; ++i)
      out[i] += (*p)[i] + (*p)[r + i];
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  case OpKind::ReduceMean:
  case OpKind::ReduceSum:
  case OpKind::ReduceMax:
  case OpKind::ReduceMin: {
    auto red = reducedDims(op, ops, attrs);
    if (!red)
      return red.takeError();
    bool keep = attrs.getInt("keepdims", 1) != 0;
    Shape out;
    for (size_t i = 0; i < red->size(); ++i) {
      if (!(*red)[i])
        out.push_back(ops[0].type.shape[i]);
      else if (keep)
        out.push_back(1);
    }
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  case OpKind::Shape: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    int64_t r = ops[0].type.rank();
    int64_t s = attrs.getInt("start", 0), e = attrs.getInt("end", r);
    s = std::clamp<int64_t>(s < 0 ? s + r : s, 0, r);
    e = std::clamp<int64_t>(e < 0 ? e + r : e, 0, r);
    return Types{rowMajor(DType::I64, {std::max<int64_t>(e - s, 0)})};
  }
  case OpKind::Identity: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    return Types{rowMajor(ops[0].type.dtype(), ops[0].type.shape)};
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
  case OpKind::ConstantOfShape: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    auto shape = constInts(op, ops, 0, "shape");
    if (!shape)
      return shape.takeError();
    if (std::any_of(shape->begin(), shape->end(), [](int64_t d) { return d < 0; }))
      return fail(fmt::format("ConstantOfShape expects non-negative dims, found [{}]",
                              fmt::join(*shape, ",")));
    int64_t dt = attrs.getInt("dtype", static_cast<int64_t>(DType::F32));
    if (dt <= static_cast<int64_t>(DType::Undefined) || dt > static_cast<int64_t>(DType::Bool))
      return fail(fmt::format("ConstantOfShape expects attribute 'dtype' holding a kiln DType, "
                              "found {}",
                              dt));
    return Types{rowMajor(static_cast<DType>(dt), *shape)};
  }
  case OpKind::Range: {
    if (auto e = arity(op, ops, 3, 3))
      return e;
    for (size_t i = 0; i < 3; ++i) {
      if (!ops[i].data || ops[i].type.numElements() != 1)
        return fail(fmt::format("Range expects constant scalar start, limit and delta, found {}",
                                ts(ops[i])));
      if (auto e = sameDType(op, ops[0], ops[i]))
        return e;
    }
    int64_t n;
    if (isFloat(ops[0].type.dtype())) {
      double s = ops[0].data->getDouble(0), l = ops[1].data->getDouble(0),
             d = ops[2].data->getDouble(0);
      if (d == 0)
        return fail("Range expects a nonzero delta, found 0");
      double c = std::ceil((l - s) / d);
      // The count comes from the model's constants: NaN and counts beyond int64 are refused
      // before the cast, which would be undefined for them.
      if (std::isnan(c) || c >= 9.2e18)
        return fail(fmt::format("Range expects a finite element count, found start {}, limit {}, "
                                "delta {}",
                                s, l, d));
      n = static_cast<int64_t>(std::max(c, 0.0));
    } else {
      int64_t s = ops[0].data->getInt(0), l = ops[1].data->getInt(0), d = ops[2].data->getInt(0);
      if (d == 0)
        return fail("Range expects a nonzero delta, found 0");
      // In 128 bits: limit - start and the rounding may overflow int64.
      __int128 diff = static_cast<__int128>(l) - s, q = diff / d;
      if (diff % d != 0 && ((diff < 0) == (d < 0)))
        q += 1;
      if (q > std::numeric_limits<int64_t>::max())
        return fail(fmt::format("Range expects an element count int64 can hold, found start {}, "
                                "limit {}, delta {}",
                                s, l, d));
      n = static_cast<int64_t>(std::max<__int128>(q, 0));
    }
    return Types{rowMajor(ops[0].type.dtype(), {n})};
  }
  default:
    break;
  }
  return fail(fmt::format("{} has no type inference rule", nm(op)));
}

} // namespace sem

SliceAxis sliceAxis(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (start < 0)
    start += dim;
  if (end < 0)
    end += dim;
  SliceAxis a;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    a.count = end > start ? (end - start + step - 1) / step : 0;
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    a.count = start > end ? (start - end + (-step) - 1) / (-step) : 0;
  }
  a.first = start;
  return a;
}

std::vector<ShapeOperand> shapeOperands(OpKind op) {
  // The operands that infer() reads through constInts (or as Range's scalars).
  switch (op) {
  case OpKind::Reshape:
  case OpKind::Expand:
    return {{1, "shape"}};
  case OpKind::Tile:
    return {{1, "repeats"}};
  case OpKind::Squeeze:
  case OpKind::Unsqueeze:
  case OpKind::ReduceMean:
  case OpKind::ReduceSum:
  case OpKind::ReduceMax:
  case OpKind::ReduceMin:
    return {{1, "axes"}};
  case OpKind::Split:
    return {{1, "split"}};
  case OpKind::Slice:
    return {{1, "starts"}, {2, "ends"}, {3, "axes"}, {4, "steps"}};
  case OpKind::Pad:
    return {{1, "pads"}, {3, "axes"}};
  case OpKind::ConstantOfShape:
    return {{0, "input"}};
  case OpKind::Range:
    return {{0, "start"}, {1, "limit"}, {2, "delta"}};
  default:
    return {};
  }
}

llvm::Expected<std::vector<TensorType>>
inferResultTypes(OpKind op, const std::vector<const Value *> &operands, const Attributes &attrs) {
  std::vector<sem::Operand> ops;
  for (const Value *v : operands)
    ops.push_back({v->type(), v->isConstant() ? &v->constant() : nullptr});
  return sem::infer(op, ops, attrs);
}

} // namespace kiln
