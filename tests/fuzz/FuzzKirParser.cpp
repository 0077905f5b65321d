// libFuzzer target for the .kir text parser (ir/Parser): arbitrary text goes through parseKir, and a
// parsed graph through the IR verifier and the printer. The parser must refuse bad text with a
// diagnostic; a crash, sanitizer report, hang or runaway allocation is a finding. There is no
// sidecar, so references to large constants fail cleanly (the path names no file).
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <llvm/Support/raw_ostream.h>

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  std::optional<kiln::ValueLayoutTable> layout;
  auto g = kiln::parseKir(text, "fuzz.kir", "/nonexistent/fuzz.kir.bin", &layout);
  if (!g) {
    llvm::consumeError(g.takeError());
    return 0;
  }
  // The parser does not promise a valid graph (the verifier's job); both must merely not crash.
  if (auto e = kiln::verifyGraph(**g)) {
    llvm::consumeError(std::move(e));
    return 0;
  }
  std::string printed;
  llvm::raw_string_ostream os(printed);
  if (auto e = kiln::printGraph(**g, os, "", layout ? &*layout : nullptr))
    llvm::consumeError(std::move(e));
  return 0;
}
