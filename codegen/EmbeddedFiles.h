// The text of runtime_stub/*.h and codegen/kernels/*.h, embedded into kiln at build time (see
// EmbedFiles.cmake) so that generated code can carry exactly the kernels a model uses without kiln
// needing its source tree at run time.
#pragma once

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>

#include <optional>
#include <string>

namespace kiln {

struct EmbeddedFile {
  const char *path; // relative to the source root: "runtime_stub/kiln_runtime.h"
  const char *const *chunks;
  unsigned numChunks;
  std::string text() const;
};

/// All embedded files, sorted by path.
llvm::ArrayRef<EmbeddedFile> embeddedFiles();

/// The text of one embedded file, nullopt when there is none by that path.
std::optional<std::string> embeddedFileText(llvm::StringRef path);

} // namespace kiln
