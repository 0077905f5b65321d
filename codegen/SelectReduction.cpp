// Kernel selection for reductions: ReduceSum / ReduceMean / ReduceMax / ReduceMin over any axes
// (from the `axes` attribute or the constant operand 1 that opset 17 gives ReduceSum), and
// Softmax / LogSoftmax with opset-13 semantics (along `axis` only). Instantiates templates of
// codegen/kernels/reduce.h. Runs of adjacent reduced dims and of adjacent kept dims are merged
// first, so e.g. a global average over H, W of NCHW is an N*C x H*W reduction whatever the rank.
#include "codegen/KernelSelect.h"
#include "ir/OpParams.h"

#include <fmt/format.h>

#include <algorithm>

namespace kiln {

namespace {

/// Whether the reduction kernels take dtype t.
bool supported(DType t, bool floatOnly) {
  return t == DType::F32 || t == DType::F64 || (!floatOnly && (t == DType::I32 || t == DType::I64));
}

KernelDecision reduceDecision() {
  KernelDecision d;
  d.variant = Variant::Reduction;
  return d;
}

llvm::Error checkOperands(const Node &n, bool floatOnly) {
  const TensorType &in = n.operand(0)->type(), &out = n.result(0)->type();
  for (const TensorType *t : {&in, &out}) {
    if (!t->layout.isRowMajor() || t->elem.isQuantized())
      return selectError(
          n, fmt::format("expected a plain row-major tensor, found {}", typeString(*t)));
  }
  if (!supported(in.dtype(), floatOnly))
    return selectError(n, fmt::format("expected {}, found {}",
                                      floatOnly ? "f32 or f64" : "f32, f64, i32 or i64",
                                      dtypeName(in.dtype())));
  if (out.dtype() != in.dtype())
    return selectError(n, fmt::format("expected result dtype {}, found {}", dtypeName(in.dtype()),
                                      dtypeName(out.dtype())));
  return llvm::Error::success();
}

llvm::Expected<KernelDecision> selectSoftmax(const Node &n) {
  if (auto err = checkOperands(n, /*floatOnly=*/true))
    return err;
  const TensorType &in = n.operand(0)->type();
  // The verifier checked the axis and the result shape (shape inference, ir/ops/Reduce.cpp).
  auto axis = softmaxAxis(n);
  if (!axis)
    return selectError(n, llvm::toString(axis.takeError()));
  const size_t a = static_cast<size_t>(*axis);
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < a; ++d)
    outer *= in.shape[d];
  for (size_t d = a + 1; d < in.shape.size(); ++d)
    inner *= in.shape[d];
  KernelDecision k = reduceDecision();
  if (in.numElements() == 0) {
    k.noWork = KernelDecision::NoWork::EmptyTensor;
    k.calls.push_back({Kernel::Unused, {}, {CallArg::result(0)}, false});
    return k;
  }
  // Columns (inner > 1) keep their running maxima and sums in scratch, rows in registers.
  if (inner > 1)
    k.scratchBytes = 2 * inner * static_cast<int64_t>(dtypeSize(in.dtype()));
  k.calls.push_back(
      {Kernel::RdSoftmax,
       {TemplateArg::dtype(in.dtype()), TemplateArg::boolean(n.op() == OpKind::LogSoftmax),
        TemplateArg::integer(outer), TemplateArg::integer(in.shape[a]),
        TemplateArg::integer(inner)},
       {CallArg::result(0), CallArg::operand(0), CallArg::scratch()},
       false});
  return k;
}

llvm::Expected<KernelDecision> selectLrn(const Node &n) {
  // The verifier checked the size, the rank and the result type (ir/ops/Reduce.cpp).
  auto p = lrnParams(n);
  if (!p)
    return selectError(n, llvm::toString(p.takeError()));
  const TensorType &in = n.operand(0)->type();
  if (in.dtype() != DType::F32 || !in.layout.isRowMajor())
    return selectError(n, "expected a row-major f32 operand, found " + typeString(in));
  KernelDecision k = reduceDecision();
  if (in.numElements() == 0) {
    k.noWork = KernelDecision::NoWork::EmptyTensor;
    k.calls.push_back({Kernel::Unused, {}, {CallArg::result(0)}, false});
    return k;
  }
  const int64_t batch = in.shape[0], c = in.shape[1], s = in.numElements() / (batch * c);
  k.calls.push_back({Kernel::RdLrn,
                     {TemplateArg::integer(batch), TemplateArg::integer(c), TemplateArg::integer(s),
                      TemplateArg::integer(p->below()), TemplateArg::integer(p->above())},
                     {CallArg::result(0), CallArg::operand(0),
                      CallArg::real9(p->alpha / double(p->size)), CallArg::real9(p->beta),
                      CallArg::real9(p->bias)},
                     false});
  k.cost = in.numElements() * p->size;
  return k;
}

llvm::Expected<KernelDecision> selectReduce(const Node &n) {
  if (auto err = checkOperands(n, /*floatOnly=*/false))
    return err;
  const TensorType &in = n.operand(0)->type();
  const int rank = in.rank();
  // The verifier typed the node: axes are constant and in range, the result shape agrees.
  auto p = reduceParams(n);
  if (!p)
    return selectError(n, llvm::toString(p.takeError()));
  KernelDecision k = reduceDecision();
  if (p->noop) {
    k.calls.push_back({Kernel::Memcpy,
                       {},
                       {CallArg::result(0), CallArg::operand(0), CallArg::integer(in.byteSize())},
                       true});
    return k;
  }
  const std::vector<bool> &reduced = p->reduced;
  if (in.numElements() == 0)
    return selectError(n, fmt::format("expected a non-empty operand, found {}", typeString(in)));

  // Merge adjacent dims of the same kind, skipping size-1 dims (they change no index).
  std::vector<int64_t> dims;
  std::vector<bool> kind;
  for (int d = 0; d < rank; ++d) {
    if (in.shape[d] == 1)
      continue;
    if (!dims.empty() && kind.back() == reduced[d]) {
      dims.back() *= in.shape[d];
      continue;
    }
    dims.push_back(in.shape[d]);
    kind.push_back(reduced[d]);
  }
  if (dims.empty()) { // a single element: the walk still needs one dimension
    dims.push_back(1);
    kind.push_back(true);
  }
  // Out-strides: dense over the kept dims, 0 along reduced ones.
  std::vector<int64_t> strides(dims.size(), 0);
  int64_t outCount = 1;
  for (size_t d = dims.size(); d-- > 0;) {
    if (kind[d])
      continue;
    strides[d] = outCount;
    outCount *= dims[d];
  }
  const FunctorKind op = n.op() == OpKind::ReduceMax   ? FunctorKind::ReduceMax
                         : n.op() == OpKind::ReduceMin ? FunctorKind::ReduceMin
                                                       : FunctorKind::ReduceSum;
  const int64_t meanDiv = n.op() == OpKind::ReduceMean ? in.numElements() / outCount : 0;
  k.calls.push_back({Kernel::RdReduce,
                     {TemplateArg::dtype(in.dtype()), TemplateArg::functorType(op),
                      TemplateArg::integer(outCount), TemplateArg::integer(meanDiv),
                      TemplateArg::ints(dims), TemplateArg::ints(strides)},
                     {CallArg::result(0), CallArg::operand(0)},
                     false});
  return k;
}

} // namespace

llvm::Expected<KernelDecision> selectReductionKernel(const Node &n) {
  if (n.numOperands() == 0 || n.numResults() != 1)
    return selectError(n, fmt::format("expected operands and one result, found {} and {}",
                                      n.numOperands(), n.numResults()));
  switch (n.op()) {
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
    return selectSoftmax(n);
  case OpKind::LRN:
    return selectLrn(n);
  case OpKind::ReduceMean:
  case OpKind::ReduceSum:
  case OpKind::ReduceMax:
  case OpKind::ReduceMin:
    return selectReduce(n);
  default:
    return selectError(n, "expected a reduction op, found one of another family");
  }
}

} // namespace kiln
