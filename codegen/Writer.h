// The indenting writer every emitter prints through: lines formatted with fmt, indentation kept by
// the writer (never hand-placed in format strings), so emitted C++ is consistently laid out and
// emitters stay free of whitespace bookkeeping.
#pragma once

#include <fmt/format.h>

#include <string>
#include <utility>

namespace kiln {

class Writer {
public:
  explicit Writer(unsigned indentWidth = 2) : indentWidth_(indentWidth) {}

  /// Appends one line at the current indentation; a format string with no arguments is printed
  /// as is. Embedded newlines start new lines at the same indentation.
  template <class Arg, class... Args>
  void line(fmt::format_string<Arg, Args...> f, Arg &&arg, Args &&...args) {
    raw(fmt::format(f, std::forward<Arg>(arg), std::forward<Args>(args)...));
  }
  void line(const std::string &text) { raw(text); }
  /// Appends already formatted text (possibly several lines) at the current indentation.
  void raw(const std::string &text);
  /// An empty line (no trailing spaces).
  void blank() { out_ += '\n'; }
  /// Appends text verbatim: no indentation, no newline added.
  void verbatim(const std::string &text) { out_ += text; }

  void indent() { ++level_; }
  void dedent();
  /// `head {` then indent; close() dedents and prints `}` plus an optional suffix (`;`, a comment).
  void open(const std::string &head);
  void close(const std::string &suffix = "");

  unsigned level() const { return level_; }
  const std::string &str() const { return out_; }
  std::string take() { return std::move(out_); }

private:
  std::string out_;
  unsigned level_ = 0;
  unsigned indentWidth_;
};

} // namespace kiln
