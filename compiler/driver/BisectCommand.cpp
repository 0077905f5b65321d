// `kiln bisect MODEL.onnx`: finds the first node whose computed tensor is wrong. It compiles the
// model at the user's level with the node hook (--debug-tensors), builds the pair with a small host
// using the user's C++ compiler and flags, runs it once on one input, and captures every node's
// results through the hook. Independently it evaluates the -O0 graph (the model as imported, no
// optimization pass) with the reference semantics of ir/ on the same input. Tensors are matched by
// value name, in the pair's execution order; the first node whose result differs by more than the
// tolerance (relative to the reference tensor's largest magnitude) is reported with its op, its
// kernel and the error, after a table of the nodes before it. Exit status: 0 when every comparable
// tensor matched, 1 on a divergence (or when the program died inside a node), 2 on any error that
// kept the comparison from running (usage, compilation, I/O).
//
// Matching: a node without fused work is compared with the -O0 value of its result's name. A node
// carrying an epilogue keeps its producer's value name (fuse-epilogue renames only graph outputs),
// so its reference is that -O0 value with the epilogue applied by ir's reference semantics
// (applyEpilogue). Values whose name the -O0 graph lacks (created by a pass), whose type differs
// there, or whose reference failed to evaluate are listed as not comparable and skipped.
//
// The host writes a dump of native-endian records, flushed after each one so that a crash leaves
// the nodes that finished:  'B' u32 node            (a node is about to run)
//                           'A' u32 node str name str kernel str epilogue u32 results
//                               { str value u8 has_data u64 bytes data[bytes] } per result
//                           'E' i32 status          (NAME_run returned)
// where str is u32 length + bytes.
#include "codegen/Codegen.h"
#include "codegen/NodeHook.h"
#include "compiler/driver/Driver.h"
#include "compiler/frontend/OnnxFrontend.h"
#include "ir/Semantics.h"
#include "ir/Verifier.h"
#include "passes/PassManager.h"

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/Program.h>
#include <llvm/Support/raw_ostream.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>

namespace kiln {
namespace driver {

namespace {

/// The directory the pair and the host are built in: a fresh temporary one removed at the end,
/// or the user's --work-dir, kept.
class WorkDir {
public:
  ~WorkDir() {
    if (temporary_ && !path_.empty())
      llvm::sys::fs::remove_directories(path_);
  }
  llvm::Error open(const std::string &userDir) {
    if (!userDir.empty()) {
      path_ = userDir;
      if (std::error_code ec = llvm::sys::fs::create_directories(path_))
        return driverError(
            fmt::format("--work-dir '{}': cannot create it: {}", path_, ec.message()));
      return llvm::Error::success();
    }
    llvm::SmallString<256> dir;
    if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("kiln-bisect", dir))
      return driverError(fmt::format("cannot create a temporary directory: {}", ec.message()));
    path_ = dir.str().str();
    temporary_ = true;
    return llvm::Error::success();
  }
  std::string file(const std::string &name) const {
    llvm::SmallString<256> p(path_);
    llvm::sys::path::append(p, name);
    return p.str().str();
  }

private:
  std::string path_;
  bool temporary_ = false;
};

llvm::Expected<std::string> readFile(const std::string &path) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buf)
    return driverError(fmt::format("cannot read '{}': {}", path, buf.getError().message()));
  return (*buf)->getBuffer().str();
}

/// Deterministic input for a model without --input: xorshift64* from a fixed seed; floats uniform
/// in [-1, 1), integers in {0, 1, 2} (small enough to be valid indices), booleans 0/1.
Tensor pseudoRandom(const TensorType &t, uint64_t &state) {
  std::vector<double> v(size_t(t.numElements()));
  for (double &x : v) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    uint64_t r = (state * 0x2545F4914F6CDD1DULL) >> 11; // 53 random bits
    double u = double(r) / double(1ULL << 53);
    if (t.dtype() == DType::F32 || t.dtype() == DType::F64 || t.dtype() == DType::F16)
      x = 2 * u - 1;
    else if (t.dtype() == DType::Bool)
      x = u < 0.5 ? 0 : 1;
    else
      x = std::floor(u * 3);
  }
  return Tensor::fromDoubles(t.dtype(), t.shape, v);
}

std::vector<std::string> splitWords(const std::string &s) {
  std::istringstream is(s);
  std::vector<std::string> out;
  for (std::string w; is >> w;)
    out.push_back(w);
  return out;
}

/// The host program: reads the inputs, installs the hook, runs the model once, writes the dump.
std::string hostSource(const std::string &name, const std::string &up, size_t numInputs,
                       size_t numOutputs, bool externalArena) {
  std::string sizes, outSizes;
  for (size_t i = 0; i < numInputs; ++i)
    sizes += fmt::format("{}_INPUT{}_SIZE_BYTES, ", up, i);
  for (size_t i = 0; i < numOutputs; ++i)
    outSizes += fmt::format("{}_OUTPUT{}_SIZE_BYTES, ", up, i);
  std::string run =
      externalArena ? fmt::format("static unsigned char arena[{0}_ARENA_SIZE + {0}_ARENA_ALIGN];\n"
                                  "  unsigned char *aligned = arena + ({0}_ARENA_ALIGN - "
                                  "reinterpret_cast<std::uintptr_t>(arena) % {0}_ARENA_ALIGN) % "
                                  "{0}_ARENA_ALIGN;\n"
                                  "  int status = {1}_run_with_arena(inputs, outputs, aligned);",
                                  up, name)
                    : fmt::format("int status = {}_run(inputs, outputs);", name);
  return fmt::format(R"(// Host of kiln bisect for {0}: runs the model once on the input files and
// writes every node-hook event to the dump file (record format: compiler/driver/BisectCommand.cpp).
#include "{0}.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

static FILE *dump;

static void put(const void *p, size_t n) {{ std::fwrite(p, 1, n, dump); }}
static void putU32(std::uint32_t v) {{ put(&v, 4); }}
static void putStr(const char *s) {{
  putU32(static_cast<std::uint32_t>(std::strlen(s)));
  put(s, std::strlen(s));
}}

static void hook(const kiln_node_info *node, void *) {{
  if (node->phase == KILN_NODE_BEFORE) {{
    put("B", 1);
    putU32(static_cast<std::uint32_t>(node->index));
  }} else {{
    put("A", 1);
    putU32(static_cast<std::uint32_t>(node->index));
    putStr(node->name);
    putStr(node->kernel);
    putStr(node->epilogue);
    putU32(static_cast<std::uint32_t>(node->num_results));
    for (int i = 0; i < node->num_results; ++i) {{
      const kiln_tensor_info &r = node->results[i];
      putStr(r.name);
      unsigned char has = r.data != nullptr;
      std::uint64_t bytes = has ? static_cast<std::uint64_t>(r.size_bytes) : 0;
      put(&has, 1);
      put(&bytes, 8);
      if (has)
        put(r.data, static_cast<size_t>(bytes));
    }}
  }}
  std::fflush(dump);
}}

int main(int argc, char **argv) {{
  const long long inSizes[] = {{{1}0}};
  const long long outSizes[] = {{{2}0}};
  if (argc != 2 + {3}) {{ // the dump, then the inputs
    std::fprintf(stderr, "usage: %s DUMP INPUT...({3} input files)\n", argv[0]);
    return 2;
  }}
  std::vector<std::vector<unsigned char>> in({3}), out({4});
  const void *inputs[{3} + 1] = {{nullptr}};
  void *outputs[{4} + 1] = {{nullptr}};
  for (size_t i = 0; i < {3}; ++i) {{
    FILE *f = std::fopen(argv[2 + i], "rb");
    in[i].resize(static_cast<size_t>(inSizes[i]) + 1);
    size_t got = f ? std::fread(in[i].data(), 1, in[i].size(), f) : 0;
    if (!f || got != static_cast<size_t>(inSizes[i])) {{
      std::fprintf(stderr, "%s: expected %lld bytes\n", argv[2 + i], inSizes[i]);
      return 2;
    }}
    std::fclose(f);
    inputs[i] = in[i].data();
  }}
  for (size_t i = 0; i < {4}; ++i) {{
    out[i].resize(static_cast<size_t>(outSizes[i]) + 1);
    outputs[i] = out[i].data();
  }}
  dump = std::fopen(argv[1], "wb");
  if (!dump)
    return 2;
  {0}_set_node_hook(hook, nullptr);
  {5}
  put("E", 1);
  std::int32_t s = status;
  put(&s, 4);
  std::fclose(dump);
  return 0;
}}
)",
                     name, sizes, outSizes, numInputs, numOutputs, run);
}

/// One node's record from the dump.
struct Captured {
  uint32_t node = 0;
  std::string name, kernel, epilogue;
  struct Result {
    std::string name;
    bool hasData = false;
    std::string bytes;
  };
  std::vector<Result> results;
};

struct Dump {
  std::vector<Captured> nodes;
  std::optional<uint32_t> started; // a 'B' without its 'A': the node the program died in
  std::optional<int32_t> status;   // NAME_run's return value
};

llvm::Expected<Dump> parseDump(const std::string &d) {
  Dump out;
  size_t pos = 0;
  auto bad = [&]() {
    return driverError(fmt::format("dump: truncated or corrupt at byte {}", pos));
  };
  auto take = [&](void *dst, size_t n) {
    if (pos + n > d.size())
      return false;
    std::memcpy(dst, d.data() + pos, n);
    pos += n;
    return true;
  };
  auto u32 = [&](uint32_t &v) { return take(&v, 4); };
  auto str = [&](std::string &s) {
    uint32_t n = 0;
    if (!u32(n) || pos + n > d.size())
      return false;
    s = d.substr(pos, n);
    pos += n;
    return true;
  };
  while (pos < d.size()) {
    char tag = d[pos++];
    if (tag == 'B') {
      uint32_t i = 0;
      if (!u32(i))
        return bad();
      out.started = i;
    } else if (tag == 'A') {
      Captured c;
      uint32_t n = 0;
      if (!u32(c.node) || !str(c.name) || !str(c.kernel) || !str(c.epilogue) || !u32(n))
        return bad();
      for (uint32_t r = 0; r < n; ++r) {
        Captured::Result res;
        unsigned char has = 0;
        uint64_t bytes = 0;
        if (!str(res.name) || !take(&has, 1) || !take(&bytes, 8) || pos + bytes > d.size())
          return bad();
        res.hasData = has != 0;
        res.bytes = d.substr(pos, size_t(bytes));
        pos += size_t(bytes);
        c.results.push_back(std::move(res));
      }
      out.started.reset();
      out.nodes.push_back(std::move(c));
    } else if (tag == 'E') {
      int32_t s = 0;
      if (!take(&s, 4))
        return bad();
      out.status = s;
    } else {
      return bad();
    }
  }
  return out;
}

/// got versus want, relative to want's largest magnitude (absolute when want is all zeros).
struct Error {
  double maxAbs = 0;  // max |got - want|
  double rel = 0;     // maxAbs / max |want|
  int64_t worst = -1; // flat index of the worst element
  double got = 0, want = 0;
};

Error compare(const Tensor &got, const Tensor &want) {
  Error e;
  double scale = 0;
  for (int64_t i = 0; i < want.numElements(); ++i)
    if (std::isfinite(want.getDouble(i)))
      scale = std::max(scale, std::fabs(want.getDouble(i)));
  for (int64_t i = 0; i < want.numElements(); ++i) {
    double g = got.getDouble(i), w = want.getDouble(i), err;
    if (std::isnan(g) || std::isnan(w))
      err = std::isnan(g) && std::isnan(w) ? 0 : HUGE_VAL;
    else if (std::isinf(g) || std::isinf(w))
      err = g == w ? 0 : HUGE_VAL;
    else
      err = std::fabs(g - w);
    if (e.worst < 0 || err > e.maxAbs) {
      e.maxAbs = err;
      e.worst = i;
      e.got = g;
      e.want = w;
    }
  }
  e.rel = e.maxAbs / (scale > 0 ? scale : 1);
  return e;
}

std::string indexString(const Shape &shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return fmt::format("[{}]", fmt::join(idx, ","));
}

std::string num(double v) { return fmt::format("{:.7g}", v); }

/// One row of the report: a result of a node of the pair.
struct Row {
  size_t step = 0;
  const Node *node = nullptr;
  std::string kernel, value;
  std::optional<Error> err; // nullopt: not comparable
  std::string why;          // not comparable: why; else "" (or a note such as "fused")
};

void printTable(llvm::raw_ostream &os, const std::vector<Row> &rows) {
  size_t wn = 4, wo = 2, wk = 6, wv = 5;
  for (const Row &r : rows) {
    wn = std::max(wn, r.node->name().size());
    wo = std::max(wo, std::string(opName(r.node->op())).size());
    wk = std::max(wk, r.kernel.size());
    wv = std::max(wv, r.value.size());
  }
  os << fmt::format("  {:>4}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {:>11}  {:>11}\n", "step", "node", wn,
                    "op", wo, "kernel", wk, "value", wv, "max abs err", "rel err");
  for (const Row &r : rows) {
    os << fmt::format("  {:>4}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  ", r.step, r.node->name(), wn,
                      opName(r.node->op()), wo, r.kernel, wk, r.value, wv);
    if (r.err)
      os << fmt::format("{:>11.3e}  {:>11.3e}  ok{}\n", r.err->maxAbs, r.err->rel,
                        r.why.empty() ? "" : " (" + r.why + ")");
    else
      os << fmt::format("{:>11}  {:>11}  not comparable: {}\n", "-", "-", r.why);
  }
}

llvm::Expected<std::unique_ptr<Graph>> importChecked(const BisectOptions &opts,
                                                     const ImportOptions &io) {
  auto g = importOnnx(opts.model, io);
  if (!g)
    return g.takeError();
  if (auto e = verifyGraph(**g))
    return driverError(fmt::format("{}: {}", opts.model, llvm::toString(std::move(e))));
  return g;
}

std::string levelText(const BisectOptions &opts) {
  return opts.passes.empty() ? fmt::format("-O{}", opts.optLevel)
                             : fmt::format("--passes={}", fmt::join(opts.passes, ","));
}

} // namespace

llvm::Expected<int> runBisect(const BisectOptions &opts) {
  llvm::raw_ostream &os = llvm::outs();
  // The command line first, so that a typo fails before any work.
  std::string name = opts.name.empty() ? identifierFromPath(opts.model) : opts.name;
  if (!isCIdentifier(name))
    return driverError(fmt::format("--name '{}': expected a C identifier", name));
  if (!(opts.tolerance >= 0) || !std::isfinite(opts.tolerance))
    return driverError(
        fmt::format("--tolerance: expected a finite number >= 0, found {}", opts.tolerance));
  auto pipeline = pipelineFromFlags(opts.passes, opts.optLevel);
  if (!pipeline)
    return pipeline.takeError();
  auto target = resolveTarget(opts.target);
  if (!target)
    return driverError(llvm::toString(target.takeError()));
  std::string cxx = opts.cxx;
  if (cxx.empty())
    if (const char *env = std::getenv("CXX"); env && *env)
      cxx = env;
  if (cxx.empty())
    cxx = "c++";
  auto cxxPath = llvm::sys::findProgramByName(cxx);
  if (!cxxPath || !llvm::sys::fs::can_execute(*cxxPath))
    return driverError(fmt::format("C++ compiler '{}' (from {}): not found", cxx,
                                   opts.cxx.empty() ? "$CXX or the default c++" : "--cxx"));
  ImportOptions io;
  auto shapes = parseInputShapes(opts.inputShapes);
  if (!shapes)
    return shapes.takeError();
  io.inputShapes = std::move(*shapes);

  // The reference graph (-O0: the model as imported) and the graph the pair comes from.
  auto g0 = importChecked(opts, io);
  if (!g0)
    return g0.takeError();
  auto g = importChecked(opts, io);
  if (!g)
    return g.takeError();
  PassContext pctx;
  pctx.target = *target;
  if (auto e = runPipeline(**g, *pipeline, pctx, Instrumentation{}))
    return driverError(fmt::format("{}: {}", opts.model, llvm::toString(std::move(e))));
  if (auto e = verifyGraph(**g))
    return driverError(fmt::format("{}: invalid IR after optimization: {}", opts.model,
                                   llvm::toString(std::move(e))));

  // The input: the user's files (raw bytes as NAME_run takes them) or pseudo-random.
  const std::vector<Value *> &ins = (*g0)->inputs();
  if (!opts.inputs.empty() && opts.inputs.size() != ins.size())
    return driverError(fmt::format("--input: expected {} file(s), one per model input, found {}",
                                   ins.size(), opts.inputs.size()));
  std::vector<Tensor> inputs;
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < ins.size(); ++i) {
    const TensorType &t = ins[i]->type();
    if (opts.inputs.empty()) {
      inputs.push_back(pseudoRandom(t, state));
      continue;
    }
    auto bytes = readFile(opts.inputs[i]);
    if (!bytes)
      return bytes.takeError();
    if (int64_t(bytes->size()) != t.byteSize())
      return driverError(fmt::format("--input '{}': expected {} bytes for input {} '{}' ({}), "
                                     "found {}",
                                     opts.inputs[i], t.byteSize(), i, ins[i]->name(), typeString(t),
                                     bytes->size()));
    inputs.push_back(
        Tensor(t.dtype(), t.shape, std::vector<uint8_t>(bytes->begin(), bytes->end())));
  }
  if ((*g)->inputs().size() != ins.size())
    return driverError("internal: optimization changed the number of graph inputs");

  // The pair: compiled here with the hook, or the user's (--pair DIR, compiled with
  // --debug-tensors from the same model and pipeline).
  WorkDir work;
  if (auto e = work.open(opts.workDir))
    return e;
  std::string pairDir = opts.pairDir;
  std::string header;
  if (pairDir.empty()) {
    CodegenOptions co;
    co.name = name;
    co.sourceName = llvm::sys::path::filename(opts.model).str();
    co.nodeHook = true;
    co.target = *target;
    auto gen = generateCpp(**g, co);
    if (!gen)
      return gen.takeError();
    if (auto e = writeFile(work.file(name + ".h"), gen->header))
      return e;
    if (auto e = writeFile(work.file(name + ".cpp"), gen->source))
      return e;
    header = gen->header;
    pairDir = work.file("");
  } else {
    llvm::SmallString<256> h(pairDir);
    llvm::sys::path::append(h, name + ".h");
    auto text = readFile(h.str().str());
    if (!text)
      return driverError(fmt::format("--pair '{}': expected {}.h and {}.cpp there (--name gives "
                                     "another name): {}",
                                     pairDir, name, name, llvm::toString(text.takeError())));
    header = *text;
    if (header.find(name + "_set_node_hook(") == std::string::npos)
      return driverError(fmt::format("--pair '{}': {}.h has no {}_set_node_hook; compile the model "
                                     "with kiln compile --debug-tensors",
                                     pairDir, name, name));
  }
  std::string up = name;
  for (char &c : up)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string numNodes = fmt::format("#define {}_NUM_NODES {}\n", up, (*g)->numNodes());
  if (header.find(numNodes) == std::string::npos)
    return driverError(fmt::format("--pair '{}': {}.h does not report {} node(s) like {} at {}: "
                                   "was the pair compiled from this model with these options?",
                                   pairDir, name, (*g)->numNodes(), opts.model, levelText(opts)));
  bool external = header.find(name + "_run_with_arena(") != std::string::npos;
  if (auto e = writeFile(work.file("bisect_host.cpp"),
                         hostSource(name, up, ins.size(), (*g)->outputs().size(), external)))
    return e;

  // Build: $CXX -std=c++17 FLAGS -I PAIR host.cpp PAIR/NAME.cpp -o host.
  llvm::SmallString<256> pairCpp(pairDir);
  llvm::sys::path::append(pairCpp, name + ".cpp");
  std::vector<std::string> args = {*cxxPath, "-std=c++17"};
  for (const std::string &w : splitWords(opts.cxxflags))
    args.push_back(w);
  for (const std::string &a : {std::string("-I"), pairDir, work.file("bisect_host.cpp"),
                               pairCpp.str().str(), std::string("-o"), work.file("bisect_host")})
    args.push_back(a);
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::string buildLog = work.file("build.log");
  llvm::Optional<llvm::StringRef> redirects[] = {llvm::None, llvm::StringRef(buildLog),
                                                 llvm::StringRef(buildLog)};
  std::string msg;
  int rc = llvm::sys::ExecuteAndWait(*cxxPath, argRefs, llvm::None, redirects, 0, 0, &msg);
  if (rc != 0) {
    auto log = readFile(buildLog);
    return driverError(fmt::format("building the pair failed ({}): {}\n{}", fmt::join(args, " "),
                                   msg.empty() ? "exit status " + std::to_string(rc) : msg,
                                   log ? llvm::StringRef(*log).rtrim().str() : std::string()));
  }

  // Run once.
  std::vector<std::string> runArgs = {work.file("bisect_host"), work.file("dump.bin")};
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string f = work.file(fmt::format("input{}.bin", i));
    if (auto e = writeFile(
            f, std::string(reinterpret_cast<const char *>(inputs[i].raw()), inputs[i].byteSize())))
      return e;
    runArgs.push_back(f);
  }
  std::vector<llvm::StringRef> runRefs(runArgs.begin(), runArgs.end());
  std::string runLog = work.file("run.log");
  llvm::Optional<llvm::StringRef> runRedirects[] = {llvm::None, llvm::StringRef(runLog),
                                                    llvm::StringRef(runLog)};
  msg.clear();
  llvm::sys::fs::remove(work.file("dump.bin")); // a kept --work-dir may hold an old one
  int runRc = llvm::sys::ExecuteAndWait(runArgs[0], runRefs, llvm::None, runRedirects, 0, 0, &msg);
  // What the program said, for the diagnostics below.
  auto runOutput = [&]() {
    auto log = readFile(runLog);
    std::string text = log ? llvm::StringRef(*log).rtrim().str() : std::string();
    return text.empty() ? std::string() : "\n" + text;
  };
  auto dumpText = readFile(work.file("dump.bin"));
  if (!dumpText)
    return driverError(fmt::format("the program did not run ({}): {}{}", runArgs[0],
                                   msg.empty() ? "exit status " + std::to_string(runRc) : msg,
                                   runOutput()));
  auto dump = parseDump(*dumpText);
  if (!dump)
    return dump.takeError();

  // The reference: every -O0 node on the same input, by value name.
  std::map<std::string, const Value *> byName0;
  std::map<const Value *, Tensor> ref0;
  std::map<const Value *, std::string> refError;
  for (size_t i = 0; i < ins.size(); ++i)
    ref0[ins[i]] = inputs[i];
  for (const Value *c : (*g0)->constants())
    ref0[c] = c->constant();
  for (const Node *n : (*g0)->nodes()) {
    std::vector<Tensor> xs;
    std::string missing;
    for (const Value *v : n->operands()) {
      auto it = ref0.find(v);
      if (it == ref0.end()) {
        missing = refError.count(v) ? refError[v] : "operand '" + v->name() + "' has no value";
        break;
      }
      xs.push_back(it->second);
    }
    std::optional<std::vector<Tensor>> rs;
    if (missing.empty()) {
      auto r = evaluateNode(*n, xs);
      if (r)
        rs = std::move(*r);
      else
        missing = llvm::toString(r.takeError());
    }
    for (unsigned i = 0; i < n->numResults(); ++i) {
      byName0[n->result(i)->name()] = n->result(i);
      if (rs && i < rs->size())
        ref0[n->result(i)] = (*rs)[i];
      else
        refError[n->result(i)] = missing;
    }
  }
  for (const Value *v : ins)
    byName0[v->name()] = v;

  // Compare in the pair's execution order.
  const std::vector<Node *> nodes = (*g)->nodes();
  std::map<const Value *, Tensor> got, want; // values of the optimized graph
  for (size_t i = 0; i < ins.size(); ++i)
    got[(*g)->inputs()[i]] = want[(*g)->inputs()[i]] = inputs[i];
  auto valueOf = [&](const Value *v, bool preferWant) -> const Tensor * {
    if (v->isConstant())
      return &v->constant();
    if (preferWant)
      if (auto it = want.find(v); it != want.end())
        return &it->second;
    auto it = got.find(v);
    return it == got.end() ? nullptr : &it->second;
  };
  os << fmt::format("kiln bisect: {} at {} ({} {}), input: {}, tolerance {} (relative to each "
                    "tensor's max abs)\n",
                    opts.model, levelText(opts), cxx, opts.cxxflags,
                    opts.inputs.empty() ? "pseudo-random"
                                        : fmt::format("{}", fmt::join(opts.inputs, ", ")),
                    opts.tolerance);
  os << fmt::format("pair: {} node(s), {} captured; reference: -O0 graph, {} node(s)\n\n",
                    nodes.size(), dump->nodes.size(), (*g0)->numNodes());
  std::vector<Row> rows;
  size_t compared = 0, notComparable = 0;
  std::optional<Row> departure; // the first value where the optimized graph left -O0's values
  auto ok = [&](const Error &e) { return e.rel <= opts.tolerance; };
  for (const Captured &c : dump->nodes) {
    bool same = c.node < nodes.size() && nodes[c.node]->name() == c.name &&
                c.results.size() == nodes[c.node]->numResults() &&
                epilogueSummary(*nodes[c.node]) == c.epilogue;
    for (size_t i = 0; same && i < c.results.size(); ++i)
      same = c.results[i].name == nodes[c.node]->result(unsigned(i))->name();
    if (!same)
      return driverError(fmt::format("--pair: the pair's node {} is '{}' [{}], but {} at {} has "
                                     "'{}' [{}] there: was the pair compiled from this model with "
                                     "these options?",
                                     c.node, c.name, c.epilogue, opts.model, levelText(opts),
                                     c.node < nodes.size() ? nodes[c.node]->name() : "no node",
                                     c.node < nodes.size() ? epilogueSummary(*nodes[c.node]) : ""));
    const Node &n = *nodes[c.node];
    // The node's own reference semantics on the reference values of its operands.
    std::optional<std::vector<Tensor>> local;
    {
      std::vector<Tensor> xs;
      for (const Value *o : n.operands())
        if (const Tensor *x = valueOf(o, true))
          xs.push_back(*x);
      if (xs.size() == n.numOperands()) {
        auto r = evaluateNode(n, xs);
        if (r)
          local = std::move(*r);
        else
          llvm::consumeError(r.takeError());
      }
    }
    std::vector<Row> nodeRows;
    for (unsigned i = 0; i < n.numResults(); ++i) {
      const Value *r = n.result(i);
      const TensorType &t = r->type();
      Row row{c.node, &n, c.kernel, r->name(), std::nullopt, ""};
      if (c.results[i].hasData && int64_t(c.results[i].bytes.size()) == t.byteSize())
        got[r] = Tensor(t.dtype(), t.shape,
                        std::vector<uint8_t>(c.results[i].bytes.begin(), c.results[i].bytes.end()));
      // The -O0 value of r's name; a fused node's is its producer's value: through the epilogue.
      auto named = byName0.find(r->name());
      std::optional<Tensor> o0;
      std::string no0;
      bool fused = false;
      if (named == byName0.end()) {
        no0 = "not in the -O0 graph";
      } else if (!ref0.count(named->second)) {
        no0 = "no -O0 reference: " + refError[named->second];
      } else {
        const Value *v0 = named->second;
        fused = i == 0 && !n.epilogue().empty() && v0->producer() && v0->producer()->op() == n.op();
        if (fused) {
          std::vector<Tensor> xs;
          for (const Value *o : n.operands())
            if (const Tensor *x = valueOf(o, true))
              xs.push_back(*x);
          auto e = xs.size() == n.numOperands()
                       ? applyEpilogue(n, ref0[v0], xs)
                       : llvm::Expected<Tensor>(driverError("an epilogue operand has no value"));
          if (e)
            o0 = std::move(*e);
          else
            no0 = "no -O0 reference: " + llvm::toString(e.takeError());
        } else {
          o0 = ref0[v0];
        }
        if (o0 && (o0->dtype != t.dtype() || o0->shape != t.shape)) {
          no0 = fmt::format("{} at -O0", typeString(TensorType(o0->dtype, o0->shape)));
          o0.reset();
        }
      }
      std::optional<Tensor> loc;
      if (local && i < local->size() && (*local)[i].dtype == t.dtype() &&
          (*local)[i].shape == t.shape)
        loc = (*local)[i];
      // The reference: the -O0 value where the optimized graph agrees with it (or has no
      // semantics of its own here); else the node's semantics, and the departure is noted.
      std::optional<Tensor> w;
      if (o0 && (!loc || ok(compare(*loc, *o0)))) {
        w = o0;
        row.why = fused ? "fused: the -O0 value through the epilogue" : "";
      } else if (loc) {
        w = loc;
        if (o0) {
          row.why = fmt::format("vs the node's semantics; the -O0 '{}' differs (max abs err {}): "
                                "renamed by a pass, or a pass changed it",
                                r->name(), num(compare(*loc, *o0).maxAbs));
          if (!departure)
            departure = row;
        } else {
          row.why = "vs the node's semantics (" + no0 + ")";
        }
      } else {
        row.why = no0.empty() ? "no reference" : no0;
      }
      if (!got.count(r)) {
        row.why = "the hook gave no data (not dense row-major)";
        w.reset();
      }
      if (w) {
        row.err = compare(got[r], *w);
        want[r] = std::move(*w);
        ++compared;
      } else {
        ++notComparable;
      }
      nodeRows.push_back(std::move(row));
    }
    for (size_t i = 0; i < nodeRows.size(); ++i) {
      const Row &row = nodeRows[i];
      if (!row.err || ok(*row.err))
        continue;
      // The first divergence: the table before it, then what is wrong and a diagnosis.
      std::vector<Row> before = rows;
      before.insert(before.end(), nodeRows.begin(), nodeRows.begin() + long(i));
      if (!before.empty()) {
        os << "nodes before it (matched, or not comparable):\n";
        printTable(os, before);
        os << "\n";
      }
      const Value *r = n.result(unsigned(i));
      const Error &e = *row.err;
      os << fmt::format("first divergence: step {}, node '{}' ({}, kernel {}{})\n", c.node,
                        n.name(), opName(n.op()), c.kernel,
                        n.epilogue().empty() ? "" : ", fused: " + epilogueSummary(n));
      os << fmt::format("  value '{}' {}: max abs err {} at {} (flat {}): got {}, want {}\n",
                        r->name(), typeString(r->type()), num(e.maxAbs),
                        indexString(r->type().shape, e.worst), e.worst, num(e.got), num(e.want));
      os << fmt::format("  relative error {} > tolerance {}; reference: {}\n", num(e.rel),
                        opts.tolerance,
                        row.why.empty() ? "the -O0 value of the same name" : row.why);
      // The node's semantics on the operands the pair actually gave it: kernel or inputs?
      std::vector<Tensor> xs;
      for (const Value *o : n.operands())
        if (const Tensor *x = valueOf(o, false))
          xs.push_back(*x);
      if (xs.size() == n.numOperands()) {
        auto onGot = evaluateNode(n, xs);
        if (onGot && i < onGot->size()) {
          Error le = compare(got[r], (*onGot)[i]);
          if (ok(le))
            os << "  on the operands the pair computed, the node's semantics agree with the "
                  "kernel: a wrong operand went unnoticed (not comparable above?)\n";
          else
            os << fmt::format("  on the operands the pair computed, the node's semantics give {} "
                              "at that index: the kernel, code generation or the C++ compiler "
                              "computed this node wrong\n",
                              num((*onGot)[i].getDouble(e.worst)));
        } else if (!onGot) {
          llvm::consumeError(onGot.takeError());
        }
      }
      return 1;
    }
    rows.insert(rows.end(), nodeRows.begin(), nodeRows.end());
  }
  printTable(os, rows);
  os << "\n";
  if (dump->started) {
    uint32_t s = *dump->started;
    os << fmt::format("the program stopped inside step {}, node '{}' ({}): {}\n", s,
                      s < nodes.size() ? nodes[s]->name() : "?",
                      s < nodes.size() ? opName(nodes[s]->op()) : "?",
                      msg.empty() ? "exit status " + std::to_string(runRc) : msg);
    return 1;
  }
  if (!dump->status || runRc != 0)
    return driverError(fmt::format("the program failed after {} node(s): {}{}", dump->nodes.size(),
                                   msg.empty() ? "exit status " + std::to_string(runRc) : msg,
                                   runOutput()));
  if (*dump->status != 0)
    return driverError(fmt::format("{}_run returned {}", name, *dump->status));
  if (dump->nodes.size() != nodes.size())
    return driverError(
        fmt::format("the pair reported {} node(s), expected {}", dump->nodes.size(), nodes.size()));
  // Every kernel computed its node right; do the graph's outputs still mean what -O0 computes?
  for (const Value *out : (*g)->outputs()) {
    auto named = byName0.find(out->name());
    auto w = want.find(out);
    if (named == byName0.end() || !ref0.count(named->second) || w == want.end())
      continue;
    const Tensor &o0 = ref0[named->second];
    if (o0.dtype != w->second.dtype || o0.shape != w->second.shape)
      continue;
    Error e = compare(w->second, o0);
    if (ok(e))
      continue;
    os << fmt::format("the optimized graph's output '{}' differs from -O0: max abs err {} at {}: "
                      "{} after the passes, {} at -O0 (relative {} > tolerance {})\n",
                      out->name(), num(e.maxAbs), indexString(o0.shape, e.worst), num(e.got),
                      num(e.want), num(e.rel), opts.tolerance);
    if (departure)
      os << fmt::format("  a pass changed the model: the optimized graph first departs from -O0 at "
                        "step {}, node '{}' ({}), value '{}'\n",
                        departure->step, departure->node->name(), opName(departure->node->op()),
                        departure->value);
    return 1;
  }
  os << fmt::format("all {} compared tensor(s) match within {} ({} not comparable)\n", compared,
                    opts.tolerance, notComparable);
  return 0;
}

} // namespace driver
} // namespace kiln
