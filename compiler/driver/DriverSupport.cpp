// Helpers shared by the driver's commands: --input-shape parsing and C identifiers for the
// generated API prefix.
#include "compiler/driver/Driver.h"
#include "passes/PassManager.h"

#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>

#include <fmt/format.h>

#include <cctype>
#include <set>

namespace kiln {
namespace driver {

llvm::Error driverError(const std::string &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

llvm::Error writeFile(const std::string &path, const std::string &bytes,
                      const std::string &shownPath) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (!ec) {
    os << bytes;
    os.close();
    ec = os.error();
  }
  if (ec)
    return driverError(fmt::format("cannot write '{}': {}", shownPath.empty() ? path : shownPath,
                                   ec.message()));
  return llvm::Error::success();
}

llvm::Expected<std::vector<const PassInfo *>>
pipelineFromFlags(const std::vector<std::string> &passes, int optLevel) {
  auto pipeline = passes.empty() ? pipelineForLevel(optLevel)
                                 : parsePassList(fmt::format("{}", fmt::join(passes, ",")));
  if (!pipeline)
    return driverError(fmt::format("{}{}", passes.empty() ? "" : "--passes: ",
                                   llvm::toString(pipeline.takeError())));
  return pipeline;
}

llvm::Expected<std::map<std::string, Shape>>
parseInputShapes(const std::vector<std::string> &entries) {
  std::map<std::string, Shape> out;
  for (const std::string &e : entries) {
    // Split at the last '=': ONNX value names may contain almost anything, dims never contain '='.
    size_t eq = e.rfind('=');
    if (eq == std::string::npos || eq == 0)
      return driverError(fmt::format("--input-shape '{}': expected NAME=DIMS such as "
                                     "x=1x3x224x224, found no {}",
                                     e, eq == 0 ? "name" : "'='"));
    std::string name = e.substr(0, eq), dims = e.substr(eq + 1);
    Shape shape;
    size_t pos = 0;
    while (!dims.empty() && pos <= dims.size()) {
      size_t x = dims.find('x', pos);
      std::string tok = dims.substr(pos, x == std::string::npos ? std::string::npos : x - pos);
      size_t digits = tok.size() > 1 && tok[0] == '-' ? 1 : 0;
      bool ok = !tok.empty() && tok.size() - digits <= 18;
      for (size_t i = digits; ok && i < tok.size(); ++i)
        ok = std::isdigit(static_cast<unsigned char>(tok[i])) != 0;
      if (!ok)
        return driverError(
            fmt::format("--input-shape '{}': expected dimensions as integers separated "
                        "by 'x' (e.g. 1x3x224x224), found '{}'",
                        e, tok));
      shape.push_back(std::stoll(tok));
      if (x == std::string::npos)
        break;
      pos = x + 1;
    }
    if (!out.emplace(name, shape).second)
      return driverError(fmt::format("--input-shape: expected each input at most once, found '{}' "
                                     "twice",
                                     name));
  }
  return out;
}

llvm::Error makeInstrumentation(const InstrumentationFlags &flags, Instrumentation &out) {
  auto names = [](const std::vector<std::string> &list, const char *flag,
                  std::set<std::string> &into) -> llvm::Error {
    for (const std::string &n : list) {
      if (!findPass(n)) {
        std::vector<std::string> valid;
        for (const PassInfo &p : allPasses())
          valid.push_back(p.name);
        return driverError(
            fmt::format("{}: expected one of {}, found '{}'", flag, fmt::join(valid, ", "), n));
      }
      into.insert(n);
    }
    return llvm::Error::success();
  };
  out.printAfterAll = flags.printAfterAll;
  out.printAfterChange = flags.printAfterChange;
  out.dumpDir = flags.dumpDir;
  out.verifyEach = flags.verifyEach;
  out.statistics = flags.statistics;
  if (auto e = names(flags.printBefore, "--print-ir-before", out.printBefore))
    return e;
  return names(flags.printAfter, "--print-ir-after", out.printAfter);
}

bool isCIdentifier(const std::string &s) {
  static const std::set<std::string> keywords = {"alignas",
                                                 "alignof",
                                                 "and",
                                                 "asm",
                                                 "auto",
                                                 "bool",
                                                 "break",
                                                 "case",
                                                 "catch",
                                                 "char",
                                                 "class",
                                                 "const",
                                                 "constexpr",
                                                 "continue",
                                                 "decltype",
                                                 "default",
                                                 "delete",
                                                 "do",
                                                 "double",
                                                 "else",
                                                 "enum",
                                                 "explicit",
                                                 "export",
                                                 "extern",
                                                 "false",
                                                 "float",
                                                 "for",
                                                 "friend",
                                                 "goto",
                                                 "if",
                                                 "inline",
                                                 "int",
                                                 "long",
                                                 "mutable",
                                                 "namespace",
                                                 "new",
                                                 "noexcept",
                                                 "not",
                                                 "nullptr",
                                                 "operator",
                                                 "or",
                                                 "private",
                                                 "protected",
                                                 "public",
                                                 "register",
                                                 "restrict",
                                                 "return",
                                                 "short",
                                                 "signed",
                                                 "sizeof",
                                                 "static",
                                                 "struct",
                                                 "switch",
                                                 "template",
                                                 "this",
                                                 "throw",
                                                 "true",
                                                 "try",
                                                 "typedef",
                                                 "typeid",
                                                 "typename",
                                                 "union",
                                                 "unsigned",
                                                 "using",
                                                 "virtual",
                                                 "void",
                                                 "volatile",
                                                 "while",
                                                 "xor",
                                                 "static_assert",
                                                 "thread_local",
                                                 "const_cast",
                                                 "dynamic_cast",
                                                 "reinterpret_cast",
                                                 "static_cast",
                                                 "char16_t",
                                                 "char32_t",
                                                 "wchar_t",
                                                 "_Bool",
                                                 "_Complex",
                                                 "_Static_assert"};
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return keywords.count(s) == 0;
}

std::string identifierFromPath(const std::string &path) {
  std::string id = llvm::sys::path::stem(path).str();
  for (char &c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      c = '_';
  if (id.empty())
    return "model";
  if (!isCIdentifier(id))
    id = "_" + id; // a leading digit or a keyword
  return id;
}

} // namespace driver
} // namespace kiln
