// Typed parameters of ops, read once from a node in canonical form (ir/Ops.def) by the op family's
// file in ir/ops/, public to passes and codegen so that neither reads attributes by name nor
// re-derives parameters from constant operands. Each accessor is the rule the family's shape
// inference and reference evaluation apply: a parameter has one definition in kiln. Accessors
// that return llvm::Expected fail, with the verifier's message, only on a node the verifier
// rejects.
#pragma once

#include "ir/Attribute.h"
#include "ir/Graph.h"

#include <llvm/Support/Error.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace kiln {

/// Conv, ConvTranspose, MaxPool, AveragePool (ir/ops/Conv.cpp): the window per spatial dim, as
/// shape inference computed it. ConvTranspose's output_shape is already turned into pads here
/// (padsBegin / padsEnd), so no caller re-derives them; `out` is the result's spatial extent;
/// `group` is 1 for pools.
struct WindowParams {
  std::vector<int64_t> kernel, strides, dilations, padsBegin, padsEnd, out;
  int64_t group = 1;
  bool countIncludePad = false; // AveragePool: padded positions count in the divisor
};
/// Conv and ConvTranspose.
llvm::Expected<WindowParams> convParams(const Node &n);
/// MaxPool and AveragePool.
llvm::Expected<WindowParams> poolParams(const Node &n);

/// ConvTranspose's output_shape along one spatial dim: the pads and output padding that give
/// output extent `out` from input extent `in`. ONNX's total padding
/// stride (in - 1) + outputPadding + dilation (kernel - 1) + 1 - out is split between begin and
/// end (the odd unit at the end for auto_pad SAME_UPPER, at the begin otherwise); a negative total
/// (an output larger than the convolution covers) leaves the pads 0 and grows the output padding
/// by its magnitude, so that the extra positions are at the end. The frontend resolves
/// output_shape with this rule, and shape inference applies it to a node that still has one.
struct ConvTransposePads {
  int64_t begin = 0, end = 0, outputPadding = 0;
};
ConvTransposePads convTransposePads(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                                    int64_t outputPadding, int64_t out, bool sameUpper);

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
/// Softmax and LogSoftmax (ir/ops/Reduce.cpp): the axis, normalized to [0, rank).
llvm::Expected<int64_t> softmaxAxis(const Node &n);

/// LRN (ir/ops/Reduce.cpp): local response normalization across channels (dim 1).
/// y = x / (bias + alpha / size * s)^beta, s the sum of x^2 over channels
/// [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)] clipped to [0, C).
struct LrnParams {
  int64_t size = 1;
  double alpha = 1e-4, beta = 0.75, bias = 1.0;
  int64_t below() const { return (size - 1) / 2; }      // channels before c in the window
  int64_t above() const { return size - 1 - below(); } // channels after c
};
llvm::Expected<LrnParams> lrnParams(const Node &n);

/// Unary elementwise ops (ir/ops/Elementwise.cpp): the float attributes that ir/Activations.def
/// maps to an activation step's alpha and beta, with ONNX's defaults — LeakyRelu alpha,
/// HardSigmoid alpha and beta, Elu alpha, Selu alpha and gamma (as beta); 0 for other ops.
struct UnaryParams {
  double alpha = 0, beta = 0;
};
UnaryParams unaryParams(const Node &n);

/// Gelu: its approximate attribute, "none" (erf) or "tanh"; fails on another value.
enum class GeluApproximation { None, Tanh };
llvm::Expected<GeluApproximation> geluApproximation(const Node &n);

/// Clip (ir/ops/Elementwise.cpp): its min and max operands as doubles (an absent one does not
/// bound: -inf / +inf); fails unless each present bound is a constant one-element tensor (canonical
/// form makes them constants).
struct ClipBounds {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
};
llvm::Expected<ClipBounds> clipBounds(const Node &n);

/// BatchNormalization (ir/ops/Elementwise.cpp): epsilon, and training_mode (which shape inference
/// rejects, so a verified node has training = false).
struct BatchNormParams {
  double epsilon = 1e-5;
  bool training = false;
};
BatchNormParams batchNormParams(const Node &n);

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

/// Transpose (ir/ops/Movement.cpp): output dim d is input dim perm[d]; ONNX's default, the dims
/// reversed, when the node has no perm.
std::vector<int64_t> transposePerm(const Node &n);

/// Reshape (ir/ops/Movement.cpp): allowzero; when false, a 0 in the shape operand copies the
/// input's dim.
bool reshapeAllowZero(const Node &n);

/// Concat, Split, Gather (ir/ops/Movement.cpp): the axis, normalized to [0, rank) of operand 0.
llvm::Expected<int64_t> concatAxis(const Node &n);
llvm::Expected<int64_t> splitAxis(const Node &n);
llvm::Expected<int64_t> gatherAxis(const Node &n);

/// Tile (ir/ops/Movement.cpp): the repeat of each input dim (output dim d is input dim d times
/// repeats[d]).
llvm::Expected<std::vector<int64_t>> tileRepeats(const Node &n);

/// Pad (ir/ops/Movement.cpp): the mode and the amounts added before and after each input dim
/// (an opset-18 axes operand already spread over all dims; negative amounts crop).
enum class PadMode { Constant, Reflect, Edge };
struct PadParams {
  PadMode mode = PadMode::Constant;
  std::vector<int64_t> begins, ends;
};
llvm::Expected<PadParams> padParams(const Node &n);

/// Shape (ir/ops/Generator.cpp): the dims [begin, end) of a rank-`rank` input's shape that it
/// returns — start and end (default rank), negative ones counted from the end, clamped to
/// [0, rank]; end >= begin.
struct ShapeSpan {
  int64_t begin = 0, end = 0;
};
ShapeSpan shapeSpan(int64_t rank, const Attributes &attrs);

} // namespace kiln
