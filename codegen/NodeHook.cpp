// Printing of the node hook (see NodeHook.h): the header block, the .cpp tables and dispatcher,
// and the per-node calls.
#include "codegen/NodeHook.h"

#include "codegen/CodegenUtil.h"
#include "codegen/EmbeddedFiles.h"
#include "ir/Epilogue.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>

namespace kiln {

namespace {

const char *const kHookTypes = "runtime_stub/kiln_node_hook.h";

} // namespace

std::string epilogueSummary(const Node &n) {
  std::vector<std::string> steps;
  for (const EpilogueStep &s : n.epilogue().steps) {
    switch (s.kind) {
    case EpilogueStep::Kind::BiasAdd:
      steps.push_back("bias_add");
      break;
    case EpilogueStep::Kind::ResidualAdd:
      steps.push_back("residual_add");
      break;
    case EpilogueStep::Kind::Requantize:
      steps.push_back("requantize");
      break;
    case EpilogueStep::Kind::Binary:
      steps.push_back(fmt::format("{}{}", s.swapped ? "r" : "", binName(s.bin)));
      break;
    case EpilogueStep::Kind::Activation:
      steps.push_back(actName(s.act));
      break;
    }
  }
  return fmt::format("{}", fmt::join(steps, ", "));
}

std::string kernelNameOf(const KernelCall &k) {
  // The callee names of the statement: identifiers (with :: qualification) followed by '(' or
  // '<', skipping comments, numbers and keywords; the first kiln_* one is the kernel template.
  static const char *const keywords[] = {"if",          "for",        "while",
                                         "switch",      "return",     "sizeof",
                                         "static_cast", "const_cast", "reinterpret_cast"};
  auto isId = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  const std::string &s = k.statement;
  std::string first;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 2, "//") == 0) {
      i = s.find('\n', i);
      if (i == std::string::npos)
        break;
      continue;
    }
    if (!isId(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && (isId(s[j]) || s.compare(j, 2, "::") == 0))
      j += s.compare(j, 2, "::") == 0 ? 2 : 1;
    std::string id = s.substr(i, j - i);
    size_t next = s.find_first_not_of(" \t", j);
    bool callee = !std::isdigit(static_cast<unsigned char>(id[0])) && next != std::string::npos &&
                  (s[next] == '(' || s[next] == '<') &&
                  std::find(std::begin(keywords), std::end(keywords), id) == std::end(keywords);
    if (callee && id.rfind("kiln_", 0) == 0)
      return id;
    if (callee && first.empty())
      first = id;
    i = j;
  }
  return first.empty() ? "inline" : first;
}

void printHookHeader(Writer &w, const std::string &name, const std::string &upperName,
                     size_t numNodes) {
  w.line("/* kiln_hook: begin (kiln compile --debug-tensors: the node hook) */");
  // The types file is embedded with the runtime stub; decide() of the emitter does not need it,
  // so a kiln built without it would fail the lit tests rather than print a broken header.
  w.verbatim(embeddedFileText(kHookTypes).value_or("#error kiln_node_hook.h is not embedded\n"));
  w.blank();
  w.line("/* Nodes {}_run reports to the node hook, in execution order. */", name);
  w.line("#define {}_NUM_NODES {}", upperName, numNodes);
  w.line("typedef kiln_node_info {}_node_info;", name);
  w.line("typedef kiln_node_hook {}_node_hook;", name);
  w.line("/* While {0}_run runs, calls hook(node, user) before and after each node (hook NULL: no",
         name);
  w.line(" * calls). Not synchronized: set it while no {}_run is running. */", name);
  w.line("void {0}_set_node_hook({0}_node_hook hook, void *user);", name);
  w.line("/* kiln_hook: end */");
}

void printHookDefinitions(Writer &w, const std::string &name, const std::vector<HookNode> &nodes) {
  w.line("// kiln_hook: begin (kiln compile --debug-tensors: the node hook; see {}.h)", name);
  w.line("#include \"{}.h\"", name);
  w.blank();
  w.line("namespace {");
  w.blank();
  w.line("// The caller's hook and pointer: zero-initialized, so no static constructor runs.");
  w.line("kiln_node_hook kiln_hook_fn;");
  w.line("void *kiln_hook_user;");
  size_t maxResults = 1;
  for (size_t s = 0; s < nodes.size(); ++s) {
    const Node &n = *nodes[s].node;
    maxResults = std::max<size_t>(maxResults, n.numResults());
    w.blank();
    for (unsigned i = 0; i < n.numResults(); ++i) {
      const Shape &shape = n.result(i)->type().shape;
      if (!shape.empty())
        w.line("const long long kiln_hook_shape_{}_{}[] = {{{}}};", s, i, fmt::join(shape, ", "));
    }
    w.open(fmt::format("const kiln_tensor_info kiln_hook_results_{}[] =", s));
    for (unsigned i = 0; i < n.numResults(); ++i) {
      const Value *v = n.result(i);
      const TensorType &t = v->type();
      w.line("{{{}, {}, \"{}\", {}, {}, {}, {}, nullptr}},", cStringLiteral(v->name()),
             int(t.dtype()), dtypeName(t.dtype()), t.rank(),
             t.rank() ? fmt::format("kiln_hook_shape_{}_{}", s, i) : std::string("nullptr"),
             t.numElements(), t.byteSize());
    }
    w.close(";");
  }
  if (!nodes.empty()) {
    w.blank();
    w.open("const kiln_node_info kiln_hook_nodes[] =");
    for (size_t s = 0; s < nodes.size(); ++s) {
      const Node &n = *nodes[s].node;
      w.line("{{KILN_NODE_BEFORE, {}, {}, \"{}\", {}, \"{}\", {}, {}, {}, kiln_hook_results_{}}},",
             s, nodes.size(), name, cStringLiteral(n.name()), opName(n.op()),
             cStringLiteral(nodes[s].kernel), cStringLiteral(epilogueSummary(n)), n.numResults(),
             s);
    }
    w.close(";");
    w.blank();
    w.line("// Node `node`'s entry with the phase and, after the node, its results' bytes.");
    w.open("void kiln_hook_event(int phase, int node, const void *const *data)");
    w.line("if (!kiln_hook_fn)");
    w.line("  return;");
    w.line("kiln_node_info info = kiln_hook_nodes[node];");
    w.line("kiln_tensor_info results[{}];", maxResults);
    w.open("for (int i = 0; i < info.num_results; ++i)");
    w.line("results[i] = info.results[i];");
    w.line("results[i].data = data ? data[i] : nullptr;");
    w.close();
    w.line("info.phase = phase;");
    w.line("info.results = results;");
    w.line("kiln_hook_fn(&info, kiln_hook_user);");
    w.close();
  }
  w.blank();
  w.line("} // namespace");
  w.blank();
  w.open(fmt::format("extern \"C\" void {}_set_node_hook(kiln_node_hook hook, void *user)", name));
  w.line("kiln_hook_fn = hook;");
  w.line("kiln_hook_user = user;");
  w.close();
  w.line("// kiln_hook: end");
}

std::string hookBefore(size_t step) {
  return fmt::format("kiln_hook_event(KILN_NODE_BEFORE, {}, nullptr);", step);
}

std::string hookAfter(size_t step, const std::vector<std::string> &resultPointers) {
  std::vector<std::string> ptrs;
  for (const std::string &p : resultPointers)
    ptrs.push_back(p.empty() ? "nullptr" : p);
  return fmt::format("const void *const kiln_hook_data_{}[] = {{{}}};\n"
                     "kiln_hook_event(KILN_NODE_AFTER, {}, kiln_hook_data_{});",
                     step, fmt::join(ptrs, ", "), step, step);
}

void hookExpose(Writer &w, const std::string &arena, const std::vector<ArenaRange> &ranges,
                bool poison) {
  for (const ArenaRange &r : ranges)
    if (r.bytes > 0)
      w.line("KILN_ASAN_{}POISON({}{}, {}); // kiln_hook: readable during the call",
             poison ? "" : "UN", arena, r.offset ? fmt::format(" + {}", r.offset) : std::string(),
             r.bytes);
}

} // namespace kiln
