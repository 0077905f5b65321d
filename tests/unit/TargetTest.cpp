// The --target table (codegen/Target.cpp) is data that the kernels trust: every target's GEMM
// and depthwise blocks are whole vectors and fit its register file, ISA targets name flags and the
// macros that prove them, x86 targets carry the CPUID bits their run-time check tests, and
// `native` resolves to one of the named targets.
#include "codegen/Target.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

using kiln::Target;

TEST(TargetTest, NamesAndResolution) {
  std::set<std::string> names;
  for (const Target &t : kiln::allTargets()) {
    EXPECT_TRUE(names.insert(t.name).second) << t.name;
    EXPECT_EQ(kiln::findTarget(t.name), &t);
    auto r = kiln::resolveTarget(t.name);
    ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
    EXPECT_EQ(*r, &t);
  }
  EXPECT_EQ(names, (std::set<std::string>{"generic", "x86-64-v3", "x86-64-v4", "aarch64",
                                          "cortex-m4", "cortex-m7", "cortex-m55"}));
  EXPECT_STREQ(kiln::genericTarget().name, "generic");
  EXPECT_EQ(kiln::findTarget("native"), nullptr);
  auto native = kiln::resolveTarget("native");
  ASSERT_TRUE(bool(native));
  EXPECT_EQ(*native, &kiln::nativeTarget());
  EXPECT_EQ(kiln::findTarget((*native)->name), *native);
  auto bad = kiln::resolveTarget("x86-64-v5");
  ASSERT_FALSE(bool(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()),
            "--target: expected one of generic|x86-64-v3|x86-64-v4|aarch64|cortex-m4|cortex-m7|"
            "cortex-m55|native, found 'x86-64-v5'");
}

TEST(TargetTest, KernelNumbersFitTheRegisters) {
  for (const Target &t : kiln::allTargets()) {
    SCOPED_TRACE(t.name);
    ASSERT_GT(t.vectorBytes, 0);
    EXPECT_EQ(t.vectorBytes % 4, 0);
    const int vl = t.vectorFloats(), nv = t.gemmNr / vl;
    EXPECT_EQ(t.gemmNr % vl, 0) << "the GEMM block is whole vectors";
    EXPECT_EQ(t.dwBlock % vl, 0) << "the depthwise block is whole vectors";
    EXPECT_EQ(t.gemmNr & (t.gemmNr - 1), 0) << "packedChunkColumns needs a power of two";
    // MR x NV accumulators, NV B vectors and the A broadcast.
    EXPECT_LE(t.gemmMr * nv + nv + 1, t.vectorRegisters);
    EXPECT_LE(t.gemmMr, 8) << "gemm.h unrolls the row loops 8 deep";
    EXPECT_GT(t.packBudgetBytes(), 0);
  }
  EXPECT_EQ(kiln::findTarget("cortex-m4")->packBudgetBytes(), 16 * 1024); // no cache at all
  EXPECT_EQ(kiln::genericTarget().packBudgetBytes(), 256 * 1024);
}

TEST(TargetTest, GuardsChecksAndConfig) {
  for (const Target &t : kiln::allTargets()) {
    SCOPED_TRACE(t.name);
    std::string guard = kiln::targetGuardCode(t, "m.cpp");
    std::string config = kiln::targetConfigCode(t);
    EXPECT_NE(config.find("gemm_nr = " + std::to_string(t.gemmNr) + ","), std::string::npos)
        << config;
    EXPECT_NE(config.find("vec_floats = " + std::to_string(t.vectorFloats()) + ","),
              std::string::npos)
        << config;
    if (t.arch == Target::Arch::Portable) {
      EXPECT_EQ(guard, "");
      EXPECT_EQ(kiln::targetCpuCheckCode(t), "");
      EXPECT_EQ(kiln::targetBaselineAttribute(t), "");
      continue;
    }
    EXPECT_FALSE(t.macros.empty());
    for (const char *m : t.macros)
      EXPECT_NE(guard.find(m), std::string::npos) << m;
    EXPECT_NE(guard.find(std::string("#error \"m.cpp was generated for --target=") + t.name),
              std::string::npos)
        << guard;
    if (*t.flags) {
      EXPECT_NE(guard.find(t.flags), std::string::npos) << guard;
    }
    if (t.arch == Target::Arch::X86_64) {
      EXPECT_FALSE(t.cpuid.empty());
      EXPECT_NE(t.xcr0, 0u);
      std::string check = kiln::targetCpuCheckCode(t);
      EXPECT_NE(check.find("static bool kiln_cpu_supported()"), std::string::npos);
      EXPECT_EQ(check.find("#include"), std::string::npos) << "no header function in the check";
      EXPECT_NE(kiln::targetBaselineAttribute(t).find("no-avx,"), std::string::npos);
    } else {
      EXPECT_EQ(kiln::targetCpuCheckCode(t), "");
    }
  }
}
