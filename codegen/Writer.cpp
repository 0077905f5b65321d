// Indenting writer: see Writer.h.
#include "codegen/Writer.h"

namespace kiln {

void Writer::raw(const std::string &text) {
  size_t pos = 0;
  while (true) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string::npos ? text.size() : nl;
    // Empty lines get no indentation so the output never carries trailing whitespace.
    if (end > pos)
      out_.append(size_t(level_) * indentWidth_, ' ');
    out_.append(text, pos, end - pos);
    out_ += '\n';
    if (nl == std::string::npos)
      break;
    pos = nl + 1;
  }
}

void Writer::dedent() {
  // Unbalanced dedents are an emitter bug; clamping keeps the output well formed.
  if (level_ > 0)
    --level_;
}

void Writer::open(const std::string &head) {
  raw(head.empty() ? std::string("{") : head + " {");
  indent();
}

void Writer::close(const std::string &suffix) {
  dedent();
  raw("}" + suffix);
}

} // namespace kiln
