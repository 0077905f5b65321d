// Escaping of untrusted text for diagnostics. Names in a model (node, value, op, attribute names)
// are arbitrary bytes; printed raw, a corrupted or hostile name could move the terminal's cursor,
// change its colours or break the line a test greps. Every diagnostic that prints a model-provided
// string passes it through escapeText, so the user sees exactly which bytes the model holds.
#pragma once

#include <llvm/ADT/StringRef.h>

#include <string>

namespace kiln {

/// `s` with every control character (C0, DEL and the C1 range U+0080..U+009F) and every byte that
/// is not part of a valid UTF-8 sequence written as \xNN (one escape per byte); printable ASCII and
/// valid printable UTF-8 stay as they are. Idempotent: escaped text contains no byte it would
/// escape again (a backslash stays a backslash).
std::string escapeText(llvm::StringRef s);

} // namespace kiln
