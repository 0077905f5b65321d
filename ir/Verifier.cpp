// The graph verifier: what every pass may assume and what `kiln opt` and `--verify-each` check.
// It reports the first problem found, walking the graph in printed order (inputs, constants,
// nodes, outputs) so that the message points at the earliest offending line of a .kir dump.
#include "ir/Verifier.h"

#include "ir/Semantics.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace kiln {

// Defined in ir/Printer.cpp, so that messages spell a name exactly as the .kir text does
// (quoted unless it is a plain identifier).
std::string kirName(const std::string &s);

namespace {

/// A value as the text spells it: %name or %"quoted name".
std::string spelled(const std::string &name) { return "%" + kirName(name); }

llvm::Error fail(std::string msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

std::string nodeRef(const Node &n) {
  return fmt::format("node '{}' ({})", n.name(), opName(n.op()));
}

/// A layout must describe the tensor's own dimensions: `order` empty or a permutation of them,
/// blocks on existing dimensions with positive sizes, each dimension blocked at most once.
std::optional<std::string> layoutProblem(const TensorType &t) {
  const Layout &l = t.layout;
  if (!l.order.empty()) {
    std::vector<int> sorted = l.order;
    std::sort(sorted.begin(), sorted.end());
    bool perm = static_cast<int>(sorted.size()) == t.rank();
    for (int i = 0; perm && i < t.rank(); ++i)
      perm = sorted[i] == i;
    if (!perm)
      return fmt::format("layout order [{}] is not a permutation of the {} dimensions",
                         fmt::join(l.order, ","), t.rank());
  }
  std::set<int> blocked;
  for (auto &[dim, size] : l.blocks) {
    if (dim < 0 || dim >= t.rank())
      return fmt::format("blocks dimension {}, which a rank-{} tensor does not have", dim,
                         t.rank());
    if (size <= 0)
      return fmt::format("blocks dimension {} by {}", dim, size);
    if (!blocked.insert(dim).second)
      return fmt::format("blocks dimension {} twice", dim);
  }
  for (int64_t d : t.shape)
    if (d < 0)
      return fmt::format("has a negative dimension");
  return std::nullopt;
}

llvm::Error checkType(const TensorType &t, const std::string &what) {
  if (auto p = layoutProblem(t))
    return fail(fmt::format("{} has type {}, which {}", what, typeString(t), *p));
  if (t.elem.quant) {
    const QuantParams &q = *t.elem.quant;
    size_t expected = q.axis < 0 ? 1 : q.axis < t.rank() ? static_cast<size_t>(t.shape[q.axis]) : 0;
    if (q.axis >= t.rank() || q.scales.size() != expected || q.zeroPoints.size() != expected)
      return fail(fmt::format(
          "{} has type {}, whose quantization needs {} scales and zero points", what, typeString(t),
          q.axis >= t.rank() ? "an axis within the rank and" : std::to_string(expected)));
  }
  return llvm::Error::success();
}

/// Dense row-major layouts are equal however they are spelled (empty or identity order).
bool sameLayout(const Layout &a, const Layout &b) {
  return a == b || (a.isRowMajor() && b.isRowMajor());
}

/// The step as the .kir text spells it, for messages.
std::string stepName(const EpilogueStep &s) {
  switch (s.kind) {
  case EpilogueStep::Kind::BiasAdd:
    return "bias_add";
  case EpilogueStep::Kind::ResidualAdd:
    return "residual_add";
  case EpilogueStep::Kind::Requantize:
    return "requantize";
  case EpilogueStep::Kind::Binary:
    return fmt::format("{}{}", s.swapped ? "r" : "", binName(s.bin));
  case EpilogueStep::Kind::Activation:
    break;
  }
  return actName(s.act);
}

/// Whether `t` broadcasts (numpy rules, right-aligned) to `result` without enlarging it.
bool broadcastsTo(const Shape &t, const Shape &result) {
  if (t.size() > result.size())
    return false;
  size_t offset = result.size() - t.size();
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i] != 1 && t[i] != result[i + offset])
      return false;
  return true;
}

llvm::Error checkEpilogue(const Node &n) {
  const Epilogue &ep = n.epilogue();
  if (ep.empty())
    return llvm::Error::success();
  OpKind op = n.op();
  bool matrixOp = isMatrixEpilogueOp(op);
  // Elementwise ops carry activation and binary steps: a fused chain such as Add -> Mul -> Relu
  // is one loop.
  bool elementwise = isElementwiseEpilogueOp(op) && n.numResults() == 1 &&
                     n.result()->type().dtype() == DType::F32;
  if (!matrixOp && !elementwise)
    return fail(fmt::format("{}: only Conv, ConvTranspose, Gemm, MatMul and f32 elementwise ops "
                            "carry an epilogue",
                            nodeRef(n)));
  if (elementwise)
    for (size_t i = 0; i < ep.steps.size(); ++i)
      if (ep.steps[i].kind != EpilogueStep::Kind::Activation &&
          ep.steps[i].kind != EpilogueStep::Kind::Binary)
        return fail(fmt::format("{}: epilogue step {} of an elementwise op: expected an "
                                "activation or a binary step, found {}",
                                nodeRef(n), i, stepName(ep.steps[i])));
  if (n.numResults() != 1)
    return fail(fmt::format("{}: a node with an epilogue has one result, found {}", nodeRef(n),
                            n.numResults()));
  const TensorType &result = n.result()->type();
  int channelDim = epilogueChannelDim(op, result.rank());
  int64_t channels =
      channelDim >= 0 && channelDim < result.rank() ? result.shape[channelDim] : -1;
  for (size_t i = 0; i < ep.steps.size(); ++i) {
    const EpilogueStep &s = ep.steps[i];
    if (!s.readsOperand()) {
      if (s.kind == EpilogueStep::Kind::Requantize && !result.elem.isQuantized())
        return fail(fmt::format("{}: epilogue step {} requantizes, but the result type {} is not "
                                "quantized",
                                nodeRef(n), i, typeString(result)));
      continue;
    }
    if (s.operand < 0 || s.operand >= static_cast<int>(n.numOperands()))
      return fail(fmt::format("{}: epilogue step {} ({}) uses operand {}, expected 0..{}",
                              nodeRef(n), i, stepName(s), s.operand,
                              static_cast<int>(n.numOperands()) - 1));
    const TensorType &t = n.operand(s.operand)->type();
    if (s.kind == EpilogueStep::Kind::BiasAdd) {
      if (t.numElements() != channels)
        return fail(fmt::format("{}: epilogue bias_add operand {} has type {}, expected {} "
                                "elements of the result's dimension {} ({})",
                                nodeRef(n), s.operand, typeString(t), channels, channelDim,
                                typeString(result)));
    } else if (s.kind == EpilogueStep::Kind::ResidualAdd) {
      if (t.shape != result.shape)
        return fail(fmt::format("{}: epilogue residual_add operand {} has type {}, expected the "
                                "result's shape {}",
                                nodeRef(n), s.operand, typeString(t), typeString(result)));
    } else {
      bool ok = t.dtype() == DType::F32 && broadcastsTo(t.shape, result.shape);
      // A matrix kernel reads a binary operand at the flat index, the channel or element 0.
      if (ok && matrixOp)
        ok = t.shape == result.shape || t.numElements() == 1 ||
             isChannelOperand(op, result.shape, t.shape);
      if (!ok)
        return fail(fmt::format(
            "{}: epilogue step {} ({}) operand {} has type {}, expected f32 broadcasting to the "
            "result {}{}",
            nodeRef(n), i, stepName(s), s.operand, typeString(t), typeString(result),
            matrixOp ? " as the whole result, its channel vector or one element" : ""));
    }
  }
  return llvm::Error::success();
}

llvm::Error checkNodeTypes(const Node &n) {
  // Operands consumed by the epilogue are not operands of the op's own semantics (a residual
  // operand would be one too many for Conv; a bias is optional for Conv and Gemm alike).
  bool requantizes = false;
  for (const EpilogueStep &s : n.epilogue().steps)
    requantizes |= s.kind == EpilogueStep::Kind::Requantize;
  std::vector<const Value *> operands;
  for (unsigned i = 0; i < n.numOperands(); ++i)
    if (!n.isEpilogueOperand(i))
      operands.push_back(n.operand(i));
  auto inferred = inferResultTypes(n.op(), operands, n.attrs());
  if (!inferred)
    return fail(fmt::format("{}: {}", nodeRef(n), llvm::toString(inferred.takeError())));
  if (inferred->size() != n.numResults())
    return fail(fmt::format("{}: has {} results, expected {} from the op's semantics", nodeRef(n),
                            n.numResults(), inferred->size()));
  for (unsigned i = 0; i < n.numResults(); ++i) {
    const TensorType &have = n.result(i)->type();
    const TensorType &want = (*inferred)[i];
    // The semantics are logical: a result's layout is the layout passes' choice unless the
    // semantics name one; a requantizing epilogue picks the result's quantization.
    bool elemOk = requantizes ? have.elem.storage == want.elem.storage || have.elem.isQuantized()
                              : have.elem == want.elem;
    bool layoutOk = want.layout.isRowMajor() || sameLayout(have.layout, want.layout);
    if (!elemOk || have.shape != want.shape || !layoutOk)
      return fail(fmt::format("{}: result {} has type {}, expected {} from the op's semantics",
                              nodeRef(n), i, typeString(have), typeString(want)));
  }
  return llvm::Error::success();
}

} // namespace

llvm::Error verifyGraph(const Graph &g) {
  // Every value the text form names must have a name of its own.
  std::map<std::string, std::string> names; // name -> where it is defined
  auto claim = [&](const Value *v, const std::string &where) -> llvm::Error {
    auto [it, fresh] = names.emplace(v->name(), where);
    if (!fresh)
      return fail(fmt::format("value {} is defined twice: by {} and by {}", spelled(v->name()),
                              it->second, where));
    return llvm::Error::success();
  };

  std::set<const Value *> defined;
  for (const Value *in : g.inputs()) {
    std::string where = fmt::format("graph input {}", spelled(in->name()));
    if (llvm::Error e = claim(in, "a graph input"))
      return e;
    if (llvm::Error e = checkType(in->type(), where))
      return e;
    if (!in->type().layout.isRowMajor())
      return fail(fmt::format("{} has type {}, expected dense row-major at the model boundary",
                              where, typeString(in->type())));
    defined.insert(in);
  }
  for (const Value *c : g.constants()) {
    std::string where = fmt::format("constant {}", spelled(c->name()));
    if (llvm::Error e = claim(c, "a constant"))
      return e;
    if (llvm::Error e = checkType(c->type(), where))
      return e;
    const Tensor &t = c->constant();
    int64_t own = t.numElements() * static_cast<int64_t>(dtypeSize(t.dtype));
    if (static_cast<int64_t>(t.byteSize()) != own)
      return fail(fmt::format("{}: its data holds {} bytes, but {} needs {}", where, t.byteSize(),
                              typeString(TensorType(t.dtype, t.shape)), own));
    if (t.dtype != c->type().dtype() || c->type().byteSize() != own)
      return fail(fmt::format("{} has type {} ({} bytes of {}), but its data is {} ({} bytes)",
                              where, typeString(c->type()), c->type().byteSize(),
                              dtypeName(c->type().dtype()),
                              typeString(TensorType(t.dtype, t.shape)), own));
    defined.insert(c);
  }

  std::set<const Value *> results; // results of every node, to tell "later" from "foreign"
  for (const Node *n : g.nodes())
    for (const Value *r : n->results())
      results.insert(r);

  for (const Node *n : g.nodes()) {
    for (unsigned i = 0; i < n->numOperands(); ++i) {
      const Value *v = n->operand(i);
      if (!v)
        return fail(fmt::format("{}: operand {} is null", nodeRef(*n), i));
      if (defined.count(v))
        continue;
      if (results.count(v))
        return fail(fmt::format("{}: operand {} ({}) is used before its definition by node '{}'",
                                nodeRef(*n), i, spelled(v->name()), v->producer()->name()));
      // Not dereferenced: it may belong to an erased node.
      return fail(fmt::format("{}: operand {} is not a value of this graph (erased or foreign)",
                              nodeRef(*n), i));
    }
    for (unsigned i = 0; i < n->numResults(); ++i) {
      const Value *r = n->result(i);
      if (llvm::Error e = claim(r, fmt::format("node '{}'", n->name())))
        return e;
      if (llvm::Error e = checkType(
              r->type(), fmt::format("{}: result {} ({})", nodeRef(*n), i, spelled(r->name()))))
        return e;
      defined.insert(r);
    }
    if (llvm::Error e = checkEpilogue(*n))
      return e;
    if (llvm::Error e = checkNodeTypes(*n))
      return e;
  }

  for (size_t i = 0; i < g.outputs().size(); ++i) {
    const Value *o = g.outputs()[i];
    if (!o)
      return fail(fmt::format("graph output {} is null", i));
    if (!defined.count(o))
      return fail(
          fmt::format("graph output {} is not a value of this graph (erased or foreign)", i));
    if (!o->type().layout.isRowMajor())
      return fail(fmt::format("graph output {} ({}) has type {}, expected dense row-major at the "
                              "model boundary",
                              i, spelled(o->name()), typeString(o->type())));
  }
  return llvm::Error::success();
}

} // namespace kiln
