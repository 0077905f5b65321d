// The reduction family's typed parameters (Reduce*; ir/OpParams.h): the reduced dims from the
// rule shape inference uses (sem::reducedDims in ir/Semantics.cpp: axes operand or attribute,
// negative axes, empty axes reducing all or nothing), so the Reduce selector does not re-derive
// them.
#include "ir/OpParams.h"

#include "ir/SemanticsDetail.h"

namespace kiln {

llvm::Expected<ReduceParams> reduceParams(const Node &n) {
  ReduceParams p;
  auto red = sem::reducedDims(n.op(), sem::nodeOperands(n), n.attrs(), &p.noop);
  if (!red)
    return red.takeError();
  p.reduced = std::move(*red);
  p.keepDims = n.attrs().getInt("keepdims", 1) != 0;
  return p;
}

} // namespace kiln
