// `kiln compile MODEL.onnx -o OUTDIR`: import, optimize (the -O pipeline), verify, generate, and
// only then write the outputs. Every file is first written under a temporary name inside OUTDIR and
// renamed into place at the very end, so a failing compilation leaves nothing behind (not even
// OUTDIR, when kiln created it). --memory-report prints the arena plan to stdout once the files
// are in place. The .kir of --emit=ir carries the arena plan as its `memory` block and the kernel
// decisions as its `decisions` block; --decisions=FILE reads such a block back and makes code
// generation follow it.
#include "codegen/Codegen.h"
#include "codegen/MemoryReport.h"
#include "compiler/driver/Driver.h"
#include "compiler/driver/MemoryLimits.h"
#include "compiler/frontend/OnnxFrontend.h"
#include "ir/Escape.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/PassManager.h"

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/Process.h>
#include <llvm/Support/raw_ostream.h>

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace kiln {
namespace driver {

namespace {

const std::vector<std::string> kEmitKinds = {"cpp", "ir", "memory-svg"};

/// Files staged under temporary names in the output directory, renamed together by commit() or
/// removed by the destructor (together with the directory, if this stage created it).
class StagedOutput {
public:
  explicit StagedOutput(std::string dir) : dir_(std::move(dir)) {}
  StagedOutput(const StagedOutput &) = delete;
  StagedOutput &operator=(const StagedOutput &) = delete;
  ~StagedOutput() {
    if (committed_)
      return;
    for (auto &[tmp, final] : files_)
      llvm::sys::fs::remove(tmp);
    if (createdDir_)
      llvm::sys::fs::remove(dir_);
  }

  llvm::Error open() {
    if (!llvm::sys::fs::exists(dir_)) {
      if (std::error_code ec = llvm::sys::fs::create_directories(dir_))
        return driverError(
            fmt::format("cannot create output directory '{}': {}", dir_, ec.message()));
      createdDir_ = true;
    } else if (!llvm::sys::fs::is_directory(dir_)) {
      return driverError(fmt::format("output '{}': expected a directory, found a file", dir_));
    }
    return llvm::Error::success();
  }

  /// A temporary path in the directory that commit() renames to `fileName`.
  std::string stage(const std::string &fileName) {
    llvm::SmallString<256> tmp(dir_);
    llvm::sys::path::append(
        tmp, fmt::format(".kiln-tmp-{}-{}", llvm::sys::Process::getProcessId(), fileName));
    llvm::SmallString<256> final(dir_);
    llvm::sys::path::append(final, fileName);
    files_.emplace_back(tmp.str().str(), final.str().str());
    return files_.back().first;
  }

  llvm::Error write(const std::string &fileName, const std::string &contents) {
    std::string tmp = stage(fileName);
    return writeFile(tmp, contents, files_.back().second);
  }

  llvm::Error commit() {
    for (auto &[tmp, final] : files_)
      if (std::error_code ec = llvm::sys::fs::rename(tmp, final))
        return driverError(fmt::format("cannot write '{}': {}", final, ec.message()));
    committed_ = true;
    return llvm::Error::success();
  }

private:
  std::string dir_;
  bool createdDir_ = false;
  bool committed_ = false;
  std::vector<std::pair<std::string, std::string>> files_;
};

/// The decisions block of `path`: a .kir (the block after its graph) or the block alone. The text
/// before the block is blanked line for line, so diagnostics keep the file's line numbers.
llvm::Expected<DecisionTable> readDecisions(const std::string &path) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buf)
    return driverError(
        fmt::format("--decisions: cannot read '{}': {}", path, buf.getError().message()));
  std::string text = (*buf)->getBuffer().str();
  size_t at = text.rfind("\ndecisions @");
  if (at != std::string::npos) {
    ++at;
    text =
        std::string(static_cast<size_t>(std::count(text.begin(), text.begin() + at, '\n')), '\n') +
        text.substr(at);
  }
  auto t = parseDecisionTable(text, path);
  if (!t)
    return driverError(fmt::format("--decisions: {}", llvm::toString(t.takeError())));
  return t;
}

} // namespace

llvm::Error runCompile(const CompileOptions &opts) {
  // Cheap checks of the command line first.
  std::string name = opts.name.empty() ? identifierFromPath(opts.model) : opts.name;
  if (!isCIdentifier(name))
    return driverError(
        fmt::format("--name '{}': expected a C identifier ([A-Za-z_][A-Za-z0-9_]*, not a "
                    "keyword), found invalid text",
                    name));
  bool emitCpp = false, emitIr = false, emitSvg = false;
  for (const std::string &e : opts.emit) {
    if (e == "cpp")
      emitCpp = true;
    else if (e == "ir")
      emitIr = true;
    else if (e == "memory-svg")
      emitSvg = true;
    else
      return driverError(fmt::format("--emit: expected a comma-separated list of {}, found '{}'",
                                     fmt::join(kEmitKinds, ", "), e));
  }
  if (!emitCpp && !emitIr && !emitSvg)
    return driverError(fmt::format("--emit: expected at least one of {}, found none",
                                   fmt::join(kEmitKinds, ", ")));
  if (opts.arena != "static" && opts.arena != "external")
    return driverError(fmt::format("--arena: expected static or external, found '{}'", opts.arena));
  std::optional<int64_t> maxArena;
  if (!opts.maxArena.empty()) {
    int64_t v = 0;
    if (llvm::StringRef(opts.maxArena).getAsInteger(10, v) || v <= 0)
      return driverError(fmt::format("--max-arena: expected a positive number of bytes, found '{}'",
                                     opts.maxArena));
    maxArena = v;
  }
  std::optional<DecisionTable> forced;
  if (!opts.decisions.empty()) {
    auto t = readDecisions(opts.decisions);
    if (!t)
      return t.takeError();
    forced = std::move(*t);
  }
  auto pipeline = pipelineFromFlags(opts.passes, opts.optLevel);
  if (!pipeline)
    return pipeline.takeError();
  auto target = resolveTarget(opts.target);
  if (!target)
    return driverError(llvm::toString(target.takeError()));
  Instrumentation inst;
  if (auto e = makeInstrumentation(opts.inst, inst))
    return e;
  ImportOptions io;
  auto shapes = parseInputShapes(opts.inputShapes);
  if (!shapes)
    return shapes.takeError();
  io.inputShapes = std::move(*shapes);
  for (const std::string &b : opts.binds) {
    // Split at the first '=': the file's path may contain one, input names do not in practice.
    size_t eq = b.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == b.size())
      return driverError(fmt::format("--bind '{}': expected NAME=FILE.pb (a serialized "
                                     "onnx.TensorProto), found no {}",
                                     b,
                                     eq == std::string::npos ? "'='"
                                     : eq == 0               ? "name"
                                                             : "file"));
    std::string input = b.substr(0, eq), file = b.substr(eq + 1);
    if (io.inputShapes.count(input))
      return driverError(fmt::format("--bind {}: expected either --bind or --input-shape for "
                                     "input '{}', found both (bound data has its own shape)",
                                     b, input));
    auto t = readTensorProtoFile(file);
    if (!t)
      return driverError(fmt::format("--bind {}: {}", b, llvm::toString(t.takeError())));
    if (!io.inputValues.emplace(input, std::move(*t)).second)
      return driverError(
          fmt::format("--bind: expected each input at most once, found '{}' twice", input));
  }
  if (opts.listShapeInputs) {
    auto uses = listShapeInputs(opts.model, io);
    if (!uses)
      return uses.takeError();
    for (const ShapeInputUse &u : *uses)
      llvm::outs() << escapeText(u.input) << '\t' << escapeText(u.node) << '\t' << u.op << '\t'
                   << u.operand << '\t' << u.operandName << '\n';
    return llvm::Error::success();
  }
  if (opts.outDir.empty())
    return driverError("-o/--output: expected an output directory, found none");

  auto g = importOnnx(opts.model, io);
  if (!g)
    return g.takeError();
  PassContext pctx;
  pctx.target = *target;
  if (auto e = runPipeline(**g, *pipeline, pctx, inst))
    return driverError(fmt::format("{}: {}", opts.model, llvm::toString(std::move(e))));
  if (auto e = verifyGraph(**g))
    return driverError(fmt::format("{}: invalid IR after optimization: {}", opts.model,
                                   llvm::toString(std::move(e))));

  GeneratedPair pair;
  if (emitCpp || emitSvg || opts.memoryReport) {
    CodegenOptions co;
    co.name = name;
    co.sourceName = llvm::sys::path::filename(opts.model).str();
    co.externalArena = opts.arena == "external";
    co.nodeHook = opts.debugTensors || opts.profile;
    co.profile = opts.profile;
    co.target = *target;
    co.decisions = forced ? &*forced : nullptr;
    auto gen = generateCpp(**g, co);
    if (!gen)
      return gen.takeError();
    if (auto e = checkArenaLimits(gen->memory, maxArena, opts.model))
      return e;
    pair = std::move(*gen);
  }

  // The arena plan and the kernel decisions, the side tables of the .kir and of the last dump. A
  // graph that code generation does not support (only possible with --emit=ir alone) has
  // neither, and its .kir no memory or decisions block.
  std::optional<ValueLayoutTable> layout;
  std::optional<DecisionTable> decisions;
  if (emitCpp || emitSvg || opts.memoryReport) {
    layout = layoutTableOf(pair.memory);
    decisions = pair.decisions;
  } else if (emitIr || !inst.dumpDir.empty()) {
    CodegenOptions co;
    co.name = name;
    co.externalArena = opts.arena == "external";
    co.target = *target;
    co.decisions = forced ? &*forced : nullptr;
    auto plan = planMemory(**g, co);
    if (plan) {
      layout = layoutTableOf(*plan);
      auto d = decideKernels(**g, co);
      if (!d)
        return d.takeError();
      decisions = std::move(*d);
    } else if (forced) {
      return plan.takeError(); // a forced table that does not apply is the user's error
    } else {
      llvm::consumeError(plan.takeError());
    }
  }
  if (!inst.dumpDir.empty() && decisions) {
    // After the numbered dumps of the passes: the graph code generation received with what it
    // decided about it.
    llvm::SmallString<256> path(inst.dumpDir);
    llvm::sys::path::append(path, fmt::format("{:02}-codegen.kir", pipeline->size() + 1));
    if (auto e = writeKirFile(**g, path.str().str(), &*layout, &*decisions))
      return e;
  }

  StagedOutput out(opts.outDir);
  if (auto e = out.open())
    return e;
  if (emitCpp) {
    if (auto e = out.write(name + ".h", pair.header))
      return e;
    if (auto e = out.write(name + ".cpp", pair.source))
      return e;
  }
  if (emitSvg)
    if (auto e = out.write(name + ".memory.svg", formatMemorySvg(pair.memory, name)))
      return e;
  if (emitIr) {
    std::string kir = out.stage(name + ".kir");
    if (auto e =
            writeKirFile(**g, kir, layout ? &*layout : nullptr, decisions ? &*decisions : nullptr))
      return e;
    std::string sidecar = kirSidecarPath(kir);
    if (llvm::sys::fs::exists(sidecar)) {
      std::string staged =
          out.stage(llvm::sys::path::filename(kirSidecarPath(name + ".kir")).str());
      if (std::error_code ec = llvm::sys::fs::rename(sidecar, staged))
        return driverError(fmt::format("cannot write '{}': {}", staged, ec.message()));
    }
  }
  if (auto e = out.commit())
    return e;
  if (opts.memoryReport)
    llvm::outs() << formatMemoryReport(pair.memory, name);
  return llvm::Error::success();
}

} // namespace driver
} // namespace kiln
