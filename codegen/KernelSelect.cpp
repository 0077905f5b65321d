// selectKernel: dispatch from an op to the selector of its kernel family, through the op-family
// rows of codegen/Kernels.def (a switch generated from the table, no string-keyed registry), so
// go-to-definition leads from an op to its selector. Also the
// facts every family shares: a forced variant's family, the layouts the kernels read, in-place
// epilogue operands and the default cost (bytes moved).
#include "codegen/KernelSelect.h"

#include <fmt/format.h>

namespace kiln {

namespace {

/// The conv and matrix kernels compute each output value completely (in registers or scratch)
/// and store it once, `y[i] = epi(v, i, c)`: an epilogue operand of the result's shape (a
/// residual, a same-shaped binary operand) is read only at the index being written, so it may
/// share the result's buffer, unless the op itself reads that value too (a conv whose input is
/// also its residual reads it everywhere).
void addEpilogueInPlace(const Node &n, KernelDecision &d) {
  for (const EpilogueStep &st : n.epilogue().steps) {
    if (!st.readsOperand() || st.operand < 0 ||
        static_cast<unsigned>(st.operand) >= n.numOperands())
      continue;
    const Value *v = n.operand(static_cast<unsigned>(st.operand));
    bool readByOp = false;
    for (unsigned i = 0; i < n.numOperands(); ++i)
      readByOp |= n.operand(i) == v && !n.isEpilogueOperand(i);
    if (!readByOp && v->type().shape == n.result()->type().shape)
      d.inPlaceOperands.push_back(static_cast<unsigned>(st.operand));
  }
}

/// The family whose selector handles op `op`; nullopt when none does.
std::optional<KernelFamily> familyOf(OpKind op) {
  switch (op) {
#define KILN_OP_FAMILY(Op, Family)                                                               \
  case OpKind::Op:                                                                               \
    return KernelFamily::Family;
#include "codegen/Kernels.def"
  default:
    break;
  }
  if (opClass(op) != OpClass::Other)
    return KernelFamily::Elementwise;
  return std::nullopt;
}

llvm::Expected<KernelDecision> dispatch(const Node &n, const Target &t, KernelFamily family,
                                        const ForcedVariant *forced) {
  switch (family) {
  case KernelFamily::Conv:
    return selectConvKernel(n, t, forced);
  case KernelFamily::Matrix:
    return selectMatrixKernel(n, t, forced);
  case KernelFamily::Pool:
    return selectPoolKernel(n);
  case KernelFamily::Elementwise:
    return selectElementwiseKernel(n);
  case KernelFamily::Movement:
    return selectDataMovementKernel(n);
  case KernelFamily::Reduction:
    return selectReductionKernel(n);
  }
  return selectError(n, "no kernel family handles this op");
}

} // namespace

llvm::Expected<KernelDecision> selectKernel(const Node &n, const Target &t,
                                            const ForcedVariant *forced) {
  if (n.op() == OpKind::Shape || n.op() == OpKind::ConstantOfShape || n.op() == OpKind::Range)
    // Static shapes make these compile-time facts: the frontend folds them into constants.
    return selectError(n, "expected to be folded into a constant at import (static shapes), "
                          "found a node at code generation");
  std::optional<KernelFamily> family = familyOf(n.op());
  if (!family)
    return selectError(n, "no kernel family handles this op");
  if (forced) {
    std::vector<std::string> names;
    for (Variant v : variantsOf(*family))
      names.push_back(variantName(v));
    if (variantFamily(forced->variant) != *family)
      return selectError(n, fmt::format("variant {} does not apply: it is a {} kernel, the node "
                                        "runs a {} kernel (variants: {})",
                                        variantName(forced->variant),
                                        familyName(variantFamily(forced->variant)),
                                        familyName(*family), fmt::join(names, ", ")));
  }
  llvm::Expected<KernelDecision> d = dispatch(n, t, *family, forced);
  if (!d)
    return d;
  if (forced && forced->variant != d->variant)
    return selectError(n, fmt::format("internal: the selector took variant {} instead of the "
                                      "forced {}",
                                      variantName(d->variant), variantName(forced->variant)));
  if (forced)
    for (const Tunable &tu : forced->tunables) {
      bool known = false;
      for (const Tunable &have : d->tunables)
        known |= have.name == tu.name;
      if (!known)
        return selectError(n, fmt::format("variant {}: expected no tunable '{}', found it set",
                                          variantName(d->variant), tu.name));
    }
  if (*family == KernelFamily::Conv || *family == KernelFamily::Matrix)
    addEpilogueInPlace(n, *d);
  // Every kernel reads its operands dense row-major today (the selectors checked it); blocked
  // layouts (NCHWc, pre-packed weights) get kernels that say so here.
  d->operandLayouts.assign(n.numOperands(), Layout{});
  if (d->cost == 0) {
    for (unsigned i = 0; i < n.numOperands(); ++i)
      if (d->readsOperand(i))
        d->cost += n.operand(i)->type().byteSize();
    for (const Value *r : n.results())
      d->cost += r->type().byteSize();
  }
  return d;
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

llvm::Expected<int64_t> chunkTunable(const Node &n, const ForcedVariant *forced, int64_t computed,
                                     const Target &t) {
  if (!forced)
    return computed;
  for (const Tunable &tu : forced->tunables)
    if (tu.name == "nc") {
      if (tu.value <= 0 || tu.value % t.gemmNr != 0)
        return selectError(n, fmt::format("variant {}: expected nc a positive multiple of the "
                                          "target's GEMM NR ({}), found {}",
                                          variantName(forced->variant), t.gemmNr, tu.value));
      return tu.value;
    }
  return computed;
}

} // namespace kiln
