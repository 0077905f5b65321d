// Entry point of the `kiln` command: the command line (CLI11) of `kiln compile` and `kiln opt`.
// Every failure, from the command line or from a command, is printed as `kiln: error: <message>`
// on stderr with exit status 1.
#include "compiler/driver/Driver.h"

#include <CLI/CLI.hpp>

#include <llvm/Support/raw_ostream.h>

#include <regex>

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
  cmd->add_option("--dump-dir", f.dumpDir, "write one numbered .kir per pass into this directory");
  cmd->add_flag("--verify-each", f.verifyEach, "verify the graph after every pass");
  cmd->add_flag("--pass-statistics", f.statistics, "print per-pass counters and times");
}

static int fail(const std::string &msg) {
  llvm::outs().flush();
  // A message that already carries its location (`x.kir:3:32: error: ...`, the .kir parser's
  // form) is printed as it is, so that it reads like a compiler's and has one "error:".
  static const std::regex located(R"(^[^\n]+:[0-9]+:[0-9]+: error: )");
  if (std::regex_search(msg, located))
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
  compile->add_option("-o,--output", copts.outDir, "output directory (created if missing)")
      ->required();
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
  compile->add_flag("--memory-report", copts.memoryReport,
                    "print the arena plan (buffers, offsets, lower bound) to stdout");
  compile->add_option("--arena", copts.arena,
                      "static (default: NAME_run uses a static arena) or external (the caller "
                      "passes it to NAME_run_with_arena)");
  compile->add_option("-O", copts.optLevel, "optimization level 0-3 (default 2)");
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
  addInstrumentation(opt, oopts.inst);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    return fail(e.what());
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
