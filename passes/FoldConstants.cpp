// fold-constants: evaluates every node whose operands are all constants through the op's reference
// semantics (ir/Semantics) and replaces its results with new constants.
// Never fires when a result would be larger than the largest operand (plus a small allowance), so
// folding never bloats the weights — e.g. an Expand or a broadcasting Add is not materialized.
// Keeps: execution order; removes the folded nodes and the constants nothing uses any more.
#include "passes/Pass.h"

#include "ir/Semantics.h"

#include <llvm/Support/Error.h>

#include <algorithm>

namespace kiln {

namespace {
constexpr int64_t kAllowanceBytes = 256;
}

PassResult runFoldConstants(Graph &g, PassContext &) {
  PassResult r;
  int64_t folded = 0, skippedBySize = 0;
  for (Node *n : g.nodes()) {
    bool allConst = n->numOperands() > 0;
    int64_t largest = 0;
    for (Value *o : n->operands()) {
      allConst &= o->isConstant();
      largest = std::max<int64_t>(largest, o->type().byteSize());
    }
    if (!allConst)
      continue;
    int64_t produced = 0;
    for (Value *res : n->results())
      produced = std::max<int64_t>(produced, res->type().byteSize());
    if (produced > largest + kAllowanceBytes) {
      ++skippedBySize;
      continue;
    }
    llvm::Expected<std::vector<Tensor>> values = evaluateNode(*n);
    if (!values) {
      // Unevaluable here means the node stays for run time; folding is an optimization only.
      llvm::consumeError(values.takeError());
      continue;
    }
    for (unsigned i = 0; i < n->numResults(); ++i) {
      Value *res = n->result(i);
      std::string name = res->name();
      res->setName(g.freshName(name + ".folded"));
      Value *c = g.addConstant(name, (*values)[i]);
      g.replaceAllUsesWith(res, c);
    }
    g.eraseNode(n);
    ++folded;
  }
  size_t before = g.constants().size();
  g.eraseUnusedConstants();
  r.counters["nodes-folded"] = folded;
  r.counters["skipped-by-size-cap"] = skippedBySize;
  r.counters["constants-removed"] = static_cast<int64_t>(before - g.constants().size());
  r.changed = folded > 0 || before != g.constants().size();
  return r;
}

} // namespace kiln
