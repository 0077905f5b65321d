// kernelNameOf (codegen/NodeHook.h): the kernel name the node hook reports, read from a kernel
// statement until kernel decisions are typed data.
#include "codegen/NodeHook.h"

#include <gtest/gtest.h>

using namespace kiln;

namespace {

std::string nameOf(const std::string &statement) {
  KernelCall k;
  k.statement = statement;
  return kernelNameOf(k);
}

} // namespace

TEST(NodeHook, KernelNameIsTheFirstKilnCallee) {
  EXPECT_EQ(nameOf("kiln_f32_conv2d<1, 8, 28, true>(in0, in1, in2, out0, scratch, epi);"),
            "kiln_f32_conv2d");
  // Numbers, casts, keywords and comments are not callees.
  EXPECT_EQ(nameOf("// 1e5f kiln_commented(x)\nconst float k = 1e5f;\n"
                   "if (static_cast<long>(k)) kiln_ew_unary<float, 4>(in0, out0);"),
            "kiln_ew_unary");
  EXPECT_EQ(nameOf("if (out0 != in0) std::memcpy(out0, in0, 40);"), "std::memcpy");
  EXPECT_EQ(nameOf("// empty tensor: nothing to normalize\n(void)out0;"), "inline");
}
