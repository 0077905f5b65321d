// escapeText: see ir/Escape.h.
#include "ir/Escape.h"

#include <fmt/format.h>

namespace kiln {

namespace {

/// Length of the valid UTF-8 sequence starting at s[i] and its code point, or 0 when the bytes
/// there are not valid UTF-8 (truncated, overlong, a surrogate or beyond U+10FFFF).
size_t utf8Sequence(llvm::StringRef s, size_t i, uint32_t &cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  size_t len;
  uint32_t min;
  if (b < 0x80) {
    cp = b;
    return 1;
  }
  if ((b & 0xE0) == 0xC0) {
    len = 2, cp = b & 0x1F, min = 0x80;
  } else if ((b & 0xF0) == 0xE0) {
    len = 3, cp = b & 0x0F, min = 0x800;
  } else if ((b & 0xF8) == 0xF0) {
    len = 4, cp = b & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size())
    return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

} // namespace

std::string escapeText(llvm::StringRef s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t len = utf8Sequence(s, i, cp);
    bool control = cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
    if (len == 0 || control) {
      // An invalid byte is escaped alone, so the text after it resynchronizes; a control
      // character is escaped byte by byte, as the model stores it.
      size_t n = len == 0 ? 1 : len;
      for (size_t k = 0; k < n; ++k)
        out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i + k]));
      i += n;
      continue;
    }
    out.append(s.data() + i, len);
    i += len;
  }
  return out;
}

} // namespace kiln
