// fuse-epilogue: moves work that follows a Conv, ConvTranspose, Gemm or MatMul into the producer's
// generic epilogue (ir/Epilogue.h), so the kernel applies it to each output value before storing:
//   - a per-channel constant Add           → BiasAdd step   (Conv: [C,1,1] / [1,C,1,1]; Gemm,
//                                                             MatMul: [N] / [1,N])
//   - an Add of a same-typed tensor        → ResidualAdd step (the producer is moved down to the
//                                                             Add so the residual is computed
//                                                             first)
//   - Relu, Clip (constant bounds), LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh, Gelu
//                                          → Activation step
//   - x * Sigmoid(x)                       → Activation SiLU
// Fires only on f32 results whose sole user is the fused node. Steps keep their order, so
// Conv → Add(residual) → Relu becomes one epilogue [residual_add, relu].
#include "passes/Pass.h"
#include "passes/Rewrite.h"

#include <cmath>

namespace kiln {

namespace {

bool isEpilogueProducer(OpKind k) {
  return k == OpKind::Conv || k == OpKind::ConvTranspose || k == OpKind::Gemm ||
         k == OpKind::MatMul;
}

/// Elementwise ops whose kernel applies activation steps in the same loop (chains such as
/// Add -> Relu or Mul -> Sigmoid become one loop without a stored temporary).
bool isElementwiseProducer(OpKind k) {
  return opClass(k) == OpClass::Unary || opClass(k) == OpClass::Binary || k == OpKind::Clip;
}

/// The activation step a node computes, if it is one the epilogue can carry.
std::optional<EpilogueStep> activationOf(const Node *u) {
  EpilogueStep s;
  s.kind = EpilogueStep::Kind::Activation;
  switch (u->op()) {
  case OpKind::Relu:
    s.act = ActKind::Relu;
    return s;
  case OpKind::LeakyRelu:
    s.act = ActKind::LeakyRelu;
    s.alpha = u->attrs().getFloat("alpha", 0.01);
    return s;
  case OpKind::HardSigmoid:
    s.act = ActKind::HardSigmoid;
    s.alpha = u->attrs().getFloat("alpha", 0.2);
    s.beta = u->attrs().getFloat("beta", 0.5);
    return s;
  case OpKind::HardSwish:
    s.act = ActKind::HardSwish;
    return s;
  case OpKind::Sigmoid:
    s.act = ActKind::Sigmoid;
    return s;
  case OpKind::Tanh:
    s.act = ActKind::Tanh;
    return s;
  case OpKind::Gelu:
    if (u->attrs().getString("approximate", "none") != "none")
      return std::nullopt;
    s.act = ActKind::Gelu;
    return s;
  case OpKind::Clip: {
    s.act = ActKind::Clip;
    s.alpha = -INFINITY;
    s.beta = INFINITY;
    if (u->numOperands() > 1) {
      std::optional<double> lo = splatValue(u->operand(1));
      if (!lo || u->operand(1)->type().rank() != 0)
        return std::nullopt;
      s.alpha = *lo;
    }
    if (u->numOperands() > 2) {
      std::optional<double> hi = splatValue(u->operand(2));
      if (!hi || u->operand(2)->type().rank() != 0)
        return std::nullopt;
      s.beta = *hi;
    }
    return s;
  }
  default:
    return std::nullopt;
  }
}

/// Whether constant c broadcasts along the producer's channel only.
bool isChannelVector(const Node *p, const Value *c) {
  const Shape &out = p->result()->type().shape;
  const Shape &cs = c->type().shape;
  if (out.size() < 2)
    return false;
  bool convLike = p->op() == OpKind::Conv || p->op() == OpKind::ConvTranspose;
  size_t axis = convLike ? 1 : out.size() - 1;
  int64_t channels = out[axis];
  if (cs.size() > out.size() || numElements(cs) != channels)
    return false;
  // Right-aligned broadcast: the constant's non-1 dim must sit on the channel axis.
  size_t offset = out.size() - cs.size();
  for (size_t i = 0; i < cs.size(); ++i)
    if (cs[i] != 1 && i + offset != axis)
      return false;
  return channels == 1 || !cs.empty();
}

bool fuseOnce(Graph &g, Node *p) {
  bool elementwise = isElementwiseProducer(p->op());
  if ((!isEpilogueProducer(p->op()) && !elementwise) || p->numResults() != 1 ||
      p->result()->type().dtype() != DType::F32)
    return false;
  Value *r = p->result();
  Node *u = soleUser(g, r);
  if (!u)
    return false;
  EpilogueStep step;
  Value *result = u->numResults() == 1 ? u->result() : nullptr;
  if (!result || result->type() != r->type())
    return false;
  if (std::optional<EpilogueStep> act = activationOf(u)) {
    if (u->operand(0) != r)
      return false;
    step = *act;
  } else if (elementwise) {
    return false; // elementwise producers take activation steps only
  } else if (u->op() == OpKind::Add && u->numOperands() == 2) {
    Value *other = u->operand(0) == r ? u->operand(1) : u->operand(0);
    if (other == r)
      return false;
    if (other->isConstant() && isChannelVector(p, other)) {
      step.kind = EpilogueStep::Kind::BiasAdd;
    } else if (other->type() == r->type()) {
      step.kind = EpilogueStep::Kind::ResidualAdd;
      g.moveNodeBefore(p, u); // the residual must be computed before the producer runs
    } else {
      return false;
    }
    step.operand = static_cast<int>(p->numOperands());
    p->addOperand(other);
  } else if (u->op() == OpKind::Sigmoid && u->operand(0) == r) {
    // x * sigmoid(x): r feeds both the Sigmoid and the Mul, so r has two users; handled below.
    return false;
  } else {
    return false;
  }
  p->epilogue().steps.push_back(step);
  replaceValue(g, result, r);
  g.eraseNode(u);
  return true;
}

/// x * Sigmoid(x) where x is a producer's result used only by those two nodes.
bool fuseSilu(Graph &g, Node *p) {
  if (!isEpilogueProducer(p->op()) || p->numResults() != 1 ||
      p->result()->type().dtype() != DType::F32 || g.isOutput(p->result()))
    return false;
  Value *r = p->result();
  std::vector<Node *> users = g.users(r);
  if (users.size() != 2)
    return false;
  Node *sig = users[0]->op() == OpKind::Sigmoid ? users[0] : users[1];
  Node *mul = sig == users[0] ? users[1] : users[0];
  if (sig->op() != OpKind::Sigmoid || mul->op() != OpKind::Mul || soleUser(g, sig->result()) != mul)
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
  int64_t fused = rewriteToFixpoint(g, [&](Node *n) { return fuseOnce(g, n) || fuseSilu(g, n); });
  r.counters["nodes-fused"] = fused;
  r.changed = fused > 0;
  return r;
}

} // namespace kiln
