// The frontend's per-op import rules, in one place: what an op needs beyond the generic attribute
// conversion of compiler/frontend/OnnxAttributes.cpp to reach kiln's canonical opset-17 form
// (ir/Ops.def). Only ops whose ONNX form differs from the canonical one have a rule:
//   - Conv, ConvTranspose, MaxPool, AveragePool: auto_pad resolved into explicit pads and
//     kernel_shape, strides, dilations, pads made explicit; ConvTranspose's output_shape resolved
//     into pads and output_padding by ir's convTransposePads, the rule shape inference applies;
//   - Cast `to` and ConstantOfShape `value` translated to kiln dtypes (ConstantOfShape's default
//     made explicit);
//   - Split without a split operand, Dropout, MaxPool: the result count recorded as num_outputs;
//   - Clip min/max, Slice axes/steps, Pad constant_value, Dropout ratio: the constant an absent
//     optional operand stands for when a later one is present;
//   - Shape of a value whose type is static: folded without the value's data.
#include "compiler/frontend/OnnxImport.h"

#include "ir/OpParams.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace kiln {
namespace onnxfe {

using onnx::AttributeProto;

namespace {

bool isPadded(OpKind op) {
  return op == OpKind::Conv || op == OpKind::ConvTranspose || op == OpKind::MaxPool ||
         op == OpKind::AveragePool;
}

/// Makes kernel_shape, strides, dilations and pads explicit and resolves auto_pad (and, for
/// ConvTranspose, output_shape) into pads / output_padding, following the formulas of the ONNX
/// operator documentation.
llvm::Error resolvePadding(const NodeContext &ctx, Attributes &attrs) {
  const Value *x = ctx.operands.empty() ? nullptr : ctx.operands[0];
  if (!x)
    return makeError("expected a data operand, found none");
  const Shape &xs = x->type().shape;
  if (xs.size() < 3)
    return makeError(fmt::format("expected input of rank >= 3 (N, C, spatial...), found {}",
                                 typeString(x->type())));
  size_t sp = xs.size() - 2;
  bool isConv = ctx.op == OpKind::Conv || ctx.op == OpKind::ConvTranspose;

  std::vector<int64_t> kernel = attrs.getInts("kernel_shape");
  if (kernel.empty() && isConv) {
    const Value *w = ctx.operands.size() > 1 ? ctx.operands[1] : nullptr;
    if (!w || w->type().shape.size() != xs.size())
      return makeError(fmt::format("expected a weight of rank {}, found {}", xs.size(),
                                   w ? typeString(w->type()) : std::string("none")));
    kernel.assign(w->type().shape.begin() + 2, w->type().shape.end());
  }
  auto checkLen = [&](const char *name, const std::vector<int64_t> &v, size_t n) -> llvm::Error {
    if (v.size() != n)
      return makeError(fmt::format("expected {} with {} entries for input {}, found {}", name, n,
                                   typeString(x->type()), v.size()));
    return llvm::Error::success();
  };
  if (auto e = checkLen("kernel_shape", kernel, sp))
    return e;
  std::vector<int64_t> strides = attrs.getInts("strides", std::vector<int64_t>(sp, 1));
  if (auto e = checkLen("strides", strides, sp))
    return e;
  std::vector<int64_t> dilations = attrs.getInts("dilations", std::vector<int64_t>(sp, 1));
  if (auto e = checkLen("dilations", dilations, sp))
    return e;
  for (size_t i = 0; i < sp; ++i)
    if (kernel[i] <= 0 || strides[i] <= 0 || dilations[i] <= 0)
      return makeError(fmt::format("expected positive kernel_shape, strides and dilations, found "
                                   "kernel_shape [{}], strides [{}], dilations [{}]",
                                   fmt::join(kernel, ","), fmt::join(strides, ","),
                                   fmt::join(dilations, ",")));

  std::string autoPad = attrs.getString("auto_pad", "NOTSET");
  std::vector<int64_t> pads = attrs.getInts("pads", std::vector<int64_t>(2 * sp, 0));
  if (auto e = checkLen("pads", pads, 2 * sp))
    return e;
  std::vector<int64_t> outputPadding;
  if (ctx.op == OpKind::ConvTranspose) {
    outputPadding = attrs.getInts("output_padding", std::vector<int64_t>(sp, 0));
    if (auto e = checkLen("output_padding", outputPadding, sp))
      return e;
  }
  // Splits a total padding between begin and end; `upper` puts the odd unit at the end.
  auto split = [&](size_t i, int64_t total, bool upper) {
    pads[i] = upper ? total / 2 : total - total / 2;
    pads[i + sp] = total - pads[i];
  };

  if (autoPad == "VALID") {
    pads.assign(2 * sp, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    bool upper = autoPad == "SAME_UPPER";
    for (size_t i = 0; i < sp; ++i) {
      int64_t in = xs[i + 2], k = (kernel[i] - 1) * dilations[i] + 1;
      if (ctx.op == OpKind::ConvTranspose) {
        int64_t out = in * strides[i];
        int64_t total = strides[i] * (in - 1) + outputPadding[i] + k - out;
        split(i, std::max<int64_t>(total, 0), upper);
      } else {
        int64_t out = (in + strides[i] - 1) / strides[i];
        int64_t total = (out - 1) * strides[i] + k - in;
        split(i, std::max<int64_t>(total, 0), upper);
      }
    }
  } else if (autoPad != "NOTSET") {
    return makeError(fmt::format("expected auto_pad NOTSET, SAME_UPPER, SAME_LOWER or VALID, "
                                 "found '{}'",
                                 autoPad));
  }

  if (ctx.op == OpKind::ConvTranspose && attrs.has("output_shape")) {
    std::vector<int64_t> outShape = attrs.getInts("output_shape");
    // Exporters sometimes give the full output shape; the spatial part is what matters.
    if (outShape.size() == xs.size())
      outShape.erase(outShape.begin(), outShape.begin() + 2);
    if (auto e = checkLen("output_shape", outShape, sp))
      return e;
    for (size_t i = 0; i < sp; ++i) {
      ConvTransposePads p =
          convTransposePads(xs[i + 2], kernel[i], strides[i], dilations[i], outputPadding[i],
                            outShape[i], autoPad == "SAME_UPPER");
      pads[i] = p.begin;
      pads[i + sp] = p.end;
      outputPadding[i] = p.outputPadding;
    }
    attrs.erase("output_shape");
  }

  attrs.set("kernel_shape", kernel);
  attrs.set("strides", strides);
  attrs.set("dilations", dilations);
  attrs.set("pads", pads);
  if (ctx.op == OpKind::ConvTranspose)
    attrs.set("output_padding", outputPadding);
  attrs.erase("auto_pad");
  return llvm::Error::success();
}

llvm::Expected<int64_t> kilnDTypeAttr(int onnxType, const char *attrName) {
  std::optional<DType> dt = dtypeFromOnnx(onnxType);
  if (!dt)
    return makeError(fmt::format("attribute '{}': expected element type {}, found {}", attrName,
                                 kSupportedOnnxTypes, onnxTypeName(onnxType)));
  return static_cast<int64_t>(*dt);
}

} // namespace

llvm::Expected<bool> convertOpAttribute(const NodeContext &ctx, const AttributeProto &a,
                                        Attributes &attrs) {
  if (ctx.op == OpKind::ConstantOfShape && a.name() == "value") {
    if (a.type() != AttributeProto::TENSOR)
      return makeError(
          fmt::format("attribute 'value': expected TENSOR, found {}", attrTypeName(a.type())));
    auto t = tensorFromProto(a.t(), "attribute 'value'");
    if (!t)
      return t.takeError();
    if (t->numElements() != 1)
      return makeError(fmt::format("attribute 'value': expected a one-element tensor, found {} "
                                   "elements",
                                   t->numElements()));
    attrs.set("value", t->getDouble(0));
    attrs.set("dtype", static_cast<int64_t>(t->dtype));
    return true;
  }
  return false;
}

llvm::Error canonicalizeOpAttributes(const NodeContext &ctx, unsigned numOutputs,
                                     Attributes &attrs) {
  switch (ctx.op) {
  case OpKind::Cast: {
    if (!attrs.has("to"))
      return makeError("expected attribute 'to', found none");
    auto dt = kilnDTypeAttr(static_cast<int>(attrs.getInt("to")), "to");
    if (!dt)
      return dt.takeError();
    attrs.set("to", *dt);
    break;
  }
  case OpKind::ConstantOfShape:
    // ONNX's default is a float32 zero.
    if (!attrs.has("value")) {
      attrs.set("value", 0.0);
      attrs.set("dtype", static_cast<int64_t>(DType::F32));
    }
    break;
  case OpKind::Split:
    if (ctx.operands.size() < 2 || !ctx.operands[1])
      attrs.set("num_outputs", static_cast<int64_t>(numOutputs));
    break;
  case OpKind::Dropout:
  case OpKind::MaxPool:
    // The optional second result (mask / Indices) exists only when asked for; one is the default.
    if (numOutputs > 1)
      attrs.set("num_outputs", static_cast<int64_t>(numOutputs));
    break;
  default:
    break;
  }
  if (isPadded(ctx.op))
    return resolvePadding(ctx, attrs);
  return llvm::Error::success();
}

llvm::Expected<Tensor> defaultOperand(const NodeContext &ctx, unsigned index) {
  auto operandType = [&](unsigned i) -> const TensorType * {
    return i < ctx.operands.size() && ctx.operands[i] ? &ctx.operands[i]->type() : nullptr;
  };
  switch (ctx.op) {
  case OpKind::Clip:
    // An absent bound does not clip: the extreme value of the input's type.
    if ((index == 1 || index == 2) && operandType(0)) {
      DType t = operandType(0)->dtype();
      bool low = index == 1;
      if (isFloat(t))
        return Tensor::fromDoubles(t, {},
                                   {low ? -std::numeric_limits<double>::infinity()
                                        : std::numeric_limits<double>::infinity()});
      int64_t lo = 0, hi = 0;
      switch (t) {
      case DType::I8:
        lo = INT8_MIN, hi = INT8_MAX;
        break;
      case DType::U8:
        lo = 0, hi = UINT8_MAX;
        break;
      case DType::I16:
        lo = INT16_MIN, hi = INT16_MAX;
        break;
      case DType::I32:
        lo = INT32_MIN, hi = INT32_MAX;
        break;
      case DType::I64:
        lo = INT64_MIN, hi = INT64_MAX;
        break;
      default:
        lo = 0, hi = 1;
        break;
      }
      return Tensor::fromInts(t, {}, {low ? lo : hi});
    }
    break;
  case OpKind::Slice:
    // axes default to 0..len(starts)-1, steps to ones; both take the type of `starts`.
    if ((index == 3 || index == 4) && operandType(1) && operandType(1)->rank() == 1) {
      int64_t n = operandType(1)->shape[0];
      std::vector<int64_t> v(static_cast<size_t>(n), 1);
      if (index == 3)
        for (int64_t i = 0; i < n; ++i)
          v[static_cast<size_t>(i)] = i;
      return Tensor::fromInts(operandType(1)->dtype(), {n}, v);
    }
    break;
  case OpKind::Pad:
    if (index == 2 && operandType(0))
      return Tensor::fromDoubles(operandType(0)->dtype(), {}, {0.0});
    break;
  case OpKind::Dropout:
    if (index == 1)
      return Tensor::fromDoubles(DType::F32, {}, {0.5});
    break;
  default:
    break;
  }
  return makeError(fmt::format("expected operand {} to be present (kiln knows no default for it), "
                               "found it absent",
                               index));
}

std::optional<Tensor> foldFromTypes(const NodeContext &ctx, const Attributes &attrs) {
  if (ctx.op != OpKind::Shape || ctx.operands.empty() || ctx.operands[0]->isConstant())
    return std::nullopt;
  const TensorType &t = ctx.operands[0]->type();
  const ShapeSpan span = shapeSpan(t.rank(), attrs);
  std::vector<int64_t> dims(t.shape.begin() + span.begin, t.shape.begin() + span.end);
  return Tensor::fromVector<int64_t>(DType::I64, {static_cast<int64_t>(dims.size())}, dims);
}

} // namespace onnxfe
} // namespace kiln
