// kiln's own structural check of an ONNX graph, run before any libonnx code looks at it. libonnx's
// checker misses some broken graphs that its version converter and shape inference then trip over
// (a graph output nothing produces makes the converter's graphProtoToGraph dereference a null
// value), so nothing from the file reaches libonnx before this check has passed: every node input
// and graph output has a producer that comes earlier (ONNX requires nodes in topological order),
// every value name has one producer, dimensions are non-negative (or symbolic), element types are
// ones ONNX defines, and no node carries a subgraph (If, Loop and Scan bodies are not imported).
// Convolutions and pools get more: libonnx's shape inference for them divides by strides and
// indexes attribute lists and the weight's dims without checking them (zero strides, or a weight
// whose rank differs from the input's, crash it), so their attributes are checked here and their
// kernel_shape is made explicit from a weight of known shape, which makes libonnx compare it with
// the input's rank before it indexes anything.
#include "compiler/frontend/OnnxImport.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>

namespace kiln {
namespace onnxfe {

namespace {

bool isDefaultDomain(const std::string &d) { return d.empty() || d == "ai.onnx"; }

/// Who produces a value: a graph input, an initializer, or node #index.
struct Producer {
  enum Kind { Input, Initializer, Node } kind;
  int index; // position among the graph's inputs, initializers or nodes
};

bool isConvOrPool(const onnx::NodeProto &n) {
  static const char *const ops[] = {"Conv",    "ConvTranspose", "ConvInteger", "QLinearConv",
                                    "MaxPool", "AveragePool",   "LpPool"};
  return isDefaultDomain(n.domain()) &&
         std::find(std::begin(ops), std::end(ops), n.op_type()) != std::end(ops);
}

class StructureChecker {
public:
  StructureChecker(onnx::ModelProto &m, const std::string &path, int opset)
      : g_(*m.mutable_graph()), path_(path), opset_(opset) {}

  llvm::Error run();

private:
  std::string describe(const Producer &p) const {
    switch (p.kind) {
    case Producer::Input:
      return fmt::format("graph input #{}", p.index);
    case Producer::Initializer:
      return fmt::format("initializer #{}", p.index);
    case Producer::Node:
      break;
    }
    const onnx::NodeProto &n = g_.node(p.index);
    return fmt::format("node #{} '{}' ({})", p.index, n.name(), opName(n));
  }
  static std::string opName(const onnx::NodeProto &n) {
    return isDefaultDomain(n.domain()) ? n.op_type() : n.domain() + "." + n.op_type();
  }
  llvm::Error fileError(const std::string &msg) const {
    return makeError(fmt::format("{}: {}", path_, msg));
  }
  llvm::Error nodeError(int index, const std::string &msg) const {
    const onnx::NodeProto &n = g_.node(index);
    return makeError(fmt::format("{}: node #{} '{}' ({}, opset {}): {}", path_, index, n.name(),
                                 opName(n), opset_, msg));
  }
  /// Records `p` as the producer of `name`; a second producer is an error.
  llvm::Error define(const std::string &name, Producer p, const std::string &what);
  llvm::Error checkValueInfo(const onnx::ValueInfoProto &vi, const std::string &what,
                             bool requireType) const;
  llvm::Error checkNode(int index);
  llvm::Error checkConvOrPool(int index);
  /// The rank of a value whose shape is known before inference (graph input, initializer,
  /// value_info, Constant node), with its dims when all are static; nullopt when unknown.
  std::optional<int> knownRank(const std::string &name) const {
    auto it = shapes_.find(name);
    return it == shapes_.end() ? std::nullopt : std::optional<int>(it->second.rank);
  }
  void noteShape(const std::string &name, const onnx::TensorShapeProto &s) {
    KnownShape k{s.dim_size(), {}};
    for (const auto &d : s.dim())
      k.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    shapes_[name] = std::move(k);
  }

  struct KnownShape {
    int rank;
    std::vector<int64_t> dims; // -1 where symbolic or unknown
  };
  onnx::GraphProto &g_;
  std::string path_;
  int opset_;
  std::map<std::string, Producer> producers_;
  std::map<std::string, KnownShape> shapes_;
};

llvm::Error StructureChecker::checkConvOrPool(int index) {
  onnx::NodeProto &n = *g_.mutable_node(index);
  bool conv = n.op_type().find("Conv") != std::string::npos;
  // QLinearConv's weight is its fourth input (x, x_scale, x_zero_point, w, ...).
  int wIndex = n.op_type() == "QLinearConv" ? 3 : 1;
  const onnx::AttributeProto *kernel = nullptr;
  for (const onnx::AttributeProto &a : n.attribute()) {
    const std::string &name = a.name();
    bool positive = name == "strides" || name == "dilations" || name == "kernel_shape";
    bool nonNegative = name == "pads" || name == "output_padding";
    if (name == "kernel_shape")
      kernel = &a;
    for (int64_t v : a.ints())
      if ((positive && v <= 0) || (nonNegative && v < 0))
        return nodeError(index, fmt::format("attribute '{}': expected {} values, found {}", name,
                                            positive ? "positive" : "non-negative", v));
    if (name == "group" && a.i() <= 0)
      return nodeError(index,
                       fmt::format("attribute 'group': expected a positive value, found {}", a.i()));
  }
  std::optional<int> xRank = n.input_size() > 0 ? knownRank(n.input(0)) : std::nullopt;
  if (xRank && *xRank < 3)
    return nodeError(index, fmt::format("input 0 '{}': expected a tensor of rank 3 or more (batch, "
                                        "channels, spatial dims), found rank {}",
                                        n.input(0), *xRank));
  if (xRank)
    for (const onnx::AttributeProto &a : n.attribute()) {
      size_t spatial = static_cast<size_t>(*xRank - 2);
      size_t want = a.name() == "pads" ? 2 * spatial : spatial;
      bool perAxis = a.name() == "strides" || a.name() == "dilations" ||
                     a.name() == "kernel_shape" || a.name() == "pads" ||
                     a.name() == "output_padding";
      if (perAxis && static_cast<size_t>(a.ints_size()) != want)
        return nodeError(index, fmt::format("attribute '{}': expected {} values for input '{}' of "
                                            "rank {}, found {}",
                                            a.name(), want, n.input(0), *xRank, a.ints_size()));
    }
  if (!conv)
    return llvm::Error::success();
  if (n.input_size() <= wIndex || n.input(wIndex).empty())
    return llvm::Error::success(); // the checker reports the missing weight
  const std::string &w = n.input(wIndex);
  auto ws = shapes_.find(w);
  if (ws == shapes_.end())
    // libonnx reads the weight's inferred dims (for the kernel and the output channels) without
    // checking their count, so a weight is only accepted with a shape known up front.
    return nodeError(index, fmt::format("input {} '{}' (the weight): expected a value whose shape "
                                        "is known before shape inference (an initializer, a "
                                        "Constant or a typed graph input), found one computed by "
                                        "the graph",
                                        wIndex, w));
  const KnownShape &wShape = ws->second;
  if (wShape.rank < 3 || (xRank && wShape.rank != *xRank))
    return nodeError(index, fmt::format("input {} '{}' (the weight): expected rank {}, found rank {}",
                                        wIndex, w,
                                        xRank ? fmt::format("{} (that of input '{}')", *xRank,
                                                            n.input(0))
                                              : std::string("3 or more"),
                                        wShape.rank));
  if (!kernel) {
    std::vector<int64_t> k(wShape.dims.begin() + 2, wShape.dims.end());
    if (std::all_of(k.begin(), k.end(), [](int64_t d) { return d > 0; })) {
      onnx::AttributeProto *a = n.add_attribute();
      a->set_name("kernel_shape");
      a->set_type(onnx::AttributeProto::INTS);
      for (int64_t d : k)
        a->add_ints(d);
    } else {
      return nodeError(index, fmt::format("input {} '{}' (the weight): expected static kernel "
                                          "dims or an explicit kernel_shape, found shape [{}]",
                                          wIndex, w, fmt::join(wShape.dims, ",")));
    }
  }
  return llvm::Error::success();
}

llvm::Error StructureChecker::define(const std::string &name, Producer p, const std::string &what) {
  if (name.empty())
    return p.kind == Producer::Node
               ? nodeError(p.index, fmt::format("{}: expected a value name, found an empty one",
                                                what))
               : fileError(fmt::format("{}: expected a value name, found an empty one", what));
  auto [it, inserted] = producers_.emplace(name, p);
  if (inserted)
    return llvm::Error::success();
  std::string msg = fmt::format("{} '{}': expected a value name no other producer uses (ONNX graphs "
                                "are in SSA form), found it already produced by {}",
                                what, name, describe(it->second));
  return p.kind == Producer::Node ? nodeError(p.index, msg) : fileError(msg);
}

llvm::Error StructureChecker::checkValueInfo(const onnx::ValueInfoProto &vi,
                                             const std::string &what, bool requireType) const {
  if (!vi.has_type() || !vi.type().has_tensor_type())
    return llvm::Error::success(); // missing and non-tensor types are the lowering's business
  const onnx::TypeProto_Tensor &tt = vi.type().tensor_type();
  int et = tt.elem_type();
  if ((et == onnx::TensorProto::UNDEFINED && requireType) ||
      !onnx::TensorProto::DataType_IsValid(et))
    return fileError(fmt::format("{} '{}': expected an element type ONNX defines, found {}", what,
                                 vi.name(),
                                 et == onnx::TensorProto::UNDEFINED
                                     ? std::string("none (UNDEFINED)")
                                     : fmt::format("data type {}", et)));
  if (!tt.has_shape())
    return llvm::Error::success();
  for (int i = 0; i < tt.shape().dim_size(); ++i) {
    const auto &d = tt.shape().dim(i);
    if (d.has_dim_value() && d.dim_value() < 0)
      return fileError(fmt::format("{} '{}': expected a non-negative or symbolic dimension at axis "
                                   "{}, found {}",
                                   what, vi.name(), i, d.dim_value()));
  }
  return llvm::Error::success();
}

llvm::Error StructureChecker::checkNode(int index) {
  const onnx::NodeProto &n = g_.node(index);
  if (n.op_type().empty())
    return nodeError(index, "expected an op type, found an empty one");
  for (const onnx::AttributeProto &a : n.attribute())
    if (a.has_g() || a.graphs_size() > 0 || a.type() == onnx::AttributeProto::GRAPH ||
        a.type() == onnx::AttributeProto::GRAPHS)
      return nodeError(index, fmt::format("attribute '{}': expected no subgraph (kiln imports flat "
                                          "graphs; control flow such as If, Loop and Scan is not "
                                          "supported), found a graph-valued attribute",
                                          a.name()));
  for (int i = 0; i < n.input_size(); ++i) {
    const std::string &in = n.input(i);
    if (in.empty())
      continue; // an omitted optional input
    if (producers_.count(in))
      continue;
    // Not defined yet: either later in the graph (out of order) or nowhere.
    for (int k = index + 1; k < g_.node_size(); ++k)
      for (const std::string &o : g_.node(k).output())
        if (o == in)
          return nodeError(
              index, fmt::format("input {} '{}': expected a value produced by an earlier node, an "
                                 "initializer or a graph input (ONNX requires nodes in topological "
                                 "order), found it produced later, by {}",
                                 i, in, describe({Producer::Node, k})));
    return nodeError(index, fmt::format("input {} '{}': expected a value produced by an earlier "
                                        "node, an initializer or a graph input, found no producer",
                                        i, in));
  }
  for (int i = 0; i < n.output_size(); ++i)
    if (!n.output(i).empty())
      if (auto e = define(n.output(i), {Producer::Node, index}, fmt::format("output {}", i)))
        return e;
  if (isConvOrPool(n))
    return checkConvOrPool(index);
  return llvm::Error::success();
}

llvm::Error StructureChecker::run() {
  // Initializers first: older models also list every initializer as a graph input, which is one
  // value (the input defaults to the initializer), not two producers.
  for (int i = 0; i < g_.initializer_size(); ++i) {
    const onnx::TensorProto &t = g_.initializer(i);
    if (auto e = define(t.name(), {Producer::Initializer, i}, "initializer"))
      return e;
    if (t.data_type() == onnx::TensorProto::UNDEFINED ||
        !onnx::TensorProto::DataType_IsValid(t.data_type()))
      return fileError(fmt::format("initializer '{}': expected an element type ONNX defines, found "
                                   "{}",
                                   t.name(), onnxTypeName(t.data_type())));
    for (int k = 0; k < t.dims_size(); ++k)
      if (t.dims(k) < 0)
        return fileError(fmt::format("initializer '{}': expected non-negative dimensions, found {} "
                                     "at axis {}",
                                     t.name(), t.dims(k), k));
    shapes_[t.name()] = KnownShape{t.dims_size(), {t.dims().begin(), t.dims().end()}};
  }
  for (int i = 0; i < g_.input_size(); ++i) {
    const onnx::ValueInfoProto &in = g_.input(i);
    if (auto e = checkValueInfo(in, "graph input", /*requireType=*/true))
      return e;
    auto it = producers_.find(in.name());
    if (it != producers_.end() && it->second.kind == Producer::Initializer)
      continue;
    if (in.type().has_tensor_type() && in.type().tensor_type().has_shape())
      noteShape(in.name(), in.type().tensor_type().shape());
    if (auto e = define(in.name(), {Producer::Input, i}, "graph input"))
      return e;
  }
  for (const onnx::ValueInfoProto &vi : g_.value_info()) {
    if (auto e = checkValueInfo(vi, "value_info", /*requireType=*/false))
      return e;
    if (vi.type().has_tensor_type() && vi.type().tensor_type().has_shape() &&
        !shapes_.count(vi.name()))
      noteShape(vi.name(), vi.type().tensor_type().shape());
  }
  // Constant nodes' values have static shapes too (weights are often Constants).
  for (const onnx::NodeProto &n : g_.node())
    if (isDefaultDomain(n.domain()) && n.op_type() == "Constant" && n.output_size() == 1)
      for (const onnx::AttributeProto &a : n.attribute())
        if (a.name() == "value" && a.has_t())
          shapes_[n.output(0)] = KnownShape{a.t().dims_size(), {a.t().dims().begin(),
                                                                a.t().dims().end()}};
  for (int i = 0; i < g_.node_size(); ++i)
    if (auto e = checkNode(i))
      return e;
  for (int i = 0; i < g_.output_size(); ++i) {
    const onnx::ValueInfoProto &out = g_.output(i);
    if (auto e = checkValueInfo(out, "graph output", /*requireType=*/true))
      return e;
    if (out.name().empty())
      return fileError(
          fmt::format("graph output #{}: expected a value name, found an empty one", i));
    if (!producers_.count(out.name()))
      return fileError(fmt::format("graph output #{} '{}': expected a value produced by a node, an "
                                   "initializer or a graph input, found no producer",
                                   i, out.name()));
  }
  return llvm::Error::success();
}

} // namespace

llvm::Error checkStructure(onnx::ModelProto &m, const std::string &path, int opset) {
  return StructureChecker(m, path, opset).run();
}

} // namespace onnxfe
} // namespace kiln
