// The C++ emitter: turns a typed, static-shape graph into the NAME.h / NAME.cpp pair.
//
// Decide, then print. First every node gets its kernel choice (selectKernel) and its epilogue is
// checked, and all failures are reported together before anything is printed. Then memory:
// constants are 64-aligned slices of one read-only blob, laid out here; everything else is the
// memory plan's (codegen/MemoryPlan.h), fed per node by what the kernel decision and the node's
// static types allow (sharingOf: a view op's result is its operand's bytes, an elementwise result
// may overwrite a dying operand, a channel Split / Slice is part of its operand, a channel
// Concat's producers may write their slices of its result directly). The plan decides which of
// that is taken and where every input, output, intermediate and scratch lives, in one arena
// (static, or the caller's with CodegenOptions::externalArena); the emitter only asks it.
// Only then is text printed, through the indenting Writer: banner, hoisted standard includes, the
// runtime stub, and inside an anonymous namespace the kernel headers the model uses, the weights,
// the arena and the epilogue functors; last the one extern "C" entry point that runs the nodes in
// order, each in a block binding exactly the pointers its kernel decision references, then the
// calls as printDecision prints them (see codegen/KernelSelect.h).
#include "codegen/Codegen.h"

#include "codegen/CodegenUtil.h"
#include "codegen/EmbeddedFiles.h"
#include "codegen/KernelDecision.h"
#include "codegen/KernelSelect.h"
#include "codegen/NodeHook.h"
#include "codegen/Sanitize.h"
#include "codegen/WeightBlob.h"
#include "codegen/WeightPack.h"
#include "codegen/Writer.h"
#include "ir/OpParams.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>

namespace kiln {
namespace {

constexpr int64_t kAlign = 64;
const char *const kRuntimeStub = "runtime_stub/kiln_runtime.h";

llvm::Error makeError(const std::string &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", msg.c_str());
}

bool isCIdentifier(const std::string &s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string upper(std::string s) {
  for (char &c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// Text safe inside both // and /* */ comments: no newlines, no trailing backslash, no "*/".
std::string commentSafe(const std::string &s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c > 0x7e || c == '\\')
      out += fmt::format("\\x{:02x}", c);
    else if (c == '*' && i + 1 < s.size() && s[i + 1] == '/')
      out += "* ";
    else
      out += static_cast<char>(c);
  }
  return out;
}

std::string intLiteral(int64_t v) {
  return v > 2147483647 ? fmt::format("{}LL", v) : fmt::format("{}", v);
}

/// Where a value's bytes live at run time (asked of the memory plan, or of the blob for weights).
struct Location {
  enum Kind { Input, Output, Weight, Arena } kind = Arena;
  int64_t at = 0; // input / output index, or byte offset into the blob / arena
};

// The sharing each node's shapes allow, for the memory plan (codegen/MemoryPlan.h), which
// decides what of it is taken. Byte ranges must start at multiples of kAlign.

/// A Concat whose operands are consecutive byte ranges of its result (only ones before the axis)
/// lets their producers write straight into the result: each operand's offset in the result.
std::optional<std::vector<int64_t>> concatSlices(const Node &n) {
  if (n.op() != OpKind::Concat || n.numResults() != 1)
    return std::nullopt;
  const TensorType &out = n.result(0)->type();
  llvm::Expected<int64_t> ax = concatAxis(n);
  if (!ax) {
    llvm::consumeError(ax.takeError());
    return std::nullopt;
  }
  const int64_t axis = *ax;
  if (!out.layout.isRowMajor())
    return std::nullopt;
  for (int64_t d = 0; d < axis; ++d)
    if (out.shape[size_t(d)] != 1)
      return std::nullopt;
  std::vector<int64_t> slices;
  int64_t at = 0;
  for (const Value *x : n.operands()) {
    if (x->type().dtype() != out.dtype() || !x->type().layout.isRowMajor() || at % kAlign != 0)
      return std::nullopt;
    slices.push_back(at);
    at += x->type().byteSize();
  }
  if (at != out.byteSize())
    return std::nullopt;
  return slices;
}

/// The mirror image: a Split along such an axis has results that are consecutive byte ranges of
/// its operand; each result's offset in it.
std::optional<std::vector<int64_t>> splitParts(const Node &n) {
  if (n.op() != OpKind::Split || n.numOperands() == 0)
    return std::nullopt;
  const TensorType &in = n.operand(0)->type();
  llvm::Expected<int64_t> ax = splitAxis(n);
  if (!ax) {
    llvm::consumeError(ax.takeError());
    return std::nullopt;
  }
  const int64_t axis = *ax;
  if (!in.layout.isRowMajor())
    return std::nullopt;
  for (int64_t d = 0; d < axis; ++d)
    if (in.shape[size_t(d)] != 1)
      return std::nullopt;
  std::vector<int64_t> parts;
  int64_t at = 0;
  for (const Value *r : n.results()) {
    if (r->type().dtype() != in.dtype() || !r->type().layout.isRowMajor() || at % kAlign != 0)
      return std::nullopt;
    parts.push_back(at);
    at += r->type().byteSize();
  }
  if (at != in.byteSize())
    return std::nullopt;
  return parts;
}

/// A Slice with unit steps that cuts one axis with only ones before it is one contiguous byte
/// range of its operand: a view at that range's offset.
bool sliceOffset(const Node *n, int64_t &offset) {
  if (n->op() != OpKind::Slice || n->numOperands() < 3 || n->numResults() != 1)
    return false;
  const Value *x = n->operand(0), *r = n->result(0);
  const TensorType &in = x->type(), &out = r->type();
  if (in.dtype() != out.dtype() || !in.layout.isRowMajor() || !out.layout.isRowMajor() ||
      in.rank() != out.rank())
    return false;
  // ir's sliceParams applies ONNX's clamping (the rule of shape inference) once.
  auto p = sliceParams(*n);
  if (!p) {
    llvm::consumeError(p.takeError());
    return false;
  }
  const int64_t rank = int64_t(in.rank());
  for (int64_t st : p->step)
    if (st != 1)
      return false;
  int64_t cut = -1; // the one axis whose extent changes
  for (int64_t d = 0; d < rank; ++d)
    if (in.shape[size_t(d)] != out.shape[size_t(d)]) {
      if (cut >= 0)
        return false;
      cut = d;
    }
  if (cut < 0) {
    offset = 0;
    return true;
  }
  for (int64_t d = 0; d < cut; ++d)
    if (in.shape[size_t(d)] != 1)
      return false;
  const int64_t start = p->first[size_t(cut)];
  int64_t inner = in.byteSize() / std::max<int64_t>(1, in.shape[size_t(cut)]);
  offset = start * inner;
  return offset % kAlign == 0 && offset + out.byteSize() <= in.byteSize();
}

/// What node n's kernel decision and static types allow its results to share.
NodeSharing sharingOf(const Node &n, const KernelDecision &k) {
  NodeSharing f;
  f.scratchBytes = k.scratchBytes;
  f.resultIsOperandView = k.resultIsOperandView;
  f.inPlaceOperands = k.inPlaceOperands;
  f.concatSlices = concatSlices(n);
  f.splitParts = splitParts(n);
  if (int64_t off = 0; sliceOffset(&n, off))
    f.sliceView = off;
  return f;
}

/// Pastes embedded headers: project includes are resolved (dependencies first) and dropped,
/// `#pragma once` is dropped, standard includes are collected for hoisting.
/// `#include "kiln_target.h"` (the target's numbers for the kernels) is not a file: it pastes the
/// text the emitter generated for the target (`generated`).
class Paster {
public:
  std::set<std::string> stdIncludes;
  std::set<std::string> done;
  std::map<std::string, std::string> generated;

  llvm::Error paste(const std::string &path, std::string &out) {
    if (!done.insert(path).second)
      return llvm::Error::success();
    auto gen = generated.find(path);
    std::optional<std::string> text =
        gen != generated.end() ? std::optional<std::string>(gen->second) : embeddedFileText(path);
    if (!text)
      return makeError(fmt::format("internal: kernel file '{}' is not embedded in kiln", path));
    std::string body;
    size_t pos = 0;
    while (pos < text->size()) {
      size_t nl = text->find('\n', pos);
      size_t end = nl == std::string::npos ? text->size() : nl;
      std::string line = text->substr(pos, end - pos);
      pos = end + 1;
      size_t first = line.find_first_not_of(" \t");
      std::string trimmed = first == std::string::npos ? "" : line.substr(first);
      if (trimmed.rfind("#pragma once", 0) == 0)
        continue;
      if (trimmed.rfind("#include <", 0) == 0) {
        stdIncludes.insert(trimmed.substr(0, trimmed.find('>') + 1));
        continue;
      }
      if (trimmed.rfind("#include \"", 0) == 0) {
        std::string inc = trimmed.substr(10, trimmed.find('"', 10) - 10);
        std::string dir = path.substr(0, path.rfind('/') + 1);
        std::string target = generated.count(inc) || embeddedFileText(inc) ? inc : dir + inc;
        if (auto e = paste(target, out))
          return e;
        continue;
      }
      body += line;
      body += '\n';
    }
    out += fmt::format("// ---- {} ----\n", path);
    out += body;
    return llvm::Error::success();
  }
};

class Emitter {
public:
  Emitter(const Graph &g, const CodegenOptions &o) : g_(g), opts_(o), up_(upper(o.name)) {}
  llvm::Expected<GeneratedPair> run();

private:
  llvm::Error decide();
  void checkEpilogue(const Node &n, const KernelDecision &k, std::vector<std::string> &errs) const;
  void planMemory();
  std::optional<Location> where(const Value *v) const;
  std::string pointerExpr(const Value *v) const;
  std::string bind(const std::string &name, const Value *v, bool isResult, bool bytes) const;
  std::string epilogueStruct(const Node &n) const;
  std::string epilogueInit(const Node &n) const;
  std::string source();
  std::string header() const;
  std::vector<HookNode> hookNodes() const;
  std::string hookResults(size_t step) const;

  const Graph &g_;
  const CodegenOptions &opts_;
  std::string up_;
  std::vector<Node *> nodes_;
  std::vector<KernelDecision> calls_;
  /// Per node step, the blob offset of each of its decision's packed weights.
  std::vector<std::vector<int64_t>> packedAt_;
  std::map<const Value *, int64_t> weightAt_; // constant -> blob offset; looked up only
  std::vector<std::string> epiName_;          // per node; empty when the node has no epilogue
  WeightBlob blob_;
  MemoryPlan memory_; // where everything but the weights lives, and what prints no code
  // Whether the printed code of NAME_run reads `inputs` / `outputs` (pointerExpr notes it).
  mutable bool usedInputs_ = false, usedOutputs_ = false;

public:
  const MemoryPlan &memory() const { return memory_; }
  /// The side table of the decisions, one row per node in execution order.
  DecisionTable decisionTable() const {
    DecisionTable t;
    for (size_t s = 0; s < nodes_.size(); ++s)
      t.rows.push_back(calls_[s].row(nodes_[s]->name()));
    return t;
  }
  llvm::Error decideAll() {
    if (auto e = decide())
      return e;
    planMemory();
    return llvm::Error::success();
  }
};

void Emitter::checkEpilogue(const Node &n, const KernelDecision &k,
                            std::vector<std::string> &errs) const {
  std::string prefix = fmt::format("node '{}' ({}): ", n.name(), opName(n.op()));
  for (const EpilogueStep &s : n.epilogue().steps) {
    if (s.kind == EpilogueStep::Kind::Requantize) {
      errs.push_back(prefix + "epilogue step Requantize is not supported by code generation yet");
      continue;
    }
    if (s.readsOperand()) {
      if (s.operand < 0 || unsigned(s.operand) >= n.numOperands()) {
        errs.push_back(prefix + fmt::format("epilogue operand index {} out of range (node has {} "
                                            "operands)",
                                            s.operand, n.numOperands()));
        continue;
      }
      const TensorType &t = n.operand(unsigned(s.operand))->type();
      if (t.dtype() != DType::F32 || !t.layout.isRowMajor())
        errs.push_back(prefix + fmt::format("epilogue operand {}: expected row-major f32, found {}",
                                            s.operand, typeString(t)));
    }
  }
  if (!n.epilogue().empty() && !k.appliesEpilogue())
    errs.push_back(prefix + "internal: the selected kernel does not apply the node's epilogue");
}

llvm::Error Emitter::decide() {
  std::vector<std::string> errs;
  if (!isCIdentifier(opts_.name))
    errs.push_back(fmt::format("model name '{}' is not a C identifier (letters, digits, "
                               "underscores; not starting with a digit)",
                               opts_.name));
  auto checkBoundary = [&](const Value *v, const char *what) {
    if (!cElementType(v->type().dtype()))
      errs.push_back(fmt::format("graph {} '{}': dtype {} is not supported by generated code", what,
                                 v->name(), dtypeName(v->type().dtype())));
    else if (!v->type().layout.isRowMajor())
      errs.push_back(fmt::format("graph {} '{}': expected a row-major layout at the model "
                                 "boundary, found {}",
                                 what, v->name(), typeString(v->type())));
  };
  for (const Value *v : g_.inputs())
    checkBoundary(v, "input");
  for (const Value *v : g_.outputs())
    checkBoundary(v, "output");

  nodes_ = g_.nodes();
  // A forced table names nodes of this graph and variants of codegen/Kernels.def.
  std::map<std::string, ForcedVariant> forced;
  if (opts_.decisions) {
    std::set<std::string> names;
    for (const Node *n : nodes_)
      names.insert(n->name());
    for (const DecisionRow &r : opts_.decisions->rows) {
      std::optional<Variant> v = variantNamed(r.variant);
      if (!names.count(r.node))
        errs.push_back(
            fmt::format("decisions: expected a node of graph '{}', found '{}'", g_.name(), r.node));
      else if (!v)
        errs.push_back(fmt::format("node '{}': decisions: expected a kernel variant ({}), found "
                                   "'{}'",
                                   r.node, fmt::join(variantNames(), ", "), r.variant));
      else if (!forced.emplace(r.node, ForcedVariant{*v, {}}).second)
        errs.push_back(fmt::format("decisions: expected node '{}' once, found it twice", r.node));
      else
        for (const auto &[key, value] : r.tunables)
          forced[r.node].tunables.push_back({key, value});
    }
  }
  for (const Node *n : nodes_) {
    auto it = forced.find(n->name());
    llvm::Expected<KernelDecision> k =
        selectKernel(*n, *opts_.target, it == forced.end() ? nullptr : &it->second);
    if (!k) {
      errs.push_back(llvm::toString(k.takeError()));
      calls_.emplace_back();
      continue;
    }
    checkEpilogue(*n, *k, errs);
    for (unsigned i = 0; i < n->numOperands(); ++i) {
      const Layout &have = n->operand(i)->type().layout, &want = k->operandLayouts[i];
      if (k->readsOperand(i) && have != want && !(have.isRowMajor() && want.isRowMajor()))
        errs.push_back(fmt::format("node '{}' ({}): internal: the kernel reads operand {} in "
                                   "another layout than its type's, {}",
                                   n->name(), opName(n->op()), i,
                                   typeString(n->operand(i)->type())));
    }
    // Typed bindings need a view type for every operand and result the decision references.
    if (!k->bytePointers) {
      auto checkTyped = [&](const Value *v, bool referenced) {
        if (referenced && !viewType(v->type().dtype()))
          errs.push_back(fmt::format("node '{}' ({}): dtype {} of '{}' is not supported by "
                                     "generated code",
                                     n->name(), opName(n->op()), dtypeName(v->type().dtype()),
                                     v->name()));
      };
      for (unsigned i = 0; i < n->numOperands(); ++i)
        checkTyped(n->operand(i), k->readsOperand(i));
      for (unsigned i = 0; i < n->numResults(); ++i)
        checkTyped(n->result(i), k->writesResult(i));
    }
    if (const char *f = familyHeader(k->family());
        !embeddedFileText(std::string("codegen/kernels/") + f))
      errs.push_back(fmt::format("node '{}' ({}): internal: kernel file '{}' is not embedded",
                                 n->name(), opName(n->op()), f));
    calls_.push_back(std::move(*k));
  }
  if (errs.empty())
    return llvm::Error::success();
  std::string msg =
      fmt::format("cannot generate code for '{}': {} problem(s)", g_.name(), errs.size());
  for (const std::string &e : errs)
    msg += "\n  " + e;
  return makeError(msg);
}

void Emitter::planMemory() {
  // Weights: every constant a kernel call or an epilogue reads, or an output is, in creation
  // order. Shape-deciding constants (Reshape shape, Slice starts, ...) are baked into the kernels'
  // template arguments and stay out of the blob.
  std::set<const Value *> used;
  for (size_t s = 0; s < nodes_.size(); ++s) {
    const Node *n = nodes_[s];
    for (unsigned i = 0; i < n->numOperands(); ++i)
      if (calls_[s].readsOperand(i))
        used.insert(n->operand(i));
    for (const EpilogueStep &st : n->epilogue().steps)
      if (st.operand >= 0 && unsigned(st.operand) < n->numOperands())
        used.insert(n->operand(unsigned(st.operand)));
  }
  for (const Value *v : g_.outputs())
    used.insert(v);
  for (const Value *c : g_.constants())
    if (used.count(c))
      weightAt_[c] = blob_.add(c->constant().raw(), c->constant().byteSize(), kAlign);
  // Packed weights after them, in node order; two decisions packing one constant alike share it.
  std::map<std::pair<const Value *, PackedWeight>, int64_t> packedOnce;
  packedAt_.assign(nodes_.size(), {});
  for (size_t s = 0; s < nodes_.size(); ++s)
    for (const PackedWeight &p : calls_[s].packed) {
      const Value *c = nodes_[s]->operand(p.operand);
      auto [it, fresh] = packedOnce.try_emplace({c, p}, 0);
      if (fresh) {
        std::vector<float> src(c->constant().byteSize() / sizeof(float));
        std::memcpy(src.data(), c->constant().raw(), src.size() * sizeof(float));
        const std::vector<float> packed = packWeight(p, src.data());
        it->second = blob_.add(reinterpret_cast<const uint8_t *>(packed.data()),
                               packed.size() * sizeof(float), kAlign);
      }
      packedAt_[s].push_back(it->second);
    }

  // Everything else (inputs, outputs, the arena and what shares bytes in it) is the memory plan's
  // decision (codegen/MemoryPlan.h), fed by what each kernel decision allows.
  std::vector<NodeSharing> sharing;
  for (size_t s = 0; s < nodes_.size(); ++s)
    sharing.push_back(sharingOf(*nodes_[s], calls_[s]));
  memory_ = buildMemoryPlan(g_, sharing, kAlign);
}

/// Where v lives: a weight in the blob, else where the memory plan put it (nullopt: nowhere, e.g.
/// a shape-deciding constant that stays out of the blob).
std::optional<Location> Emitter::where(const Value *v) const {
  if (auto it = weightAt_.find(v); it != weightAt_.end())
    return Location{Location::Weight, it->second};
  std::optional<ValueHome> h = memory_.homeOf(v);
  if (!h)
    return std::nullopt;
  switch (h->kind) {
  case ValueHome::Kind::Input:
    return Location{Location::Input, int64_t(h->index)};
  case ValueHome::Kind::Output:
    return Location{Location::Output, int64_t(h->index)};
  case ValueHome::Kind::Arena:
    break;
  }
  return Location{Location::Arena, memory_.entries[h->index].offset};
}

/// The buffer of v as an untyped expression (const void*, void*, or unsigned char*).
std::string Emitter::pointerExpr(const Value *v) const {
  const Location l = where(v).value();
  switch (l.kind) {
  case Location::Input:
    usedInputs_ = true;
    return fmt::format("inputs[{}]", l.at);
  case Location::Output:
    usedOutputs_ = true;
    return fmt::format("outputs[{}]", l.at);
  case Location::Weight:
    return l.at ? fmt::format("{}_weights + {}", opts_.name, l.at) : opts_.name + "_weights";
  case Location::Arena:
    return l.at ? fmt::format("{}_arena + {}", opts_.name, l.at) : opts_.name + "_arena";
  }
  return "";
}

std::string Emitter::bind(const std::string &name, const Value *v, bool isResult,
                          bool bytes) const {
  const Location l = where(v).value();
  const bool isVoid = l.kind == Location::Input || l.kind == Location::Output;
  std::string type = bytes ? "unsigned char" : viewType(v->type().dtype());
  std::string qual = isResult ? "" : "const ";
  std::string expr = pointerExpr(v);
  if (bytes && !isVoid)
    return fmt::format("{}{} *{} = {};", qual, type, name, expr);
  return fmt::format("{}{} *{} = {}<{}{} *>({});", qual, type, name,
                     isVoid ? "static_cast" : "reinterpret_cast", qual, type, expr);
}

namespace {

/// `bin(a, b)` on floats, as the elementwise kernels compute it (Max/Min propagate NaN from b).
std::string binaryExpr(BinKind k, const std::string &a, const std::string &b) {
  switch (k) {
  case BinKind::Add:
    return fmt::format("{} + {}", a, b);
  case BinKind::Sub:
    return fmt::format("{} - {}", a, b);
  case BinKind::Mul:
    return fmt::format("{} * {}", a, b);
  case BinKind::Div:
    return fmt::format("{} / {}", a, b);
  case BinKind::Pow:
    return fmt::format("powf({}, {})", a, b);
  case BinKind::Max:
    return fmt::format("({1} > {0} || {1} != {1}) ? {1} : {0}", a, b);
  case BinKind::Min:
    return fmt::format("({1} < {0} || {1} != {1}) ? {1} : {0}", a, b);
  }
  return a;
}

/// binaryExpr on kiln_vf32 operands (runtime_stub/kiln_vec.h), with the same NaN rules.
std::string binaryVecExpr(BinKind k, const std::string &a, const std::string &b) {
  switch (k) {
  case BinKind::Add:
  case BinKind::Sub:
  case BinKind::Mul:
  case BinKind::Div:
    return binaryExpr(k, a, b);
  case BinKind::Pow:
    return fmt::format("kiln_vapply2([](float x, float y) {{ return powf(x, y); }}, {}, {})", a, b);
  case BinKind::Max:
    return fmt::format("kiln_vmax_nan({}, {})", a, b);
  case BinKind::Min:
    return fmt::format("kiln_vmin_nan({}, {})", a, b);
  }
  return a;
}

} // namespace

// A Conv/Gemm/MatMul epilogue is `float operator()(float v, long i, long c)`, reading its
// operands through pointers at the flat index i or the channel c, plus the same steps on a vector
// `template <bool CV> kiln_vf32 vec(kiln_vf32 v, long i, long c)` for the lanes i .. i+VL-1 of a
// row (channels c + lane when CV, else channel c for every lane). An elementwise op's epilogue is
// `float operator()(float v, float x...)`: the kernel loads each binary step's operand, in step
// order, at that operand's own broadcast stride.
std::string Emitter::epilogueStruct(const Node &n) const {
  Writer w;
  std::vector<std::string> code, vcode, params;
  const bool valueArgs = !isMatrixEpilogueOp(n.op());
  const Shape &out = n.result()->type().shape;
  bool usesI = false, usesC = false;
  for (size_t s = 0; s < n.epilogue().steps.size(); ++s) {
    const EpilogueStep &st = n.epilogue().steps[s];
    switch (st.kind) {
    case EpilogueStep::Kind::BiasAdd:
      code.push_back(fmt::format("v += p{}[c];", s));
      vcode.push_back(fmt::format("v += CV ? kiln_vload(p{0} + c) : kiln_vset1(p{0}[c]);", s));
      usesC = true;
      break;
    case EpilogueStep::Kind::ResidualAdd:
      code.push_back(fmt::format("v += p{}[i];", s));
      vcode.push_back(fmt::format("v += kiln_vload(p{} + i);", s));
      usesI = true;
      break;
    case EpilogueStep::Kind::Binary: {
      std::string x;
      if (valueArgs) {
        x = fmt::format("x{}", s);
        params.push_back("float " + x);
      } else {
        const Shape &os = n.operand(unsigned(st.operand))->type().shape;
        const char *index = os == out ? "i" : numElements(os) == 1 ? "0" : "c";
        usesI |= *index == 'i';
        usesC |= *index == 'c';
        x = fmt::format("p{}[{}]", s, index);
        std::string vx = *index == 'i' ? fmt::format("kiln_vload(p{} + i)", s)
                         : *index == '0'
                             ? fmt::format("kiln_vset1(p{}[0])", s)
                             : fmt::format("CV ? kiln_vload(p{0} + c) : kiln_vset1(p{0}[c])", s);
        vcode.push_back(fmt::format("const kiln_vf32 x{} = {};", s, vx));
        vcode.push_back(
            fmt::format("v = {};", st.swapped ? binaryVecExpr(st.bin, fmt::format("x{}", s), "v")
                                              : binaryVecExpr(st.bin, "v", fmt::format("x{}", s))));
      }
      code.push_back(fmt::format("v = {};", st.swapped ? binaryExpr(st.bin, x, "v")
                                                       : binaryExpr(st.bin, "v", x)));
      break;
    }
    case EpilogueStep::Kind::Requantize:
      break; // rejected in decide()
    case EpilogueStep::Kind::Activation:
      code.push_back(fmt::format("v = {}(v);", activationFunctor(st)));
      vcode.push_back(fmt::format("v = kiln_vapply({}, v);", activationFunctor(st)));
      break;
    }
  }
  w.open("struct @NAME@");
  if (valueArgs) {
    w.open(fmt::format("KILN_INLINE float operator()(float v{}{}) const",
                       params.empty() ? "" : ", ", fmt::join(params, ", ")));
  } else {
    for (size_t s = 0; s < n.epilogue().steps.size(); ++s)
      if (n.epilogue().steps[s].readsOperand())
        w.line("const kiln_f32 *p{};", s);
    w.open(fmt::format("KILN_INLINE float operator()(float v, long{}, long{}) const",
                       usesI ? " i" : "", usesC ? " c" : ""));
  }
  for (const std::string &c : code)
    w.raw(c);
  w.line("return v;");
  w.close();
  if (!valueArgs) {
    w.line("template <bool CV>");
    w.open(fmt::format("KILN_INLINE kiln_vf32 vec(kiln_vf32 v, long{}, long{}) const",
                       usesI ? " i" : "", usesC ? " c" : ""));
    for (const std::string &c : vcode)
      w.raw(c);
    w.line("return v;");
    w.close();
  }
  w.close(";");
  return w.take();
}

std::string Emitter::epilogueInit(const Node &n) const {
  std::vector<std::string> fields;
  if (isMatrixEpilogueOp(n.op()))
    for (const EpilogueStep &st : n.epilogue().steps)
      if (st.readsOperand()) {
        const Value *v = n.operand(unsigned(st.operand));
        const Location l = where(v).value();
        bool isVoid = l.kind == Location::Input || l.kind == Location::Output;
        fields.push_back(fmt::format("{}<const kiln_f32 *>({})",
                                     isVoid ? "static_cast" : "reinterpret_cast", pointerExpr(v)));
      }
  return fmt::format("{{{}}}", fmt::join(fields, ", "));
}

std::string Emitter::source() {
  // Kernel headers and the runtime stub, dependencies first, in a fixed order.
  Paster paster;
  paster.generated["kiln_target.h"] = targetConfigCode(*opts_.target);
  std::string runtime, kernels;
  llvm::Error e = paster.paste(kRuntimeStub, runtime);
  std::set<std::string> files;
  for (const KernelDecision &k : calls_)
    files.insert(familyHeader(k.family()));
  for (const Node *n : nodes_)
    if (!n->epilogue().empty())
      files.insert("elementwise.h"); // epilogues print activations through its functors
  for (const std::string &f : files)
    if (!e)
      e = paster.paste("codegen/kernels/" + f, kernels);
  // decide() verified that every file is embedded, so pasting cannot fail here.
  llvm::consumeError(std::move(e));

  // Epilogue functors: identical bodies share one struct, named in node order.
  std::map<std::string, std::string> structByBody;
  std::vector<std::string> structs;
  epiName_.assign(nodes_.size(), "");
  for (size_t s = 0; s < nodes_.size(); ++s) {
    if (nodes_[s]->epilogue().empty())
      continue;
    std::string body = epilogueStruct(*nodes_[s]);
    auto it = structByBody.find(body);
    if (it == structByBody.end()) {
      std::string name = fmt::format("kiln_epi_{}", structs.size());
      it = structByBody.emplace(body, name).first;
      std::string text = body;
      text.replace(text.find("@NAME@"), 6, name);
      structs.push_back(text);
    }
    epiName_[s] = it->second;
  }

  Writer w;
  w.line("// {}.cpp: generated by kiln from {}; do not edit.", commentSafe(opts_.name),
         commentSafe(opts_.sourceName));
  w.line("// Inference of graph '{}': {} node(s), {} weight bytes, {} arena bytes.",
         commentSafe(g_.name()), nodes_.size(), blob_.bytes.size(), memory_.arenaSize);
  w.line("// Entry point and shapes: {}.h. Needs only the C++17 standard library.",
         commentSafe(opts_.name));
  const Target &target = *opts_.target;
  w.line("// Target: {} ({}).", target.name, target.summary);
  w.blank();
  if (std::string guard = targetGuardCode(target, opts_.name + ".cpp"); !guard.empty()) {
    w.verbatim(guard);
    w.blank();
  }
  for (const std::string &inc : paster.stdIncludes)
    w.raw(inc);
  w.blank();
  w.verbatim(runtime);
  w.blank();
  if (memory_.arenaSize > 0) {
    asanPrelude(w);
    w.blank();
  }
  w.line("namespace {");
  w.blank();
  const std::string cpuCheck = targetCpuCheckCode(target);
  if (!cpuCheck.empty()) {
    w.verbatim(cpuCheck);
    w.blank();
  }
  w.verbatim(kernels);
  if (!blob_.bytes.empty()) {
    w.blank();
    w.line("// Weights: every constant 64-byte aligned, read through the may_alias views.");
    w.line("alignas(64) static const unsigned char {}_weights[{}] =", opts_.name,
           blob_.bytes.size() + 1); // + the literal's terminating NUL
    std::string lit = encodeStringLiteral(blob_.bytes.data(), blob_.bytes.size());
    lit.back() = ';';
    w.verbatim(lit);
    w.verbatim("\n");
  }
  if (memory_.arenaSize > 0 && !opts_.externalArena) {
    w.blank();
    w.line("// Arena: intermediates and kernel scratch, planned over the execution order "
           "(lower bound {} bytes).",
           memory_.lowerBound);
    w.line("alignas(64) static unsigned char {}_arena[{}];", opts_.name, memory_.arenaSize);
  }
  for (const std::string &s : structs) {
    w.blank();
    w.raw(s.substr(0, s.size() - 1));
  }
  w.blank();
  w.line("} // namespace");
  w.blank();
  if (opts_.nodeHook)
    printHookDefinitions(w, opts_.name, hookNodes(), opts_.profile);

  // With a run-time CPU check the entry point is a baseline-ISA wrapper (printed last) around
  // the code built for the target, NAME_run*_isa: a function built with -march may use the ISA
  // anywhere, its prologue included, so the check cannot live inside it.
  const std::string entry = opts_.name + (opts_.externalArena ? "_run_with_arena" : "_run");
  const std::string params = opts_.externalArena
                                 ? "const void *const *inputs, void *const *outputs, void *arena"
                                 : "const void *const *inputs, void *const *outputs";
  if (cpuCheck.empty())
    w.open(fmt::format("extern \"C\" int {}({})", entry, params));
  else
    w.open(fmt::format("static int {}_isa({})", entry, params));
  if (opts_.externalArena) {
    // The caller's arena: checked for presence and alignment, then named like the static one.
    w.line("if (!arena || reinterpret_cast<std::uintptr_t>(arena) % {} != 0)", kAlign);
    w.line("  return 1;");
    if (memory_.arenaSize > 0)
      w.line("unsigned char *const {}_arena = static_cast<unsigned char *>(arena);", opts_.name);
  }
  // ASan builds poison the arena except what the current node binds (codegen/Sanitize.h).
  const std::string arenaName = opts_.name + "_arena";
  auto arenaRanges = [&](size_t s) {
    std::vector<ArenaRange> r;
    auto add = [&](const Value *v) {
      if (std::optional<int64_t> at = memory_.arenaOffsetOf(v))
        r.push_back({*at, v->type().byteSize()});
    };
    for (const Value *v : nodes_[s]->operands())
      add(v);
    for (const Value *v : nodes_[s]->results())
      add(v);
    if (memory_.scratchOffset[s] >= 0)
      r.push_back({memory_.scratchOffset[s], calls_[s].scratchBytes});
    return r;
  };
  std::vector<ArenaRange> touched;
  asanEntry(w, arenaName, memory_.arenaSize);
  usedInputs_ = usedOutputs_ = false;
  // A node without code still reports its results to the hook; under ASan their bytes are
  // unpoisoned for the call and poisoned again (the next node unpoisons what it touches).
  auto hookNoCode = [&](size_t s) {
    if (!opts_.nodeHook)
      return;
    std::vector<ArenaRange> results;
    for (const Value *v : nodes_[s]->results())
      if (std::optional<int64_t> at = memory_.arenaOffsetOf(v))
        results.push_back({*at, v->type().byteSize()});
    w.line(hookBefore(s));
    hookExpose(w, arenaName, results, false);
    w.raw(hookResults(s));
    hookExpose(w, arenaName, results, true);
  };
  for (size_t s = 0; s < nodes_.size(); ++s) {
    const Node &n = *nodes_[s];
    const KernelDecision &k = calls_[s];
    if (memory_.code[s] == NodeCode::SplitViews) {
      w.line("// node '{}' ({}): results are views into '{}', no copy", commentSafe(n.name()),
             opName(n.op()), commentSafe(n.operand(0)->name()));
      hookNoCode(s);
      continue;
    }
    if (memory_.code[s] == NodeCode::ConcatDone) {
      w.line("// node '{}' ({}): operands written in place into '{}', no copy",
             commentSafe(n.name()), opName(n.op()), commentSafe(n.result(0)->name()));
      hookNoCode(s);
      continue;
    }
    if (memory_.code[s] == NodeCode::View) {
      w.line("// node '{}' ({}): '{}' is a view of '{}', no copy", commentSafe(n.name()),
             opName(n.op()), commentSafe(n.result(0)->name()), commentSafe(n.operand(0)->name()));
      hookNoCode(s);
      continue;
    }
    std::vector<ArenaRange> previous = std::move(touched);
    touched = arenaRanges(s);
    asanStep(w, arenaName, previous, touched);
    const MemoryPlanEntry *over = n.numResults() ? memory_.entryOf(n.result(0)) : nullptr;
    if (!over || over->alias != ArenaSlot::Alias::InPlace)
      w.line("{{ // node '{}' ({})", commentSafe(n.name()), opName(n.op()));
    else
      w.line("{{ // node '{}' ({}), in place over '{}'", commentSafe(n.name()), opName(n.op()),
             commentSafe(over->aliasOf));
    w.indent();
    for (unsigned i = 0; i < n.numOperands(); ++i)
      if (k.readsOperand(i))
        w.raw(bind(fmt::format("in{}", i), n.operand(i), false, k.bytePointers));
    for (unsigned i = 0; i < n.numResults(); ++i)
      if (k.writesResult(i))
        w.raw(bind(fmt::format("out{}", i), n.result(i), true, k.bytePointers));
    for (size_t i = 0; i < k.packed.size(); ++i)
      w.line("const kiln_f32 *pk{} = reinterpret_cast<const kiln_f32 *>({}_weights + {});", i,
             opts_.name, packedAt_[s][i]);
    if (k.usesScratch()) {
      if (memory_.scratchOffset[s] >= 0)
        w.line("unsigned char *scratch = {}_arena + {};", opts_.name, memory_.scratchOffset[s]);
      else
        w.line("unsigned char *scratch = nullptr;");
    }
    if (k.appliesEpilogue()) {
      if (epiName_[s].empty())
        w.line("const kiln_epi_none epi{};");
      else
        w.raw(fmt::format("const {} epi{};", epiName_[s], epilogueInit(n)));
    }
    if (opts_.nodeHook)
      w.line(hookBefore(s));
    w.raw(printDecision(k));
    if (opts_.nodeHook)
      w.raw(hookResults(s));
    w.close();
  }
  asanExit(w, arenaName, memory_.arenaSize);
  for (auto &[j, v] : memory_.outputCopies) {
    const Location l = where(v).value();
    // An empty output has nothing to copy; an empty constant has no bytes in the blob, which may
    // then not exist at all.
    if (v->type().byteSize() == 0) {
      w.line("// output {} ('{}') is empty: nothing to copy", j, commentSafe(v->name()));
      continue;
    }
    w.line("// output {} ('{}') is {}: copied", j, commentSafe(v->name()),
           l.kind == Location::Input    ? "a graph input"
           : l.kind == Location::Weight ? "a constant"
                                        : "listed twice");
    usedOutputs_ = true;
    w.raw(
        fmt::format("std::memcpy(outputs[{}], {}, {});", j, pointerExpr(v), v->type().byteSize()));
  }
  if (!usedInputs_)
    w.line("(void)inputs;");
  if (!usedOutputs_)
    w.line("(void)outputs;");
  w.line("return 0;");
  w.close();
  if (!cpuCheck.empty()) {
    w.blank();
    w.line("// Checks the CPU in code any x86-64 runs, then runs the code built for {}.",
           target.name);
    w.open(
        fmt::format("extern \"C\" {} int {}({})", targetBaselineAttribute(target), entry, params));
    w.line("if (!kiln_cpu_supported())");
    w.line("  return 2; // {}_STATUS_CPU_UNSUPPORTED", up_);
    w.line("return {}_isa(inputs, outputs{});", entry, opts_.externalArena ? ", arena" : "");
    w.close();
  }
  return w.take();
}

std::string Emitter::header() const {
  const std::string &N = opts_.name;
  const std::string guard = "KILN_GENERATED_" + up_ + "_H";
  Writer w;
  w.line("/* {}.h: generated by kiln from {}; do not edit. */", commentSafe(N),
         commentSafe(opts_.sourceName));
  w.line("/* C and C++ interface of the inference code in {}.cpp (graph '{}'). */", commentSafe(N),
         commentSafe(g_.name()));
  w.line("#ifndef {}", guard);
  w.line("#define {}", guard);
  w.blank();
  const Target &target = *opts_.target;
  w.line("/* {}.cpp was generated for `kiln compile --target={}`: {}. */", commentSafe(N),
         target.name, target.summary);
  w.line("#define {}_TARGET \"{}\"", up_, target.name);
  w.blank();
  w.line("#ifdef __cplusplus");
  w.line("extern \"C\" {");
  w.line("#endif");
  w.blank();
  if (opts_.externalArena) {
    w.line("/* Runs the model. inputs[i] / outputs[i]: the buffers of input / output i in the "
           "order");
    w.line(" * below, dense row-major, in the listed dtypes. arena: the caller's buffer of at "
           "least");
    w.line(" * {0}_ARENA_SIZE bytes, aligned to {0}_ARENA_ALIGN bytes, holding the intermediates "
           "and",
           up_);
    w.line(" * scratch; its contents need not survive between calls, so several models (run one "
           "after");
    w.line(" * the other) may share one buffer of the largest ARENA_SIZE. Not reentrant on a "
           "shared");
    w.line(" * arena: two calls running at once (threads, interrupts) need distinct arenas.");
    w.line(" * Returns 0 on success, 1 when arena is null or misaligned, {}_STATUS_CPU_UNSUPPORTED "
           "when",
           up_);
    w.line(" * this CPU lacks the ISA of {}_TARGET (nothing is computed then). */", up_);
    w.line("int {}_run_with_arena(const void *const *inputs, void *const *outputs, void *arena);",
           N);
  } else {
    w.line("/* Runs the model. inputs[i] / outputs[i]: the buffers of input / output i in the "
           "order");
    w.line(" * below, dense row-major, in the listed dtypes. Returns 0 on success, or");
    w.line(" * {0}_STATUS_CPU_UNSUPPORTED when this CPU lacks the ISA of {0}_TARGET (nothing is "
           "computed).",
           up_);
    w.line(" * Not reentrant: intermediates live in one static arena of {}_ARENA_SIZE bytes "
           "inside",
           up_);
    w.line(" * {}.cpp, so do not run this model from two threads at once. */", commentSafe(N));
    w.line("int {}_run(const void *const *inputs, void *const *outputs);", N);
  }
  w.blank();
  w.line("/* The status of {}() when the CPU (or OS) lacks the ISA of {}_TARGET, checked before "
         "any",
         N + (opts_.externalArena ? "_run_with_arena" : "_run"), up_);
  w.line(" * work: an error code rather than an illegal instruction. Never returned for generic,");
  w.line(" * aarch64 and the Cortex-M targets (their ISA is the baseline, or the firmware's "
         "chip). */");
  w.line("#define {}_STATUS_CPU_UNSUPPORTED 2", up_);
  w.blank();
  w.line("#define {}_NUM_INPUTS {}", up_, g_.inputs().size());
  w.line("#define {}_NUM_OUTPUTS {}", up_, g_.outputs().size());
  w.line("#define {}_ARENA_SIZE {}", up_, intLiteral(memory_.arenaSize));
  w.line("#define {}_ARENA_ALIGN {}", up_, kAlign);
  w.blank();
  w.line("/* dtype codes of the *_DTYPE macros */");
  const DType all[] = {DType::F32, DType::F64, DType::F16, DType::I8,  DType::U8,
                       DType::I16, DType::I32, DType::I64, DType::Bool};
  for (DType t : all)
    w.line("#define {}_DTYPE_{} {}", up_, upper(dtypeName(t)), int(t));
  auto describe = [&](const char *kind, size_t i, const Value *v) {
    const TensorType &t = v->type();
    std::string p = fmt::format("{}_{}{}", up_, kind, i);
    w.blank();
    w.line("/* {} {}: '{}' {} */", kind[0] == 'I' ? "input" : "output", i, commentSafe(v->name()),
           typeString(t));
    w.line("#define {}_NAME {}", p, cStringLiteral(v->name()));
    w.line("#define {}_RANK {}", p, t.rank());
    if (t.rank() > 0) // C has no empty initializer: a scalar has no SHAPE macro
      w.line("#define {}_SHAPE {{{}}}", p, fmt::join(t.shape, ", "));
    w.line("#define {}_DTYPE {}_DTYPE_{}", p, up_, upper(dtypeName(t.dtype())));
    w.line("#define {}_DTYPE_NAME \"{}\"", p, dtypeName(t.dtype()));
    w.line("#define {}_NUM_ELEMENTS {}", p, intLiteral(t.numElements()));
    w.line("#define {}_SIZE_BYTES {}", p, intLiteral(t.byteSize()));
  };
  for (size_t i = 0; i < g_.inputs().size(); ++i)
    describe("INPUT", i, g_.inputs()[i]);
  for (size_t i = 0; i < g_.outputs().size(); ++i)
    describe("OUTPUT", i, g_.outputs()[i]);
  w.blank();
  if (opts_.nodeHook)
    printHookHeader(w, N, up_, nodes_.size(), opts_.profile);
  w.line("#ifdef __cplusplus");
  w.line("} /* extern \"C\" */");
  w.line("#endif");
  w.blank();
  w.line("#endif /* {} */", guard);
  return w.take();
}

/// The hook's view of the nodes: the kernel each runs, or what replaced its code.
std::vector<HookNode> Emitter::hookNodes() const {
  std::vector<HookNode> out;
  for (size_t s = 0; s < nodes_.size(); ++s) {
    std::string kernel = calls_[s].kernelName();
    if (memory_.code[s] == NodeCode::ConcatDone)
      kernel = "concat-in-place";
    else if (memory_.code[s] != NodeCode::Kernel)
      kernel = "view";
    out.push_back({nodes_[s], kernel});
  }
  return out;
}

/// The hook call after node `step` with its results' bytes (none for a value in a blocked
/// layout: the hook promises dense row-major data).
std::string Emitter::hookResults(size_t step) const {
  std::vector<std::string> ptrs;
  for (const Value *r : nodes_[step]->results())
    ptrs.push_back(where(r) && r->type().layout.isRowMajor() ? pointerExpr(r) : "");
  return hookAfter(step, ptrs);
}

llvm::Expected<GeneratedPair> Emitter::run() {
  if (auto e = decideAll())
    return e;
  GeneratedPair p;
  p.source = source();
  p.header = header();
  p.memory = memory_;
  p.decisions = decisionTable();
  return p;
}

} // namespace

llvm::Expected<GeneratedPair> generateCpp(const Graph &g, const CodegenOptions &opts) {
  return Emitter(g, opts).run();
}

llvm::Expected<MemoryPlan> planMemory(const Graph &g, const CodegenOptions &opts) {
  Emitter e(g, opts);
  if (auto err = e.decideAll())
    return err;
  return e.memory();
}

llvm::Expected<DecisionTable> decideKernels(const Graph &g, const CodegenOptions &opts) {
  Emitter e(g, opts);
  if (auto err = e.decideAll())
    return err;
  return e.decisionTable();
}

} // namespace kiln
