// The code-generation target (`kiln compile --target=NAME`) as data: the ISA features a generated
// pair may use, the vector width and register count the kernels are tiled for, the cache sizes
// that bound packing chunks, the compiler flags the pair must be built with, the predefined
// macros that prove those flags (the pair stops with an #error naming the flags when one is
// missing), and the CPUID bits that NAME_run checks before running (x86). Passes see the target
// through PassContext, kernel selection and the emitter through CodegenOptions; the kernels read
// the target's numbers from the `kiln_target` struct the emitter prints (targetConfigCode), never
// from macros evaluated by the user's compiler. `native` is resolved here, once, to a named target
// (resolveTarget): nothing else about the host reaches the generated files, so one resolved
// target gives byte-identical files on any machine.
#pragma once

#include <llvm/Support/Error.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

/// One run-time CPUID requirement of an x86 target: `(cpuid(leaf, subleaf).reg & mask) == mask`.
struct CpuidRequirement {
  unsigned leaf = 0, subleaf = 0;
  char reg = 'b'; // 'b', 'c' or 'd': the output register holding the feature bits
  uint32_t mask = 0;
  const char *features; // the features these bits are, for comments and diagnostics
};

struct Target {
  enum class Arch { Portable, X86_64, AArch64, ArmM };
  const char *name; // as --target spells it; printed as NAME_TARGET
  Arch arch;
  const char *summary;                // one line for --help and the generated banner
  std::vector<const char *> features; // ISA features the generated code may use
  int vectorBytes;                    // bytes of one vector register the kernels fill
  int vectorRegisters;                // vector (FP on Cortex-M4/M7) registers
  int64_t l1dBytes, l2Bytes;          // per core; 0: none (Cortex-M4 has no data cache)
  const char *flags;                  // compiler flags the pair needs ("" for generic)
  const char *flagsAlternative;       // spelled out, for the #error ("" when the same)
  /// Preprocessor conditions that hold exactly when `flags` (or an equivalent set) were given.
  std::vector<const char *> macros;
  /// x86: CPUID bits NAME_run requires, and the XCR0 state bits the OS must have enabled
  /// (XMM/YMM for AVX, opmask/ZMM for AVX-512). Empty: nothing to check at run time (the ISA is
  /// the architecture's baseline, or the chip is fixed by the firmware build).
  std::vector<CpuidRequirement> cpuid;
  uint32_t xcr0 = 0;
  /// Kernel numbers: the GEMM micro-kernel's register block (MR rows by NR columns, NR a whole
  /// number of vectors) and the depthwise kernel's block of output columns (whole vectors).
  int gemmMr, gemmNr, dwBlock;

  int vectorFloats() const { return vectorBytes / 4; }
  /// Bytes of packed GEMM/im2col panels per chunk: the L2 where there is one, else the L1d, else
  /// 16 KiB (a cacheless microcontroller: keep the arena small).
  int64_t packBudgetBytes() const {
    return l2Bytes > 0 ? l2Bytes : l1dBytes > 0 ? l1dBytes : 16 * 1024;
  }
};

/// Every named target, in --target's order (generic first).
const std::vector<Target> &allTargets();
/// The named target, or nullptr (`native` is not one: see resolveTarget).
const Target *findTarget(const std::string &name);
/// The default target.
const Target &genericTarget();
/// "generic|x86-64-v3|...|native", for help texts and diagnostics.
std::string targetNameList();

/// --target's value to a named target: `native` becomes the widest named target whose features
/// this machine has (x86: CPUID; aarch64: the ASIMD hwcap), else generic. Unknown names fail with
/// a diagnostic listing the valid ones.
llvm::Expected<const Target *> resolveTarget(const std::string &name);
/// What `native` resolves to on this machine.
const Target &nativeTarget();

/// The #if/#error block that opens a generated .cpp (or a kernel-test config header): the build
/// stops unless the compiler flags prove the target's ISA. `file` names the file in the message.
/// Empty for generic.
std::string targetGuardCode(const Target &t, const std::string &file);
/// The `kiln_target` struct with the target's kernel numbers, which codegen/kernels/gemm.h and
/// conv.h read (pasted where they `#include "kiln_target.h"`).
std::string targetConfigCode(const Target &t);
/// `static bool kiln_cpu_supported()`: true when the running CPU (and OS) support the target's
/// ISA; empty when the target has nothing to check at run time. It and NAME_run, which calls it
/// before the ISA code, carry targetBaselineAttribute, so that the check itself runs on any CPU.
std::string targetCpuCheckCode(const Target &t);
/// `__attribute__((target(...)))` switching off every ISA extension (x86); empty without a check.
std::string targetBaselineAttribute(const Target &t);

} // namespace kiln
