// Expands passes/Passes.def into the pass table.
#include "passes/Pass.h"

namespace kiln {

#define KILN_PASS(F, N, S) PassResult F(Graph &, PassContext &);
#include "passes/Passes.def"

const std::vector<PassInfo> &allPasses() {
  static const std::vector<PassInfo> table = {
#define KILN_PASS(F, N, S) {N, S, F},
#include "passes/Passes.def"
  };
  return table;
}

const PassInfo *findPass(const std::string &name) {
  for (const PassInfo &p : allPasses())
    if (name == p.name)
      return &p;
  return nullptr;
}

} // namespace kiln
