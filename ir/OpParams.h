// Typed parameters of ops, read once from a node in canonical form (ir/Ops.def) by the op family's
// file in ir/ops/, public to passes and codegen so that neither re-derives them from attributes
// and constant operands. Each accessor applies the same rule as the op's reference semantics
// (ir/Semantics*.cpp), because it is that rule: a parameter has one definition in kiln.
#pragma once

#include "ir/Graph.h"

#include <llvm/Support/Error.h>

#include <cstdint>
#include <vector>

namespace kiln {

/// Conv, ConvTranspose, MaxPool, AveragePool (ir/ops/Conv.cpp): the window per spatial dim, as
/// shape inference computed it. ConvTranspose's output_shape is already turned into pads here
/// (padsBegin / padsEnd), so no caller re-derives them; `out` is the result's spatial extent;
/// `group` is 1 for pools.
struct WindowParams {
  std::vector<int64_t> kernel, strides, dilations, padsBegin, padsEnd, out;
  int64_t group = 1;
};
/// Conv and ConvTranspose.
llvm::Expected<WindowParams> convParams(const Node &n);
/// MaxPool and AveragePool.
llvm::Expected<WindowParams> poolParams(const Node &n);

/// Gemm (ir/ops/Matrix.cpp): Y = alpha * A' B' + beta * C, A' = transA ? A^T : A (B' alike).
struct GemmParams {
  bool transA = false, transB = false;
  double alpha = 1.0, beta = 1.0;
};
GemmParams gemmParams(const Node &n);

/// ReduceMean/Sum/Max/Min (ir/ops/Reduce.cpp): for each input dim whether it is reduced, whether
/// reduced dims stay as 1, and whether the node is a no-op (empty axes with
/// noop_with_empty_axes: the result is the input).
struct ReduceParams {
  std::vector<bool> reduced;
  bool keepDims = true;
  bool noop = false;
};
llvm::Expected<ReduceParams> reduceParams(const Node &n);

/// DepthToSpace (ir/ops/Movement.cpp): blocksize b and mode. Input [N, C, H, W] becomes
/// [N, C / b^2, H b, W b]; output (n, c, h b + i, w b + j) reads input channel
/// (i b + j) C / b^2 + c in DCR mode, c b^2 + i b + j in CRD mode. Fails, with the verifier's
/// message, on an input or attributes shape inference rejects.
struct DepthToSpaceParams {
  int64_t blocksize = 1;
  bool crd = false; // mode "CRD" (else "DCR")
};
llvm::Expected<DepthToSpaceParams> depthToSpaceParams(const Node &n);

/// Slice (ir/ops/Movement.cpp): per dim of the input, the first index taken, the step, and the
/// result's extent (dims that no axes entry names: first 0, step 1, the input's extent). Fails,
/// with the verifier's message, on a node whose starts/ends/axes/steps are not valid constants.
struct SliceParams {
  std::vector<int64_t> first, step;
  Shape out;
};
llvm::Expected<SliceParams> sliceParams(const Node &n);

} // namespace kiln
