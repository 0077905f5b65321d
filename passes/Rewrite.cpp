// Rewriting helpers shared by passes (see passes/Rewrite.h).
#include "passes/Rewrite.h"

#include "ir/OpParams.h"

#include <cmath>

namespace kiln {

void replaceValue(Graph &g, Value *from, Value *to) {
  bool renameTo = g.isOutput(from) && to->def() == Value::Def::Result && !g.isOutput(to);
  g.replaceAllUsesWith(from, to);
  if (renameTo) {
    std::string name = from->name();
    from->setName(g.freshName(name + ".replaced"));
    to->setName(name);
  }
}

Node *soleUser(const Graph &g, const Value *v) {
  if (g.isOutput(v))
    return nullptr;
  std::vector<Node *> users = g.users(v);
  if (users.size() != 1)
    return nullptr;
  // Used twice by the same node (x * x) still counts as one user; callers check operand slots.
  return users[0];
}

bool isClipWithScalarBounds(const Node *n) {
  if (n->op() != OpKind::Clip)
    return false;
  for (unsigned i = 1; i < n->numOperands(); ++i)
    if (!n->operand(i)->isConstant() || n->operand(i)->type().rank() != 0)
      return false;
  return true;
}

std::optional<double> splatValue(const Value *v) {
  if (!v->isConstant() || v->type().numElements() == 0)
    return std::nullopt;
  const Tensor &t = v->constant();
  double first = t.getDouble(0);
  for (int64_t i = 1; i < t.numElements(); ++i)
    if (t.getDouble(i) != first)
      return std::nullopt;
  return first;
}

std::optional<BatchNormAffine> batchNormAffine(const Node &bn) {
  if (bn.op() != OpKind::BatchNormalization || bn.numOperands() != 5)
    return std::nullopt;
  for (unsigned i = 1; i < 5; ++i)
    if (!bn.operand(i)->isConstant() || bn.operand(i)->type().dtype() != DType::F32)
      return std::nullopt;
  std::vector<double> gamma = bn.operand(1)->constant().toDoubles();
  std::vector<double> beta = bn.operand(2)->constant().toDoubles();
  std::vector<double> mean = bn.operand(3)->constant().toDoubles();
  std::vector<double> var = bn.operand(4)->constant().toDoubles();
  // epsilon is an ONNX float attribute: use its f32 value, as the reference semantics do.
  double eps = static_cast<float>(batchNormParams(bn).epsilon);
  BatchNormAffine a;
  for (size_t k = 0; k < gamma.size(); ++k) {
    a.scale.push_back(gamma[k] / std::sqrt(var[k] + eps));
    a.shift.push_back(beta[k] - mean[k] * a.scale.back());
  }
  return a;
}

int64_t rewriteToFixpoint(Graph &g, const std::function<bool(Node *)> &rewrite) {
  int64_t count = 0;
  bool progress = true;
  while (progress) {
    progress = false;
    for (Node *n : g.nodes())
      if (rewrite(n)) {
        ++count;
        progress = true;
        break;
      }
  }
  return count;
}

Value *addNamedConstant(Graph &g, const std::string &base, Tensor t) {
  return g.addConstant(g.freshName(base), std::move(t));
}

} // namespace kiln
