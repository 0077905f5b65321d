// Writes kiln_target.h for the kernel unit tests (tests/unit/*KernelTest.cpp), one per named
// target: `kiln_target_header DIR` creates DIR/NAME/kiln_target.h. The kernels include
// "kiln_target.h" for their numbers (vector width, GEMM block, depthwise block); in a generated
// pair kiln pastes the same text (codegen/Target.h, targetConfigCode) there, so the tests build
// the kernels exactly as a pair for that target does, flag guard included. The unit-test binary
// uses the generic header; the build matrix (tests/e2e/build_matrix.py) swaps in the header of
// its cell's target. KILN_TEST_TARGET names the target for the selector calls.
#include "codegen/Target.h"

#include <cstdio>
#include <string>
#include <sys/stat.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: kiln_target_header OUTDIR\n");
    return 1;
  }
  for (const kiln::Target &t : kiln::allTargets()) {
    std::string dir = std::string(argv[1]) + "/" + t.name;
    mkdir(argv[1], 0755);
    mkdir(dir.c_str(), 0755);
    std::string text =
        "// kiln_target.h of --target=" + std::string(t.name) +
        " for the kernel unit tests, written by kiln_target_header.\n#pragma once\n\n" +
        kiln::targetGuardCode(t, "kiln_target.h") + "\n#define KILN_TEST_TARGET \"" + t.name +
        "\"\n\n" + kiln::targetConfigCode(t);
    std::string path = dir + "/kiln_target.h";
    // Rewritten only when the text changes, so that the tests are not rebuilt for nothing.
    std::string old;
    if (FILE *f = std::fopen(path.c_str(), "rb")) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        old.append(buf, n);
      std::fclose(f);
    }
    if (old == text)
      continue;
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f) != 0) {
      std::fprintf(stderr, "kiln_target_header: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}
