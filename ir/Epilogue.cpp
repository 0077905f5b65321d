// The correspondence between activation steps and the unary ops they compute: one table, read
// by fuse-epilogue (op → step), the reference evaluation of epilogues (step → op) and code
// generation (which prints both through the same kernel functors).
#include "ir/Epilogue.h"

namespace kiln {

namespace {

/// One row per activation that is exactly one unary op; the op's float attributes `alphaAttr` and
/// `betaAttr` (with their ONNX defaults) map to the step's alpha and beta.
struct ActRow {
  ActKind act;
  OpKind op;
  const char *alphaAttr;
  double alphaDefault;
  const char *betaAttr;
  double betaDefault;
};

const ActRow kRows[] = {
    {ActKind::Relu, OpKind::Relu, nullptr, 0, nullptr, 0},
    {ActKind::LeakyRelu, OpKind::LeakyRelu, "alpha", 0.01, nullptr, 0},
    {ActKind::Sigmoid, OpKind::Sigmoid, nullptr, 0, nullptr, 0},
    {ActKind::HardSigmoid, OpKind::HardSigmoid, "alpha", 0.2, "beta", 0.5},
    {ActKind::HardSwish, OpKind::HardSwish, nullptr, 0, nullptr, 0},
    {ActKind::Tanh, OpKind::Tanh, nullptr, 0, nullptr, 0},
    {ActKind::Gelu, OpKind::Gelu, nullptr, 0, nullptr, 0},
    {ActKind::GeluTanh, OpKind::Gelu, nullptr, 0, nullptr, 0},
    {ActKind::Elu, OpKind::Elu, "alpha", 1.0, nullptr, 0},
    {ActKind::Selu, OpKind::Selu, "alpha", 1.67326319217681884765625, "gamma",
     1.05070102214813232421875},
    {ActKind::Softplus, OpKind::Softplus, nullptr, 0, nullptr, 0},
    {ActKind::Exp, OpKind::Exp, nullptr, 0, nullptr, 0},
    {ActKind::Log, OpKind::Log, nullptr, 0, nullptr, 0},
    {ActKind::Sqrt, OpKind::Sqrt, nullptr, 0, nullptr, 0},
    {ActKind::Abs, OpKind::Abs, nullptr, 0, nullptr, 0},
    {ActKind::Neg, OpKind::Neg, nullptr, 0, nullptr, 0},
    {ActKind::Reciprocal, OpKind::Reciprocal, nullptr, 0, nullptr, 0},
    {ActKind::Erf, OpKind::Erf, nullptr, 0, nullptr, 0},
    {ActKind::Floor, OpKind::Floor, nullptr, 0, nullptr, 0},
    {ActKind::Ceil, OpKind::Ceil, nullptr, 0, nullptr, 0},
};

/// Indexed by BinKind.
const OpKind kBinOps[] = {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div,
                          OpKind::Pow, OpKind::Max, OpKind::Min};

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
    if (r.op != op || (want && r.act != *want))
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
    if (r.act != s.act)
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
