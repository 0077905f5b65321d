// The .kir text form: printer. Constants larger than a small size are printed as a reference
// (name, dtype, shape, content hash) whose bytes live in a sidecar file next to the .kir, so dumps
// of large models stay small and diffable.
#pragma once

#include "ir/Graph.h"
#include "ir/DecisionTable.h"
#include "ir/ValueLayout.h"

#include <llvm/Support/Error.h>
#include <llvm/Support/raw_ostream.h>

#include <string>

namespace kiln {

/// Constants of at most this many bytes are printed inline.
constexpr size_t kKirInlineConstantBytes = 64;

/// Prints g. Large constants are printed as references by content hash; if `sidecarPath` is
/// non-empty their bytes are written there (one sidecar per .kir), otherwise they are printed as
/// references only (the reader then needs the sidecar the graph was read from). With a `layout`,
/// its `memory` block follows the graph's closing brace (docs/ir.md); with `decisions`, its
/// `decisions` block comes last.
llvm::Error printGraph(const Graph &g, llvm::raw_ostream &os, const std::string &sidecarPath = "",
                       const ValueLayoutTable *layout = nullptr,
                       const DecisionTable *decisions = nullptr);

/// Writes `kirPath` and its sidecar (kirSidecarPath(kirPath)), `layout` and `decisions` as in
/// printGraph.
llvm::Error writeKirFile(const Graph &g, const std::string &kirPath,
                         const ValueLayoutTable *layout = nullptr,
                         const DecisionTable *decisions = nullptr);
/// The `decisions` block of graph `graphName` alone: one line per node, `"node" : variant
/// {tunable = N, ...}, scratch = BYTES, cost = N` (docs/ir.md).
std::string decisionsString(const std::string &graphName, const DecisionTable &t);
/// The sidecar that belongs to a .kir: "dir/x.kir" -> "dir/x.kir.bin".
std::string kirSidecarPath(const std::string &kirPath);

} // namespace kiln
