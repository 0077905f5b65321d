// Temporary placeholder: replaced by the kernel family's real selector.
#include "codegen/KernelSelect.h"
namespace kiln {
llvm::Expected<KernelCall> selectDataMovementKernel(const Node &n) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "node '%s' (%s): no kernel yet",
                                 n.name().c_str(), opName(n.op()));
}
} // namespace kiln
