// libFuzzer target for the ONNX import path: the bytes of a would-be .onnx file go through
// importOnnxBytes — the very function `kiln compile` and `kiln opt` run after reading the file
// (protobuf parsing, kiln's structural check, the ONNX checker, version converter and shape
// inference, lowering and folding) — and an imported graph through the IR verifier. Any input may
// be refused with a diagnostic; a crash, sanitizer report, hang or runaway allocation is a finding,
// and so is an imported graph the verifier rejects (the frontend promised a valid one).
#include "compiler/frontend/OnnxFrontend.h"
#include "ir/Verifier.h"

#include <llvm/Support/raw_ostream.h>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  kiln::ImportOptions opts;
  auto g = kiln::importOnnxBytes(bytes, "fuzz.onnx", opts);
  if (!g) {
    llvm::consumeError(g.takeError());
    return 0;
  }
  if (auto e = kiln::verifyGraph(**g)) {
    llvm::errs() << "imported graph fails the verifier: " << llvm::toString(std::move(e)) << "\n";
    std::abort();
  }
  return 0;
}
