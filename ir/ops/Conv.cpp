// The sliding-window family's typed parameters (Conv, ConvTranspose, MaxPool, AveragePool;
// ir/OpParams.h): the window that shape inference computes (sem::convWindow / sem::poolWindow in
// ir/Semantics.cpp), so the kernel selectors take kernel, strides, dilations and pads — and
// ConvTranspose's pads derived from output_shape — from one rule instead of re-reading
// attributes with defaults of their own.
#include "ir/OpParams.h"

#include "ir/SemanticsDetail.h"

namespace kiln {

llvm::Expected<WindowParams> convParams(const Node &n) {
  return sem::convWindow(n.op(), sem::nodeOperands(n), n.attrs());
}

llvm::Expected<WindowParams> poolParams(const Node &n) {
  return sem::poolWindow(n.op(), sem::nodeOperands(n), n.attrs());
}

} // namespace kiln
