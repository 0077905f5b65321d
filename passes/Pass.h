// The pass contract: a pass is a function `PassResult run(Graph&, PassContext&)`, one file each,
// registered by one row in the pass table (passes/Passes.def). Instrumentation (dumps, verification,
// statistics) belongs to the pass manager, never to a pass.
#pragma once

#include "ir/Graph.h"

#include <map>
#include <string>

namespace kiln {

struct Target; // codegen/Target.h: plain data, usable from a pass without linking kiln_codegen

struct PassResult {
  bool changed = false;
  /// Named counters ("nodes-removed", "constants-folded", ...), ordered for stable printing.
  std::map<std::string, int64_t> counters;
};

struct PassContext {
  /// Free-form options (e.g. fold size cap).
  std::map<std::string, std::string> options;
  /// The resolved `--target` of kiln compile / kiln opt (vector width, registers, caches); null
  /// where a caller chose none, which a pass reads as generic.
  const Target *target = nullptr;
};

using PassFn = PassResult (*)(Graph &, PassContext &);

struct PassInfo {
  const char *name;    // kebab-case, as used by --passes and dumps
  const char *summary; // one line for --help and docs
  PassFn run;
};

/// The pass table, in declaration order.
const std::vector<PassInfo> &allPasses();
const PassInfo *findPass(const std::string &name);

} // namespace kiln
