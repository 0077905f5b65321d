// Rewriting helpers shared by passes (see passes/Rewrite.h).
#include "passes/Rewrite.h"

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

Value *addNamedConstant(Graph &g, const std::string &base, Tensor t) {
  return g.addConstant(g.freshName(base), std::move(t));
}

} // namespace kiln
