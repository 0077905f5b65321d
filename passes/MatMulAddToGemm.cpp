// matmul-add-to-gemm: a 2-D MatMul followed by an Add of a bias that broadcasts along rows
// ([N], [1,N] or [M,N]) becomes one Gemm(A, B, C) with alpha = beta = 1, so the bias is added
// inside the matrix kernel instead of in a second pass over the result.
// Must not fire when: an operand is not 2-D, the MatMul result has another user or is a graph
// output, the bias would broadcast the result to a larger shape, or the dtype is not f32.
// Keeps: the Add's result name (it may be a graph output).
#include "passes/Pass.h"
#include "passes/Rewrite.h"

namespace kiln {

namespace {

bool rewrite(Graph &g, Node *mm) {
  if (mm->op() != OpKind::MatMul || !mm->epilogue().empty() || mm->numOperands() != 2)
    return false;
  Value *a = mm->operand(0), *b = mm->operand(1), *y = mm->result();
  if (a->type().rank() != 2 || b->type().rank() != 2 || y->type().dtype() != DType::F32)
    return false;
  Node *add = soleUser(g, y);
  if (!add || add->op() != OpKind::Add || add->numOperands() != 2 || !add->epilogue().empty())
    return false;
  Value *c = add->operand(0) == y ? add->operand(1) : add->operand(0);
  if (c == y || add->result()->type() != y->type() || c->type().dtype() != DType::F32)
    return false;
  const Shape &cs = c->type().shape, &ys = y->type().shape;
  bool rowBias = (cs.size() == 1 && cs[0] == ys[1]) ||
                 (cs.size() == 2 && (cs[0] == 1 || cs[0] == ys[0]) && cs[1] == ys[1]);
  if (!rowBias)
    return false;
  Attributes attrs;
  attrs.set("alpha", 1.0);
  attrs.set("beta", 1.0);
  attrs.set("transA", int64_t(0));
  attrs.set("transB", int64_t(0));
  Node *gemm = g.insertNodeBefore(add, OpKind::Gemm, mm->name(), {a, b, c}, {y->type()},
                                  {g.freshName(add->result()->name() + ".gemm")}, attrs);
  replaceValue(g, add->result(), gemm->result());
  g.eraseNode(add);
  g.eraseNode(mm);
  return true;
}

} // namespace

PassResult runMatMulAddToGemm(Graph &g, PassContext &) {
  PassResult r;
  int64_t n = 0;
  for (Node *node : g.nodes())
    n += rewrite(g, node);
  r.counters["matmuls-to-gemm"] = n;
  r.changed = n > 0;
  return r;
}

} // namespace kiln
