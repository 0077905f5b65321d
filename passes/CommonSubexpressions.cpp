// cse: common-subexpression elimination. Two nodes with the same op, operands, attributes and
// epilogue compute the same values; the later one is replaced by the earlier. Two constants with
// the same dtype, shape and bytes are merged as well (exporters often duplicate small ones).
// Keeps: execution order (the earlier node dominates the later in a topological order).
#include "passes/Pass.h"
#include "passes/Rewrite.h"

#include <map>
#include <tuple>

namespace kiln {

PassResult runCse(Graph &g, PassContext &) {
  PassResult r;
  int64_t constantsMerged = 0, nodesMerged = 0;

  // Constants: key by content hash, confirm by bytes.
  std::map<std::tuple<uint64_t, int64_t>, std::vector<Value *>> byHash;
  for (Value *c : g.constants()) {
    const Tensor &t = c->constant();
    auto &bucket = byHash[{t.hash(), static_cast<int64_t>(t.byteSize())}];
    Value *same = nullptr;
    for (Value *k : bucket)
      if (k->type() == c->type() && *k->constant().bytes == *t.bytes)
        same = k;
    if (same && !g.isOutput(c)) {
      g.replaceAllUsesWith(c, same);
      ++constantsMerged;
    } else {
      bucket.push_back(c);
    }
  }

  std::vector<Node *> seen;
  for (Node *n : g.nodes()) {
    Node *same = nullptr;
    for (Node *m : seen) {
      if (m->op() != n->op() || m->operands() != n->operands() ||
          m->numResults() != n->numResults() || !(m->attrs() == n->attrs()) ||
          !(m->epilogue() == n->epilogue()))
        continue;
      bool types = true;
      for (unsigned i = 0; i < n->numResults(); ++i)
        types &= m->result(i)->type() == n->result(i)->type();
      if (types) {
        same = m;
        break;
      }
    }
    if (!same) {
      seen.push_back(n);
      continue;
    }
    bool keepsOutput = false;
    for (Value *res : n->results())
      keepsOutput |= g.isOutput(res);
    if (keepsOutput) {
      seen.push_back(n);
      continue;
    }
    for (unsigned i = 0; i < n->numResults(); ++i)
      g.replaceAllUsesWith(n->result(i), same->result(i));
    g.eraseNode(n);
    ++nodesMerged;
  }
  g.eraseUnusedConstants();
  r.counters["nodes-merged"] = nodesMerged;
  r.counters["constants-merged"] = constantsMerged;
  r.changed = nodesMerged + constantsMerged > 0;
  return r;
}

} // namespace kiln
