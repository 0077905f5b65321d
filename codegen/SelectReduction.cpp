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

std::string list(const std::vector<int64_t> &v) {
  return fmt::format("kiln_rd_list<{}>", fmt::join(v, ", "));
}

/// C++ element type of the kernels for dtype t; nullptr when reductions do not support it.
const char *elementType(DType t, bool floatOnly) {
  switch (t) {
  case DType::F32:
    return "float";
  case DType::F64:
    return "double";
  case DType::I32:
    return floatOnly ? nullptr : "int32_t";
  case DType::I64:
    return floatOnly ? nullptr : "int64_t";
  default:
    return nullptr;
  }
}

llvm::Error checkOperands(const Node &n, bool floatOnly) {
  const TensorType &in = n.operand(0)->type(), &out = n.result(0)->type();
  for (const TensorType *t : {&in, &out}) {
    if (!t->layout.isRowMajor() || t->elem.isQuantized())
      return selectError(
          n, fmt::format("expected a plain row-major tensor, found {}", typeString(*t)));
  }
  if (!elementType(in.dtype(), floatOnly))
    return selectError(n, fmt::format("expected {}, found {}",
                                      floatOnly ? "f32 or f64" : "f32, f64, i32 or i64",
                                      dtypeName(in.dtype())));
  if (out.dtype() != in.dtype())
    return selectError(n, fmt::format("expected result dtype {}, found {}", dtypeName(in.dtype()),
                                      dtypeName(out.dtype())));
  return llvm::Error::success();
}

llvm::Expected<KernelCall> selectSoftmax(const Node &n) {
  if (auto err = checkOperands(n, /*floatOnly=*/true))
    return err;
  const TensorType &in = n.operand(0)->type();
  const int rank = in.rank();
  const int64_t axis = n.attrs().getInt("axis", -1);
  if (axis < -rank || axis >= rank)
    return selectError(n, fmt::format("expected axis in [{}, {}), found {}", -rank, rank, axis));
  if (n.result(0)->type().shape != in.shape)
    return selectError(n, fmt::format("expected result shape {}, found {}", shapeString(in.shape),
                                      shapeString(n.result(0)->type().shape)));
  const size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < a; ++d)
    outer *= in.shape[d];
  for (size_t d = a + 1; d < in.shape.size(); ++d)
    inner *= in.shape[d];
  KernelCall k;
  k.kernelFiles = {"reduce.h"};
  if (in.numElements() == 0) {
    k.statement = "// empty tensor: nothing to normalize\n(void)out0;";
    return k;
  }
  // Columns (inner > 1) keep their running maxima and sums in scratch, rows in registers.
  if (inner > 1)
    k.scratchBytes = 2 * inner * static_cast<int64_t>(dtypeSize(in.dtype()));
  k.statement = fmt::format(
      "kiln_rd_softmax<{}, {}, {}, {}, {}>(out0, in0, scratch);", elementType(in.dtype(), true),
      n.op() == OpKind::LogSoftmax ? "true" : "false", outer, in.shape[a], inner);
  return k;
}

llvm::Expected<KernelCall> selectReduce(const Node &n) {
  if (auto err = checkOperands(n, /*floatOnly=*/false))
    return err;
  const TensorType &in = n.operand(0)->type();
  const int rank = in.rank();
  // The verifier typed the node: axes are constant and in range, the result shape agrees.
  auto p = reduceParams(n);
  if (!p)
    return selectError(n, llvm::toString(p.takeError()));
  KernelCall k;
  k.kernelFiles = {"reduce.h"};
  if (p->noop) {
    k.statement = fmt::format("if (out0 != in0) std::memcpy(out0, in0, {});", in.byteSize());
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
  const char *op = n.op() == OpKind::ReduceMax   ? "kiln_rd_max"
                   : n.op() == OpKind::ReduceMin ? "kiln_rd_min"
                                                 : "kiln_rd_sum";
  const int64_t meanDiv = n.op() == OpKind::ReduceMean ? in.numElements() / outCount : 0;
  k.statement =
      fmt::format("kiln_rd_reduce<{}, {}, {}, {}, {}, {}>(out0, in0);",
                  elementType(in.dtype(), false), op, outCount, meanDiv, list(dims), list(strides));
  return k;
}

} // namespace

llvm::Expected<KernelCall> selectReductionKernel(const Node &n) {
  if (n.numOperands() == 0 || n.numResults() != 1)
    return selectError(n, fmt::format("expected operands and one result, found {} and {}",
                                      n.numOperands(), n.numResults()));
  switch (n.op()) {
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
    return selectSoftmax(n);
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
