// Runs pipelines and owns the instrumentation: MLIR-style dump headers, numbered dump files (every
// dump is valid .kir that kiln reads back), --verify-each, and --pass-statistics.
#include "passes/PassManager.h"

#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <fmt/format.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>

#include <chrono>
#include <map>

namespace kiln {

namespace {

llvm::Error printDump(const Graph &g, llvm::raw_ostream &os, const char *when,
                      const std::string &pass) {
  os << "// -----// IR Dump " << when << " " << pass << " //----- //\n";
  if (llvm::Error e = printGraph(g, os))
    return e;
  os << "\n";
  return llvm::Error::success();
}

llvm::Error writeDump(const Graph &g, const std::string &dir, unsigned index,
                      const std::string &pass) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, fmt::format("{:02}-{}.kir", index, pass));
  return writeKirFile(g, std::string(path));
}

std::string dotEscape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

/// Graphviz view of the graph: one box per node (name, op, result type), inputs and outputs as
/// ellipses; constants are left out to keep large models readable.
llvm::Error writeDot(const Graph &g, const std::string &dir) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, "final.dot");
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write %s: %s", path.c_str(), ec.message().c_str());
  os << "digraph \"" << dotEscape(g.name()) << "\" {\n  node [shape=box, fontsize=10];\n";
  std::map<const Value *, std::string> ids;
  unsigned next = 0;
  for (const Value *in : g.inputs()) {
    ids[in] = fmt::format("v{}", next++);
    os << "  " << ids[in] << " [shape=ellipse, label=\"" << dotEscape(in->name()) << "\\n"
       << typeString(in->type()) << "\"];\n";
  }
  for (const Node *n : g.nodes()) {
    std::string id = fmt::format("n{}", next++);
    std::string label = dotEscape(n->name()) + "\\n" + opName(n->op());
    if (!n->epilogue().empty())
      label += " +epilogue";
    for (const Value *r : n->results())
      label += "\\n" + typeString(r->type());
    os << "  " << id << " [label=\"" << label << "\"];\n";
    for (const Value *o : n->operands())
      if (ids.count(o))
        os << "  " << ids[o] << " -> " << id << ";\n";
    for (const Value *r : n->results())
      ids[r] = id;
  }
  for (const Value *out : g.outputs()) {
    std::string id = fmt::format("o{}", next++);
    os << "  " << id << " [shape=ellipse, label=\"" << dotEscape(out->name()) << "\"];\n";
    if (ids.count(out))
      os << "  " << ids[out] << " -> " << id << ";\n";
  }
  os << "}\n";
  return llvm::Error::success();
}

} // namespace

llvm::Error runPipeline(Graph &g, const std::vector<const PassInfo *> &pipeline, PassContext &ctx,
                        const Instrumentation &inst) {
  llvm::raw_ostream &os = inst.out ? *inst.out : llvm::errs();
  if (!inst.dumpDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(inst.dumpDir))
      return llvm::createStringError(ec, "cannot create dump directory %s: %s",
                                     inst.dumpDir.c_str(), ec.message().c_str());
    if (llvm::Error e = writeDump(g, inst.dumpDir, 0, "input"))
      return e;
  }
  struct Stat {
    std::string pass;
    double ms;
    PassResult result;
  };
  std::vector<Stat> stats;
  unsigned index = 0;
  for (const PassInfo *p : pipeline) {
    ++index;
    if (inst.printBefore.count(p->name))
      if (llvm::Error e = printDump(g, os, "Before", p->name))
        return e;
    auto t0 = std::chrono::steady_clock::now();
    PassResult r = p->run(g, ctx);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count();
    if (inst.verifyEach)
      if (llvm::Error e = verifyGraph(g))
        return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                       "verification failed after pass '%s': %s", p->name,
                                       llvm::toString(std::move(e)).c_str());
    if (inst.printAfterAll || inst.printAfter.count(p->name) ||
        (inst.printAfterChange && r.changed))
      if (llvm::Error e = printDump(g, os, "After", p->name))
        return e;
    if (!inst.dumpDir.empty())
      if (llvm::Error e = writeDump(g, inst.dumpDir, index, p->name))
        return e;
    stats.push_back({p->name, ms, std::move(r)});
  }
  if (!inst.dumpDir.empty())
    if (llvm::Error e = writeDot(g, inst.dumpDir))
      return e;
  if (inst.statistics) {
    os << "===-------------------------------------------------------------------------===\n"
       << "                          ... Pass statistics report ...\n"
       << "===-------------------------------------------------------------------------===\n";
    for (const Stat &s : stats) {
      os << fmt::format("{:<32} {:>9.3f} ms{}\n", s.pass, s.ms, s.result.changed ? "  (changed)" : "");
      for (auto &c : s.result.counters)
        os << fmt::format("  {:>8} {}\n", c.second, c.first);
    }
  }
  return llvm::Error::success();
}

} // namespace kiln
