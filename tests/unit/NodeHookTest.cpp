// KernelDecision::kernelName (codegen/KernelDecision.h): the kernel name the node hook reports,
// read from the decision's calls.
#include "codegen/KernelDecision.h"

#include <gtest/gtest.h>

using namespace kiln;

namespace {

KernelDecision withCalls(std::vector<Kernel> kernels) {
  KernelDecision d;
  for (Kernel k : kernels)
    d.calls.push_back({k, {}, {CallArg::result(0)}, false});
  return d;
}

} // namespace

TEST(NodeHook, KernelNameIsTheFirstKilnCallee) {
  EXPECT_EQ(withCalls({Kernel::ConvIm2col}).kernelName(), "kiln_f32_conv2d");
  // Calls that mark a result unused are skipped; a kiln_* kernel wins over std::memcpy.
  EXPECT_EQ(withCalls({Kernel::Unused, Kernel::Memcpy, Kernel::EwUnary}).kernelName(),
            "kiln_ew_unary");
  EXPECT_EQ(withCalls({Kernel::Memcpy}).kernelName(), "std::memcpy");
  KernelDecision empty = withCalls({Kernel::Unused});
  empty.noWork = KernelDecision::NoWork::EmptyTensor;
  EXPECT_EQ(empty.kernelName(), "inline");
  EXPECT_EQ(printDecision(empty), "// empty tensor: nothing to normalize\n(void)out0;");
}
