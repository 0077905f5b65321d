// Reference result-type inference, dispatched from the op table: each op's rule lives in its
// family's file ir/ops/<Family>.cpp (the Family column of ir/Ops.def), with ONNX opset-17
// semantics on the canonical form documented there. This file holds the dispatch, the public
// entry points of ir/Semantics.h and the checks every family shares (arity, constant operands,
// dtypes, ranks, broadcasting, axes). Evaluation is dispatched the same way in
// ir/SemanticsEval.cpp.
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

namespace kiln {
namespace sem {

namespace {

/// Each op's family rules, indexed by OpKind: expanded from the Family column of ir/Ops.def.
const FamilyRules *const kFamilyOf[] = {
#define KILN_OP(E, N, K, F) &k##F##Rules,
#include "ir/Ops.def"
};

const char *nm(OpKind op) { return opName(op); }

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

} // namespace

const FamilyRules &familyRules(OpKind op) { return *kFamilyOf[static_cast<unsigned>(op)]; }

llvm::Error fail(const std::string &msg) {
  return llvm::make_error<llvm::StringError>(msg, llvm::inconvertibleErrorCode());
}

TensorType rowMajor(DType t, Shape s) { return TensorType(ElementType(t), std::move(s)); }
std::string ts(const Operand &o) { return typeString(o.type); }

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

llvm::Error minRank(OpKind op, const Operand &a, int r, const char *what) {
  if (a.type.rank() >= r)
    return llvm::Error::success();
  return fail(fmt::format("{} expects {} of rank >= {}, found {}", nm(op), what, r, ts(a)));
}

llvm::Error exactRank(OpKind op, const Operand &a, int r, const char *what) {
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

int64_t ceilDiv(int64_t a, int64_t b) { return -floorDiv(-a, b); }

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

llvm::Expected<Types> infer(OpKind op, const std::vector<Operand> &ops, const Attributes &attrs) {
  return familyRules(op).infer(op, ops, attrs);
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
  return sem::familyRules(op).shapeOperands(op);
}

llvm::Expected<std::vector<TensorType>>
inferResultTypes(OpKind op, const std::vector<const Value *> &operands, const Attributes &attrs) {
  std::vector<sem::Operand> ops;
  for (const Value *v : operands)
    ops.push_back({v->type(), v->isConstant() ? &v->constant() : nullptr});
  return sem::infer(op, ops, attrs);
}

} // namespace kiln
