// ONNX node attributes to kiln attributes in the canonical opset-17 form of ir/Ops.def, the generic
// part: each attribute converted by its kind and the defaults of the opset-17 schema filled in.
// What differs per op (padding resolved into explicit pads, dtype-valued attributes, the
// constants that stand in for absent optional operands) is in compiler/frontend/OnnxOpRules.cpp.
#include "compiler/frontend/OnnxImport.h"

#include <onnx/defs/schema.h>

#include <fmt/format.h>

namespace kiln {
namespace onnxfe {

using onnx::AttributeProto;

std::string attrTypeName(int t) {
  if (AttributeProto::AttributeType_IsValid(t))
    return AttributeProto::AttributeType_Name(static_cast<AttributeProto::AttributeType>(t));
  return fmt::format("attribute type {}", t);
}

namespace {

/// The plain (non-tensor) attribute kinds map one to one; TENSOR and graph kinds need the op.
llvm::Expected<Attribute> convertPlain(const AttributeProto &a) {
  switch (a.type()) {
  case AttributeProto::INT:
    return Attribute(static_cast<int64_t>(a.i()));
  case AttributeProto::FLOAT:
    return Attribute(static_cast<double>(a.f()));
  case AttributeProto::STRING:
    return Attribute(a.s());
  case AttributeProto::INTS:
    return Attribute(std::vector<int64_t>(a.ints().begin(), a.ints().end()));
  case AttributeProto::FLOATS:
    return Attribute(std::vector<double>(a.floats().begin(), a.floats().end()));
  case AttributeProto::STRINGS:
    return Attribute(std::vector<std::string>(a.strings().begin(), a.strings().end()));
  default:
    return makeError(fmt::format("attribute '{}': expected INT, FLOAT, STRING, INTS, FLOATS or "
                                 "STRINGS, found {}",
                                 a.name(), attrTypeName(a.type())));
  }
}

} // namespace

llvm::Expected<Attributes> convertAttributes(const NodeContext &ctx, unsigned numOutputs) {
  Attributes attrs;
  for (const AttributeProto &a : ctx.node->attribute()) {
    if (!a.ref_attr_name().empty())
      return makeError(fmt::format("attribute '{}': expected a value, found a reference to "
                                   "function attribute '{}'",
                                   a.name(), a.ref_attr_name()));
    auto byRule = convertOpAttribute(ctx, a, attrs);
    if (!byRule)
      return byRule.takeError();
    if (*byRule)
      continue;
    auto v = convertPlain(a);
    if (!v)
      return v.takeError();
    attrs.set(a.name(), std::move(*v));
  }

  // Every attribute with a default in the opset-17 schema is explicit in canonical form.
  if (const onnx::OpSchema *schema = onnx::OpSchemaRegistry::Schema(opName(ctx.op), 17, "")) {
    for (const auto &entry : schema->attributes()) {
      const AttributeProto &def = entry.second.default_value;
      if (attrs.has(entry.first) || def.type() == AttributeProto::UNDEFINED)
        continue;
      auto v = convertPlain(def);
      if (!v)
        return v.takeError();
      attrs.set(entry.first, std::move(*v));
    }
  }

  if (auto e = canonicalizeOpAttributes(ctx, numOutputs, attrs))
    return e;
  return attrs;
}

} // namespace onnxfe
} // namespace kiln
