// selectKernel: dispatch from an op to the selector of its kernel family. One switch over the op
// table (no string-keyed registry), so go-to-definition leads from an op to its selector.
#include "codegen/KernelSelect.h"

#include <fmt/format.h>

namespace kiln {

namespace {

/// The conv and matrix kernels compute each output value completely (in registers or scratch)
/// and store it once, `y[i] = epi(v, i, c)`: an epilogue operand of the result's shape (a
/// residual, a same-shaped binary operand) is read only at the index being written, so it may
/// share the result's buffer, unless the op itself reads that value too (a conv whose input is
/// also its residual reads it everywhere).
llvm::Expected<KernelCall> withEpilogueInPlace(const Node &n, llvm::Expected<KernelCall> k) {
  if (!k)
    return k;
  for (const EpilogueStep &st : n.epilogue().steps) {
    if (!st.readsOperand() || st.operand < 0 ||
        static_cast<unsigned>(st.operand) >= n.numOperands())
      continue;
    const Value *v = n.operand(static_cast<unsigned>(st.operand));
    bool readByOp = false;
    for (unsigned i = 0; i < n.numOperands(); ++i)
      readByOp |= n.operand(i) == v && !n.isEpilogueOperand(i);
    if (!readByOp && v->type().shape == n.result()->type().shape)
      k->inPlaceOperands.push_back(static_cast<unsigned>(st.operand));
  }
  return k;
}

} // namespace

llvm::Expected<KernelCall> selectKernel(const Node &n, const Target &t) {
  switch (n.op()) {
  case OpKind::Conv:
  case OpKind::ConvTranspose:
    return withEpilogueInPlace(n, selectConvKernel(n, t));
  case OpKind::Gemm:
  case OpKind::MatMul:
    return withEpilogueInPlace(n, selectMatrixKernel(n, t));
  case OpKind::MaxPool:
  case OpKind::AveragePool:
  case OpKind::GlobalAveragePool:
  case OpKind::GlobalMaxPool:
    return selectPoolKernel(n);
  case OpKind::Concat:
  case OpKind::Split:
  case OpKind::Reshape:
  case OpKind::Flatten:
  case OpKind::Transpose:
  case OpKind::DepthToSpace:
  case OpKind::Squeeze:
  case OpKind::Unsqueeze:
  case OpKind::Slice:
  case OpKind::Gather:
  case OpKind::Expand:
  case OpKind::Tile:
  case OpKind::Pad:
  case OpKind::Identity:
  case OpKind::Dropout:
  case OpKind::Cast:
    return selectDataMovementKernel(n);
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
  case OpKind::ReduceMean:
  case OpKind::ReduceSum:
  case OpKind::ReduceMax:
  case OpKind::ReduceMin:
    return selectReductionKernel(n);
  case OpKind::Shape:
  case OpKind::ConstantOfShape:
  case OpKind::Range:
    // Static shapes make these compile-time facts: the frontend folds them into constants.
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "node '%s' (%s): expected to be folded into a constant at "
                                   "import (static shapes), found a node at code generation",
                                   n.name().c_str(), opName(n.op()));
  default:
    break;
  }
  if (opClass(n.op()) != OpClass::Other || n.op() == OpKind::Clip || n.op() == OpKind::Where ||
      n.op() == OpKind::BatchNormalization || n.op() == OpKind::PRelu)
    return selectElementwiseKernel(n);
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "node '%s' (%s): no kernel family handles this op",
                                 n.name().c_str(), opName(n.op()));
}

llvm::Error selectError(const Node &n, const std::string &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "node '%s' (%s): %s",
                                 n.name().c_str(), opName(n.op()), what.c_str());
}


llvm::Error checkDenseF32(const Node &n, const Value *v, const char *role) {
  const TensorType &t = v->type();
  if (t.dtype() != DType::F32 || t.elem.isQuantized() || !t.layout.isRowMajor())
    return selectError(n,
                       fmt::format("expected {} of type f32 (row-major, not quantized), found {}",
                                   role, typeString(t)));
  return llvm::Error::success();
}

int64_t packedChunkColumns(int64_t k, int64_t cols, const Target &t) {
  // NR is a power of two, so the larger of 16 and NR is a multiple of both.
  const int64_t unit = t.gemmNr > 16 ? t.gemmNr : 16;
  int64_t nc = t.packBudgetBytes() / (k * 4) / unit * unit;
  int64_t all = (cols + unit - 1) / unit * unit;
  if (nc < unit)
    nc = unit;
  return nc < all ? nc : all;
}

} // namespace kiln
