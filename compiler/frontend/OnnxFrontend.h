// ONNX frontend: reads a .onnx file with libonnx and lowers it into kiln's IR. The only place
// where ONNX and protobuf types appear; libonnx reports failures by throwing and this is the one
// place that catches, turning each exception into a diagnostic.
#pragma once

#include "ir/Graph.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kiln {

struct ImportOptions {
  /// --input-shape NAME=1x3x224x224: static shapes for inputs (required for symbolic dims).
  std::map<std::string, Shape> inputShapes;
  /// Graph inputs bound to known data: they become constants (and everything computable from
  /// constants is folded at import). Used to freeze inputs and by the ONNX reference-output tests.
  std::map<std::string, Tensor> inputValues;
};

/// A graph input that reaches an operand deciding a node's result shape (ir/Semantics.h
/// shapeOperands): the model compiles only with that input bound to data (--bind).
struct ShapeInputUse {
  std::string input;       // the graph input
  std::string node, op;    // the node whose operand it reaches, and its op type
  unsigned operand = 0;    // the operand's position
  std::string operandName; // its ONNX name ("shape", "starts", ...)
};

/// The uses of unbound graph inputs by shape-deciding operands, in node order: runs the import up
/// to shape inference (the opset-17 form), then follows each input through the graph (Shape cuts
/// the path: it folds on static shapes). Fails with the import's diagnostic when the model cannot
/// get that far.
llvm::Expected<std::vector<ShapeInputUse>> listShapeInputs(const std::string &path,
                                                           const ImportOptions &opts);

/// Reads a serialized onnx.TensorProto (the backend test data's input_N.pb / output_N.pb).
llvm::Expected<Tensor> readTensorProtoFile(const std::string &path);

/// Imports the model: checker, conversion up to opset 17, shape inference, one importer per
/// opset-17 op, initializers as constants, shape-computing subgraphs resolved. On failure the error
/// text is a complete diagnostic naming the file, node, op type, original opset, and expected
/// versus found.
llvm::Expected<std::unique_ptr<Graph>> importOnnx(const std::string &path,
                                                  const ImportOptions &opts);
/// The same import from a serialized ModelProto in memory (what importOnnx runs after reading the
/// file, and what the fuzzer drives); `path` names the model in diagnostics and gives the graph its
/// default name.
llvm::Expected<std::unique_ptr<Graph>> importOnnxBytes(llvm::StringRef bytes,
                                                       const std::string &path,
                                                       const ImportOptions &opts);

} // namespace kiln
