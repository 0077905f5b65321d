// fuse-epilogue: moves work that follows a Conv, ConvTranspose, Gemm or MatMul into the producer's
// generic epilogue (ir/Epilogue.h), so the kernel applies it to each output value before storing:
//   - a per-channel constant Add           → BiasAdd step   (Conv: [C,1,1] / [1,C,1,1]; Gemm,
//                                                             MatMul: [N] / [1,N])
//   - an Add of a same-typed tensor        → ResidualAdd step (the producer is moved down to the
//                                                             Add so the residual is computed
//                                                             first)
//   - Add, Sub, Mul, Div, Pow, Max, Min with a same-shaped, per-channel or one-element f32
//     operand                              → Binary step (moved down the same way)
//   - Relu, Clip (constant bounds), LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh, Gelu and
//     every other f32 unary elementwise op (Exp, Sqrt, Abs, ...) → Activation step
//   - x * Sigmoid(x)                       → Activation SiLU
// Elementwise chains fuse the same way: an f32 unary or binary elementwise op (or Clip) takes the
// activations and binary ops after it, whatever the other operand's broadcast, as long as the
// result keeps its shape; the kernel computes the chain in one loop with no stored temporary.
// Fires only on f32 results whose sole user is the fused node. Steps keep their order, so
// Conv → Add(residual) → Relu becomes one epilogue [residual_add, relu]. Conv-like producers are
// served first, so a residual Add joins the convolution rather than a neighbouring elementwise op.
#include "passes/Pass.h"
#include "passes/Rewrite.h"

#include <cmath>

namespace kiln {

namespace {

/// The activation step a node computes, if it is one the epilogue can carry: any f32 unary
/// elementwise op (ir/Epilogue.cpp's table) or a Clip with scalar constant bounds.
std::optional<EpilogueStep> activationOf(const Node *u) {
  if (u->op() != OpKind::Clip)
    return u->numOperands() == 1 ? activationStepOf(u->op(), u->attrs()) : std::nullopt;
  if (!isClipWithScalarBounds(u))
    return std::nullopt;
  EpilogueStep s;
  s.kind = EpilogueStep::Kind::Activation;
  s.act = ActKind::Clip;
  s.alpha = u->numOperands() > 1 ? *splatValue(u->operand(1)) : -INFINITY;
  s.beta = u->numOperands() > 2 ? *splatValue(u->operand(2)) : INFINITY;
  return s;
}

/// The binary step `u` computes with `r` as exactly one of its two operands, if the epilogue can
/// carry it; `other` receives the other operand.
std::optional<EpilogueStep> binaryOf(const Node *u, const Value *r, Value *&other) {
  std::optional<BinKind> bin = binKindOf(u->op());
  if (!bin)
    return std::nullopt;
  EpilogueStep s;
  s.kind = EpilogueStep::Kind::Binary;
  s.bin = *bin;
  if (u->numOperands() != 2 || (u->operand(0) == r) == (u->operand(1) == r))
    return std::nullopt;
  s.swapped = u->operand(1) == r;
  other = s.swapped ? u->operand(0) : u->operand(1);
  if (other->type().dtype() != DType::F32 || other->type().elem.isQuantized() ||
      !other->type().layout.isRowMajor())
    return std::nullopt;
  if (s.bin == BinKind::Add || s.bin == BinKind::Mul)
    s.swapped = false; // commutative: one spelling
  return s;
}

bool fuseOnce(Graph &g, Node *p, bool matrixOnly) {
  bool elementwise = !matrixOnly && isElementwiseEpilogueOp(p->op());
  if ((!isMatrixEpilogueOp(p->op()) && !elementwise) || p->numResults() != 1 ||
      p->result()->type().dtype() != DType::F32)
    return false;
  Value *r = p->result();
  Node *u = soleUser(g, r);
  // A user that already carries an epilogue (a chain fused from its own head) stays whole.
  if (!u || !u->epilogue().empty())
    return false;
  EpilogueStep step;
  Value *result = u->numResults() == 1 ? u->result() : nullptr;
  if (!result || result->type() != r->type())
    return false;
  Value *other = nullptr;
  if (std::optional<EpilogueStep> act = activationOf(u)) {
    if (u->operand(0) != r)
      return false;
    step = *act;
  } else if (std::optional<EpilogueStep> bin = binaryOf(u, r, other)) {
    step = *bin;
    const Shape &out = r->type().shape, &os = other->type().shape;
    if (!elementwise && step.bin == BinKind::Add && other->isConstant() &&
        isChannelOperand(p->op(), out, os))
      step.kind = EpilogueStep::Kind::BiasAdd;
    else if (!elementwise && step.bin == BinKind::Add && other->type() == r->type())
      step.kind = EpilogueStep::Kind::ResidualAdd;
    else if (!elementwise && os != out && numElements(os) != 1 &&
             !isChannelOperand(p->op(), out, os))
      return false; // a matrix kernel reads the operand at the flat index, channel or element 0
    step.operand = static_cast<int>(p->numOperands());
    p->addOperand(other);
    g.moveNodeBefore(p, u); // the operand must be computed before the producer runs
  } else {
    return false;
  }
  p->epilogue().steps.push_back(step);
  replaceValue(g, result, r);
  g.eraseNode(u);
  return true;
}

/// x * Sigmoid(x) where x is a producer's result used only by those two nodes.
bool fuseSilu(Graph &g, Node *p, bool matrixOnly) {
  if ((!isMatrixEpilogueOp(p->op()) && (matrixOnly || !isElementwiseEpilogueOp(p->op()))) ||
      p->numResults() != 1 ||
      p->result()->type().dtype() != DType::F32 || g.isOutput(p->result()))
    return false;
  Value *r = p->result();
  std::vector<Node *> users = g.users(r);
  if (users.size() != 2)
    return false;
  Node *sig = users[0]->op() == OpKind::Sigmoid ? users[0] : users[1];
  Node *mul = sig == users[0] ? users[1] : users[0];
  if (sig->op() != OpKind::Sigmoid || mul->op() != OpKind::Mul ||
      soleUser(g, sig->result()) != mul || !sig->epilogue().empty() || !mul->epilogue().empty())
    return false;
  bool shape = (mul->operand(0) == r && mul->operand(1) == sig->result()) ||
               (mul->operand(1) == r && mul->operand(0) == sig->result());
  if (!shape || mul->result()->type() != r->type())
    return false;
  EpilogueStep step;
  step.kind = EpilogueStep::Kind::Activation;
  step.act = ActKind::SiLU;
  p->epilogue().steps.push_back(step);
  replaceValue(g, mul->result(), r);
  g.eraseNode(mul);
  g.eraseNode(sig);
  return true;
}

} // namespace

PassResult runFuseEpilogue(Graph &g, PassContext &) {
  PassResult r;
  // Conv-like producers first, then elementwise chains.
  int64_t fused = 0;
  for (bool matrixOnly : {true, false})
    fused += rewriteToFixpoint(
        g, [&](Node *n) { return fuseOnce(g, n, matrixOnly) || fuseSilu(g, n, matrixOnly); });
  r.counters["nodes-fused"] = fused;
  r.changed = fused > 0;
  return r;
}

} // namespace kiln
