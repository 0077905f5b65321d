// The .kir text form: parser. Reads exactly what ir/Printer.h writes; printing a parsed graph
// gives the same text back.
#pragma once

#include "ir/Graph.h"
#include "ir/DecisionTable.h"
#include "ir/ValueLayout.h"

#include <llvm/Support/Error.h>

#include <memory>
#include <optional>
#include <string>

namespace kiln {

/// Parses .kir text; `bufferName` is used in diagnostics (file:line:col: error: ...), large
/// constants are read by hash from `sidecarPath`. A `memory` block after the graph is checked (every
/// name it gives must be a value or node of the graph) and stored in `*layout` when given; without
/// a block, `*layout` is reset. A `decisions` block after that is checked likewise (its nodes
/// must be the graph's) and stored in `*decisions`.
llvm::Expected<std::unique_ptr<Graph>>
parseKir(const std::string &text, const std::string &bufferName, const std::string &sidecarPath,
         std::optional<ValueLayoutTable> *layout = nullptr,
         std::optional<DecisionTable> *decisions = nullptr);
/// Reads a .kir file and its sidecar (kirSidecarPath(path)).
llvm::Expected<std::unique_ptr<Graph>>
parseKirFile(const std::string &path, std::optional<ValueLayoutTable> *layout = nullptr,
             std::optional<DecisionTable> *decisions = nullptr);
/// Parses a `decisions` block on its own (`kiln compile --decisions=FILE`); its node names are
/// checked by whoever applies it.
llvm::Expected<DecisionTable> parseDecisionTable(const std::string &text,
                                                 const std::string &bufferName);

} // namespace kiln
