// replace-ops: rewrites nodes into cheaper equivalents.
//   - Div by a constant → Mul by its reciprocal (f32 only; exact for powers of two, within one ulp
//     otherwise, which the reference tolerance covers);
//   - x * HardSigmoid(x; alpha = 1/6, beta = 1/2) → HardSwish(x)   (how opset-13 exporters spell
//   it)
//   - x * 0.5 * (1 + Erf(x / sqrt(2)))  and  0.5 * x * (1 + Erf(x * (1/sqrt 2)))  → Gelu(x)
// Fires only when the intermediate values have no other users.
#include "ir/OpParams.h"
#include "passes/Pass.h"
#include "passes/Rewrite.h"

#include <cmath>

namespace kiln {

namespace {

bool near(double a, double b) { return std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(b)); }

bool divToMul(Graph &g, Node *n) {
  if (n->op() != OpKind::Div || n->result()->type().dtype() != DType::F32 ||
      !n->operand(1)->isConstant() || !n->epilogue().empty())
    return false;
  std::vector<double> v = n->operand(1)->constant().toDoubles();
  for (double &x : v) {
    if (x == 0)
      return false; // keep IEEE division semantics for inf/nan results
    x = 1.0 / x;
  }
  Value *recip = addNamedConstant(g, n->operand(1)->name() + ".reciprocal",
                                  Tensor::fromDoubles(DType::F32, n->operand(1)->type().shape, v));
  Node *mul =
      g.insertNodeBefore(n, OpKind::Mul, n->name(), {n->operand(0), recip}, {n->result()->type()},
                         {g.freshName(n->result()->name() + ".mul")});
  replaceValue(g, n->result(), mul->result());
  g.eraseNode(n);
  return true;
}

/// The operand of a binary node that is not `x`, when the other one is.
Value *otherOperand(const Node *n, const Value *x) {
  if (n->numOperands() != 2)
    return nullptr;
  if (n->operand(0) == x)
    return n->operand(1);
  if (n->operand(1) == x)
    return n->operand(0);
  return nullptr;
}

bool hardSwishPattern(Graph &g, Node *hs) {
  if (hs->op() != OpKind::HardSigmoid || !hs->epilogue().empty())
    return false;
  const UnaryParams p = unaryParams(*hs);
  if (!near(p.alpha, 1.0 / 6) || !near(p.beta, 0.5))
    return false;
  Value *x = hs->operand(0);
  Node *mul = soleUser(g, hs->result());
  if (!mul || mul->op() != OpKind::Mul || otherOperand(mul, hs->result()) != x ||
      mul->result()->type() != x->type() || !mul->epilogue().empty())
    return false;
  Node *sw = g.insertNodeBefore(mul, OpKind::HardSwish, mul->name(), {x}, {x->type()},
                                {g.freshName(mul->result()->name() + ".hardswish")});
  replaceValue(g, mul->result(), sw->result());
  g.eraseNode(mul);
  g.eraseNode(hs);
  return true;
}

/// Matches Div(x, sqrt 2) or Mul(x, 1/sqrt 2) feeding an Erf; returns x.
Value *erfArgument(const Node *erf) {
  Node *scale = erf->operand(0)->producer();
  if (!scale || scale->numOperands() != 2)
    return nullptr;
  std::optional<double> c = splatValue(scale->operand(1));
  if (!c)
    return nullptr;
  if (scale->op() == OpKind::Div && near(*c, std::sqrt(2.0)))
    return scale->operand(0);
  if (scale->op() == OpKind::Mul && near(*c, 1.0 / std::sqrt(2.0)))
    return scale->operand(0);
  return nullptr;
}

bool geluPattern(Graph &g, Node *erf) {
  if (erf->op() != OpKind::Erf)
    return false;
  Value *x = erfArgument(erf);
  if (!x)
    return false;
  Node *scale = erf->operand(0)->producer();
  Node *plus = soleUser(g, erf->result());
  if (!plus || plus->op() != OpKind::Add || soleUser(g, scale->result()) != erf)
    return false;
  std::optional<double> one = splatValue(otherOperand(plus, erf->result()));
  if (!one || *one != 1.0)
    return false;
  // Either (x * (1 + erf)) * 0.5 or (x * 0.5) * (1 + erf) or x * ((1 + erf) * 0.5).
  Node *m1 = soleUser(g, plus->result());
  if (!m1 || m1->op() != OpKind::Mul)
    return false;
  Value *other = otherOperand(m1, plus->result());
  std::vector<Node *> dead = {m1, plus, erf, scale};
  Node *last = nullptr;
  if (other == x) {
    Node *m2 = soleUser(g, m1->result());
    std::optional<double> half = m2 ? splatValue(otherOperand(m2, m1->result())) : std::nullopt;
    if (!m2 || m2->op() != OpKind::Mul || !half || *half != 0.5)
      return false;
    last = m2;
    dead.insert(dead.begin(), m2);
  } else if (std::optional<double> half = splatValue(other); half && *half == 0.5) {
    Node *m2 = soleUser(g, m1->result());
    if (!m2 || m2->op() != OpKind::Mul || otherOperand(m2, m1->result()) != x)
      return false;
    last = m2;
    dead.insert(dead.begin(), m2);
  } else if (Node *xh = other ? other->producer() : nullptr;
             xh && xh->op() == OpKind::Mul && soleUser(g, other) == m1 && otherOperand(xh, x) &&
             splatValue(otherOperand(xh, x)) == 0.5) {
    last = m1;
    dead.push_back(xh);
  } else {
    return false;
  }
  if (last->result()->type() != x->type())
    return false;
  for (const Node *d : dead)
    if (!d->epilogue().empty())
      return false; // fused work on a matched node would be lost
  Attributes a;
  a.set("approximate", std::string("none"));
  Node *gelu = g.insertNodeBefore(last, OpKind::Gelu, last->name(), {x}, {x->type()},
                                  {g.freshName(last->result()->name() + ".gelu")}, a);
  replaceValue(g, last->result(), gelu->result());
  for (Node *d : dead)
    g.eraseNode(d);
  return true;
}

} // namespace

PassResult runReplaceOps(Graph &g, PassContext &) {
  PassResult r;
  int64_t div = 0, hswish = 0, gelu = 0;
  rewriteToFixpoint(g, [&](Node *n) {
    if (divToMul(g, n))
      ++div;
    else if (hardSwishPattern(g, n))
      ++hswish;
    else if (geluPattern(g, n))
      ++gelu;
    else
      return false;
    return true;
  });
  g.eraseUnusedConstants();
  r.counters["divisions-to-multiplications"] = div;
  r.counters["hardswish-patterns"] = hswish;
  r.counters["gelu-patterns"] = gelu;
  r.changed = div + hswish + gelu > 0;
  return r;
}

} // namespace kiln
