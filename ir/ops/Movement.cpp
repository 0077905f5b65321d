// The data-movement family's typed parameters (Slice so far; ir/OpParams.h): read from a node
// through the same rule its shape inference uses (sem::sliceDims in ir/Semantics.cpp), so that
// the Slice kernel selector and codegen's view of a contiguous Slice take their offsets from ir
// instead of re-deriving ONNX's clamping.
#include "ir/OpParams.h"

#include "ir/SemanticsDetail.h"

namespace kiln {

llvm::Expected<SliceParams> sliceParams(const Node &n) {
  auto d = sem::sliceDims(sem::nodeOperands(n));
  if (!d)
    return d.takeError();
  return SliceParams{std::move(d->start), std::move(d->step), std::move(d->out)};
}

} // namespace kiln
