// The ONNX model importer: reads and parses the file, runs libonnx's checker, version converter
// (up to opset 17) and shape inference, then lowers the opset-17 graph into kiln's IR node by node,
// typing each node with the reference semantics and folding every node whose operands are all
// constants (which resolves shape-computing subgraphs). libonnx throws on failure; this file is
// the one place that catches, and every failure becomes a diagnostic naming the file, the node,
// its op type and the file's original opset.
#include "compiler/frontend/OnnxFrontend.h"
#include "compiler/frontend/OnnxImport.h"
#include "ir/Semantics.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace kiln {

using onnxfe::makeError;

namespace {

constexpr int kTargetOpset = 17;
// Folding is capped so that it never trades a small computation for a huge constant.
constexpr int64_t kMinFoldBytes = 64 * 1024;
// Even a graph without inputs (folded whole) folds no result beyond this: a larger constant would
// cost kiln that much memory at once, and the node can as well run in generated code.
constexpr int64_t kMaxFoldBytes = 256 * 1024 * 1024;

/// One line: libonnx messages carry newlines and trailing blanks.
std::string oneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  return s;
}

bool isDefaultDomain(const std::string &d) { return d.empty() || d == "ai.onnx"; }

/// Why generated code could not hold a tensor of type `t` (see kMaxObjectBytes), or nullopt when
/// it can. Checked for every graph input and node result as it is typed, so that nothing after
/// import (folding here, passes, planning, code generation) sees an overflowing size.
std::optional<std::string> unaddressable(const TensorType &t) {
  std::optional<int64_t> bytes = t.checkedByteSize();
  // Every dim too, also in an empty tensor: shape arithmetic (windows, strides) stays in int64.
  bool dimsFit = std::all_of(t.shape.begin(), t.shape.end(),
                             [](int64_t d) { return d <= kMaxObjectBytes; });
  if (bytes && *bytes <= kMaxObjectBytes && dimsFit)
    return std::nullopt;
  if (bytes && *bytes <= kMaxObjectBytes)
    return fmt::format("expected dimensions of at most {} (what a 32-bit target can index), found "
                       "{}",
                       kMaxObjectBytes, typeString(t));
  return fmt::format("expected a tensor of at most {} bytes (the largest object generated code can "
                     "address on a 32-bit target), found {} ({})",
                     kMaxObjectBytes, typeString(t),
                     bytes ? fmt::format("{} bytes", *bytes) : "more bytes than int64 can count");
}

class Importer {
public:
  /// `path` names the model in diagnostics; `bytes` is the serialized ModelProto.
  Importer(llvm::StringRef bytes, const std::string &path, const ImportOptions &opts)
      : bytes_(bytes), path_(path), opts_(opts) {}

  llvm::Expected<std::unique_ptr<Graph>> run();
  /// listShapeInputs(): the import up to shape inference, then the provenance of shape operands.
  llvm::Expected<std::vector<ShapeInputUse>> shapeInputs();

private:
  llvm::Error parse();
  llvm::Error checkOpset();
  void nameNodes();
  llvm::Error findUnsupported();
  llvm::Error checkInputOptions();
  llvm::Error convertAndInfer();
  llvm::Error lowerInputs();
  llvm::Error lowerNodes();
  llvm::Error lowerNode(const onnx::NodeProto &n);
  llvm::Error lowerConstantNode(const onnx::NodeProto &n);
  llvm::Error lowerOutputs();
  /// The checks, conversion to opset 17 and shape inference that run before lowering.
  llvm::Error prepare();
  /// inputProvenance() over the graph's unbound inputs.
  std::map<std::string, std::set<std::string>> provenance() const;
  /// A shape-deciding operand of `n` that generated code would have to compute, as a diagnostic
  /// naming the graph inputs it comes from and the --bind that makes it constant.
  llvm::Error checkShapeOperands(const onnx::NodeProto &n, const onnxfe::NodeContext &ctx);

  llvm::Error fileError(const std::string &msg) const {
    return makeError(fmt::format("{}: {}", path_, msg));
  }
  llvm::Error nodeError(const onnx::NodeProto &n, const std::string &msg) const {
    std::string op = isDefaultDomain(n.domain()) ? n.op_type() : n.domain() + "." + n.op_type();
    return nodeError(n.name(), op, msg);
  }
  llvm::Error nodeError(const std::string &name, const std::string &op,
                        const std::string &msg) const {
    return makeError(fmt::format("{}: node '{}' ({}, opset {}): {}", path_, name, op, opset_, msg));
  }
  /// A libonnx failure as a diagnostic, attributed to the node its message names when it names
  /// one (checker: "Bad node spec for node. Name: N OpType: T", inference: "(op_type:T, node
  /// name: N): ...").
  llvm::Error libraryError(const std::string &stage, const std::string &what) const;
  /// A value name not used by the model nor generated before.
  std::string uniqueName(const std::string &base) {
    std::string name = base;
    for (int i = 1; names_.count(name); ++i)
      name = fmt::format("{}_{}", base, i);
    names_.insert(name);
    return name;
  }
  /// The graph inputs that are not initializers (older models list initializers as inputs too).
  std::vector<const onnx::ValueInfoProto *> realInputs() const;

  llvm::StringRef bytes_;
  std::string path_;
  const ImportOptions &opts_;
  onnx::ModelProto model_;
  int opset_ = 0; // the file's original default-domain opset, quoted by every diagnostic
  std::unique_ptr<Graph> g_ = std::make_unique<Graph>();
  std::map<std::string, Value *> values_;
  std::set<std::string> names_;
  std::map<std::string, std::set<std::string>> provenance_; // see lowerNodes()
  bool foldAll_ = false;
};

llvm::Error Importer::libraryError(const std::string &stage, const std::string &what) const {
  // Plain string searches, not std::regex: libstdc++'s regex matcher recurses once per character,
  // and a message quoting a long name from the model took it seconds and megabytes of stack.
  std::string msg = oneLine(what);
  const std::string checkerMark = "==> Context: Bad node spec for node. Name: ";
  const std::string opMark = " OpType: ";
  if (size_t p = msg.find(checkerMark); p != std::string::npos) {
    std::string rest = msg.substr(p + checkerMark.size());
    if (size_t q = rest.rfind(opMark); q != std::string::npos) {
      std::string op = rest.substr(q + opMark.size());
      op = op.substr(0, op.find_first_of(" \t"));
      std::string head = msg.substr(0, p);
      while (!head.empty() && std::isspace(static_cast<unsigned char>(head.back())))
        head.pop_back();
      if (!op.empty())
        return nodeError(rest.substr(0, q), op, fmt::format("{}: {}", stage, head));
    }
  }
  // Shape inference: one line "(op_type:T, node name: N): message" per failing node. The first
  // is the cause; the lines after it are mostly its consequences (inputs left untyped), so they
  // are counted, not printed.
  const std::string opTypeMark = "(op_type:", nameMark = ", node name: ";
  for (size_t p = what.find(opTypeMark); p != std::string::npos;
       p = what.find(opTypeMark, p + 1)) {
    size_t comma = what.find(',', p + opTypeMark.size());
    if (comma == std::string::npos || comma == p + opTypeMark.size() ||
        what.compare(comma, nameMark.size(), nameMark) != 0)
      continue;
    size_t nameStart = comma + nameMark.size(), close = what.find(')', nameStart);
    if (close == std::string::npos || what.compare(close, 3, "): ") != 0)
      continue;
    size_t eol = what.find('\n', close);
    std::string first = oneLine(what.substr(close + 3, eol == std::string::npos ? eol : eol - close - 3));
    size_t more = 0;
    for (size_t q = eol; q != std::string::npos; q = what.find('\n', q + 1))
      more += what.compare(q + 1, opTypeMark.size(), opTypeMark) == 0;
    if (more > 0)
      first += fmt::format(" (and {} more error{} on later nodes)", more, more == 1 ? "" : "s");
    return nodeError(what.substr(nameStart, close - nameStart),
                     what.substr(p + opTypeMark.size(), comma - p - opTypeMark.size()),
                     fmt::format("{}: {}", stage, first));
  }
  return fileError(fmt::format("{}: {}", stage, msg));
}

llvm::Error Importer::parse() {
  const char *notModel = "expected an ONNX model (a serialized onnx.ModelProto), found {} (not an "
                         "ONNX file, or a truncated or corrupted one)";
  if (bytes_.size() > static_cast<size_t>(INT32_MAX))
    return fileError("expected an ONNX model of less than 2 GiB (protobuf's limit), found a larger "
                     "file; save the weights as external data");
  if (!model_.ParseFromArray(bytes_.data(), static_cast<int>(bytes_.size())))
    return fileError(fmt::format(notModel, "data protobuf cannot parse"));
  // An empty or unrelated message can parse as a ModelProto with no content.
  if (!model_.has_graph() || model_.ir_version() <= 0)
    return fileError(fmt::format(notModel, model_.has_graph() ? "no ir_version" : "no graph"));
  return llvm::Error::success();
}

llvm::Error Importer::checkOpset() {
  bool found = false;
  int64_t version = 0; // int64 in the file: range-checked before it narrows to opset_
  for (const auto &imp : model_.opset_import())
    if (isDefaultDomain(imp.domain())) {
      version = imp.version();
      found = true;
    }
  if (!found)
    return fileError("expected an opset import for the default ONNX domain, found none");
  if (version > kTargetOpset)
    return fileError(fmt::format("opset {} is newer than {}, the newest opset kiln supports; "
                                 "re-export the model with opset {} or older",
                                 version, kTargetOpset, kTargetOpset));
  if (version < 1)
    return fileError(fmt::format("expected a default-domain opset >= 1, found {}", version));
  opset_ = static_cast<int>(version);
  return llvm::Error::success();
}

void Importer::nameNodes() {
  // Named before conversion so that diagnostics after conversion still point at the file's nodes.
  std::set<std::string> used;
  for (const auto &n : model_.graph().node())
    used.insert(n.name());
  auto *nodes = model_.mutable_graph()->mutable_node();
  for (int i = 0; i < nodes->size(); ++i) {
    onnx::NodeProto &n = (*nodes)[i];
    if (!n.name().empty())
      continue;
    std::string base = fmt::format("{}_{}", n.op_type(), i), name = base;
    for (int k = 1; used.count(name); ++k)
      name = fmt::format("{}_{}", base, k);
    used.insert(name);
    n.set_name(name);
  }
}

llvm::Error Importer::findUnsupported() {
  std::vector<std::string> bad;
  for (const auto &n : model_.graph().node()) {
    if (isDefaultDomain(n.domain()) && (n.op_type() == "Constant" || opFromName(n.op_type())))
      continue;
    std::string op = isDefaultDomain(n.domain()) ? n.op_type() : n.domain() + "." + n.op_type();
    bad.push_back(fmt::format("node '{}' ({})", n.name(), op));
  }
  if (bad.empty())
    return llvm::Error::success();
  return fileError(fmt::format("{} node{} with unsupported operators (opset {}): expected "
                               "operators kiln supports, found {}",
                               bad.size(), bad.size() == 1 ? "" : "s", opset_,
                               fmt::join(bad, ", ")));
}

std::vector<const onnx::ValueInfoProto *> Importer::realInputs() const {
  std::set<std::string> inits;
  for (const auto &t : model_.graph().initializer())
    inits.insert(t.name());
  std::vector<const onnx::ValueInfoProto *> out;
  for (const auto &in : model_.graph().input())
    if (!inits.count(in.name()))
      out.push_back(&in);
  return out;
}

/// The model's spelling of an input shape, symbolic dims by name ("Nx3x224x224").
std::string modelShapeString(const onnx::TensorShapeProto &s) {
  std::vector<std::string> dims;
  for (const auto &d : s.dim())
    dims.push_back(d.has_dim_value() ? std::to_string(d.dim_value())
                                     : (d.has_dim_param() ? d.dim_param() : "?"));
  return dims.empty() ? "scalar" : fmt::format("{}", fmt::join(dims, "x"));
}

llvm::Error Importer::checkInputOptions() {
  std::vector<const onnx::ValueInfoProto *> inputs = realInputs();
  auto findInput = [&](const std::string &name) -> const onnx::ValueInfoProto * {
    for (auto *in : inputs)
      if (in->name() == name)
        return in;
    return nullptr;
  };
  auto inputList = [&] {
    std::vector<std::string> names;
    for (auto *in : inputs)
      names.push_back("'" + in->name() + "'");
    return names.empty() ? std::string("none (the model has no inputs)")
                         : fmt::format("{}", fmt::join(names, ", "));
  };
  for (const auto &[name, shape] : opts_.inputShapes) {
    std::string flag = fmt::format("--input-shape {}={}", name, shapeString(shape));
    const onnx::ValueInfoProto *in = findInput(name);
    if (!in)
      return fileError(
          fmt::format("{} names no input of the model; expected one of {}", flag, inputList()));
    for (size_t i = 0; i < shape.size(); ++i)
      if (shape[i] <= 0)
        return fileError(fmt::format("{}: expected positive dimensions, found {} at axis {}", flag,
                                     shape[i], i));
    const auto &tt = in->type().tensor_type();
    if (!tt.has_shape())
      continue;
    if (tt.shape().dim_size() != static_cast<int>(shape.size()))
      return fileError(fmt::format("{}: expected {} dimensions (input '{}' is {}), found {}", flag,
                                   tt.shape().dim_size(), name, modelShapeString(tt.shape()),
                                   shape.size()));
    for (int i = 0; i < tt.shape().dim_size(); ++i) {
      const auto &d = tt.shape().dim(i);
      if (d.has_dim_value() && d.dim_value() != shape[static_cast<size_t>(i)])
        return fileError(fmt::format("{}: expected {} at axis {} (static in the model: {}), found "
                                     "{}",
                                     flag, d.dim_value(), i, modelShapeString(tt.shape()),
                                     shape[static_cast<size_t>(i)]));
    }
  }
  for (const auto &[name, value] : opts_.inputValues) {
    const onnx::ValueInfoProto *in = findInput(name);
    if (!in)
      return fileError(fmt::format("bound value '{}' names no input of the model; expected one of "
                                   "{}",
                                   name, inputList()));
    const auto &tt = in->type().tensor_type();
    std::optional<DType> dt = onnxfe::dtypeFromOnnx(tt.elem_type());
    if (dt && *dt != value.dtype)
      return fileError(fmt::format("bound value for input '{}': expected {}, found {}", name,
                                   dtypeName(*dt), dtypeName(value.dtype)));
    if (!tt.has_shape())
      continue;
    bool ok = tt.shape().dim_size() == static_cast<int>(value.shape.size());
    for (int i = 0; ok && i < tt.shape().dim_size(); ++i)
      ok = !tt.shape().dim(i).has_dim_value() ||
           tt.shape().dim(i).dim_value() == value.shape[static_cast<size_t>(i)];
    if (!ok)
      return fileError(fmt::format("bound value for input '{}': expected shape {}, found {}", name,
                                   modelShapeString(tt.shape()), shapeString(value.shape)));
  }
  return llvm::Error::success();
}

llvm::Error Importer::convertAndInfer() {
  if (opset_ < kTargetOpset) {
    // The converter's in-memory graph holds dimensions as int (onnx::Dimension), so a dimension
    // beyond 2^31 - 1 comes back truncated (4000000000 as -294967296). The declared shapes are
    // put back from the original model after conversion, which changes operators, not types.
    std::map<std::string, onnx::TensorShapeProto> declared;
    auto remember = [&](const auto &list) {
      for (const onnx::ValueInfoProto &vi : list)
        if (vi.type().has_tensor_type() && vi.type().tensor_type().has_shape())
          declared[vi.name()] = vi.type().tensor_type().shape();
    };
    remember(model_.graph().input());
    remember(model_.graph().output());
    remember(model_.graph().value_info());
    try {
      model_ = onnx::version_conversion::ConvertVersion(model_, kTargetOpset);
    } catch (const std::exception &e) {
      return fileError(fmt::format("expected a model the ONNX version converter can bring from "
                                   "opset {} to {}, found: {}",
                                   opset_, kTargetOpset, oneLine(e.what())));
    }
    auto restore = [&](auto *list) {
      for (onnx::ValueInfoProto &vi : *list)
        if (auto it = declared.find(vi.name());
            it != declared.end() && vi.type().has_tensor_type())
          *vi.mutable_type()->mutable_tensor_type()->mutable_shape() = it->second;
    };
    restore(model_.mutable_graph()->mutable_input());
    restore(model_.mutable_graph()->mutable_output());
    restore(model_.mutable_graph()->mutable_value_info());
    // Conversion may introduce ops (and unnamed nodes) of its own.
    nameNodes();
    if (auto e = findUnsupported())
      return e;
  }
  // Static shapes from the command line and bound values, so inference sees what kiln will see.
  for (auto &in : *model_.mutable_graph()->mutable_input()) {
    const Shape *shape = nullptr;
    if (auto it = opts_.inputShapes.find(in.name()); it != opts_.inputShapes.end())
      shape = &it->second;
    else if (auto vt = opts_.inputValues.find(in.name()); vt != opts_.inputValues.end())
      shape = &vt->second.shape;
    if (!shape || !in.type().has_tensor_type())
      continue;
    auto *s = in.mutable_type()->mutable_tensor_type()->mutable_shape();
    s->clear_dim();
    for (int64_t d : *shape)
      s->add_dim()->set_dim_value(d);
  }
  try {
    onnx::shape_inference::InferShapes(model_, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/false,
                                                                   /*strict_mode=*/1));
  } catch (const std::exception &e) {
    return libraryError("ONNX shape inference", e.what());
  }
  return llvm::Error::success();
}

llvm::Error Importer::lowerInputs() {
  std::vector<const onnx::ValueInfoProto *> inputs = realInputs();
  for (auto &t : *model_.mutable_graph()->mutable_initializer()) {
    auto tensor = onnxfe::tensorFromProto(t, fmt::format("initializer '{}'", t.name()));
    if (!tensor)
      return fileError(llvm::toString(tensor.takeError()));
    values_[t.name()] = g_->addConstant(t.name(), std::move(*tensor));
    // The weights now live in the graph; keeping a second copy would double peak memory.
    t.clear_raw_data();
    t.clear_float_data();
  }
  for (const onnx::ValueInfoProto *in : inputs) {
    const std::string &name = in->name();
    if (!in->type().has_tensor_type())
      return fileError(fmt::format("input '{}': expected a tensor, found another kind of value "
                                   "(sequence, map or optional)",
                                   name));
    const auto &tt = in->type().tensor_type();
    std::optional<DType> dt = onnxfe::dtypeFromOnnx(tt.elem_type());
    if (!dt)
      return fileError(fmt::format("input '{}': expected element type {}, found {}", name,
                                   onnxfe::kSupportedOnnxTypes,
                                   onnxfe::onnxTypeName(tt.elem_type())));
    if (auto vt = opts_.inputValues.find(name); vt != opts_.inputValues.end()) {
      values_[name] = g_->addConstant(name, vt->second);
      continue;
    }
    Shape shape;
    if (auto it = opts_.inputShapes.find(name); it != opts_.inputShapes.end()) {
      shape = it->second;
    } else {
      if (!tt.has_shape())
        return fileError(fmt::format("input '{}' has no shape in the model; pass --input-shape "
                                     "{}=<dims> (e.g. 1x3x224x224)",
                                     name, name));
      std::vector<std::string> suggestion;
      for (int i = 0; i < tt.shape().dim_size(); ++i) {
        const auto &d = tt.shape().dim(i);
        suggestion.push_back(d.has_dim_value() && d.dim_value() > 0 ? std::to_string(d.dim_value())
                                                                    : "1");
      }
      for (int i = 0; i < tt.shape().dim_size(); ++i) {
        const auto &d = tt.shape().dim(i);
        if (d.has_dim_value() && d.dim_value() > 0) {
          shape.push_back(d.dim_value());
          continue;
        }
        std::string what = d.has_dim_param() ? fmt::format("symbolic dimension '{}'", d.dim_param())
                           : d.has_dim_value()
                               ? fmt::format("non-positive dimension {}", d.dim_value())
                               : std::string("unknown dimension");
        return fileError(fmt::format("input '{}' has {} at axis {} (shape {}); expected a static "
                                     "shape: pass --input-shape {}={} (for example)",
                                     name, what, i, modelShapeString(tt.shape()), name,
                                     fmt::join(suggestion, "x")));
      }
    }
    TensorType type(*dt, shape);
    if (auto why = unaddressable(type))
      return fileError(fmt::format("input '{}': {}", name, *why));
    values_[name] = g_->addInput(name, std::move(type));
  }
  foldAll_ = g_->inputs().empty();
  return llvm::Error::success();
}

llvm::Error Importer::lowerConstantNode(const onnx::NodeProto &n) {
  if (n.output_size() != 1)
    return nodeError(n, fmt::format("expected 1 output, found {}", n.output_size()));
  if (n.attribute_size() != 1)
    return nodeError(
        n, fmt::format("expected exactly one value attribute, found {}", n.attribute_size()));
  const onnx::AttributeProto &a = n.attribute(0);
  auto value = [&]() -> llvm::Expected<Tensor> {
    if (a.name() == "value")
      return onnxfe::tensorFromProto(a.t(), "attribute 'value'");
    if (a.name() == "value_float")
      return Tensor::fromVector<float>(DType::F32, {}, {a.f()});
    if (a.name() == "value_floats") {
      std::vector<float> v(a.floats().begin(), a.floats().end());
      return Tensor::fromVector<float>(DType::F32, {static_cast<int64_t>(v.size())}, v);
    }
    if (a.name() == "value_int")
      return Tensor::fromVector<int64_t>(DType::I64, {}, {a.i()});
    if (a.name() == "value_ints") {
      std::vector<int64_t> v(a.ints().begin(), a.ints().end());
      return Tensor::fromVector<int64_t>(DType::I64, {static_cast<int64_t>(v.size())}, v);
    }
    return makeError(fmt::format("expected attribute value, value_float(s) or value_int(s), "
                                 "found '{}' (string and sparse constants are unsupported)",
                                 a.name()));
  };
  auto t = value();
  if (!t)
    return nodeError(n, llvm::toString(t.takeError()));
  names_.insert(n.output(0));
  values_[n.output(0)] = g_->addConstant(n.output(0), std::move(*t));
  return llvm::Error::success();
}

llvm::Error Importer::lowerNode(const onnx::NodeProto &n) {
  if (n.op_type() == "Constant")
    return lowerConstantNode(n);
  onnxfe::NodeContext ctx;
  ctx.node = &n;
  ctx.name = n.name();
  ctx.op = *opFromName(n.op_type()); // findUnsupported ran on this very graph

  for (const std::string &in : n.input()) {
    if (in.empty()) {
      ctx.operands.push_back(nullptr);
      continue;
    }
    auto it = values_.find(in);
    if (it == values_.end())
      return nodeError(n, fmt::format("expected operand '{}' to be defined before its use, found "
                                      "it undefined",
                                      in));
    ctx.operands.push_back(it->second);
  }
  while (!ctx.operands.empty() && !ctx.operands.back())
    ctx.operands.pop_back();
  std::vector<Value *> operands;
  for (unsigned i = 0; i < ctx.operands.size(); ++i) {
    if (ctx.operands[i]) {
      operands.push_back(const_cast<Value *>(ctx.operands[i]));
      continue;
    }
    auto def = onnxfe::defaultOperand(ctx, i);
    if (!def)
      return nodeError(n, llvm::toString(def.takeError()));
    Value *c = g_->addConstant(uniqueName(fmt::format("{}_default{}", n.name(), i)), *def);
    ctx.operands[i] = c;
    operands.push_back(c);
  }

  unsigned numOutputs = static_cast<unsigned>(n.output_size());
  while (numOutputs > 0 && n.output(static_cast<int>(numOutputs) - 1).empty())
    --numOutputs;
  auto attrs = onnxfe::convertAttributes(ctx, numOutputs);
  if (!attrs)
    return nodeError(n, llvm::toString(attrs.takeError()));
  if (auto e = checkShapeOperands(n, ctx))
    return e;
  auto types = inferResultTypes(ctx.op, ctx.operands, *attrs);
  if (!types)
    return nodeError(n, llvm::toString(types.takeError()));
  if (types->size() < numOutputs)
    return nodeError(n, fmt::format("expected at most {} output{}, found {}", types->size(),
                                    types->size() == 1 ? "" : "s", numOutputs));
  for (unsigned i = 0; i < types->size(); ++i)
    if (auto why = unaddressable((*types)[i]))
      return nodeError(n, fmt::format("result {}{}: {}", i,
                                      i < numOutputs && !n.output(static_cast<int>(i)).empty()
                                          ? fmt::format(" '{}'", n.output(static_cast<int>(i)))
                                          : std::string(),
                                      *why));

  // Fold: all-constant operands (within the size cap), or Shape of a statically typed value.
  std::optional<std::vector<Tensor>> folded;
  if (std::optional<Tensor> t = onnxfe::foldFromTypes(ctx, *attrs)) {
    folded = std::vector<Tensor>{std::move(*t)};
  } else if (std::all_of(operands.begin(), operands.end(),
                         [](const Value *v) { return v->isConstant(); })) {
    int64_t inBytes = 0, outBytes = 0;
    for (const Value *v : operands)
      inBytes = std::max<int64_t>(inBytes, v->type().byteSize());
    for (const TensorType &t : *types)
      outBytes += t.byteSize();
    if ((foldAll_ && outBytes <= kMaxFoldBytes) || outBytes <= std::max(inBytes, kMinFoldBytes)) {
      std::vector<Tensor> data;
      for (const Value *v : operands)
        data.push_back(v->constant());
      auto res = evaluate(ctx.op, data, *attrs, *types);
      if (res)
        folded = std::move(*res);
      else if (foldAll_)
        return nodeError(n, llvm::toString(res.takeError()));
      else
        // Not folding only costs run time; the node stays and is computed by generated code.
        llvm::consumeError(res.takeError());
    }
  }
  if (folded) {
    for (unsigned i = 0; i < numOutputs; ++i) {
      const std::string &out = n.output(static_cast<int>(i));
      if (out.empty())
        continue;
      names_.insert(out);
      values_[out] = g_->addConstant(out, std::move((*folded)[i]));
    }
    return llvm::Error::success();
  }

  std::vector<std::string> resultNames;
  for (unsigned i = 0; i < types->size(); ++i) {
    std::string out = i < numOutputs ? n.output(static_cast<int>(i)) : std::string();
    resultNames.push_back(out.empty() ? uniqueName(fmt::format("{}_out{}", n.name(), i)) : out);
    names_.insert(resultNames.back());
  }
  Node *node = g_->addNode(ctx.op, n.name(), operands, *types, resultNames, std::move(*attrs));
  for (unsigned i = 0; i < numOutputs; ++i)
    if (!n.output(static_cast<int>(i)).empty())
      values_[n.output(static_cast<int>(i))] = node->result(i);
  return llvm::Error::success();
}

std::map<std::string, std::set<std::string>> Importer::provenance() const {
  std::set<std::string> unbound;
  for (const onnx::ValueInfoProto *in : realInputs())
    if (!opts_.inputValues.count(in->name()))
      unbound.insert(in->name());
  return onnxfe::inputProvenance(model_.graph(), unbound);
}

llvm::Error Importer::checkShapeOperands(const onnx::NodeProto &n,
                                         const onnxfe::NodeContext &ctx) {
  for (const ShapeOperand &so : shapeOperands(ctx.op)) {
    if (so.index >= ctx.operands.size() || ctx.operands[so.index]->isConstant())
      continue;
    auto it = provenance_.find(n.input(static_cast<int>(so.index)));
    if (it == provenance_.end())
      continue; // not from an input (a fold declined for size): inferResultTypes says why
    std::vector<std::string> quoted, binds;
    for (const std::string &in : it->second) {
      quoted.push_back(fmt::format("'{}'", in));
      binds.push_back(fmt::format("--bind {}=FILE.pb", in));
    }
    return nodeError(
        n, fmt::format("operand {} ({}) decides the result's shape and must be known at compile "
                       "time, found it computed from input{} {}; bind {} to constant data with {} "
                       "(a serialized onnx.TensorProto)",
                       so.index, so.name, quoted.size() == 1 ? "" : "s", fmt::join(quoted, ", "),
                       quoted.size() == 1 ? "it" : "them", fmt::join(binds, " ")));
  }
  return llvm::Error::success();
}

llvm::Error Importer::lowerNodes() {
  provenance_ = provenance();
  for (const auto &n : model_.graph().node())
    if (auto e = lowerNode(n))
      return e;
  return llvm::Error::success();
}

llvm::Error Importer::lowerOutputs() {
  std::vector<Value *> outs;
  for (const auto &o : model_.graph().output()) {
    auto it = values_.find(o.name());
    if (it == values_.end())
      return fileError(fmt::format("graph output '{}': expected a value the graph defines, found "
                                   "none",
                                   o.name()));
    outs.push_back(it->second);
  }
  g_->setOutputs(std::move(outs));
  return llvm::Error::success();
}

llvm::Error Importer::prepare() {
  if (auto e = parse())
    return e;
  if (auto e = checkOpset())
    return e;
  // Before the checker, which would look for the external files relative to the working directory.
  for (const auto &t : model_.graph().initializer())
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      auto r = onnxfe::tensorFromProto(t, fmt::format("initializer '{}'", t.name()));
      return fileError(r ? std::string("external data") : llvm::toString(r.takeError()));
    }
  nameNodes(); // first, so that even checker diagnostics name every node
  // Before any libonnx code: its converter and inference crash on some graphs its checker passes.
  if (auto e = onnxfe::checkStructure(model_, path_, opset_))
    return e;
  try {
    onnx::checker::check_model(model_);
  } catch (const std::exception &e) {
    return libraryError("ONNX checker", e.what());
  }
  if (auto e = findUnsupported())
    return e;
  if (auto e = checkInputOptions())
    return e;
  return convertAndInfer();
}

llvm::Expected<std::vector<ShapeInputUse>> Importer::shapeInputs() {
  if (auto e = prepare())
    return e;
  std::map<std::string, std::set<std::string>> deps = provenance();
  std::vector<ShapeInputUse> uses;
  for (const onnx::NodeProto &n : model_.graph().node()) {
    std::optional<OpKind> op = opFromName(n.op_type());
    if (!op || !isDefaultDomain(n.domain()))
      continue;
    for (const ShapeOperand &so : shapeOperands(*op)) {
      if (so.index >= static_cast<unsigned>(n.input_size()))
        continue;
      auto it = deps.find(n.input(static_cast<int>(so.index)));
      if (it == deps.end())
        continue;
      for (const std::string &in : it->second)
        uses.push_back({in, n.name(), n.op_type(), so.index, so.name});
    }
  }
  return uses;
}

llvm::Expected<std::unique_ptr<Graph>> Importer::run() {
  if (auto e = prepare())
    return e;

  // Every name the model uses, so that generated names never collide with them.
  const onnx::GraphProto &gp = model_.graph();
  for (const auto &t : gp.initializer())
    names_.insert(t.name());
  for (const auto &in : gp.input())
    names_.insert(in.name());
  for (const auto &n : gp.node())
    for (const auto &o : n.output())
      names_.insert(o);

  std::string graphName = gp.name();
  if (graphName.empty())
    graphName = llvm::sys::path::stem(path_).str();
  g_->setName(graphName);
  if (auto e = lowerInputs())
    return e;
  if (auto e = lowerNodes())
    return e;
  if (auto e = lowerOutputs())
    return e;
  // Folding leaves the intermediate constants of resolved shape computations behind.
  g_->eraseUnusedConstants();
  return std::move(g_);
}

} // namespace

llvm::Expected<std::unique_ptr<Graph>> importOnnxBytes(llvm::StringRef bytes,
                                                       const std::string &path,
                                                       const ImportOptions &opts) {
  // libonnx and protobuf report failures by throwing, also from places not guarded above (e.g.
  // allocation); nothing escapes the frontend.
  try {
    Importer imp(bytes, path, opts);
    return imp.run();
  } catch (const std::exception &e) {
    return makeError(fmt::format("{}: ONNX library failure: {}", path, oneLine(e.what())));
  }
}

llvm::Expected<std::vector<ShapeInputUse>> listShapeInputs(const std::string &path,
                                                           const ImportOptions &opts) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf)
    return makeError(fmt::format("{}: cannot read file: {}", path, buf.getError().message()));
  try {
    Importer imp((*buf)->getBuffer(), path, opts);
    return imp.shapeInputs();
  } catch (const std::exception &e) {
    return makeError(fmt::format("{}: ONNX library failure: {}", path, oneLine(e.what())));
  }
}

llvm::Expected<std::unique_ptr<Graph>> importOnnx(const std::string &path,
                                                  const ImportOptions &opts) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf)
    return makeError(fmt::format("{}: cannot read file: {}", path, buf.getError().message()));
  return importOnnxBytes((*buf)->getBuffer(), path, opts);
}

} // namespace kiln
