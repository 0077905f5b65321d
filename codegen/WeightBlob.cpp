// Weight blob layout and string-literal encoding: see WeightBlob.h.
#include "codegen/WeightBlob.h"

namespace kiln {

int64_t WeightBlob::add(const uint8_t *data, size_t size, int64_t alignment) {
  int64_t offset = (int64_t(bytes.size()) + alignment - 1) / alignment * alignment;
  bytes.resize(size_t(offset), 0);
  if (size)
    bytes.insert(bytes.end(), data, data + size);
  offsets.push_back(offset);
  return offset;
}

static bool isRaw(uint8_t c) { return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' && c != '?'; }

std::string encodeStringLiteral(const uint8_t *data, size_t size, size_t lineBytes) {
  std::string out;
  out.reserve(size * 2 + size / lineBytes * 4 + 4);
  out += '"';
  size_t lineStart = 0;
  for (size_t i = 0; i < size; ++i) {
    uint8_t c = data[i];
    if (isRaw(c)) {
      out += char(c);
    } else {
      // A raw digit right after a short escape would be read as part of it.
      bool nextIsDigit = i + 1 < size && data[i + 1] >= '0' && data[i + 1] <= '9';
      char buf[4];
      int len = 0;
      if (nextIsDigit || c >= 64) {
        buf[len++] = char('0' + (c >> 6));
        buf[len++] = char('0' + ((c >> 3) & 7));
        buf[len++] = char('0' + (c & 7));
      } else if (c >= 8) {
        buf[len++] = char('0' + (c >> 3));
        buf[len++] = char('0' + (c & 7));
      } else {
        buf[len++] = char('0' + c);
      }
      out += '\\';
      out.append(buf, size_t(len));
    }
    // Close the line once it is long enough; the next literal starts fresh, so an escape at the
    // end of a line can never swallow a digit that begins the next one.
    if (out.size() - lineStart >= lineBytes && i + 1 < size) {
      out += "\"\n\"";
      lineStart = out.size() - 1;
    }
  }
  out += "\"\n";
  return out;
}

} // namespace kiln
