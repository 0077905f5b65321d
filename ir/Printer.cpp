// The .kir printer: one statement per line (inputs, constants, nodes in execution order, outputs)
// so that dumps diff line by line, and every field of the IR spelled so that ir/Parser.cpp reads
// it back and a second print is byte-identical. docs/ir.md is the reference of the syntax.
#include "ir/Printer.h"

#include <fmt/format.h>
#include <llvm/Support/FileSystem.h>

#include <cmath>
#include <cstring>
#include <set>

namespace kiln {

std::string kirName(const std::string &s);

namespace {

// First bytes of a sidecar file; ir/Parser.cpp checks the same 8 bytes.
constexpr char kKirSidecarMagic[8] = {'K', 'I', 'R', 'S', 'C', '0', '0', '1'};

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Words the lexer gives a meaning of their own; a key spelled like one must be quoted.
bool isReservedWord(const std::string &s) {
  return s == "inf" || s == "nan" || s == "true" || s == "false";
}

std::string kirQuote(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20 || c == 0x7f)
        out += fmt::format("\\{:02X}", c);
      else
        out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

/// Map keys must not start with a digit (the lexer would read a number) nor be a reserved word.
std::string kirKey(const std::string &s) {
  bool plain = !s.empty() && !(s[0] >= '0' && s[0] <= '9') && !isReservedWord(s);
  for (char c : s)
    plain = plain && isNameChar(c);
  return plain ? s : kirQuote(s);
}

std::string kirDouble(double d) {
  // fmt's "{}" is the shortest form that reads back exactly; a ".0" keeps integral doubles
  // apart from integers ("inf" and "nan" already are).
  std::string s = fmt::format("{}", d);
  if (s.find_first_of(".en") == std::string::npos)
    s += ".0";
  return s;
}

std::string floatElement(float f) {
  if (std::isnan(f)) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    return fmt::format("0x{:08X}", bits); // keeps sign and payload bit-exact
  }
  std::string s = fmt::format("{}", f);
  if (s.find_first_of(".en") == std::string::npos)
    s += ".0";
  return s;
}

/// Element i of an inline constant in the syntax the parser reads for its dtype.
std::string denseElement(const Tensor &t, int64_t i) {
  const uint8_t *p = t.raw();
  switch (t.dtype) {
  case DType::F32: {
    float f;
    std::memcpy(&f, p + i * 4, 4);
    return floatElement(f);
  }
  case DType::F64: {
    double d;
    std::memcpy(&d, p + i * 8, 8);
    if (std::isnan(d)) {
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      return fmt::format("0x{:016X}", bits);
    }
    return kirDouble(d);
  }
  case DType::F16: {
    uint16_t h;
    std::memcpy(&h, p + i * 2, 2);
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
      return fmt::format("0x{:04X}", h);
    // Every half is exactly a float, and the shortest float form reads back to that float.
    return floatElement(static_cast<float>(t.getDouble(i)));
  }
  case DType::Bool: {
    uint8_t b = p[i];
    return b == 0 ? "false" : b == 1 ? "true" : std::to_string(b);
  }
  default:
    return std::to_string(t.getInt(i));
  }
}

/// A constant is inline when small and when its bytes match its own dtype and shape (anything
/// else goes to the sidecar, which stores bytes as they are).
bool isInline(const Tensor &t) {
  size_t expected = static_cast<size_t>(t.numElements()) * dtypeSize(t.dtype);
  return t.byteSize() <= kKirInlineConstantBytes && t.byteSize() == expected &&
         t.numElements() >= 0;
}

std::string attributeString(const Attribute &a) {
  struct Visitor {
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return kirDouble(v); }
    std::string operator()(const std::string &v) const { return kirQuote(v); }
    std::string operator()(const std::vector<int64_t> &v) const {
      return v.empty() ? "[] : i64" : fmt::format("[{}]", fmt::join(v, ", "));
    }
    std::string operator()(const std::vector<double> &v) const {
      if (v.empty())
        return "[] : f64";
      std::vector<std::string> parts;
      for (double d : v)
        parts.push_back(kirDouble(d));
      return fmt::format("[{}]", fmt::join(parts, ", "));
    }
    std::string operator()(const std::vector<std::string> &v) const {
      if (v.empty())
        return "[] : str";
      std::vector<std::string> parts;
      for (const std::string &s : v)
        parts.push_back(kirQuote(s));
      return fmt::format("[{}]", fmt::join(parts, ", "));
    }
  };
  return std::visit(Visitor{}, a);
}

std::string epilogueStepString(const EpilogueStep &s) {
  const char *kind = nullptr;
  switch (s.kind) {
  case EpilogueStep::Kind::Activation:
    if (s.alpha == 0 && s.beta == 0 && !std::signbit(s.alpha) && !std::signbit(s.beta))
      return actName(s.act);
    return fmt::format("{}({}, {})", actName(s.act), kirDouble(s.alpha), kirDouble(s.beta));
  case EpilogueStep::Kind::BiasAdd:
    kind = "bias_add";
    break;
  case EpilogueStep::Kind::ResidualAdd:
    kind = "residual_add";
    break;
  case EpilogueStep::Kind::Requantize:
    kind = "requantize";
    break;
  case EpilogueStep::Kind::Binary:
    return fmt::format("{}{}({})", s.swapped ? "r" : "", binName(s.bin), s.operand);
  }
  if (s.operand < 0)
    return kind;
  return fmt::format("{}({})", kind, s.operand);
}

std::string valueRef(const Value *v) {
  return v ? "%" + kirName(v->name()) : std::string("%<null>");
}

/// The constant's right-hand side: `dense<[...]>` or `sidecar<0xHASH, SIZE>`, followed by the
/// data's own type when it differs from the value's (a repacked or quantized constant).
std::string constantString(const Value &v) {
  const Tensor &t = v.constant();
  std::string s;
  if (isInline(t)) {
    std::vector<std::string> parts;
    for (int64_t i = 0; i < t.numElements(); ++i)
      parts.push_back(denseElement(t, i));
    s = fmt::format("dense<[{}]>", fmt::join(parts, ", "));
  } else {
    s = fmt::format("sidecar<0x{:016x}, {}>", t.hash(), t.byteSize());
  }
  if (t.dtype != v.type().dtype() || t.shape != v.type().shape)
    s += " : " + typeString(TensorType(t.dtype, t.shape));
  return s;
}

/// The `memory` block of a layout table: one line per slot, in the table's order.
std::string layoutString(const Graph &g, const ValueLayoutTable &t) {
  std::string out = fmt::format("memory @{} arena = {}, lower_bound = {} {{\n", kirName(g.name()),
                                t.arenaSize, t.lowerBound);
  for (const ArenaSlot &s : t.slots) {
    out += s.kind == ArenaSlot::Kind::Scratch ? "  scratch " + kirQuote(s.name)
                                              : "  %" + kirName(s.name);
    out += fmt::format(" : offset = {}, bytes = {}", s.offset, s.bytes);
    switch (s.alias) {
    case ArenaSlot::Alias::None:
      break;
    case ArenaSlot::Alias::View:
      out += ", view = %" + kirName(s.aliasOf);
      break;
    case ArenaSlot::Alias::InPlace:
      out += ", in_place = %" + kirName(s.aliasOf);
      break;
    case ArenaSlot::Alias::Slice:
      out += ", slice = %" + kirName(s.aliasOf);
      break;
    }
    out += "\n";
  }
  return out + "}\n";
}

void appendLE(std::string &out, uint64_t x) {
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((x >> (8 * i)) & 0xff);
}

} // namespace

// Not static: ir/Parser.cpp and ir/Verifier.cpp spell names in their messages the same way.
std::string kirName(const std::string &s) {
  bool plain = !s.empty();
  for (char c : s)
    plain = plain && isNameChar(c);
  return plain ? s : kirQuote(s);
}

std::string decisionsString(const std::string &graphName, const DecisionTable &t) {
  std::string out = fmt::format("decisions @{} {{\n", kirName(graphName));
  for (const DecisionRow &r : t.rows) {
    out += fmt::format("  {} : {}", kirQuote(r.node), r.variant);
    if (!r.tunables.empty()) {
      std::vector<std::string> parts;
      for (const auto &[key, value] : r.tunables)
        parts.push_back(fmt::format("{} = {}", key, value));
      out += fmt::format(" {{{}}}", fmt::join(parts, ", "));
    }
    out += fmt::format(", scratch = {}, cost = {}\n", r.scratchBytes, r.cost);
  }
  return out + "}\n";
}

llvm::Error printGraph(const Graph &g, llvm::raw_ostream &os, const std::string &sidecarPath,
                       const ValueLayoutTable *layout, const DecisionTable *decisions) {
  std::string out = "// kiln IR\n";
  out += fmt::format("graph @{} {{\n", kirName(g.name()));
  for (const Value *in : g.inputs())
    out += fmt::format("  input {} : {}\n", valueRef(in), typeString(in->type()));
  std::string sidecar;
  std::set<uint64_t> written;
  for (const Value *c : g.constants()) {
    out += fmt::format("  const {} : {} = {}\n", valueRef(c), typeString(c->type()),
                       constantString(*c));
    const Tensor &t = c->constant();
    if (!isInline(t) && written.insert(t.hash()).second) {
      appendLE(sidecar, t.hash());
      appendLE(sidecar, t.byteSize());
      if (t.byteSize())
        sidecar.append(reinterpret_cast<const char *>(t.raw()), t.byteSize());
    }
  }
  for (const Node *n : g.nodes()) {
    out += "  ";
    for (unsigned i = 0; i < n->numResults(); ++i)
      out += (i ? ", " : "") + valueRef(n->result(i));
    if (n->numResults())
      out += " = ";
    out += fmt::format("{} {} (", opName(n->op()), kirQuote(n->name()));
    for (unsigned i = 0; i < n->numOperands(); ++i)
      out += (i ? ", " : "") + valueRef(n->operand(i));
    out += ")";
    if (!n->attrs().all().empty()) {
      std::vector<std::string> parts;
      for (const auto &[key, value] : n->attrs().all())
        parts.push_back(fmt::format("{} = {}", kirKey(key), attributeString(value)));
      out += fmt::format(" {{{}}}", fmt::join(parts, ", "));
    }
    if (!n->epilogue().empty()) {
      std::vector<std::string> parts;
      for (const EpilogueStep &s : n->epilogue().steps)
        parts.push_back(epilogueStepString(s));
      out += fmt::format(" epilogue [{}]", fmt::join(parts, ", "));
    }
    if (n->numResults()) {
      out += " : ";
      for (unsigned i = 0; i < n->numResults(); ++i)
        out += (i ? ", " : "") + typeString(n->result(i)->type());
    }
    out += "\n";
  }
  for (const Value *o : g.outputs())
    out += fmt::format("  output {}\n", valueRef(o));
  out += "}\n";
  if (layout)
    out += layoutString(g, *layout);
  if (decisions)
    out += decisionsString(g.name(), *decisions);
  os << out;

  if (sidecarPath.empty() || sidecar.empty())
    return llvm::Error::success();
  std::string file(kKirSidecarMagic, sizeof(kKirSidecarMagic));
  file += sidecar;
  std::error_code ec;
  llvm::raw_fd_ostream sc(sidecarPath, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError(ec, "cannot write sidecar '%s': %s", sidecarPath.c_str(),
                                   ec.message().c_str());
  sc << file;
  sc.close();
  if (sc.has_error())
    return llvm::createStringError(sc.error(), "cannot write sidecar '%s': %s", sidecarPath.c_str(),
                                   sc.error().message().c_str());
  return llvm::Error::success();
}

llvm::Error writeKirFile(const Graph &g, const std::string &kirPath,
                         const ValueLayoutTable *layout, const DecisionTable *decisions) {
  std::string text;
  llvm::raw_string_ostream ss(text);
  if (llvm::Error e = printGraph(g, ss, kirSidecarPath(kirPath), layout, decisions))
    return e;
  ss.flush();
  std::error_code ec;
  llvm::raw_fd_ostream os(kirPath, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return llvm::createStringError(ec, "cannot write '%s': %s", kirPath.c_str(),
                                   ec.message().c_str());
  os << text;
  os.close();
  if (os.has_error())
    return llvm::createStringError(os.error(), "cannot write '%s': %s", kirPath.c_str(),
                                   os.error().message().c_str());
  return llvm::Error::success();
}

std::string kirSidecarPath(const std::string &kirPath) { return kirPath + ".bin"; }

} // namespace kiln
