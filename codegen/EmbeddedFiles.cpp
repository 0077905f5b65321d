// Lookup over the embedded file table (the table itself is generated: see EmbedFiles.cmake).
#include "codegen/EmbeddedFiles.h"

namespace kiln {

std::string EmbeddedFile::text() const {
  std::string s;
  for (unsigned i = 0; i < numChunks; ++i)
    s += chunks[i];
  return s;
}

std::optional<std::string> embeddedFileText(llvm::StringRef path) {
  for (const EmbeddedFile &f : embeddedFiles())
    if (path == f.path)
      return f.text();
  return std::nullopt;
}

} // namespace kiln
