// The .kir parser: a hand-written lexer and recursive-descent parser for exactly what
// ir/Printer.cpp prints (docs/ir.md is the reference). It only builds the graph; checking it is
// the verifier's job (kiln opt runs it), except what the text itself makes impossible to build:
// unknown ops, undefined or redefined value names, constants whose data cannot be read.
#include "ir/Parser.h"

#include "ir/Printer.h"

#include <fmt/format.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/MemoryBuffer.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <set>

namespace kiln {

// Defined in ir/Printer.cpp, so that messages spell a name exactly as the .kir text does
// (quoted unless it is a plain identifier).
std::string kirName(const std::string &s);

namespace {

/// A value as the text spells it: %name or %"quoted name".
std::string spelled(const std::string &name) { return "%" + kirName(name); }

// First bytes of a sidecar file; ir/Printer.cpp writes the same 8 bytes.
constexpr char kKirSidecarMagic[8] = {'K', 'I', 'R', 'S', 'C', '0', '0', '1'};

struct Token {
  enum Kind { Eof, Error, Ident, ValueName, GraphName, String, Int, Float, Punct };
  Kind kind = Eof;
  std::string text;  // source spelling (for Error: the message)
  std::string value; // decoded name or string
  unsigned line = 1, col = 1;
};

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }
int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

class Lexer {
public:
  explicit Lexer(const std::string &text) : s_(text) {}

  Token next() {
    skipSpaceAndComments();
    Token t;
    t.line = line_;
    t.col = static_cast<unsigned>(pos_ - lineStart_ + 1);
    if (pos_ >= s_.size())
      return t;
    size_t start = pos_;
    char c = s_[pos_];
    if (c == '%' || c == '@') {
      ++pos_;
      t.kind = c == '%' ? Token::ValueName : Token::GraphName;
      if (pos_ < s_.size() && s_[pos_] == '"') {
        if (!lexString(t.value, t))
          return t;
      } else {
        while (pos_ < s_.size() && isNameChar(s_[pos_]))
          ++pos_;
        t.value = s_.substr(start + 1, pos_ - start - 1);
        if (t.value.empty())
          return error(t, fmt::format("expected a name or a quoted string after '{}'", c));
      }
    } else if (c == '"') {
      t.kind = Token::String;
      if (!lexString(t.value, t))
        return t;
    } else if (isDigit(c) ||
               (c == '-' && (isDigit(peek(1)) || s_.compare(pos_ + 1, 3, "inf") == 0 ||
                             s_.compare(pos_ + 1, 3, "nan") == 0))) {
      lexNumber(t);
    } else if (isNameChar(c)) {
      while (pos_ < s_.size() && isNameChar(s_[pos_]))
        ++pos_;
      t.kind = Token::Ident;
    } else if (std::strchr("()[]{}<>,=:", c)) {
      ++pos_;
      t.kind = Token::Punct;
    } else {
      ++pos_;
      t.text = s_.substr(start, 1);
      return error(t, fmt::format("unexpected character '{}'", t.text));
    }
    if (t.kind != Token::Error)
      t.text = s_.substr(start, pos_ - start);
    if (t.kind == Token::Ident && (t.text == "inf" || t.text == "nan"))
      t.kind = Token::Float;
    return t;
  }

private:
  char peek(size_t ahead) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }

  Token &error(Token &t, std::string msg) {
    t.kind = Token::Error;
    t.text = std::move(msg);
    return t;
  }

  void skipSpaceAndComments() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '\n') {
        ++pos_;
        ++line_;
        lineStart_ = pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/') {
        while (pos_ < s_.size() && s_[pos_] != '\n')
          ++pos_;
      } else {
        return;
      }
    }
  }

  // Reads "..." at pos_ with the escapes \" \\ \n \t \XX.
  bool lexString(std::string &out, Token &t) {
    ++pos_;
    while (pos_ < s_.size() && s_[pos_] != '"' && s_[pos_] != '\n') {
      char c = s_[pos_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = pos_ < s_.size() ? s_[pos_] : '\0';
      if (e == '"' || e == '\\') {
        out += e;
        ++pos_;
      } else if (e == 'n' || e == 't') {
        out += e == 'n' ? '\n' : '\t';
        ++pos_;
      } else if (pos_ + 1 < s_.size() && hexValue(e) >= 0 && hexValue(s_[pos_ + 1]) >= 0) {
        out += static_cast<char>(hexValue(e) * 16 + hexValue(s_[pos_ + 1]));
        pos_ += 2;
      } else {
        error(t, "unknown escape in string (use \\\" \\\\ \\n \\t or \\XX)");
        return false;
      }
    }
    if (pos_ >= s_.size() || s_[pos_] != '"') {
      error(t, "unterminated string");
      return false;
    }
    ++pos_;
    return true;
  }

  void lexNumber(Token &t) {
    t.kind = Token::Int;
    if (s_[pos_] == '-')
      ++pos_;
    if (s_.compare(pos_, 3, "inf") == 0 || s_.compare(pos_, 3, "nan") == 0) {
      pos_ += 3;
      t.kind = Token::Float;
      return;
    }
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == 'x' || s_[pos_ + 1] == 'X')) {
      pos_ += 2;
      while (pos_ < s_.size() && hexValue(s_[pos_]) >= 0)
        ++pos_;
      return;
    }
    while (pos_ < s_.size() && isDigit(s_[pos_]))
      ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      t.kind = Token::Float;
      ++pos_;
      while (pos_ < s_.size() && isDigit(s_[pos_]))
        ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < s_.size() && (s_[p] == '+' || s_[p] == '-'))
        ++p;
      if (p < s_.size() && isDigit(s_[p])) {
        t.kind = Token::Float;
        pos_ = p;
        while (pos_ < s_.size() && isDigit(s_[pos_]))
          ++pos_;
      }
    }
  }

  const std::string &s_;
  size_t pos_ = 0, lineStart_ = 0;
  unsigned line_ = 1;
};

/// The entries of a sidecar file by content hash.
struct Sidecar {
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  std::map<uint64_t, llvm::StringRef> entries;
};

uint64_t readLE(const char *p) {
  uint64_t x = 0;
  for (int i = 7; i >= 0; --i)
    x = (x << 8) | static_cast<uint8_t>(p[i]);
  return x;
}

class Parser {
public:
  Parser(const std::string &text, const std::string &bufferName, const std::string &sidecarPath,
         std::optional<ValueLayoutTable> *layout, std::optional<DecisionTable> *decisions)
      : lex_(text), buffer_(bufferName), sidecarPath_(sidecarPath), layout_(layout),
        decisions_(decisions) {
    if (layout_)
      layout_->reset();
    if (decisions_)
      decisions_->reset();
    advance();
  }

  /// A decisions block alone (the graph it belongs to is not known: node names are not checked).
  llvm::Expected<DecisionTable> runDecisions() {
    std::optional<DecisionTable> t;
    decisions_ = &t;
    if (!isIdent("decisions"))
      expected("a decisions block ('decisions @graph {')");
    else if (parseDecisions() && tok_.kind != Token::Eof)
      expected("end of file after the decisions block");
    if (!error_.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(), error_);
    return std::move(*t);
  }

  llvm::Expected<std::unique_ptr<Graph>> run() {
    auto g = std::make_unique<Graph>();
    g_ = g.get();
    if (parseGraph())
      return g;
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error_);
  }

private:
  // ---- token helpers ----

  void advance() {
    tok_ = lex_.next();
    if (tok_.kind == Token::Error)
      failAt(tok_, tok_.text);
  }

  bool failAt(const Token &at, const std::string &msg) {
    if (error_.empty())
      error_ = fmt::format("{}:{}:{}: error: {}", buffer_, at.line, at.col, msg);
    return false;
  }

  std::string describe(const Token &t) const {
    if (t.kind == Token::Eof)
      return "end of file";
    std::string s = t.text.size() > 40 ? t.text.substr(0, 40) + "..." : t.text;
    return "'" + s + "'";
  }

  bool expected(const std::string &what) {
    return failAt(tok_, fmt::format("expected {}, found {}", what, describe(tok_)));
  }

  bool isPunct(char c) const { return tok_.kind == Token::Punct && tok_.text[0] == c; }
  bool isIdent(const char *s) const { return tok_.kind == Token::Ident && tok_.text == s; }

  bool consumePunct(char c) {
    if (!error_.empty())
      return false;
    if (!isPunct(c))
      return expected(fmt::format("'{}'", c));
    advance();
    return error_.empty();
  }
  bool consumeIdent(const char *s) {
    if (!error_.empty())
      return false;
    if (!isIdent(s))
      return expected(fmt::format("'{}'", s));
    advance();
    return error_.empty();
  }
  bool tryPunct(char c) {
    if (!isPunct(c))
      return false;
    advance();
    return true;
  }

  // ---- scalars ----

  /// The value of an integer token (decimal or 0x hex, optionally negative).
  bool intOf(const Token &t, int64_t &out) {
    llvm::StringRef text(t.text);
    bool neg = text.consume_front("-");
    uint64_t mag;
    if (text.getAsInteger(0, mag) ||
        mag > (neg ? uint64_t(1) << 63 : uint64_t(std::numeric_limits<int64_t>::max())))
      return failAt(t, fmt::format("integer {} does not fit in 64 bits", t.text));
    out = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
    return true;
  }

  bool parseInt(int64_t &out, const char *what = "an integer") {
    if (tok_.kind != Token::Int)
      return expected(what);
    if (!intOf(tok_, out))
      return false;
    advance();
    return error_.empty();
  }

  bool parseIntIn(int64_t &out, int64_t lo, int64_t hi, const char *what) {
    Token at = tok_;
    if (!parseInt(out, what))
      return false;
    if (out < lo || out > hi)
      return failAt(at, fmt::format("{} out of range, expected {}..{}", at.text, lo, hi));
    return true;
  }

  bool parseHex64(uint64_t &out, const char *what) {
    llvm::StringRef text(tok_.text);
    if (tok_.kind != Token::Int || !text.startswith_insensitive("0x") ||
        text.drop_front(2).getAsInteger(16, out))
      return expected(what);
    advance();
    return error_.empty();
  }

  /// A floating-point number; integers are accepted where only a number can stand.
  bool parseDouble(double &out) {
    if (tok_.kind != Token::Float && tok_.kind != Token::Int)
      return expected("a number");
    out = std::strtod(tok_.text.c_str(), nullptr);
    advance();
    return error_.empty();
  }

  bool parseValueName(std::string &out, Token *at = nullptr) {
    if (tok_.kind != Token::ValueName)
      return expected("a value name (%name)");
    if (at)
      *at = tok_;
    out = tok_.value;
    advance();
    return error_.empty();
  }

  // ---- types ----

  bool parseElementType(ElementType &out) {
    if (tok_.kind != Token::Ident)
      return expected("an element type");
    Token at = tok_;
    std::string name = tok_.text;
    advance();
    if (auto d = parseDType(name)) {
      out = ElementType(*d);
      return error_.empty();
    }
    std::optional<DType> storage;
    if (name.size() > 1 && name[0] == 'q')
      storage = parseDType(name.substr(1));
    if (!storage)
      return failAt(
          at, fmt::format("expected an element type (f32, i8, qi8<...>, ...), found '{}'", name));
    QuantParams q;
    int64_t axis;
    if (!consumePunct('<') || !consumeIdent("axis") || !consumePunct('=') ||
        !parseIntIn(axis, -1, std::numeric_limits<int>::max(), "an axis") || !consumePunct(',') ||
        !consumeIdent("scales") || !consumePunct('=') || !consumePunct('['))
      return false;
    q.axis = static_cast<int>(axis);
    if (!isPunct(']')) {
      do {
        if (tok_.kind != Token::Float && tok_.kind != Token::Int)
          return expected("a scale");
        // strtof, not strtod: the printer wrote the shortest form of a float.
        q.scales.push_back(std::strtof(tok_.text.c_str(), nullptr));
        advance();
      } while (tryPunct(','));
    }
    if (!consumePunct(']') || !consumePunct(',') || !consumeIdent("zero_points") ||
        !consumePunct('=') || !consumePunct('['))
      return false;
    if (!isPunct(']')) {
      do {
        int64_t z;
        if (!parseIntIn(z, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(),
                        "a zero point"))
          return false;
        q.zeroPoints.push_back(static_cast<int32_t>(z));
      } while (tryPunct(','));
    }
    if (!consumePunct(']') || !consumePunct('>'))
      return false;
    out = ElementType(*storage);
    out.quant = std::move(q);
    return true;
  }

  bool parseIntList(std::vector<int64_t> &out, const char *what) {
    if (!consumePunct('['))
      return false;
    if (!isPunct(']')) {
      do {
        int64_t v;
        if (!parseInt(v, what))
          return false;
        out.push_back(v);
      } while (tryPunct(','));
    }
    return consumePunct(']');
  }

  bool parseType(TensorType &out) {
    Token at = tok_;
    if (!parseElementType(out.elem) || !parseIntList(out.shape, "a dimension"))
      return false;
    // The same limits as the ONNX frontend's (kMaxObjectBytes): sizes computed from a parsed type
    // never overflow, and no graph that code generation could not address gets in.
    for (int64_t d : out.shape)
      if (d < 0 || d > kMaxObjectBytes)
        return failAt(at, fmt::format("dimension {} out of range, expected 0..{}", d,
                                      kMaxObjectBytes));
    std::optional<int64_t> bytes = out.checkedByteSize();
    if (!bytes || *bytes > kMaxObjectBytes)
      return failAt(at, fmt::format("expected a tensor of at most {} bytes, found {}",
                                    kMaxObjectBytes,
                                    bytes ? fmt::format("{} bytes", *bytes)
                                          : std::string("more bytes than int64 can count")));
    if (!tryPunct('{'))
      return error_.empty();
    std::vector<int64_t> order;
    if (!consumeIdent("order") || !consumePunct('=') || !parseIntList(order, "a dimension") ||
        !consumePunct(',') || !consumeIdent("blocks") || !consumePunct('=') || !consumePunct('['))
      return false;
    for (int64_t d : order) {
      if (d < 0 || d >= static_cast<int64_t>(out.shape.size()))
        return failAt(at, fmt::format("layout order entry {} out of range, expected 0..{}", d,
                                      static_cast<int64_t>(out.shape.size()) - 1));
      out.layout.order.push_back(static_cast<int>(d));
    }
    if (!isPunct(']')) {
      do {
        int64_t dim, size;
        if (!parseIntIn(dim, 0, std::numeric_limits<int>::max(), "a blocked dimension") ||
            !consumePunct(':') ||
            !parseIntIn(size, 1, std::numeric_limits<int>::max(), "a block size"))
          return false;
        out.layout.blocks.emplace_back(static_cast<int>(dim), static_cast<int>(size));
      } while (tryPunct(','));
    }
    if (!consumePunct(']') || !consumePunct('}'))
      return false;
    // Blocks pad their dims: the padded size is checked again.
    std::optional<int64_t> padded = out.checkedByteSize();
    if (!padded || *padded > kMaxObjectBytes)
      return failAt(at, fmt::format("expected a tensor of at most {} bytes with its blocked "
                                    "layout's padding, found {}",
                                    kMaxObjectBytes,
                                    padded ? fmt::format("{} bytes", *padded)
                                           : std::string("more bytes than int64 can count")));
    return true;
  }

  // ---- attributes and epilogues ----

  bool parseAttribute(Attribute &out) {
    if (tok_.kind == Token::Int) {
      int64_t v;
      if (!parseInt(v))
        return false;
      out = v;
      return true;
    }
    if (tok_.kind == Token::Float) {
      double d;
      if (!parseDouble(d))
        return false;
      out = d;
      return true;
    }
    if (tok_.kind == Token::String) {
      out = tok_.value;
      advance();
      return error_.empty();
    }
    if (!isPunct('['))
      return expected("an attribute value (integer, float, string or list)");
    advance();
    if (tryPunct(']')) {
      // An empty list says its element type: [] : i64, [] : f64, [] : str.
      if (!consumePunct(':'))
        return false;
      if (isIdent("i64"))
        out = std::vector<int64_t>{};
      else if (isIdent("f64"))
        out = std::vector<double>{};
      else if (isIdent("str"))
        out = std::vector<std::string>{};
      else
        return expected("the element type of an empty list (i64, f64 or str)");
      advance();
      return error_.empty();
    }
    Token::Kind first = tok_.kind;
    if (first == Token::Int) {
      std::vector<int64_t> v;
      do {
        int64_t x;
        if (!parseInt(x, "an integer (the list started with one)"))
          return false;
        v.push_back(x);
      } while (tryPunct(','));
      out = std::move(v);
    } else if (first == Token::Float) {
      std::vector<double> v;
      do {
        if (tok_.kind != Token::Float)
          return expected("a float with '.', 'e', inf or nan (the list started with one)");
        v.push_back(std::strtod(tok_.text.c_str(), nullptr));
        advance();
      } while (tryPunct(','));
      out = std::move(v);
    } else if (first == Token::String) {
      std::vector<std::string> v;
      do {
        if (tok_.kind != Token::String)
          return expected("a string (the list started with one)");
        v.push_back(tok_.value);
        advance();
      } while (tryPunct(','));
      out = std::move(v);
    } else {
      return expected("a list element (integer, float or string)");
    }
    return consumePunct(']');
  }

  bool parseAttributes(Attributes &attrs) {
    if (!tryPunct('{'))
      return error_.empty();
    do {
      if (tok_.kind != Token::Ident && tok_.kind != Token::String)
        return expected("an attribute name");
      Token at = tok_;
      std::string key = tok_.kind == Token::String ? tok_.value : tok_.text;
      advance();
      Attribute a;
      if (!consumePunct('=') || !parseAttribute(a))
        return false;
      if (attrs.has(key))
        return failAt(at, fmt::format("attribute '{}' is given twice", key));
      attrs.set(key, std::move(a));
    } while (tryPunct(','));
    return consumePunct('}');
  }

  bool parseEpilogueStep(EpilogueStep &s) {
    if (tok_.kind != Token::Ident)
      return expected("an epilogue step");
    std::string name = tok_.text;
    ActKind act;
    if (parseActKind(name, act)) {
      advance();
      s.kind = EpilogueStep::Kind::Activation;
      s.act = act;
      if (!tryPunct('('))
        return error_.empty();
      return parseDouble(s.alpha) && consumePunct(',') && parseDouble(s.beta) && consumePunct(')');
    }
    BinKind bin;
    bool swapped = name.size() > 1 && name[0] == 'r' && parseBinKind(name.substr(1), bin);
    if (swapped || parseBinKind(name, bin)) {
      s.kind = EpilogueStep::Kind::Binary;
      s.bin = bin;
      s.swapped = swapped;
    } else if (name == "bias_add") {
      s.kind = EpilogueStep::Kind::BiasAdd;
    } else if (name == "residual_add") {
      s.kind = EpilogueStep::Kind::ResidualAdd;
    } else if (name == "requantize") {
      s.kind = EpilogueStep::Kind::Requantize;
    } else {
      return expected("an epilogue step (bias_add, residual_add, a binary step such as mul(k) or "
                      "rsub(k), requantize or an activation)");
    }
    advance();
    // A binary step always names its operand; the others may omit it.
    bool needsOperand = s.kind == EpilogueStep::Kind::Binary;
    if (needsOperand ? !consumePunct('(') : !tryPunct('('))
      return error_.empty();
    int64_t operand;
    if (!parseIntIn(operand, 0, std::numeric_limits<int>::max(), "an operand index"))
      return false;
    s.operand = static_cast<int>(operand);
    return consumePunct(')');
  }

  // ---- constants ----

  bool loadSidecar(const Token &at, const std::string &constName) {
    if (sidecar_)
      return true;
    std::string prefix = fmt::format("constant {}: ", spelled(constName));
    if (sidecarPath_.empty())
      return failAt(at, prefix + "its data is in a sidecar, but no sidecar file was given");
    auto buf = llvm::MemoryBuffer::getFile(sidecarPath_, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
    if (!buf)
      return failAt(at, fmt::format("{}cannot read sidecar '{}': {}", prefix, sidecarPath_,
                                    buf.getError().message()));
    auto sc = std::make_unique<Sidecar>();
    sc->buffer = std::move(*buf);
    llvm::StringRef data = sc->buffer->getBuffer();
    if (!data.startswith(llvm::StringRef(kKirSidecarMagic, sizeof(kKirSidecarMagic))))
      return failAt(at, fmt::format("{}'{}' is not a kiln sidecar", prefix, sidecarPath_));
    data = data.drop_front(sizeof(kKirSidecarMagic));
    while (!data.empty()) {
      if (data.size() < 16)
        return failAt(at, fmt::format("{}sidecar '{}' is truncated", prefix, sidecarPath_));
      uint64_t hash = readLE(data.data()), size = readLE(data.data() + 8);
      data = data.drop_front(16);
      if (size > data.size())
        return failAt(at, fmt::format("{}sidecar '{}' is truncated", prefix, sidecarPath_));
      sc->entries.emplace(hash, data.take_front(size));
      data = data.drop_front(size);
    }
    sidecar_ = std::move(sc);
    return true;
  }

  /// Appends the bytes of one inline element `e` of dtype t (tokens were collected before the
  /// data's dtype was known).
  bool decodeElement(const Token &e, DType t, std::vector<uint8_t> &bytes) {
    auto put = [&](const void *p, size_t n) {
      const uint8_t *b = static_cast<const uint8_t *>(p);
      bytes.insert(bytes.end(), b, b + n);
    };
    auto wrongKind = [&](const char *what) {
      return failAt(e, fmt::format("expected {} element, found '{}'", what, e.text));
    };
    llvm::StringRef text(e.text);
    bool hex = e.kind == Token::Int && text.startswith_insensitive("0x");
    if (isFloat(t)) {
      if (e.kind != Token::Float && e.kind != Token::Int)
        return wrongKind("a floating-point");
      size_t width = dtypeSize(t);
      if (hex) { // raw bits: how the printer keeps NaN payloads
        uint64_t bits;
        if (text.drop_front(2).getAsInteger(16, bits) || (width < 8 && bits >> (8 * width) != 0))
          return failAt(e, fmt::format("{} does not fit in {} bits", e.text, 8 * width));
        put(&bits, width); // little-endian host, like the tensor bytes themselves
      } else if (t == DType::F64) {
        double d = std::strtod(e.text.c_str(), nullptr);
        put(&d, 8);
      } else {
        // strtof, not strtod: the printer wrote the shortest form that reads back as this float.
        float f = std::strtof(e.text.c_str(), nullptr);
        if (t == DType::F32)
          put(&f, 4);
        else // every printed half is exactly a float, so this conversion is exact
          put(Tensor::fromDoubles(DType::F16, {1}, {f}).raw(), 2);
      }
      return true;
    }
    if (t == DType::Bool && e.kind == Token::Ident) {
      uint8_t b = e.text == "true";
      put(&b, 1);
      return true;
    }
    if (e.kind != Token::Int)
      return wrongKind(t == DType::Bool ? "a bool (true, false or a byte)" : "an integer");
    int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
    switch (t) {
    case DType::I8:
      lo = -128, hi = 127;
      break;
    case DType::U8:
    case DType::Bool:
      lo = 0, hi = 255;
      break;
    case DType::I16:
      lo = -32768, hi = 32767;
      break;
    case DType::I32:
      lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
      break;
    default:
      break;
    }
    int64_t v;
    if (!intOf(e, v))
      return false;
    if (v < lo || v > hi)
      return failAt(
          e, fmt::format("{} out of range for {}, expected {}..{}", e.text, dtypeName(t), lo, hi));
    put(&v, dtypeSize(t)); // little-endian: the low bytes are the narrower integer
    return true;
  }

  bool parseConstant() {
    std::string name;
    Token nameTok;
    TensorType type;
    if (!consumeIdent("const") || !parseValueName(name, &nameTok) || !checkNew(name, nameTok) ||
        !consumePunct(':') || !parseType(type) || !consumePunct('='))
      return false;
    Token dataTok = tok_;
    bool dense = isIdent("dense");
    if (!dense && !isIdent("sidecar"))
      return expected("constant data (dense<[...]> or sidecar<0xHASH, SIZE>)");
    advance();
    if (!consumePunct('<'))
      return false;
    std::vector<Token> elements; // dense elements are decoded once the data type is known
    uint64_t hash = 0;
    int64_t size = 0;
    if (dense) {
      if (!consumePunct('['))
        return false;
      if (!isPunct(']')) {
        do {
          if (tok_.kind != Token::Int && tok_.kind != Token::Float &&
              !(isIdent("true") || isIdent("false")))
            return expected("a constant element");
          elements.push_back(tok_);
          advance();
        } while (tryPunct(','));
      }
      if (!consumePunct(']'))
        return false;
    } else if (!parseHex64(hash, "a content hash (0x...)") || !consumePunct(',') ||
               !parseIntIn(size, 0, std::numeric_limits<int64_t>::max(), "a byte size")) {
      return false;
    }
    if (!consumePunct('>'))
      return false;
    // The data's own dtype and shape, printed only where they differ from the value's type.
    TensorType dataType(type.dtype(), type.shape);
    if (tryPunct(':')) {
      TensorType own;
      if (!parseType(own))
        return false;
      dataType = TensorType(own.dtype(), own.shape);
    }
    if (!error_.empty())
      return false;

    Tensor data;
    if (dense) {
      if (static_cast<int64_t>(elements.size()) != dataType.numElements())
        return failAt(dataTok, fmt::format("constant {} has {} elements, its data type {} holds {}",
                                           spelled(name), elements.size(), typeString(dataType),
                                           dataType.numElements()));
      std::vector<uint8_t> bytes;
      for (const Token &e : elements)
        if (!decodeElement(e, dataType.dtype(), bytes))
          return false;
      data = Tensor(dataType.dtype(), dataType.shape, std::move(bytes));
    } else {
      if (!loadSidecar(dataTok, name))
        return false;
      auto it = sidecar_->entries.find(hash);
      if (it == sidecar_->entries.end())
        return failAt(dataTok, fmt::format("constant {}: sidecar '{}' has no entry 0x{:016x}",
                                           spelled(name), sidecarPath_, hash));
      if (static_cast<int64_t>(it->second.size()) != size)
        return failAt(dataTok,
                      fmt::format("constant {}: sidecar entry 0x{:016x} has {} bytes, expected {}",
                                  spelled(name), hash, it->second.size(), size));
      data = Tensor(dataType.dtype(), dataType.shape,
                    std::vector<uint8_t>(it->second.bytes_begin(), it->second.bytes_end()));
      if (data.hash() != hash)
        return failAt(dataTok, fmt::format("constant {}: content hash 0x{:016x} of {} data does "
                                           "not match the reference 0x{:016x}",
                                           spelled(name), data.hash(), typeString(dataType), hash));
    }
    Value *v = g_->addConstant(name, std::move(data));
    v->setType(type);
    define(name, v, nameTok);
    return true;
  }

  // ---- values ----

  bool checkNew(const std::string &name, const Token &at) {
    auto it = values_.find(name);
    if (it == values_.end())
      return true;
    return failAt(at, fmt::format("redefinition of value {} (first defined at line {})",
                                  spelled(name), it->second.second));
  }
  void define(const std::string &name, Value *v, const Token &at) {
    values_.emplace(name, std::make_pair(v, at.line));
  }
  bool lookup(Value *&out) {
    Token at;
    std::string name;
    if (!parseValueName(name, &at))
      return false;
    auto it = values_.find(name);
    if (it == values_.end())
      return failAt(at, fmt::format("use of undefined value {}", spelled(name)));
    out = it->second.first;
    return true;
  }

  // ---- statements ----

  bool parseNode() {
    std::vector<std::string> resultNames;
    std::vector<Token> resultToks;
    if (tok_.kind == Token::ValueName) {
      do {
        Token at;
        std::string name;
        if (!parseValueName(name, &at) || !checkNew(name, at))
          return false;
        for (const std::string &r : resultNames)
          if (r == name)
            return failAt(at, fmt::format("value {} is defined twice by this node", spelled(name)));
        resultNames.push_back(name);
        resultToks.push_back(at);
      } while (tryPunct(','));
      if (!consumePunct('='))
        return false;
    }
    if (tok_.kind != Token::Ident)
      return expected("an op name");
    std::optional<OpKind> op = opFromName(tok_.text);
    if (!op)
      return failAt(tok_, fmt::format("unknown op '{}'", tok_.text));
    advance();
    if (tok_.kind != Token::String)
      return expected("a node name (a quoted string)");
    std::string nodeName = tok_.value;
    advance();
    std::vector<Value *> operands;
    if (!consumePunct('('))
      return false;
    if (!isPunct(')')) {
      do {
        Value *v;
        if (!lookup(v))
          return false;
        operands.push_back(v);
      } while (tryPunct(','));
    }
    if (!consumePunct(')'))
      return false;
    Attributes attrs;
    if (!parseAttributes(attrs))
      return false;
    Epilogue epilogue;
    if (isIdent("epilogue")) {
      advance();
      if (!consumePunct('['))
        return false;
      do {
        EpilogueStep s;
        if (!parseEpilogueStep(s))
          return false;
        epilogue.steps.push_back(s);
      } while (tryPunct(','));
      if (!consumePunct(']'))
        return false;
    }
    std::vector<TensorType> types;
    if (!resultNames.empty()) {
      if (!consumePunct(':'))
        return false;
      do {
        TensorType t;
        if (!parseType(t))
          return false;
        types.push_back(std::move(t));
      } while (tryPunct(','));
      if (types.size() != resultNames.size())
        return failAt(tok_, fmt::format("node '{}' has {} results but {} result types", nodeName,
                                        resultNames.size(), types.size()));
    }
    if (!error_.empty())
      return false;
    nodeNames_.insert(nodeName);
    Node *n = g_->addNode(*op, nodeName, std::move(operands), std::move(types), resultNames,
                          std::move(attrs));
    n->epilogue() = std::move(epilogue);
    for (unsigned i = 0; i < n->numResults(); ++i)
      define(resultNames[i], n->result(i), resultToks[i]);
    return true;
  }

  bool parseStatement() {
    if (isIdent("input")) {
      advance();
      std::string name;
      Token at;
      TensorType type;
      if (!parseValueName(name, &at) || !checkNew(name, at) || !consumePunct(':') ||
          !parseType(type))
        return false;
      define(name, g_->addInput(name, std::move(type)), at);
      return true;
    }
    if (isIdent("const"))
      return parseConstant();
    if (isIdent("output")) {
      advance();
      Value *v;
      if (!lookup(v))
        return false;
      outputs_.push_back(v);
      return true;
    }
    if (tok_.kind == Token::ValueName || tok_.kind == Token::Ident)
      return parseNode();
    return expected("a statement (input, const, output or a node) or '}'");
  }

  bool parseGraph() {
    if (!error_.empty() || !consumeIdent("graph"))
      return false;
    if (tok_.kind != Token::GraphName)
      return expected("a graph name (@name)");
    g_->setName(tok_.value);
    advance();
    if (!consumePunct('{'))
      return false;
    while (error_.empty() && !isPunct('}') && tok_.kind != Token::Eof)
      if (!parseStatement())
        return false;
    if (!consumePunct('}'))
      return false;
    const bool memory = isIdent("memory");
    if (memory && !parseMemory())
      return false;
    if (isIdent("decisions")) {
      if (!parseDecisions())
        return false;
      if (tok_.kind != Token::Eof)
        return expected("end of file after the decisions block");
    }
    if (memory && tok_.kind != Token::Eof)
      return expected("end of file after the memory block");
    if (tok_.kind != Token::Eof)
      return expected("end of file after the graph");
    g_->setOutputs(outputs_);
    return error_.empty();
  }

  // ---- the memory block (a side table, ir/ValueLayout.h) ----

  /// A value the block names: it must be defined by the graph.
  bool parseKnownValue(std::string &name) {
    Token at;
    if (!parseValueName(name, &at))
      return false;
    if (!values_.count(name))
      return failAt(at, fmt::format("memory block names undefined value {}", spelled(name)));
    return true;
  }

  bool parseSize(int64_t &out, const char *key, const char *what) {
    return consumeIdent(key) && consumePunct('=') &&
           parseIntIn(out, 0, std::numeric_limits<int64_t>::max(), what);
  }

  bool parseMemorySlot(ArenaSlot &s) {
    if (isIdent("scratch")) {
      advance();
      if (tok_.kind != Token::String)
        return expected("a node name (a quoted string)");
      s.kind = ArenaSlot::Kind::Scratch;
      s.name = tok_.value;
      if (!nodeNames_.count(s.name))
        return failAt(tok_, fmt::format("memory block names scratch of undefined node {}",
                                        tok_.text));
      advance();
    } else if (tok_.kind == Token::ValueName) {
      if (!parseKnownValue(s.name))
        return false;
    } else {
      return expected("a memory slot (%value or scratch \"node\") or '}'");
    }
    if (!consumePunct(':') || !parseSize(s.offset, "offset", "an offset") ||
        !consumePunct(',') || !parseSize(s.bytes, "bytes", "a size in bytes"))
      return false;
    if (!tryPunct(','))
      return error_.empty();
    if (isIdent("view"))
      s.alias = ArenaSlot::Alias::View;
    else if (isIdent("in_place"))
      s.alias = ArenaSlot::Alias::InPlace;
    else if (isIdent("slice"))
      s.alias = ArenaSlot::Alias::Slice;
    else
      return expected("view, in_place or slice");
    advance();
    return consumePunct('=') && parseKnownValue(s.aliasOf);
  }

  bool parseMemory() {
    advance(); // 'memory'
    if (tok_.kind != Token::GraphName)
      return expected("a graph name (@name)");
    if (tok_.value != g_->name())
      return failAt(tok_, fmt::format("memory block of {} after graph @{}", tok_.text,
                                      kirName(g_->name())));
    advance();
    ValueLayoutTable t;
    if (!parseSize(t.arenaSize, "arena", "an arena size") || !consumePunct(',') ||
        !parseSize(t.lowerBound, "lower_bound", "a lower bound") || !consumePunct('{'))
      return false;
    while (error_.empty() && !isPunct('}') && tok_.kind != Token::Eof) {
      ArenaSlot s;
      if (!parseMemorySlot(s))
        return false;
      t.slots.push_back(std::move(s));
    }
    if (!consumePunct('}'))
      return false;
    if (layout_)
      *layout_ = std::move(t);
    return true;
  }

  // ---- the decisions block (a side table, ir/DecisionTable.h) ----

  bool parseDecisionRow(DecisionRow &r) {
    if (tok_.kind != Token::String)
      return expected("a node name (a quoted string) or '}'");
    r.node = tok_.value;
    if (g_ && !nodeNames_.count(r.node))
      return failAt(tok_, fmt::format("decisions block names undefined node {}", tok_.text));
    advance();
    if (!consumePunct(':'))
      return false;
    if (tok_.kind != Token::Ident)
      return expected("a kernel variant");
    r.variant = tok_.text;
    advance();
    if (tryPunct('{')) {
      while (error_.empty() && !isPunct('}')) {
        if (!r.tunables.empty() && !consumePunct(','))
          return false;
        if (tok_.kind != Token::Ident)
          return expected("a tunable name");
        std::string key = tok_.text;
        advance();
        int64_t v = 0;
        if (!consumePunct('=') || !parseInt(v, "a tunable value"))
          return false;
        r.tunables.emplace_back(key, v);
      }
      if (!consumePunct('}'))
        return false;
    }
    return consumePunct(',') && parseSize(r.scratchBytes, "scratch", "scratch bytes") &&
           consumePunct(',') && parseSize(r.cost, "cost", "a cost");
  }

  bool parseDecisions() {
    advance(); // 'decisions'
    if (tok_.kind != Token::GraphName)
      return expected("a graph name (@name)");
    if (g_ && tok_.value != g_->name())
      return failAt(tok_, fmt::format("decisions block of {} after graph @{}", tok_.text,
                                      kirName(g_->name())));
    advance();
    if (!consumePunct('{'))
      return false;
    DecisionTable t;
    while (error_.empty() && !isPunct('}') && tok_.kind != Token::Eof) {
      DecisionRow r;
      if (!parseDecisionRow(r))
        return false;
      t.rows.push_back(std::move(r));
    }
    if (!consumePunct('}'))
      return false;
    if (decisions_)
      *decisions_ = std::move(t);
    return true;
  }

  Lexer lex_;
  Token tok_;
  std::string buffer_, sidecarPath_, error_;
  Graph *g_ = nullptr;
  std::map<std::string, std::pair<Value *, unsigned>> values_; // name -> (value, line)
  std::vector<Value *> outputs_;
  std::unique_ptr<Sidecar> sidecar_;
  std::optional<ValueLayoutTable> *layout_ = nullptr;
  std::optional<DecisionTable> *decisions_ = nullptr;
  std::set<std::string> nodeNames_;
};

} // namespace

llvm::Expected<std::unique_ptr<Graph>>
parseKir(const std::string &text, const std::string &bufferName, const std::string &sidecarPath,
         std::optional<ValueLayoutTable> *layout, std::optional<DecisionTable> *decisions) {
  return Parser(text, bufferName, sidecarPath, layout, decisions).run();
}

llvm::Expected<DecisionTable> parseDecisionTable(const std::string &text,
                                                 const std::string &bufferName) {
  return Parser(text, bufferName, "", nullptr, nullptr).runDecisions();
}

llvm::Expected<std::unique_ptr<Graph>> parseKirFile(const std::string &path,
                                                    std::optional<ValueLayoutTable> *layout,
                                                    std::optional<DecisionTable> *decisions) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buf)
    return llvm::createStringError(buf.getError(), "cannot read '%s': %s", path.c_str(),
                                   buf.getError().message().c_str());
  return parseKir((*buf)->getBuffer().str(), path, kirSidecarPath(path), layout, decisions);
}

} // namespace kiln
