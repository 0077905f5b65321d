// Entry point of the `kiln` command: the command line (CLI11) of `kiln compile`, `kiln opt` and
// `kiln bisect`. Every failure, from the command line or from a command, is printed as
// `kiln: error: <message>` on stderr with exit status 1 (2 for kiln bisect, whose 1 means that a
// node diverged).
#include "codegen/Target.h"
#include "compiler/driver/Driver.h"
#include "ir/Escape.h"

#include <CLI/CLI.hpp>

#include <llvm/ADT/STLExtras.h>
#include <llvm/Support/raw_ostream.h>

using namespace kiln::driver;

// List options take one value per occurrence (comma-separated or repeated) and never swallow the
// positional file that follows them: `kiln opt --passes=cse model.kir` must read model.kir.
static void addInstrumentation(CLI::App *cmd, InstrumentationFlags &f) {
  cmd->add_flag("--print-ir-after-all", f.printAfterAll, "print the IR after every pass (stderr)");
  cmd->add_option("--print-ir-before", f.printBefore, "print the IR before these passes")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--print-ir-after", f.printAfter, "print the IR after these passes")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_flag("--print-ir-after-change", f.printAfterChange,
                "print the IR after each pass that changed it");
  cmd->add_option("--dump-dir", f.dumpDir,
                  "write one numbered .kir per pass into this directory (kiln compile: then "
                  "NN-codegen.kir with the memory and decisions side tables)");
  cmd->add_flag("--verify-each", f.verifyEach, "verify the graph after every pass");
  cmd->add_flag("--pass-statistics", f.statistics, "print per-pass counters and times");
}

/// True for "FILE:LINE:COL: error: ..." on the first line. A plain scan, not std::regex, whose
/// libstdc++ matcher recurses per character and overflowed the stack on a message quoting a
/// 200000-character node name.
static bool isLocated(llvm::StringRef msg) {
  llvm::StringRef line = msg.take_until([](char c) { return c == '\n'; });
  auto digits = [](llvm::StringRef s) {
    return !s.empty() && llvm::all_of(s, [](char c) { return c >= '0' && c <= '9'; });
  };
  for (size_t p = line.find(": error: "); p != llvm::StringRef::npos;
       p = line.find(": error: ", p + 1)) {
    auto [rest, col] = line.take_front(p).rsplit(':');
    auto [file, row] = rest.rsplit(':');
    if (digits(col) && digits(row) && !file.empty() && file.size() < rest.size())
      return true;
  }
  return false;
}

static int fail(const std::string &raw) {
  llvm::outs().flush();
  // Messages quote names from the model or the .kir text: every line is escaped (ir/Escape.h), so
  // no control character or invalid UTF-8 from an input reaches the terminal.
  std::string msg;
  for (llvm::StringRef rest = raw; !rest.empty();) {
    auto [line, tail] = rest.split('\n');
    msg += kiln::escapeText(line);
    if (tail.size() < rest.size() - line.size())
      msg += '\n';
    rest = tail;
  }
  // A message that already carries its location (`x.kir:3:32: error: ...`, the .kir parser's
  // form) is printed as it is, so that it reads like a compiler's and has one "error:".
  if (isLocated(msg))
    llvm::errs() << msg << "\n";
  else
    llvm::errs() << "kiln: error: " << msg << "\n";
  return 1;
}

int main(int argc, char **argv) {
  CLI::App app{"kiln: ahead-of-time compiler from ONNX models to standalone C++"};
  app.require_subcommand(1);

  CompileOptions copts;
  CLI::App *compile = app.add_subcommand("compile", "compile a model into NAME.h / NAME.cpp");
  compile->add_option("model", copts.model, "the .onnx model")->required();
  compile->add_option("-o,--output", copts.outDir,
                      "output directory (created if missing; required unless --list-shape-inputs)");
  compile->add_option("--name", copts.name,
                      "C identifier prefixing the generated API (default: the model's file stem)");
  compile
      ->add_option("--input-shape", copts.inputShapes,
                   "static shape of an input, NAME=1x3x224x224 (repeatable)")
      ->allow_extra_args(false);
  compile
      ->add_option("--emit", copts.emit,
                   "comma-separated outputs: cpp (NAME.h, NAME.cpp), ir (NAME.kir + sidecar), "
                   "memory-svg (NAME.memory.svg, the arena plan)")
      ->delimiter(',')
      ->allow_extra_args(false);
  compile
      ->add_option("--bind", copts.binds,
                   "bind an input to constant data at compile time, NAME=FILE.pb (a serialized "
                   "onnx.TensorProto; repeatable)")
      ->allow_extra_args(false);
  compile->add_flag("--list-shape-inputs", copts.listShapeInputs,
                    "print the inputs that decide a shape (one line per use: input, node, op, "
                    "operand index, operand name, tab-separated) and compile nothing");
  compile->add_flag("--memory-report", copts.memoryReport,
                    "print the arena plan (buffers, offsets, lower bound) to stdout");
  compile->add_option("--arena", copts.arena,
                      "static (default: NAME_run uses a static arena) or external (the caller "
                      "passes it to NAME_run_with_arena)");
  compile->add_flag("--debug-tensors", copts.debugTensors,
                    "compile in NAME_set_node_hook: NAME_run reports every node and its result "
                    "tensors to a caller's function (docs/debugging.md)");
  compile->add_flag("--profile", copts.profile,
                    "compile in the node hook and NAME_profile_*: NAME_run times each node, a "
                    "host reads each node's median (docs/performance.md)");
  compile->add_option("--max-arena", copts.maxArena,
                      "fail unless the arena fits in this many bytes (docs/memory.md)");
  compile->add_option("--decisions", copts.decisions,
                      "follow the kernel decisions of this file (a .kir of --emit=ir, or its "
                      "decisions block alone); nodes it does not list get the default "
                      "(docs/ir.md)");
  compile->add_option("-O", copts.optLevel, "optimization level 0-3 (default 2)");
  compile->add_option("--target", copts.target,
                      "the CPU the pair is generated for: " + kiln::targetNameList() +
                          " (default generic: portable C++; native: the named target this "
                          "machine runs; docs/portability.md)");
  compile
      ->add_option("--passes", copts.passes,
                   "comma-separated passes to run instead of the -O pipeline")
      ->delimiter(',')
      ->allow_extra_args(false);
  addInstrumentation(compile, copts.inst);

  OptOptions oopts;
  CLI::App *opt = app.add_subcommand("opt", "read .kir or .onnx, run passes, print the IR");
  opt->add_option("input", oopts.input, "a .kir or .onnx file")->required();
  opt->add_option("-o,--output", oopts.output,
                  "write this .kir (and its sidecar) instead of "
                  "printing");
  opt->add_option("--input-shape", oopts.inputShapes,
                  "static shape of an input of an .onnx model, NAME=1x3x224x224 (repeatable)")
      ->allow_extra_args(false);
  opt->add_option("--passes", oopts.passes, "comma-separated passes to run in order")
      ->delimiter(',')
      ->allow_extra_args(false);
  opt->add_option("--target", oopts.target,
                  "the target the passes see: " + kiln::targetNameList() + " (default generic)");
  addInstrumentation(opt, oopts.inst);

  BisectOptions bopts;
  CLI::App *bisect = app.add_subcommand(
      "bisect", "find the first node whose tensor differs from the -O0 reference evaluation");
  bisect->add_option("model", bopts.model, "the .onnx model")->required();
  bisect
      ->add_option("--input", bopts.inputs,
                   "raw input file, dense row-major in the input's dtype, one per model input in "
                   "order (default: deterministic pseudo-random input)")
      ->allow_extra_args(false);
  bisect
      ->add_option("--input-shape", bopts.inputShapes,
                   "static shape of an input, NAME=1x3x224x224 (repeatable)")
      ->allow_extra_args(false);
  bisect->add_option("-O", bopts.optLevel, "optimization level to bisect, 0-3 (default 2)");
  bisect
      ->add_option("--passes", bopts.passes,
                   "comma-separated passes to run instead of the -O pipeline")
      ->delimiter(',')
      ->allow_extra_args(false);
  bisect->add_option("--name", bopts.name, "the pair's NAME (default: the model's file stem)");
  bisect->add_option("--cxx", bopts.cxx, "C++ compiler for the pair (default: $CXX, else c++)");
  bisect->add_option("--cxxflags", bopts.cxxflags,
                     "its flags, split at spaces (default -O2), e.g. \"-O3 -march=native\"");
  bisect->add_option("--tolerance", bopts.tolerance,
                     "largest accepted max abs error relative to the reference tensor's max abs "
                     "(default 1e-4)");
  bisect->add_option("--pair", bopts.pairDir,
                     "run the pair in this directory (from kiln compile --debug-tensors with the "
                     "same model and level) instead of compiling one");
  bisect->add_option("--target", bopts.target,
                     "the pair's target: " + kiln::targetNameList() +
                         " (default generic; --cxxflags must then enable its ISA, e.g. "
                         "-march=x86-64-v4)");
  bisect->add_option("--work-dir", bopts.workDir,
                     "build and run in this directory and keep it (default: a temporary one)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    // kiln bisect reserves 1 for "a node diverged": its usage errors exit with 2.
    int status = fail(e.what());
    return bisect->parsed() ? 2 : status;
  }
  if (*bisect) {
    llvm::Expected<int> r = runBisect(bopts);
    llvm::outs().flush();
    if (!r) {
      fail(llvm::toString(r.takeError()));
      return 2;
    }
    return *r;
  }

  llvm::Error err = llvm::Error::success();
  if (*compile)
    err = runCompile(copts);
  else
    err = runOpt(oopts);
  if (err)
    return fail(llvm::toString(std::move(err)));
  return 0;
}
