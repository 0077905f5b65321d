// Reference evaluation on constant tensors, dispatched from the op table to each op's family file
// ir/ops/<Family>.cpp (ONNX opset-17 semantics, the canonical form of ir/Ops.def), plus the
// evaluation of epilogues and of whole nodes. What the rest of kiln is checked against, so every
// family's kernel is the plainest loop that is obviously right, not a fast one. Floating point
// runs in double and is rounded to the result dtype once; integer arithmetic runs in int64 so
// that shape math stays exact; bools are 0/1. Data movement (Transpose, Slice, Gather, Pad, ...)
// copies element bytes, exact for every dtype. Parameters decided by constant operands come from
// the family's own helpers, shared with its type inference. The element-access helpers the
// families share are defined here.
#include "ir/Semantics.h"
#include "ir/SemanticsDetail.h"

#include <fmt/format.h>

#include <cstring>

namespace kiln {

namespace sem {

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

Tensor pick(const Tensor &src, const std::vector<int64_t> &idx, const Shape &shape,
            const Tensor *fill) {
  size_t es = dtypeSize(src.dtype);
  std::vector<uint8_t> out(idx.size() * es);
  for (size_t k = 0; k < idx.size(); ++k) {
    const uint8_t *from = idx[k] < 0 ? fill->raw() : src.raw() + idx[k] * es;
    std::memcpy(out.data() + k * es, from, es);
  }
  return Tensor(src.dtype, shape, std::move(out));
}

Tensor reshaped(const Tensor &src, const Shape &shape) {
  Tensor t;
  t.dtype = src.dtype;
  t.shape = shape;
  t.bytes = src.bytes;
  return t;
}

std::vector<std::vector<int64_t>> allIndices(const Shape &s) {
  std::vector<std::vector<int64_t>> r(static_cast<size_t>(numElements(s)));
  for (size_t k = 0; k < r.size(); ++k)
    unravel(static_cast<int64_t>(k), s, r[k]);
  return r;
}

std::vector<Operand> operandsOf(const std::vector<Tensor> &xs) {
  std::vector<Operand> ops;
  for (const Tensor &t : xs)
    ops.push_back({TensorType(ElementType(t.dtype), t.shape), &t});
  return ops;
}

} // namespace sem

namespace {

using sem::fail;
using sem::make;
using sem::Operand;
using sem::operandsOf;
using sem::Tensors;

const char *nm(OpKind op) { return opName(op); }

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

} // namespace

llvm::Expected<std::vector<Tensor>> evaluate(OpKind op, const std::vector<Tensor> &xs,
                                             const Attributes &attrs,
                                             const std::vector<TensorType> &resultTypes) {
  if (auto e = checkOperandDTypes(op, xs))
    return e;
  if (resultTypes.empty())
    return fail(fmt::format("{} evaluation expects result types, found none", nm(op)));
  return sem::familyRules(op).evaluate(op, xs, attrs, resultTypes);
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
