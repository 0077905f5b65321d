// reorder-activations: moves an activation that follows a MaxPool above it, when the MaxPool reads
// a Conv, ConvTranspose, Gemm or MatMul, so that fuse-epilogue can fold the activation into that
// producer's epilogue:
//   p = Conv(...); m = MaxPool(p); y = Act(m)   →   p = Conv(...); a = Act(p); y = MaxPool(a)
// Exact because max commutes with every monotone non-decreasing function f (f(max S) = max f(S)),
// and ONNX MaxPool ignores padded positions rather than reading a pad value. The activations
// moved are the monotone non-decreasing ones the epilogue carries: Relu, Clip with rank-0 constant
// bounds, LeakyRelu with alpha >= 0, Sigmoid, Tanh, HardSigmoid with alpha > 0.
// Must not fire when the MaxPool has a second result (Indices), when its result has another user
// or is a graph output, when the producer's result has another user (the activation would then
// not fuse and would only run on the larger tensor), on AveragePool (an average does not commute
// with a non-linear f), or on a non-monotone activation (HardSwish, Gelu, LeakyRelu, alpha < 0).
// Keeps: the names of graph outputs (the output now comes out of the MaxPool) and node names.
#include "ir/OpParams.h"
#include "passes/Pass.h"
#include "passes/Rewrite.h"

namespace kiln {

namespace {

/// Whether `a` computes a monotone non-decreasing function of its first operand that
/// fuse-epilogue can carry.
bool isMonotoneActivation(const Node *a) {
  switch (a->op()) {
  case OpKind::Relu:
  case OpKind::Sigmoid:
  case OpKind::Tanh:
    return true;
  case OpKind::LeakyRelu:
    return unaryParams(*a).alpha >= 0;
  case OpKind::HardSigmoid:
    return unaryParams(*a).alpha > 0;
  case OpKind::Clip:
    return isClipWithScalarBounds(a);
  default:
    return false;
  }
}

bool reorderOnce(Graph &g, Node *pool) {
  if (pool->op() != OpKind::MaxPool || pool->numResults() != 1)
    return false;
  Value *m = pool->result(), *p = pool->operand(0);
  Node *producer = p->producer();
  if (!producer || !isMatrixEpilogueOp(producer->op()) || soleUser(g, p) != pool)
    return false;
  Node *act = soleUser(g, m);
  if (!act || act->numResults() != 1 || act->operand(0) != m || !isMonotoneActivation(act) ||
      !act->epilogue().empty())
    return false;
  Value *y = act->result();
  if (y->type() != m->type())
    return false;
  // y's users and outputs now read the MaxPool; the activation reads the producer's result.
  bool output = g.isOutput(y);
  g.replaceAllUsesWith(y, m);
  act->setOperand(0, p);
  y->setType(p->type());
  pool->setOperand(0, y);
  g.moveNodeBefore(act, pool);
  if (!output)
    return true;
  // A graph output keeps its name: it is part of the generated API.
  std::string yName = y->name(), mName = m->name();
  y->setName(g.freshName(yName + ".swap"));
  m->setName(yName);
  y->setName(mName);
  return true;
}

} // namespace

PassResult runReorderActivations(Graph &g, PassContext &) {
  PassResult r;
  int64_t moved = 0;
  for (Node *n : g.nodes())
    if (reorderOnce(g, n))
      ++moved;
  r.counters["activations-moved"] = moved;
  r.changed = moved > 0;
  return r;
}

} // namespace kiln
