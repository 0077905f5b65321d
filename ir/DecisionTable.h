// A side table of code generation's kernel decisions about a graph's nodes (DESIGN.md: analysis
// results live in side tables, not on IR objects): per node the kernel variant, its integer
// tunables, the arena scratch it needs and its estimated cost. The .kir printer shows it as a
// `decisions` block after the graph (and its memory block) and the parser reads it back
// (docs/ir.md); nothing in ir/ computes it: codegen/KernelDecision.h does, and
// `kiln compile --decisions=FILE` makes code generation follow a given table.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kiln {

/// One node's decision: `variant` is a name of codegen/Kernels.def (conv_im2col, ...).
struct DecisionRow {
  std::string node;
  std::string variant;
  std::vector<std::pair<std::string, int64_t>> tunables; // in the variant's order
  int64_t scratchBytes = 0;
  int64_t cost = 0;

  bool operator==(const DecisionRow &o) const {
    return node == o.node && variant == o.variant && tunables == o.tunables &&
           scratchBytes == o.scratchBytes && cost == o.cost;
  }
};

/// The decisions of a graph in execution order. A table that forces decisions may list only some
/// nodes; scratch and cost are then informative (code generation recomputes them).
struct DecisionTable {
  std::vector<DecisionRow> rows;
  bool operator==(const DecisionTable &o) const { return rows == o.rows; }
};

} // namespace kiln
