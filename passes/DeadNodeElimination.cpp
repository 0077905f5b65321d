// dead-node-elimination: removes every node none of whose results reaches a graph output, then
// every constant no remaining node uses. Keeps: execution order of the surviving nodes.
#include "passes/Pass.h"

#include <set>

namespace kiln {

PassResult runDeadNodeElimination(Graph &g, PassContext &) {
  PassResult r;
  std::set<const Value *> live(g.outputs().begin(), g.outputs().end());
  std::vector<Node *> order = g.nodes();
  std::vector<Node *> dead;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node *n = *it;
    bool used = false;
    for (Value *res : n->results())
      used |= live.count(res) != 0;
    if (!used) {
      dead.push_back(n);
      continue;
    }
    for (Value *o : n->operands())
      live.insert(o);
  }
  for (Node *n : dead)
    g.eraseNode(n);
  size_t before = g.constants().size();
  g.eraseUnusedConstants();
  r.counters["nodes-removed"] = static_cast<int64_t>(dead.size());
  r.counters["constants-removed"] = static_cast<int64_t>(before - g.constants().size());
  r.changed = !dead.empty() || before != g.constants().size();
  return r;
}

} // namespace kiln
