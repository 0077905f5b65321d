// The .kir text form: parser. Reads exactly what ir/Printer.h writes; printing a parsed graph
// gives the same text back.
#pragma once

#include "ir/Graph.h"
#include "ir/ValueLayout.h"

#include <llvm/Support/Error.h>

#include <memory>
#include <optional>
#include <string>

namespace kiln {

/// Parses .kir text; `bufferName` is used in diagnostics (file:line:col: error: ...), large
/// constants are read by hash from `sidecarPath`. A `memory` block after the graph is checked (every
/// name it gives must be a value or node of the graph) and stored in `*layout` when given; without
/// a block, `*layout` is reset.
llvm::Expected<std::unique_ptr<Graph>>
parseKir(const std::string &text, const std::string &bufferName, const std::string &sidecarPath,
         std::optional<ValueLayoutTable> *layout = nullptr);
/// Reads a .kir file and its sidecar (kirSidecarPath(path)).
llvm::Expected<std::unique_ptr<Graph>>
parseKirFile(const std::string &path, std::optional<ValueLayoutTable> *layout = nullptr);

} // namespace kiln
