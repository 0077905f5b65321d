// `kiln opt FILE.kir|FILE.onnx [--passes=a,b] [-o OUT.kir]`: reads a graph, runs the listed passes
// in order, verifies, and prints the IR (stdout, no sidecar) or writes OUT.kir and its sidecar.
// This is what the lit tests of passes and of the IR drive. A .kir's side tables, the `memory`
// block (the arena plan) and the `decisions` block (the kernel decisions), are printed back
// unchanged when no pass runs, and dropped when one does (they no longer describe the graph).
#include "codegen/Target.h"
#include "compiler/driver/Driver.h"
#include "compiler/frontend/OnnxFrontend.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/PassManager.h"

#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>

#include <fmt/format.h>

namespace kiln {
namespace driver {

static llvm::Expected<std::unique_ptr<Graph>> readGraph(const OptOptions &opts,
                                                        std::optional<ValueLayoutTable> &layout,
                                                        std::optional<DecisionTable> &decisions) {
  llvm::StringRef ext = llvm::sys::path::extension(opts.input);
  if (ext == ".onnx") {
    ImportOptions io;
    auto shapes = parseInputShapes(opts.inputShapes);
    if (!shapes)
      return shapes.takeError();
    io.inputShapes = std::move(*shapes);
    return importOnnx(opts.input, io);
  }
  if (ext == ".kir") {
    if (!opts.inputShapes.empty())
      return driverError(
          "--input-shape: expected an .onnx input, found a .kir file (its shapes are "
          "already static)");
    return parseKirFile(opts.input, &layout, &decisions);
  }
  return driverError(fmt::format("{}: expected a .kir or .onnx file, found extension '{}'",
                                 opts.input, ext.str()));
}

llvm::Error runOpt(const OptOptions &opts) {
  // Resolve the pass list before reading anything, so a typo fails fast.
  auto passes = parsePassList(fmt::format("{}", fmt::join(opts.passes, ",")));
  if (!passes)
    return driverError(fmt::format("--passes: {}", llvm::toString(passes.takeError())));
  auto target = resolveTarget(opts.target);
  if (!target)
    return driverError(llvm::toString(target.takeError()));
  std::optional<ValueLayoutTable> layout;
  std::optional<DecisionTable> decisions;
  auto g = readGraph(opts, layout, decisions);
  if (!g)
    return g.takeError();
  if (auto e = verifyGraph(**g))
    return driverError(fmt::format("{}: {}", opts.input, llvm::toString(std::move(e))));
  PassContext ctx;
  ctx.target = *target;
  Instrumentation inst;
  if (auto e = makeInstrumentation(opts.inst, inst))
    return e;
  inst.verifyEach = true; // a pass that breaks the graph is named, not reported at print time
  if (auto e = runPipeline(**g, *passes, ctx, inst))
    return driverError(fmt::format("{}: {}", opts.input, llvm::toString(std::move(e))));
  if (!passes->empty()) {
    layout.reset();
    decisions.reset();
  }
  const ValueLayoutTable *table = layout ? &*layout : nullptr;
  const DecisionTable *kernels = decisions ? &*decisions : nullptr;
  if (!opts.output.empty())
    return writeKirFile(**g, opts.output, table, kernels);
  if (auto e = printGraph(**g, llvm::outs(), "", table, kernels))
    return e;
  llvm::outs().flush();
  return llvm::Error::success();
}

} // namespace driver
} // namespace kiln
