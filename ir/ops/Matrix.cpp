// The matrix family's typed parameters (Gemm; ir/OpParams.h): transA, transB, alpha and beta read
// once, with ONNX's defaults in this one place, for the Gemm selector and the passes that fold
// into or out of a Gemm (fuse-conv-bn).
#include "ir/OpParams.h"

namespace kiln {

GemmParams gemmParams(const Node &n) {
  const Attributes &at = n.attrs();
  GemmParams p;
  p.transA = at.getInt("transA", 0) != 0;
  p.transB = at.getInt("transB", 0) != 0;
  p.alpha = at.getFloat("alpha", 1.0);
  p.beta = at.getFloat("beta", 1.0);
  return p;
}

} // namespace kiln
