// ONNX frontend: reads a .onnx file with libonnx and lowers it into kiln's IR. The only place
// where ONNX and protobuf types appear; libonnx reports failures by throwing and this is the one
// place that catches, turning each exception into a diagnostic.
#pragma once

#include "ir/Graph.h"

#include <llvm/Support/Error.h>

#include <map>
#include <memory>
#include <string>

namespace kiln {

struct ImportOptions {
  /// --input-shape NAME=1x3x224x224: static shapes for inputs (required for symbolic dims).
  std::map<std::string, Shape> inputShapes;
};

/// Imports the model: checker, conversion up to opset 17, shape inference, one importer per
/// opset-17 op, initializers as constants, shape-computing subgraphs resolved. On failure the error
/// text is a complete diagnostic naming the file, node, op type, original opset, and expected
/// versus found.
llvm::Expected<std::unique_ptr<Graph>> importOnnx(const std::string &path,
                                                  const ImportOptions &opts);

} // namespace kiln
