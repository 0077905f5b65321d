// Private to ir/Semantics*.cpp: the pieces of reference semantics shared by type inference
// (ir/Semantics.cpp) and evaluation (ir/SemanticsEval.cpp). Both sides describe an operand the same
// way — a type plus its data when known — so that parameters decided by constant operands (Slice
// bounds, reduced axes, window geometry) are computed by exactly one function.
#pragma once

#include "ir/Attribute.h"
#include "ir/Graph.h"
#include "ir/Op.h"
#include "ir/OpParams.h"
#include "ir/Tensor.h"
#include "ir/Types.h"

#include <llvm/Support/Error.h>

#include <string>
#include <vector>

namespace kiln::sem {

/// An operand as the semantics see it: its type, and its data when it is a constant (else null).
struct Operand {
  TensorType type;
  const Tensor *data = nullptr;
};

llvm::Error fail(const std::string &msg);

/// A node's own operands (its epilogue's excluded, as the verifier types it) as the semantics
/// see them: the typed parameter accessors of ir/OpParams.h read nodes through this.
std::vector<Operand> nodeOperands(const Node &n);

/// Type inference on operand descriptions (the public inferResultTypes wraps this).
llvm::Expected<std::vector<TensorType>> infer(OpKind op, const std::vector<Operand> &ops,
                                              const Attributes &attrs);

/// Window geometry of Conv, ConvTranspose, MaxPool and AveragePool (public as WindowParams).
using Window = WindowParams;
llvm::Expected<Window> convWindow(OpKind op, const std::vector<Operand> &ops,
                                  const Attributes &attrs);
llvm::Expected<Window> poolWindow(OpKind op, const std::vector<Operand> &ops,
                                  const Attributes &attrs);

/// Slice: per dim of the input, the first index, the step and the number of elements taken.
struct SliceDims {
  std::vector<int64_t> start, step;
  Shape out;
};
llvm::Expected<SliceDims> sliceDims(const std::vector<Operand> &ops);

/// Reduce*: for each input dim whether it is reduced (all false for a no-op reduction, which
/// sets *noop when given).
llvm::Expected<std::vector<bool>> reducedDims(OpKind op, const std::vector<Operand> &ops,
                                              const Attributes &attrs, bool *noop = nullptr);

/// Split: the size of each piece along the axis; the axis normalized.
llvm::Expected<std::vector<int64_t>> splitSizes(const std::vector<Operand> &ops,
                                                const Attributes &attrs, int64_t &axis);

/// Pad: begins then ends, one pair per input dim.
llvm::Expected<std::vector<int64_t>> padAmounts(const std::vector<Operand> &ops);

/// DepthToSpace (ir/ops/Movement.cpp): its parameters checked against the input, its result type
/// and its evaluation.
llvm::Expected<DepthToSpaceParams> depthToSpaceParams(const std::vector<Operand> &ops,
                                                      const Attributes &attrs);
llvm::Expected<TensorType> inferDepthToSpace(const std::vector<Operand> &ops,
                                             const Attributes &attrs);
llvm::Expected<Tensor> evalDepthToSpace(const Tensor &x, const Attributes &attrs);

/// `axis` in [-rank, rank) (or [-rank, rank] when allowEnd) mapped to [0, rank).
llvm::Expected<int64_t> normAxis(OpKind op, int64_t axis, int64_t rank, bool allowEnd = false);

} // namespace kiln::sem
