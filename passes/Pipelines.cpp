// Optimization pipelines as data: each entry says why it sits where it does.
#include "passes/PassManager.h"

#include <fmt/format.h>

namespace kiln {

namespace {
// -O1: cheap cleanups that only remove work.
const char *const kO1[] = {
    // Identity, Dropout and shape no-ops cost a copy each at run time.
    "eliminate-noops",
    // Outputs of the importer can leave unused nodes (e.g. Dropout masks, shape branches).
    "dead-node-elimination",
};
// -O2 (default of `kiln compile`): -O1 plus everything that reshapes the graph.
const char *const kO2[] = {
    // Constant subgraphs left after import (e.g. weight transforms) become plain constants.
    "fold-constants",
    // Identity/Dropout/no-op reshapes would otherwise block the fusions below.
    "eliminate-noops",
    // After no-op removal (identity transposes are gone): Transposes sink past elementwise ops
    // and cancel in pairs, and an activation stuck behind a Transpose reaches its producer.
    "sink-transposes",
    // Duplicated constants and subexpressions from exporters.
    "cse",
    // Multi-node spellings of HardSwish/Gelu become one op (and then fuse as activations).
    "replace-ops",
    // BN into conv weights first: it must see the Conv before an activation is fused after it.
    "fuse-conv-bn",
    // Whatever BN is left is a per-channel Mul/Add.
    "decompose-batchnorm",
    // Conv -> MaxPool -> Relu becomes Conv -> Relu -> MaxPool, right before fuse-epilogue, which
    // folds the activation into the Conv (after fuse-conv-bn, which needs the bare Conv -> BN).
    "reorder-activations",
    // Transformer-style MatMul + bias: the bias belongs in the matrix kernel.
    "matmul-add-to-gemm",
    // Bias, residual and activations into the producer's epilogue: removes whole tensors.
    "fuse-epilogue",
    // Fusion leaves unused constants (the old weights) and dead branches.
    "dead-node-elimination",
};
// -O3: -O2 plus passes that trade compile time for run time (none yet).
const char *const kO3[] = {
    // sink-transposes and reorder-activations sit where they do in -O2, for the same reasons.
    "fold-constants", "eliminate-noops", "sink-transposes", "cse", "replace-ops", "fuse-conv-bn",
    "decompose-batchnorm", "reorder-activations", "matmul-add-to-gemm", "fuse-epilogue",
    "dead-node-elimination",
};

template <size_t N>
llvm::Expected<std::vector<const PassInfo *>> resolve(const char *const (&names)[N]) {
  std::vector<const PassInfo *> out;
  for (const char *n : names) {
    const PassInfo *p = findPass(n);
    if (!p)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "pipeline names unknown pass '%s'", n);
    out.push_back(p);
  }
  return out;
}
} // namespace

llvm::Expected<std::vector<const PassInfo *>> pipelineForLevel(int level) {
  switch (level) {
  case 0:
    return std::vector<const PassInfo *>{};
  case 1:
    return resolve(kO1);
  case 2:
    return resolve(kO2);
  case 3:
    return resolve(kO3);
  default:
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "optimization level -O%d: expected 0, 1, 2 or 3", level);
  }
}

llvm::Expected<std::vector<const PassInfo *>> parsePassList(const std::string &list) {
  std::vector<const PassInfo *> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string name = list.substr(start, comma == std::string::npos ? std::string::npos
                                                                       : comma - start);
    if (!name.empty()) {
      const PassInfo *p = findPass(name);
      if (!p) {
        std::vector<std::string> valid;
        for (const PassInfo &q : allPasses())
          valid.push_back(q.name);
        return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s",
                                       fmt::format("unknown pass '{}'; expected one of: {}", name,
                                                   fmt::join(valid, ", "))
                                           .c_str());
      }
      out.push_back(p);
    }
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return out;
}

} // namespace kiln
