// The `kiln` driver's commands and the small helpers they share. main.cpp turns the command line
// (CLI11) into these option structs; each command returns an llvm::Error whose text main.cpp prints
// as `kiln: error: <message>`.
#pragma once

#include "ir/Types.h"
#include "passes/PassManager.h"

#include <llvm/Support/Error.h>

#include <map>
#include <string>
#include <vector>

namespace kiln {
namespace driver {

/// Pass-manager instrumentation flags, shared by both commands (see passes/PassManager.h).
struct InstrumentationFlags {
  bool printAfterAll = false;
  std::vector<std::string> printBefore, printAfter; // pass names
  bool printAfterChange = false;
  std::string dumpDir;
  bool verifyEach = false;
  bool statistics = false;
};

struct CompileOptions {
  std::string model;
  std::string outDir;
  std::string name;                     // empty: derived from the model file's stem
  std::vector<std::string> inputShapes; // raw NAME=DIMS entries
  std::vector<std::string> binds;       // --bind: raw NAME=FILE.pb entries
  bool listShapeInputs = false;         // --list-shape-inputs: print them, compile nothing
  std::vector<std::string> emit{"cpp"}; // entries of --emit
  bool memoryReport = false;            // --memory-report: print the arena plan to stdout
  std::string arena = "static";         // --arena: static (NAME_run) or external
  bool debugTensors = false;            // --debug-tensors: the node hook (codegen/NodeHook.h)
  bool profile = false;                 // --profile: the hook plus NAME_profile_* (per-node time)
  std::string maxArena;                 // --max-arena=BYTES as given; empty: no user limit
  std::string decisions;                // --decisions=FILE: kernel decisions to follow
  int optLevel = 2;                     // -O0 .. -O3
  std::vector<std::string> passes;      // --passes: replaces the -O pipeline when given
  std::string target = "generic";       // --target, resolved by codegen/Target.h
  InstrumentationFlags inst;
};

struct OptOptions {
  std::string input;                    // .kir or .onnx
  std::string output;                   // empty: print to stdout
  std::vector<std::string> inputShapes; // .onnx only
  std::vector<std::string> passes;      // run in order; empty runs none
  std::string target = "generic";       // --target: what the passes see in PassContext
  InstrumentationFlags inst;
};

struct BisectOptions {
  std::string model;
  std::vector<std::string> inputs;      // --input: one raw file per model input; empty: pseudo-random
  std::vector<std::string> inputShapes; // raw NAME=DIMS entries
  int optLevel = 2;                     // the level to bisect (-O0 .. -O3)
  std::vector<std::string> passes;      // --passes: replaces the -O pipeline when given
  std::string name;                     // the pair's NAME; empty: the model file's stem
  std::string cxx;                      // --cxx; empty: $CXX, else c++
  std::string cxxflags = "-O2";         // --cxxflags, split at whitespace
  double tolerance = 1e-4;              // max abs err / max abs of the reference tensor
  std::string pairDir;                  // --pair: run this pair instead of compiling one
  std::string workDir;                  // --work-dir: build here and keep it; empty: a temp dir
  std::string target = "generic";       // --target of the pair (--cxxflags must enable its ISA)
};

/// A user-facing error carrying `msg` (main.cpp prints it as `kiln: error: <msg>`).
llvm::Error driverError(const std::string &msg);

/// Writes `bytes` to `path`; a failure is a driver error naming `shownPath` (default: `path`), so
/// that a file staged under a temporary name is reported under the name the user asked for.
llvm::Error writeFile(const std::string &path, const std::string &bytes,
                      const std::string &shownPath = "");

/// The pass pipeline a command runs: `passes` (--passes) when given, else the -O level's; an
/// unknown pass name is a driver error naming --passes.
llvm::Expected<std::vector<const PassInfo *>>
pipelineFromFlags(const std::vector<std::string> &passes, int optLevel);

llvm::Error runCompile(const CompileOptions &opts);
llvm::Error runOpt(const OptOptions &opts);
/// 0: every comparable tensor matched; 1: a node diverged (printed); an error: nothing compared.
llvm::Expected<int> runBisect(const BisectOptions &opts);

/// The pass manager's instrumentation for the given flags; unknown pass names in
/// --print-ir-before/after are errors listing the valid ones.
llvm::Error makeInstrumentation(const InstrumentationFlags &flags, Instrumentation &out);

/// Parses repeated `--input-shape NAME=1x3x224x224` entries (an empty DIMS is a scalar).
llvm::Expected<std::map<std::string, Shape>>
parseInputShapes(const std::vector<std::string> &entries);
/// True for [A-Za-z_][A-Za-z0-9_]* that is not a C or C++ keyword.
bool isCIdentifier(const std::string &s);
/// The model file's stem made into a C identifier: "my-net.v2.onnx" -> "my_net_v2".
std::string identifierFromPath(const std::string &path);

} // namespace driver
} // namespace kiln
