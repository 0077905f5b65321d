// eliminate-noops: removes nodes that do not change their input and merges pairs that undo or
// compose each other.
//   removed:  Identity; Dropout (mask unused); Cast to the same type; Reshape/Flatten/Squeeze/
//             Unsqueeze/Expand to the same shape; Transpose by the identity permutation; Slice
//             whose result equals its input with unit steps; Pad by all zeros; Mul/Div by one;
//             Add of zero / Sub of zero — the last four only when the constant does not broadcast
//             the other operand to a larger shape.
//   merged:   Reshape(Reshape-family(x)) → Reshape(x); Transpose(Transpose(x)) → one Transpose
//             (or nothing when the permutations cancel).
// Needs: canonical form (constant shape operands). Keeps: result types of surviving values and
// the names of graph outputs.
#include "ir/OpParams.h"
#include "passes/Pass.h"
#include "passes/Rewrite.h"

namespace kiln {

namespace {

bool sameType(const Value *a, const Value *b) { return a->type() == b->type(); }

bool isReshapeFamily(OpKind k) {
  return k == OpKind::Reshape || k == OpKind::Flatten || k == OpKind::Squeeze ||
         k == OpKind::Unsqueeze;
}

/// The operand a no-op node forwards, or nullptr when the node does real work.
Value *forwardedOperand(const Graph &g, Node *n) {
  if (!n->epilogue().empty())
    return nullptr; // a node with fused work (Mul by one, then a ReLU) is not a no-op
  Value *x = n->numOperands() ? n->operand(0) : nullptr;
  Value *y = n->numResults() ? n->result(0) : nullptr;
  switch (n->op()) {
  case OpKind::Identity:
    return x;
  case OpKind::Dropout:
    if (n->numResults() > 1 && (g.isOutput(n->result(1)) || !g.users(n->result(1)).empty()))
      return nullptr;
    return x;
  case OpKind::Cast:
  case OpKind::Reshape:
  case OpKind::Flatten:
  case OpKind::Squeeze:
  case OpKind::Unsqueeze:
  case OpKind::Expand:
    return sameType(x, y) ? x : nullptr;
  case OpKind::Transpose: {
    std::vector<int64_t> perm = transposePerm(*n);
    for (size_t i = 0; i < perm.size(); ++i)
      if (perm[i] != static_cast<int64_t>(i))
        return nullptr;
    return perm.size() == static_cast<size_t>(x->type().rank()) ? x : nullptr;
  }
  case OpKind::Slice: {
    if (!sameType(x, y))
      return nullptr;
    if (n->numOperands() > 4) {
      std::optional<double> step = splatValue(n->operand(4));
      if (!step || *step != 1)
        return nullptr;
    }
    return x;
  }
  case OpKind::Pad: {
    std::optional<double> pad = n->numOperands() > 1 ? splatValue(n->operand(1)) : std::nullopt;
    return pad && *pad == 0 && sameType(x, y) ? x : nullptr;
  }
  case OpKind::Mul:
  case OpKind::Div:
  case OpKind::Add:
  case OpKind::Sub: {
    double neutral = (n->op() == OpKind::Mul || n->op() == OpKind::Div) ? 1.0 : 0.0;
    bool commutes = n->op() == OpKind::Mul || n->op() == OpKind::Add;
    for (unsigned side = 0; side < 2; ++side) {
      if (side == 0 && !commutes)
        continue; // neutral on the left of Div/Sub is not neutral
      Value *c = n->operand(side), *other = n->operand(1 - side);
      std::optional<double> v = splatValue(c);
      if (v && *v == neutral && sameType(other, y))
        return other;
    }
    return nullptr;
  }
  default:
    return nullptr;
  }
}

/// Reshape(Reshape-family(x)): the outer Reshape can read x directly unless its shape copies
/// dimensions from its input (a 0 entry with allowzero = 0).
bool mergeReshape(Graph &g, Node *outer) {
  if (outer->op() != OpKind::Reshape)
    return false;
  Node *inner = outer->operand(0)->producer();
  if (!inner || !isReshapeFamily(inner->op()))
    return false;
  if (!reshapeAllowZero(*outer) && outer->numOperands() > 1 && outer->operand(1)->isConstant())
    for (int64_t d : outer->operand(1)->constant().toInts())
      if (d == 0)
        return false;
  outer->setOperand(0, inner->operand(0));
  (void)g;
  return true;
}

/// Transpose(Transpose(x)) → Transpose(x) with the composed permutation.
bool mergeTranspose(Node *outer) {
  if (outer->op() != OpKind::Transpose)
    return false;
  Node *inner = outer->operand(0)->producer();
  if (!inner || inner->op() != OpKind::Transpose)
    return false;
  std::vector<int64_t> p1 = transposePerm(*inner), p2 = transposePerm(*outer);
  if (p1.size() != p2.size())
    return false;
  std::vector<int64_t> q(p2.size());
  for (size_t i = 0; i < p2.size(); ++i)
    q[i] = p1[static_cast<size_t>(p2[i])];
  outer->attrs().set("perm", q);
  outer->setOperand(0, inner->operand(0));
  return true;
}

void eraseIfDead(Graph &g, Node *n) {
  for (Value *r : n->results())
    if (g.isOutput(r) || !g.users(r).empty())
      return;
  g.eraseNode(n);
}

} // namespace

PassResult runEliminateNoops(Graph &g, PassContext &) {
  PassResult r;
  int64_t removed = 0, merged = 0;
  for (Node *n : g.nodes()) {
    Node *inner = n->numOperands() ? n->operand(0)->producer() : nullptr;
    if (mergeReshape(g, n) || mergeTranspose(n)) {
      ++merged;
      if (inner)
        eraseIfDead(g, inner);
    }
    if (Value *x = forwardedOperand(g, n)) {
      replaceValue(g, n->result(0), x);
      bool dead = true;
      for (Value *res : n->results())
        dead &= !g.isOutput(res) && g.users(res).empty();
      if (dead) {
        g.eraseNode(n);
        ++removed;
      }
    }
  }
  g.eraseUnusedConstants();
  r.counters["nodes-removed"] = removed;
  r.counters["pairs-merged"] = merged;
  r.changed = removed + merged > 0;
  return r;
}

} // namespace kiln
