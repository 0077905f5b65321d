#include "codegen/Codegen.h"
namespace kiln {
llvm::Expected<GeneratedPair> generateCpp(const Graph &, const CodegenOptions &) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "codegen: not built yet");
}
} // namespace kiln
