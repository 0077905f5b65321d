// Reference semantics of every op in the table, written once: result-type inference and scalar
// evaluation on constant tensors. The frontend uses them to type nodes and to resolve
// shape-computing subgraphs; constant folding uses evaluate(); tests check evaluate() against
// ONNX's own reference outputs. Both follow the canonical form documented in ir/Ops.def.
#pragma once

#include "ir/Graph.h"

#include <llvm/Support/Error.h>

#include <vector>

namespace kiln {

/// Result types of `op` applied to operands (whose constant data, for constant operands, may decide
/// the shape: Reshape, Slice, Expand, ...). Fails with a message saying what was expected versus
/// found (e.g. "Conv expects 4-D input, found f32[1,3,224]").
llvm::Expected<std::vector<TensorType>>
inferResultTypes(OpKind op, const std::vector<const Value *> &operands, const Attributes &attrs);

/// An operand whose value decides the result types of its node (Reshape's shape, Slice's starts,
/// Tile's repeats, ...): inferResultTypes needs it constant, so a model whose graph input reaches
/// one compiles only with that input bound to data (kiln compile --bind).
struct ShapeOperand {
  unsigned index;   // operand position
  const char *name; // the ONNX operand name ("shape", "starts", ...)
};
/// The shape-deciding operands of `op`, in operand order; empty for most ops.
std::vector<ShapeOperand> shapeOperands(OpKind op);

/// Evaluates `op` on constant operands; results have the given types (from inferResultTypes).
/// Floating point is evaluated in double and rounded to the result dtype.
llvm::Expected<std::vector<Tensor>> evaluate(OpKind op, const std::vector<Tensor> &operands,
                                             const Attributes &attrs,
                                             const std::vector<TensorType> &resultTypes);

/// ONNX Slice along one axis of `dim` elements (step != 0): negative positions count from the end,
/// then start and end are clamped to [0, dim] for positive steps and to [0, dim-1] / [-1, dim-1]
/// for negative ones. The reference semantics use this; passes and codegen read the result
/// through sliceParams (ir/OpParams.h).
struct SliceAxis {
  int64_t first = 0; // the first index taken
  int64_t count = 0; // how many elements are taken
};
SliceAxis sliceAxis(int64_t dim, int64_t start, int64_t end, int64_t step);

/// Convenience: types then evaluates a node whose operands are all constants.
llvm::Expected<std::vector<Tensor>> evaluateNode(const Node &n);

/// Types then evaluates node n, epilogue included, on given operand values: operands[i] is the
/// value of n.operand(i) (kiln bisect runs a graph's nodes on its input this way).
llvm::Expected<std::vector<Tensor>> evaluateNode(const Node &n,
                                                 const std::vector<Tensor> &operands);

/// n's epilogue applied to v, the value of n's op before the epilogue; operands as above.
llvm::Expected<Tensor> applyEpilogue(const Node &n, Tensor v, const std::vector<Tensor> &operands);

} // namespace kiln
