// The one generic epilogue carried by Conv, ConvTranspose, Gemm and MatMul: work applied to each
// output element before it is stored. Fused work is data, not new ops: a Conv+BiasAdd+Add+Relu is a
// Conv whose epilogue lists those steps in order.
#pragma once

#include "ir/Attribute.h"
#include "ir/Op.h"
#include "ir/Types.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// An activation step's function; rows, names and meanings in ir/Activations.def.
enum class ActKind : uint8_t {
#define KILN_ACT(E, N, OP, AA, AD, BA, BD, P) E,
#include "ir/Activations.def"
};
/// How many of a step's alpha and beta the kernel functor kiln_ew_<name> takes.
int actParamCount(ActKind k);
const char *actName(ActKind k);
bool parseActKind(const std::string &s, ActKind &out);

/// The binary operation of a Binary step; rows in ir/BinarySteps.def. With `swapped` the operand
/// is the left side (`rsub(k)`: v = operand[k] - v).
enum class BinKind : uint8_t {
#define KILN_BIN(E, N) E,
#include "ir/BinarySteps.def"
};
const char *binName(BinKind k);
bool parseBinKind(const std::string &s, BinKind &out);

struct EpilogueStep {
  enum class Kind : uint8_t {
    BiasAdd,     // + operand[operand] broadcast along the channel (Conv: dim 1; Gemm/MatMul: last dim)
    Activation,  // act(alpha, beta)
    ResidualAdd, // + operand[operand], same shape as the result
    Binary,      // v = bin(v, operand[operand]) (or bin(operand, v) when swapped), the operand
                 // broadcast to the result: any numpy broadcast on an elementwise producer; the
                 // result's shape, its channel vector or one element on Conv/Gemm/MatMul
    Requantize,  // scale to the result's quantized element type (quantization issue)
  };
  Kind kind = Kind::Activation;
  ActKind act = ActKind::Relu;
  double alpha = 0, beta = 0;
  int operand = -1; // index into the node's operands (BiasAdd, ResidualAdd, Binary)
  BinKind bin = BinKind::Add;
  bool swapped = false;
  /// Whether the step reads a node operand (bias, residual or binary operand).
  bool readsOperand() const {
    return kind == Kind::BiasAdd || kind == Kind::ResidualAdd || kind == Kind::Binary;
  }
  bool operator==(const EpilogueStep &o) const {
    return kind == o.kind && act == o.act && alpha == o.alpha && beta == o.beta &&
           operand == o.operand && bin == o.bin && swapped == o.swapped;
  }
};

/// Conv, ConvTranspose, Gemm and MatMul: the ops whose kernels apply the epilogue as each output
/// value is stored, reading step operands through pointers at the flat index, the channel or
/// element 0 (an elementwise op's epilogue runs inside its own loop instead).
bool isMatrixEpilogueOp(OpKind op);

/// Unary and binary elementwise ops and Clip: on f32 results they carry a fused chain's
/// activation and binary steps, applied inside their own loop.
bool isElementwiseEpilogueOp(OpKind op);

/// The result dimension a bias_add (or a per-channel binary operand) runs along for op `op` with
/// a result of rank `rank`: 1 for Conv/ConvTranspose, the last one for Gemm/MatMul.
int epilogueChannelDim(OpKind op, int rank);

/// Whether an operand of shape `s` broadcasts (right-aligned) along the channel dimension only of
/// a result of shape `out` of matrix op `op`, holding one value per channel.
bool isChannelOperand(OpKind op, const Shape &out, const Shape &s);

/// The activation step that computes unary elementwise op `op` with attributes `a` (Relu, Sigmoid,
/// Elu, Exp, ...), or nothing for ops an epilogue does not carry (Not, and Clip, whose bounds are
/// operands). Gelu with an unknown `approximate` gives nothing.
std::optional<EpilogueStep> activationStepOf(OpKind op, const Attributes &a);

/// The elementwise op a binary step computes (Add for BinKind::Add, ...), and back: the binary
/// step kind of op `op`, if the epilogue carries it.
OpKind binaryOp(BinKind k);
std::optional<BinKind> binKindOf(OpKind op);

/// The unary op and attributes that compute activation step `s` (all but Clip and SiLU, which
/// have no single-op form with attributes).
std::optional<std::pair<OpKind, Attributes>> activationOp(const EpilogueStep &s);

struct Epilogue {
  std::vector<EpilogueStep> steps;
  bool empty() const { return steps.empty(); }
  bool operator==(const Epilogue &o) const { return steps == o.steps; }
};

} // namespace kiln
