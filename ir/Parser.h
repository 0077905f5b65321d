// The .kir text form: parser. Reads exactly what ir/Printer.h writes; printing a parsed graph
// gives the same text back.
#pragma once

#include "ir/Graph.h"

#include <llvm/Support/Error.h>

#include <memory>
#include <string>

namespace kiln {

/// Parses .kir text; `bufferName` is used in diagnostics (file:line:col: error: ...), large
/// constants are read by hash from `sidecarPath`.
llvm::Expected<std::unique_ptr<Graph>> parseKir(const std::string &text,
                                                const std::string &bufferName,
                                                const std::string &sidecarPath);
/// Reads a .kir file and its sidecar (kirSidecarPath(path)).
llvm::Expected<std::unique_ptr<Graph>> parseKirFile(const std::string &path);

} // namespace kiln
