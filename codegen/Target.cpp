// The named targets of `--target` and what the emitter prints for them: the flag guard (#error),
// the kernels' numbers (struct kiln_target) and the run-time CPU check. The x86 CPU check and
// `native` use one table of CPUID requirements, so kiln resolves `native` with exactly the test
// that a pair for the resolved target makes before it runs.
#include "codegen/Target.h"

#include <fmt/format.h>

#include <initializer_list>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace kiln {
namespace {

constexpr uint32_t bits(std::initializer_list<int> b) {
  uint32_t m = 0;
  for (int i : b)
    m |= uint32_t(1) << i;
  return m;
}

// x86-64-v2 and v3 as the psABI defines the levels (and g++/clang++ -march=x86-64-vN enable):
// CPUID.1:ECX SSE3 0, SSSE3 9, FMA 12, CX16 13, SSE4.1 19, SSE4.2 20, MOVBE 22, POPCNT 23,
// XSAVE 26, OSXSAVE 27 (the OS manages the extended state, so XGETBV works), AVX 28, F16C 29;
// CPUID.7.0:EBX BMI1 3, AVX2 5, BMI2 8; CPUID.80000001h:ECX LAHF/SAHF 0, LZCNT 5.
const CpuidRequirement kV3Leaf1 = {1, 0, 'c', bits({0, 9, 12, 13, 19, 20, 22, 23, 26, 27, 28, 29}),
                                   "SSE3 SSSE3 FMA CX16 SSE4.1 SSE4.2 MOVBE POPCNT XSAVE OSXSAVE "
                                   "AVX F16C"};
const CpuidRequirement kV3Leaf7 = {7, 0, 'b', bits({3, 5, 8}), "BMI1 AVX2 BMI2"};
const CpuidRequirement kV3Ext = {0x80000001u, 0, 'c', bits({0, 5}), "LAHF-SAHF LZCNT"};
// x86-64-v4 adds CPUID.7.0:EBX AVX512F 16, AVX512DQ 17, AVX512CD 28, AVX512BW 30, AVX512VL 31.
const CpuidRequirement kV4Leaf7 = {7, 0, 'b', bits({3, 5, 8, 16, 17, 28, 30, 31}),
                                   "BMI1 AVX2 BMI2 AVX512F AVX512DQ AVX512CD AVX512BW AVX512VL"};
// XCR0: SSE 1 and AVX 2 state for AVX; opmask 5, ZMM_Hi256 6 and Hi16_ZMM 7 for AVX-512.
constexpr uint32_t kXcr0Avx = bits({1, 2}), kXcr0Avx512 = bits({1, 2, 5, 6, 7});

// Why these numbers (there are no per-ISA micro-kernels yet; these tile the portable kernels):
// the GEMM block keeps MR x NR accumulators plus NR/VL B vectors and one A broadcast in
// registers, so MR * NR / VL + NR / VL + 1 stays within the register file: x86-64-v3 6 x 16 (12
// accumulators + 2 + 1 of 16 ymm), x86-64-v4 6 x 64 (24 + 4 + 1 of 32 zmm: 10 loads per 24 FMAs,
// where 8 x 32 needs 10 per 16). Measured on single layers against 4 x 16 and 8 x 32: 7 to 17 %
// faster at v3, 1 to 9 % at v4 (docs/performance.md). The depthwise block is
// whole vectors of output columns, at most 16 floats so that the 14- to 56-wide rows of
// mobile networks fill it.
const std::vector<Target> kTargets = {
    {"generic",
     Target::Arch::Portable,
     "portable C++17 for any compiler and CPU (the default): no intrinsics, no ISA flags",
     {},
     16,
     16,
     32 * 1024,
     256 * 1024,
     "",
     "",
     {},
     {},
     0,
     4,
     8,
     8},
    {"x86-64-v3",
     Target::Arch::X86_64,
     "x86-64 with AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE (Haswell, Zen 1 and later)",
     {"sse4.2", "avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "lzcnt", "movbe", "popcnt", "xsave"},
     32,
     16,
     32 * 1024,
     256 * 1024,
     "-march=x86-64-v3",
     "-mavx2 -mfma -mbmi -mbmi2 -mf16c -mlzcnt -mmovbe -mpopcnt -mxsave",
     {"defined(__AVX__)", "defined(__AVX2__)", "defined(__FMA__)", "defined(__BMI__)",
      "defined(__BMI2__)", "defined(__F16C__)", "defined(__LZCNT__)", "defined(__MOVBE__)",
      "defined(__POPCNT__)", "defined(__SSE4_2__)", "defined(__XSAVE__)"},
     {kV3Leaf1, kV3Leaf7, kV3Ext},
     kXcr0Avx,
     6,
     16,
     16},
    {"x86-64-v4",
     Target::Arch::X86_64,
     "x86-64-v3 plus AVX-512 F/BW/CD/DQ/VL (Skylake-SP, Ice Lake, Zen 4 and later)",
     {"sse4.2", "avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "lzcnt", "movbe", "popcnt", "xsave",
      "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"},
     64,
     32,
     32 * 1024,
     1024 * 1024,
     "-march=x86-64-v4",
     "-mavx512f -mavx512bw -mavx512cd -mavx512dq -mavx512vl -mavx2 -mfma -mbmi -mbmi2 -mf16c "
     "-mlzcnt -mmovbe -mpopcnt -mxsave",
     {"defined(__AVX__)", "defined(__AVX2__)", "defined(__FMA__)", "defined(__BMI__)",
      "defined(__BMI2__)", "defined(__F16C__)", "defined(__LZCNT__)", "defined(__MOVBE__)",
      "defined(__POPCNT__)", "defined(__SSE4_2__)", "defined(__XSAVE__)", "defined(__AVX512F__)",
      "defined(__AVX512BW__)", "defined(__AVX512CD__)", "defined(__AVX512DQ__)",
      "defined(__AVX512VL__)"},
     {kV3Leaf1, kV4Leaf7, kV3Ext},
     kXcr0Avx512,
     6,
     64,
     16},
    {"aarch64",
     Target::Arch::AArch64,
     "AArch64 (ARMv8-A and later) with NEON, its baseline",
     {"neon", "fp"},
     16,
     32,
     64 * 1024,
     512 * 1024,
     "",
     "",
     {"defined(__aarch64__)", "defined(__ARM_NEON)"},
     {},
     0,
     8,
     8,
     8},
    {"cortex-m4",
     Target::Arch::ArmM,
     "Cortex-M4F: ARMv7E-M, single-precision FPv4 (32 S registers), no data cache",
     {"armv7e-m", "dsp", "fpv4-sp-d16"},
     4,
     32,
     0,
     0,
     "-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16",
     "",
     {"defined(__ARM_ARCH_7EM__)", "(defined(__ARM_FP) && (__ARM_FP & 4))",
      "defined(__ARM_PCS_VFP)"},
     {},
     0,
     4,
     4,
     4},
    {"cortex-m7",
     Target::Arch::ArmM,
     "Cortex-M7: ARMv7E-M, FPv5 (32 S registers), 16 KiB L1 data cache",
     {"armv7e-m", "dsp", "fpv5-d16"},
     4,
     32,
     16 * 1024,
     0,
     "-mcpu=cortex-m7 -mfloat-abi=hard -mfpu=fpv5-d16",
     "",
     {"defined(__ARM_ARCH_7EM__)", "(defined(__ARM_FP) && (__ARM_FP & 4))",
      "defined(__ARM_PCS_VFP)"},
     {},
     0,
     4,
     4,
     4},
    {"cortex-m55",
     Target::Arch::ArmM,
     "Cortex-M55: ARMv8.1-M with MVE (Helium) floating point, 8 Q registers, 32 KiB L1 data cache",
     {"armv8.1-m.main", "dsp", "mve.fp", "fp-armv8d16"},
     16,
     8,
     32 * 1024,
     0,
     "-mcpu=cortex-m55 -mfloat-abi=hard",
     "",
     {"defined(__ARM_ARCH_8M_MAIN__)", "(defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 2))",
      "defined(__ARM_PCS_VFP)"},
     {},
     0,
     4,
     4,
     4},
};

#if defined(__x86_64__) || defined(__i386__)
/// The host's CPUID bits against a target's table: the same test as the pair's
/// kiln_cpu_supported() (targetCpuCheckCode).
bool hostHas(const Target &t) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)))
    return false; // no OSXSAVE: XGETBV would fault
  unsigned lo, hi;
  __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0u));
  (void)hi;
  if ((lo & t.xcr0) != t.xcr0)
    return false;
  for (const CpuidRequirement &r : t.cpuid) {
    if (!__get_cpuid_count(r.leaf, r.subleaf, &a, &b, &c, &d))
      return false;
    unsigned v = r.reg == 'b' ? b : r.reg == 'c' ? c : d;
    if ((v & r.mask) != r.mask)
      return false;
  }
  return true;
}
#endif

} // namespace

const std::vector<Target> &allTargets() { return kTargets; }

const Target *findTarget(const std::string &name) {
  for (const Target &t : kTargets)
    if (name == t.name)
      return &t;
  return nullptr;
}

const Target &genericTarget() { return kTargets.front(); }

std::string targetNameList() {
  std::string s;
  for (const Target &t : kTargets)
    s += std::string(t.name) + "|";
  return s + "native";
}

const Target &nativeTarget() {
#if defined(__x86_64__)
  // The widest x86 level whose every requirement the host meets.
  for (const char *n : {"x86-64-v4", "x86-64-v3"})
    if (hostHas(*findTarget(n)))
      return *findTarget(n);
#elif defined(__aarch64__) && defined(__linux__)
  if (getauxval(AT_HWCAP) & HWCAP_ASIMD)
    return *findTarget("aarch64");
#endif
  return genericTarget();
}

llvm::Expected<const Target *> resolveTarget(const std::string &name) {
  if (name == "native")
    return &nativeTarget();
  if (const Target *t = findTarget(name))
    return t;
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(), "%s",
      fmt::format("--target: expected one of {}, found '{}'", targetNameList(), name).c_str());
}

std::string targetGuardCode(const Target &t, const std::string &file) {
  if (t.macros.empty())
    return "";
  std::string how = *t.flags ? t.flags
                             : "an AArch64 compiler, e.g. aarch64-linux-gnu-g++ (NEON is "
                               "its baseline)";
  if (*t.flagsAlternative)
    how += fmt::format(" (or {})", t.flagsAlternative);
  std::string s = fmt::format("// The code uses the ISA of --target={}: without the compiler flags "
                              "that enable it, the\n// build stops here.\n",
                              t.name);
  s += "#if !(";
  for (size_t i = 0; i < t.macros.size(); ++i)
    s += fmt::format("{}{}", i ? " && \\\n      " : "", t.macros[i]);
  s += ")\n";
  s += fmt::format("#error \"{} was generated for --target={}: build it with {}\"\n", file, t.name,
                   how);
  s += "#endif\n";
  return s;
}

std::string targetConfigCode(const Target &t) {
  // Enumerators rather than static constexpr members: clang warns about an unused constant of a
  // class in an anonymous namespace, and a pair without depthwise convolutions never reads
  // dw_block.
  return fmt::format(
      "/// The numbers of --target={0} that the kernels are instantiated with (chosen by kiln, "
      "not\n"
      "/// by the compiler that builds this file).\n"
      "struct kiln_target {{\n"
      "  enum : long {{\n"
      "    vec_floats = {1}, // floats per vector register ({2} bytes)\n"
      "    gemm_mr = {3},    // GEMM register block: rows\n"
      "    gemm_nr = {4},    // GEMM register block: columns (whole vectors)\n"
      "    dw_block = {5},   // depthwise: output columns per block (whole vectors)\n"
      "    cache_floats = {6}, // floats of weights a GEMM keeps in cache while B passes (half the "
      "packing budget)\n"
      "    l1_floats = {7} // floats of weights a direct convolution keeps in the L1d (half of it; 0: "
      "no data cache)\n"
      "  }};\n"
      "}};\n",
      t.name, t.vectorFloats(), t.vectorBytes, t.gemmMr, t.gemmNr, t.dwBlock,
      t.packBudgetBytes() / 8, t.l1dBytes / 8);
}

std::string targetBaselineAttribute(const Target &t) {
  if (t.cpuid.empty())
    return "";
  // Every ISA extension the x86 targets enable, switched off: the code of a function with this
  // attribute runs on any x86-64 CPU whatever -march the file is built with. Both g++ and clang++
  // accept the attribute (unlike `#pragma GCC target`, which clang -Werror rejects).
  return "__attribute__((target(\"no-sse3,no-ssse3,no-sse4.1,no-sse4.2,no-avx,no-avx2,no-fma,"
         "no-f16c,no-popcnt,no-bmi,no-bmi2,no-lzcnt,no-movbe,no-xsave,no-avx512f\")))";
}

std::string targetCpuCheckCode(const Target &t) {
  if (t.cpuid.empty())
    return "";
  std::string s = fmt::format(
      "/// CPUID through inline assembly, in baseline x86-64 code (no header function that would "
      "be\n"
      "/// compiled with this file's -march).\n"
      "{0} static void kiln_cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {{\n"
      "  __asm__ __volatile__(\"cpuid\" : \"=a\"(r[0]), \"=b\"(r[1]), \"=c\"(r[2]), \"=d\"(r[3]) : "
      "\"a\"(leaf), \"c\"(sub));\n"
      "}}\n"
      "/// Whether this CPU and OS run --target={1}: CPUID feature bits and the register state "
      "the\n"
      "/// OS saves (XCR0), read on the first call. A constant-initialized static, not a\n"
      "/// constructor: 0 not read yet, 1 supported, 2 not.\n"
      "static int kiln_cpu_state = 0;\n"
      "{0} static bool kiln_cpu_supported() {{\n"
      "  if (kiln_cpu_state == 0) {{\n"
      "    unsigned r[4], top[4], ext[4];\n"
      "    kiln_cpuid(0, 0, top);           // top[0]: the highest basic leaf\n"
      "    kiln_cpuid(0x80000000u, 0, ext); // ext[0]: the highest extended leaf\n"
      "    kiln_cpuid(1, 0, r);\n"
      "    bool ok = top[0] >= 1 && (r[2] & (1u << 27)) != 0; // OSXSAVE: XGETBV works\n"
      "    if (ok) {{\n"
      "      unsigned lo = 0, hi = 0;\n"
      "      __asm__ __volatile__(\"xgetbv\" : \"=a\"(lo), \"=d\"(hi) : \"c\"(0u));\n"
      "      (void)hi;\n"
      "      ok = (lo & 0x{2:x}u) == 0x{2:x}u; // XCR0: the vector state the OS saves\n"
      "    }}\n",
      targetBaselineAttribute(t), t.name, t.xcr0);
  for (const CpuidRequirement &r : t.cpuid) {
    int reg = r.reg == 'b' ? 1 : r.reg == 'c' ? 2 : 3;
    s += fmt::format("    if (ok && ({0}[0] >= 0x{1:x}u)) {{ // {2}\n"
                     "      kiln_cpuid(0x{1:x}u, {3}u, r);\n"
                     "      ok = (r[{4}] & 0x{5:x}u) == 0x{5:x}u;\n"
                     "    }} else {{\n"
                     "      ok = false;\n"
                     "    }}\n",
                     r.leaf >= 0x80000000u ? "ext" : "top", r.leaf, r.features, r.subleaf, reg,
                     r.mask);
  }
  s += "    kiln_cpu_state = ok ? 1 : 2;\n"
       "  }\n"
       "  return kiln_cpu_state == 1;\n"
       "}\n";
  return s;
}

} // namespace kiln
