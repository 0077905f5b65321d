// sink-transposes: moves a Transpose below the elementwise work that follows it, so that it meets
// an inverse Transpose and both disappear, or at least stops between a producer and its
// activation (which fuse-epilogue can then fold into the producer's epilogue):
//   - Transpose(x) → unary elementwise U (an OpClass::Unary op, or Clip with rank-0 constant
//     bounds; the result type equal to the operand type)  →  U(x) → Transpose;
//   - Transpose(x) → binary elementwise B(·, c) with c a constant  →  B(x, c') → Transpose, where
//     c' = c right-aligned to the transpose's rank and permuted by the inverse permutation; a
//     single-element c is kept as it is (its broadcast does not depend on the layout). A new
//     constant is made only when c is small (kMaxPermutedBytes) or the binary is its only user,
//     so the weights never grow by more than that cap;
//   - B(Transpose(x), Transpose(z)) with the same permutation  →  B(x, z) → Transpose;
//   - Transpose(Transpose(x)) → one Transpose with the composed permutation, or nothing when the
//     composition is the identity;
//   - a Reshape (or Flatten/Squeeze/Unsqueeze) sinks the same way below unary elementwise ops and
//     binary ones whose other operand is a single-element constant (exact: elementwise work does
//     not depend on the shape), and Reshape(Reshape-like(x)) reads x directly, disappearing when
//     it restores x's shape.
// Must not fire when the transposed value has another user or is a graph output (the Transpose
// would be computed twice), when a constant would broadcast the transposed operand to a larger
// shape, or when the other operand of a binary is a non-constant value in another layout.
// Keeps: the names of graph outputs, node names (the moved Transpose node is the same node), and
// the execution order of everything else.
#include "ir/OpParams.h"
#include "ir/Semantics.h"
#include "passes/Pass.h"
#include "passes/Rewrite.h"

namespace kiln {

namespace {

/// Constants up to this size are permuted even when other nodes still need the original.
constexpr int64_t kMaxPermutedBytes = 4096;

struct Counts {
  int64_t sunk = 0, merged = 0, cancelled = 0, constantsPermuted = 0, reshapesSunk = 0,
          reshapesMerged = 0;
};

bool isReshapeLike(OpKind k) {
  return k == OpKind::Reshape || k == OpKind::Flatten || k == OpKind::Squeeze ||
         k == OpKind::Unsqueeze;
}

std::vector<int64_t> inversePerm(const std::vector<int64_t> &p) {
  std::vector<int64_t> q(p.size());
  for (size_t i = 0; i < p.size(); ++i)
    q[static_cast<size_t>(p[i])] = static_cast<int64_t>(i);
  return q;
}

bool isIdentityPerm(const std::vector<int64_t> &p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != static_cast<int64_t>(i))
      return false;
  return true;
}

/// The shape s had before Transpose(perm) produced it: out[perm[i]] = s[i].
Shape unpermuteShape(const Shape &s, const std::vector<int64_t> &perm) {
  Shape out(s.size());
  for (size_t i = 0; i < s.size(); ++i)
    out[static_cast<size_t>(perm[i])] = s[i];
  return out;
}

void swapNames(Graph &g, Value *a, Value *b) {
  std::string an = a->name(), bn = b->name();
  a->setName(g.freshName(an + ".swap"));
  b->setName(an);
  a->setName(bn);
}

/// Turns `t = T(x); y = u(..t..)` into `y' = u(..x..); t' = T(y')` after the caller has rewritten
/// u's operands: the Transpose node is reused and now reads u's result; what used u's result
/// (users and graph outputs) now reads the Transpose.
void sinkBelow(Graph &g, Node *tr, Node *u, const Shape &newShape) {
  Value *t = tr->result(), *y = u->result();
  TensorType yType = y->type(), tType = yType;
  tType.shape = newShape;
  bool output = g.isOutput(y);
  g.replaceAllUsesWith(y, t); // users and outputs of y now read the Transpose
  tr->setOperand(0, y);
  y->setType(tType);
  t->setType(yType);
  g.moveNodeBefore(tr, u); // the Transpose directly above u, then u above it
  g.moveNodeBefore(u, tr);
  if (output) // a graph output keeps its name: it is part of the generated API
    swapNames(g, y, t);
}

/// Transpose(Transpose(x)) where the inner result has only the outer Transpose as user.
bool merge(Graph &g, Node *inner, Node *outer, Counts &c) {
  std::vector<int64_t> p1 = transposePerm(*inner), p2 = transposePerm(*outer);
  if (p1.size() != p2.size())
    return false;
  std::vector<int64_t> q(p2.size());
  for (size_t i = 0; i < p2.size(); ++i)
    q[i] = p1[static_cast<size_t>(p2[i])];
  Value *x = inner->operand(0);
  outer->setOperand(0, x);
  g.eraseNode(inner);
  if (!isIdentityPerm(q)) {
    outer->attrs().set("perm", q);
    ++c.merged;
    return true;
  }
  replaceValue(g, outer->result(), x);
  g.eraseNode(outer);
  ++c.cancelled;
  return true;
}

/// The constant c' that, broadcast against x, gives after Transpose(perm) what c gave against
/// Transpose(x): c right-aligned to rank(perm) and permuted by the inverse permutation.
Value *permuteConstant(Graph &g, Value *c, const std::vector<int64_t> &perm) {
  const TensorType &ct = c->type();
  Shape full(perm.size() - ct.shape.size(), 1);
  full.insert(full.end(), ct.shape.begin(), ct.shape.end());
  Tensor padded(ct.dtype(), full, *c->constant().bytes);
  std::vector<int64_t> inv = inversePerm(perm);
  Attributes a;
  a.set("perm", inv);
  TensorType outType(ct.elem, unpermuteShape(full, perm));
  llvm::Expected<std::vector<Tensor>> r = evaluate(OpKind::Transpose, {padded}, a, {outType});
  if (!r) {
    llvm::consumeError(r.takeError());
    return nullptr;
  }
  return addNamedConstant(g, c->name() + "_t", std::move((*r)[0]));
}

/// Reshape-like(x) followed by elementwise work that does not depend on the shape, or by a
/// Reshape that can read x directly.
bool sinkReshapeOnce(Graph &g, Node *rs, Counts &c) {
  if (!isReshapeLike(rs->op()) || rs->numResults() != 1)
    return false;
  Value *x = rs->operand(0), *t = rs->result();
  if (!x->type().layout.isRowMajor() || !t->type().layout.isRowMajor())
    return false;
  Node *u = soleUser(g, t);
  if (!u || u->numResults() != 1 || u->operand(0) != t || !u->epilogue().empty())
    return false;
  Value *y = u->result();
  if (u->op() == OpKind::Reshape) {
    // The outer Reshape's shape must not copy dimensions from its input (0 with allowzero = 0).
    if (u->numOperands() < 2 || !u->operand(1)->isConstant())
      return false;
    if (!reshapeAllowZero(*u))
      for (int64_t d : u->operand(1)->constant().toInts())
        if (d == 0)
          return false;
    if (y->type() == x->type() && !x->isInput()) {
      replaceValue(g, y, x);
      g.eraseNode(u);
    } else {
      u->setOperand(0, x);
    }
    g.eraseNode(rs);
    ++c.reshapesMerged;
    return true;
  }
  bool unary = opClass(u->op()) == OpClass::Unary || isClipWithScalarBounds(u);
  bool scalarBinary = opClass(u->op()) == OpClass::Binary && u->numOperands() == 2 &&
                      u->operand(1) != t && u->operand(1)->isConstant() &&
                      u->operand(1)->type().numElements() == 1 &&
                      u->operand(1)->type().rank() <= x->type().rank();
  if ((!unary && !scalarBinary) || y->type().shape != t->type().shape)
    return false;
  u->setOperand(0, x);
  sinkBelow(g, rs, u, x->type().shape);
  ++c.reshapesSunk;
  return true;
}

bool sinkOnce(Graph &g, Node *tr, Counts &c) {
  if (isReshapeLike(tr->op()))
    return sinkReshapeOnce(g, tr, c);
  if (tr->op() != OpKind::Transpose)
    return false;
  Value *x = tr->operand(0), *t = tr->result();
  std::vector<int64_t> perm = transposePerm(*tr);
  if (perm.size() != static_cast<size_t>(x->type().rank()) || !x->type().layout.isRowMajor() ||
      !t->type().layout.isRowMajor())
    return false;
  Node *u = soleUser(g, t);
  if (!u || u->numResults() != 1 || !u->epilogue().empty())
    return false;
  if (u->op() == OpKind::Transpose)
    return merge(g, tr, u, c);
  Value *y = u->result();

  if (opClass(u->op()) == OpClass::Unary || isClipWithScalarBounds(u)) {
    if (u->operand(0) != t || y->type() != t->type())
      return false;
    u->setOperand(0, x);
    sinkBelow(g, tr, u, x->type().shape);
    ++c.sunk;
    return true;
  }

  if (opClass(u->op()) != OpClass::Binary || u->numOperands() != 2 ||
      y->type().rank() != t->type().rank())
    return false;
  Value *a = u->operand(0), *b = u->operand(1);
  if (a == t && b == t) { // x ⊕ x
    u->setOperand(0, x);
    u->setOperand(1, x);
    sinkBelow(g, tr, u, unpermuteShape(y->type().shape, perm));
    ++c.sunk;
    return true;
  }
  unsigned side = a == t ? 0 : 1;
  Value *other = u->operand(1 - side);
  Node *otherTr = other->producer();
  if (other->isConstant()) {
    const TensorType &ot = other->type();
    if (ot.rank() > t->type().rank() || y->type().shape != t->type().shape ||
        ot.elem.isQuantized() || !ot.layout.isRowMajor())
      return false;
    Value *replacement = other;
    if (ot.numElements() != 1) {
      bool onlyUser = g.users(other).size() == 1 && !g.isOutput(other);
      if (ot.byteSize() > kMaxPermutedBytes && !onlyUser)
        return false;
      replacement = permuteConstant(g, other, perm);
      if (!replacement)
        return false;
      ++c.constantsPermuted;
    }
    u->setOperand(side, x);
    u->setOperand(1 - side, replacement);
  } else if (otherTr && otherTr->op() == OpKind::Transpose && transposePerm(*otherTr) == perm &&
             soleUser(g, other) == u) {
    u->setOperand(side, x);
    u->setOperand(1 - side, otherTr->operand(0));
    g.eraseNode(otherTr);
  } else {
    return false;
  }
  sinkBelow(g, tr, u, unpermuteShape(y->type().shape, perm));
  ++c.sunk;
  return true;
}

} // namespace

PassResult runSinkTransposes(Graph &g, PassContext &) {
  PassResult r;
  Counts c;
  rewriteToFixpoint(g, [&](Node *n) { return sinkOnce(g, n, c); });
  g.eraseUnusedConstants();
  r.counters["transposes-sunk"] = c.sunk;
  r.counters["transposes-merged"] = c.merged;
  r.counters["transposes-cancelled"] = c.cancelled;
  r.counters["constants-permuted"] = c.constantsPermuted;
  r.counters["reshapes-sunk"] = c.reshapesSunk;
  r.counters["reshapes-merged"] = c.reshapesMerged;
  r.changed = c.sunk + c.merged + c.cancelled + c.reshapesSunk + c.reshapesMerged > 0;
  return r;
}

} // namespace kiln
