// The pass manager: runs a pipeline of passes from the pass table and owns all instrumentation —
// IR dumps before/after passes, numbered dump files, verification after each pass, and
// per-pass statistics. Passes themselves never print.
#pragma once

#include "passes/Pass.h"

#include <llvm/Support/Error.h>
#include <llvm/Support/raw_ostream.h>

#include <set>
#include <string>
#include <vector>

namespace kiln {

struct Instrumentation {
  bool printAfterAll = false;
  std::set<std::string> printBefore, printAfter; // pass names
  bool printAfterChange = false;
  /// When set: one numbered .kir per pass (00-input.kir, 01-NAME.kir, ...), the last being what
  /// code generation receives, plus final.dot (Graphviz).
  std::string dumpDir;
  bool verifyEach = false;
  bool statistics = false;
  /// Where printed dumps and statistics go (stderr when null).
  llvm::raw_ostream *out = nullptr;
};

/// The passes of an optimization level, in order (-O0 runs none). Levels above 3 are errors.
llvm::Expected<std::vector<const PassInfo *>> pipelineForLevel(int level);
/// "a,b,c" → passes; an unknown name is an error listing the valid ones.
llvm::Expected<std::vector<const PassInfo *>> parsePassList(const std::string &list);

/// Runs the pipeline with the given instrumentation. Fails if --verify-each finds a broken graph
/// (naming the pass that broke it) or a dump cannot be written.
llvm::Error runPipeline(Graph &g, const std::vector<const PassInfo *> &pipeline, PassContext &ctx,
                        const Instrumentation &inst);

} // namespace kiln
