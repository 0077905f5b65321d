// The correspondence between activation steps and the unary ops they compute: one table, read
// by fuse-epilogue (op → step), the reference evaluation of epilogues (step → op) and code
// generation (which prints both through the same kernel functors).
#include "ir/Epilogue.h"

namespace kiln {

namespace {

/// The OpKind enumerators by bare name, plus None, so that the Op column of ir/Activations.def
/// expands to a constant.
namespace opk {
constexpr OpKind None = static_cast<OpKind>(0xFFFF);
#define KILN_OP(E, N, K, F) constexpr OpKind E = OpKind::E;
#include "ir/Ops.def"
} // namespace opk

/// One row per ActKind, in enum order (ir/Activations.def); `op` is None for the steps that are
/// not exactly one unary op. The op's float attributes `alphaAttr` and `betaAttr` (with their ONNX
/// defaults) map to the step's alpha and beta.
struct ActRow {
  ActKind act;
  OpKind op;
  const char *alphaAttr;
  double alphaDefault;
  const char *betaAttr;
  double betaDefault;
};

constexpr ActRow kRows[] = {
#define KILN_ACT(E, N, OP, AA, AD, BA, BD, P) {ActKind::E, opk::OP, AA, AD, BA, BD},
#include "ir/Activations.def"
};

/// Unary ops of ir/Ops.def that an epilogue does not carry: Not is boolean.
constexpr OpKind kUncarriedUnary[] = {OpKind::Not};

constexpr bool isUnaryOp(OpKind op) {
  constexpr bool kUnary[] = {
#define KILN_OP(E, N, K, F) OpClass::K == OpClass::Unary,
#include "ir/Ops.def"
  };
  return kUnary[static_cast<unsigned>(op)];
}

/// Every unary op has an activation row or is listed as uncarried, and every row's op is unary.
constexpr bool activationsCoverUnaryOps() {
  constexpr OpKind kAll[] = {
#define KILN_OP(E, N, K, F) OpKind::E,
#include "ir/Ops.def"
  };
  for (OpKind op : kAll) {
    if (!isUnaryOp(op))
      continue;
    bool found = false;
    for (const ActRow &r : kRows)
      found = found || r.op == op;
    for (OpKind u : kUncarriedUnary)
      found = found || u == op;
    if (!found)
      return false;
  }
  for (const ActRow &r : kRows)
    if (r.op != opk::None && !isUnaryOp(r.op))
      return false;
  return true;
}
static_assert(activationsCoverUnaryOps(),
              "a unary op of ir/Ops.def lacks a row in ir/Activations.def (or is not unary)");

/// Indexed by BinKind: the step's enumerator names its op.
constexpr OpKind kBinOps[] = {
#define KILN_BIN(E, N) OpKind::E,
#include "ir/BinarySteps.def"
};

/// Every binary step computes an elementwise op of two broadcast operands.
constexpr bool binaryStepsAreElementwise() {
  constexpr OpClass kClass[] = {
#define KILN_OP(E, N, K, F) OpClass::K,
#include "ir/Ops.def"
  };
  for (OpKind op : kBinOps) {
    OpClass c = kClass[static_cast<unsigned>(op)];
    if (c != OpClass::Binary && c != OpClass::Variadic)
      return false;
  }
  return true;
}
static_assert(binaryStepsAreElementwise(),
              "a row of ir/BinarySteps.def names an op that is not binary or variadic");

} // namespace

OpKind binaryOp(BinKind k) { return kBinOps[static_cast<unsigned>(k)]; }

std::optional<BinKind> binKindOf(OpKind op) {
  for (unsigned i = 0; i < sizeof(kBinOps) / sizeof(kBinOps[0]); ++i)
    if (kBinOps[i] == op)
      return static_cast<BinKind>(i);
  return std::nullopt;
}

bool isMatrixEpilogueOp(OpKind op) {
  return op == OpKind::Conv || op == OpKind::ConvTranspose || op == OpKind::Gemm ||
         op == OpKind::MatMul;
}

bool isElementwiseEpilogueOp(OpKind op) {
  return opClass(op) == OpClass::Unary || opClass(op) == OpClass::Binary || op == OpKind::Clip;
}

int epilogueChannelDim(OpKind op, int rank) {
  return op == OpKind::Conv || op == OpKind::ConvTranspose ? 1 : rank - 1;
}

bool isChannelOperand(OpKind op, const Shape &out, const Shape &s) {
  if (out.size() < 2 || s.size() > out.size())
    return false;
  const size_t axis = static_cast<size_t>(epilogueChannelDim(op, static_cast<int>(out.size())));
  const int64_t channels = out[axis];
  if (numElements(s) != channels)
    return false;
  const size_t offset = out.size() - s.size();
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] != 1 && i + offset != axis)
      return false;
  return channels == 1 || !s.empty();
}

std::optional<EpilogueStep> activationStepOf(OpKind op, const Attributes &a) {
  std::optional<ActKind> want;
  if (op == OpKind::Gelu) {
    std::string approx = a.getString("approximate", "none");
    if (approx != "none" && approx != "tanh")
      return std::nullopt;
    want = approx == "none" ? ActKind::Gelu : ActKind::GeluTanh;
  }
  for (const ActRow &r : kRows) {
    if (r.op == opk::None || r.op != op || (want && r.act != *want))
      continue;
    EpilogueStep s;
    s.kind = EpilogueStep::Kind::Activation;
    s.act = r.act;
    if (r.alphaAttr)
      s.alpha = a.getFloat(r.alphaAttr, r.alphaDefault);
    if (r.betaAttr)
      s.beta = a.getFloat(r.betaAttr, r.betaDefault);
    return s;
  }
  return std::nullopt;
}

std::optional<std::pair<OpKind, Attributes>> activationOp(const EpilogueStep &s) {
  for (const ActRow &r : kRows) {
    if (r.act != s.act || r.op == opk::None)
      continue;
    Attributes a;
    if (r.alphaAttr)
      a.set(r.alphaAttr, s.alpha);
    if (r.betaAttr)
      a.set(r.betaAttr, s.beta);
    if (r.op == OpKind::Gelu)
      a.set("approximate", std::string(r.act == ActKind::GeluTanh ? "tanh" : "none"));
    return std::make_pair(r.op, a);
  }
  return std::nullopt;
}

} // namespace kiln
