// Private to ir/Semantics*.cpp and the op families' files ir/ops/*.cpp: the interface between the
// dispatch of the reference semantics (ir/Semantics.cpp, ir/SemanticsEval.cpp) and the families
// that hold each op's rules, and the helpers they share. Type inference and evaluation describe
// an operand the same way — a type plus its data when known — so that parameters decided by
// constant operands (Slice bounds, reduced axes, window geometry) are computed by exactly one
// function, in the op's family file.
#pragma once

#include "ir/Attribute.h"
#include "ir/Graph.h"
#include "ir/Op.h"
#include "ir/OpParams.h"
#include "ir/Semantics.h"
#include "ir/Tensor.h"
#include "ir/Types.h"

#include <llvm/Support/Error.h>

#include <string>
#include <type_traits>
#include <vector>

namespace kiln::sem {

/// An operand as the semantics see it: its type, and its data when it is a constant (else null).
struct Operand {
  TensorType type;
  const Tensor *data = nullptr;
};

using Types = std::vector<TensorType>;
using Tensors = std::vector<Tensor>;

// ---- the op families ------------------------------------------------------------------------

/// The rules of one op family (the Family column of ir/Ops.def), defined in ir/ops/<Family>.cpp
/// as k<Family>Rules. The dispatch tables of ir/Semantics.cpp and ir/SemanticsEval.cpp are
/// expanded from that column, so every op reaches its family's functions and no other switch
/// over all ops exists.
struct FamilyRules {
  /// Result types of `op` on the operands (the public inferResultTypes).
  llvm::Expected<Types> (*infer)(OpKind op, const std::vector<Operand> &ops,
                                 const Attributes &attrs);
  /// Evaluation on constant operands whose element counts were checked; `rts` is what infer
  /// gave, never empty (the public evaluate).
  llvm::Expected<Tensors> (*evaluate)(OpKind op, const Tensors &xs, const Attributes &attrs,
                                      const Types &rts);
  /// The operands that infer needs constant (the public shapeOperands).
  std::vector<ShapeOperand> (*shapeOperands)(OpKind op);
};
extern const FamilyRules kConvRules, kMatrixRules, kElementwiseRules, kMovementRules, kReduceRules,
    kGeneratorRules;
/// The rules of op's family.
const FamilyRules &familyRules(OpKind op);

// ---- shared by type inference (defined in ir/Semantics.cpp) ---------------------------------

llvm::Error fail(const std::string &msg);

/// A node's own operands (its epilogue's excluded, as the verifier types it) as the semantics
/// see them: the typed parameter accessors of ir/OpParams.h read nodes through this.
std::vector<Operand> nodeOperands(const Node &n);

/// Type inference on operand descriptions (the public inferResultTypes wraps this).
llvm::Expected<Types> infer(OpKind op, const std::vector<Operand> &ops, const Attributes &attrs);

/// A row-major tensor type.
TensorType rowMajor(DType t, Shape s);
/// The operand's type as diagnostics spell it.
std::string ts(const Operand &o);

/// Fails unless lo <= ops.size() <= hi.
llvm::Error arity(OpKind op, const std::vector<Operand> &ops, size_t lo, size_t hi);
/// The data of constant operand `i`, which decides shapes; `what` names it in the message.
llvm::Expected<std::vector<int64_t>> constInts(OpKind op, const std::vector<Operand> &ops, size_t i,
                                               const char *what);
llvm::Error sameDType(OpKind op, const Operand &a, const Operand &b);
llvm::Error needFloat(OpKind op, const Operand &a);
llvm::Error minRank(OpKind op, const Operand &a, int r, const char *what = "input");
llvm::Error exactRank(OpKind op, const Operand &a, int r, const char *what = "input");

/// Numpy (multidirectional) broadcasting of all shapes; `ops` are quoted in the message.
llvm::Expected<Shape> broadcast(OpKind op, const std::vector<Shape> &shapes,
                                const std::vector<Operand> &ops);
/// Broadcasting of the operands' own shapes.
llvm::Expected<Shape> broadcastOps(OpKind op, const std::vector<Operand> &ops);

/// `axis` in [-rank, rank) (or [-rank, rank] when allowEnd) mapped to [0, rank).
llvm::Expected<int64_t> normAxis(OpKind op, int64_t axis, int64_t rank, bool allowEnd = false);

/// Division rounding toward plus infinity.
int64_t ceilDiv(int64_t a, int64_t b);

// ---- shared by evaluation (defined in ir/SemanticsEval.cpp) ---------------------------------

/// The operands' types (and data) as shape inference takes them.
std::vector<Operand> operandsOf(const Tensors &xs);

/// Integer dtypes and bool compute in exact int64; floats in double.
inline bool exactInts(DType t) { return !isFloat(t); }

template <class T> std::vector<T> valuesOf(const Tensor &t);
template <> inline std::vector<double> valuesOf<double>(const Tensor &t) { return t.toDoubles(); }
template <> inline std::vector<int64_t> valuesOf<int64_t>(const Tensor &t) { return t.toInts(); }

inline Tensor make(DType t, const Shape &s, const std::vector<double> &v) {
  return Tensor::fromDoubles(t, s, v);
}
inline Tensor make(DType t, const Shape &s, const std::vector<int64_t> &v) {
  return Tensor::fromInts(t, s, v);
}

/// Multi-index of a row-major index / row-major index of a multi-index.
void unravel(int64_t lin, const Shape &shape, std::vector<int64_t> &idx);
int64_t ravel(const std::vector<int64_t> &idx, const Shape &shape);
/// All multi-indices of a shape, row-major (kernel offsets, output positions).
std::vector<std::vector<int64_t>> allIndices(const Shape &s);

/// For each element of `out` (row-major), the element of `in` that numpy broadcasting reads.
std::vector<int64_t> broadcastMap(const Shape &in, const Shape &out);

/// A tensor of the given shape whose element k is src's element idx[k] (bytes copied; -1 means
/// `fill`, a one-element tensor of src's dtype).
Tensor pick(const Tensor &src, const std::vector<int64_t> &idx, const Shape &shape,
            const Tensor *fill = nullptr);

/// Same bytes, new shape (Reshape and friends).
Tensor reshaped(const Tensor &src, const Shape &shape);

/// a + b, a - b, a * b; integers wrap (two's complement, as ONNX runtimes compute them) through
/// unsigned arithmetic, where overflow is defined, instead of overflowing a signed type (UB).
template <class T> T wrapAdd(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) +
                          static_cast<std::make_unsigned_t<T>>(b));
  else
    return a + b;
}
template <class T> T wrapSub(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) -
                          static_cast<std::make_unsigned_t<T>>(b));
  else
    return a - b;
}
template <class T> T wrapMul(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) *
                          static_cast<std::make_unsigned_t<T>>(b));
  else
    return a * b;
}

} // namespace kiln::sem
