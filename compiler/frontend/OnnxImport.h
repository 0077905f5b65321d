// Internal interface between the pieces of the ONNX frontend: element-type and tensor conversion
// (OnnxTensor.cpp), attribute conversion to kiln's opset-17 form (OnnxAttributes.cpp, generic;
// OnnxOpRules.cpp, the per-op rules), and the model importer (OnnxFrontend.cpp). Only files in
// compiler/frontend/ include this header, so ONNX and protobuf types stay inside the frontend.
#pragma once

#include "ir/Graph.h"

#include <onnx/onnx_pb.h>

#include <llvm/Support/Error.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kiln {
namespace onnxfe {

/// A frontend failure as an llvm::Error carrying the complete diagnostic text.
llvm::Error makeError(const std::string &msg);

/// Kiln element type of an ONNX TensorProto_DataType; nullopt for types kiln does not support
/// (string, complex, bfloat16, unsigned 16/32/64-bit, ...).
std::optional<DType> dtypeFromOnnx(int onnxType);
/// The ONNX element types kiln imports, spelled for diagnostics.
constexpr const char *kSupportedOnnxTypes =
    "FLOAT, DOUBLE, FLOAT16, INT8, UINT8, INT16, INT32, INT64 or BOOL";
/// ONNX spelling of a data type ("FLOAT", "STRING", ...), for diagnostics.
std::string onnxTypeName(int onnxType);

/// Converts an initializer / Constant value / attribute tensor into a kiln Tensor. `what`
/// describes the tensor in diagnostics ("initializer 'w'"); the message does not start with the
/// file name (the caller adds its context).
llvm::Expected<Tensor> tensorFromProto(const onnx::TensorProto &tp, const std::string &what);

/// Everything attribute conversion needs to know about the node being lowered.
struct NodeContext {
  const onnx::NodeProto *node = nullptr;
  std::string name; // the node's (possibly generated) name
  OpKind op = OpKind::Identity;
  std::vector<const Value *> operands; // kiln operands, absent optional ones as nullptr
};

/// ONNX spelling of an attribute type ("TENSOR", ...), for diagnostics.
std::string attrTypeName(int t);

/// Converts the node's ONNX attributes to kiln attributes in canonical opset-17 form (see
/// ir/Ops.def): each converted by its kind, schema defaults filled in, then the op's rules below
/// applied. `numOutputs` is the node's output count. Messages say what was expected versus found,
/// without the node context.
llvm::Expected<Attributes> convertAttributes(const NodeContext &ctx, unsigned numOutputs);

// The per-op import rules (compiler/frontend/OnnxOpRules.cpp), for the ops whose ONNX form differs
// from the canonical one.

/// Converts attribute `a` into `attrs` when the op has a rule for it (ConstantOfShape's `value`
/// tensor becomes a double `value` and a kiln `dtype`): true when it did, false when the generic
/// conversion applies.
llvm::Expected<bool> convertOpAttribute(const NodeContext &ctx, const onnx::AttributeProto &a,
                                        Attributes &attrs);

/// The op's rules after the generic conversion: auto_pad resolved into explicit pads,
/// kernel_shape / strides / dilations / pads explicit, ConvTranspose output_shape resolved
/// (convTransposePads of ir/OpParams.h), Cast `to` translated to a kiln dtype, ConstantOfShape's
/// default value, and the result count as num_outputs (Split without a split operand, Dropout and
/// MaxPool with a second result).
llvm::Error canonicalizeOpAttributes(const NodeContext &ctx, unsigned numOutputs,
                                     Attributes &attrs);

/// The constant an absent optional operand stands for when a later operand is present
/// (Clip min/max, Slice axes/steps, Pad constant_value, Dropout ratio); fails for operands with
/// no known default.
llvm::Expected<Tensor> defaultOperand(const NodeContext &ctx, unsigned index);

/// The result of a node that folds from its operands' types alone (Shape of a value that is not
/// constant but statically typed); nullopt for every other node.
std::optional<Tensor> foldFromTypes(const NodeContext &ctx, const Attributes &attrs);

/// kiln's structural check of the model's graph (compiler/frontend/OnnxStructure.cpp), run before
/// libonnx sees it: producers before uses, one producer per name, graph outputs produced,
/// non-negative dims, defined element types, no subgraphs, sane convolution and pool attributes
/// and weights. It makes a convolution's kernel_shape explicit when the weight's shape gives it
/// (the one change to `m`). `opset` is quoted by diagnostics.
llvm::Error checkStructure(onnx::ModelProto &m, const std::string &path, int opset);

/// For every value of `g` computed from one of `inputs` (the unbound graph inputs): which of them
/// it depends on. Shape results depend on nothing (they fold on static shapes); values computed
/// only from constants are absent.
std::map<std::string, std::set<std::string>>
inputProvenance(const onnx::GraphProto &g, const std::set<std::string> &inputs);

} // namespace onnxfe
} // namespace kiln
