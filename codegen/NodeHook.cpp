// Printing of the node hook (see NodeHook.h): the header block, the .cpp tables and dispatcher,
// and the per-node calls.
#include "codegen/NodeHook.h"

#include "codegen/CodegenUtil.h"
#include "codegen/EmbeddedFiles.h"
#include "ir/Epilogue.h"

#include <fmt/format.h>

namespace kiln {

namespace {

const char *const kHookTypes = "runtime_stub/kiln_node_hook.h";

/// Samples kept per node: a median over up to this many of the latest calls (the bench takes 50+).
/// Static storage of NAME_NUM_NODES x this many 8-byte samples.
const int kProfileMaxCalls = 128;

void printProfileHeader(Writer &w, const std::string &name) {
  w.line("/* kiln_hook: begin (kiln compile --profile: per-node timing on the node hook) */");
  // Guarded like the hook types: two profiled models' headers may share a translation unit.
  w.line("#ifndef KILN_PROFILE_V1_H");
  w.line("#define KILN_PROFILE_V1_H");
  w.line("/* Samples kept per node: the statistics cover the latest this many calls. */");
  w.line("#define KILN_PROFILE_MAX_CALLS {}", kProfileMaxCalls);
  w.line("/* One node's wall time, kernel entry to exit, over the calls since profile_start. */");
  w.line("typedef struct kiln_profile_node {");
  w.line("  int index;            /* position in execution order */");
  w.line("  const char *name;     /* as kiln_node_info */");
  w.line("  const char *op;");
  w.line("  const char *kernel;");
  w.line("  const char *epilogue;");
  w.line("  long long calls;      /* calls timed since profile_start */");
  w.line("  int samples;          /* of which kept: min(calls, KILN_PROFILE_MAX_CALLS) */");
  w.line("  double median_us;     /* over the kept samples; 0 when there are none */");
  w.line("  double min_us;");
  w.line("  double mean_us;");
  w.line("} kiln_profile_node;");
  w.line("#endif /* KILN_PROFILE_V1_H */");
  w.line("/* Installs the profiler as {}'s node hook (replacing any hook) and forgets earlier",
         name);
  w.line(" * samples: from now on {}_run times each node. Not synchronized, like set_node_hook. */",
         name);
  w.line("void {}_profile_start(void);", name);
  w.line("/* Removes the profiler's hook; the samples stay readable. */");
  w.line("void {}_profile_stop(void);", name);
  w.line("/* Node `index`'s statistics into *out: 0, or -1 when index is not a node. */");
  w.line("int {0}_profile_node(int index, kiln_profile_node *out);", name);
  w.line("/* kiln_hook: end */");
}

void printProfileDefinitions(Writer &w, const std::string &name, size_t numNodes) {
  w.line("// kiln_hook: begin (kiln compile --profile: per-node timing on the node hook)");
  w.line("#include <algorithm>");
  w.line("#include <chrono>");
  w.blank();
  w.line("namespace {");
  w.blank();
  // At least one row: a model without nodes still has well-formed (unused) arrays.
  size_t rows = std::max<size_t>(numNodes, 1);
  w.line("// Per node: the BEFORE time of the running call, the calls seen, the latest samples.");
  w.line("long long kiln_hook_prof_t0[{}];", rows);
  w.line("long long kiln_hook_prof_calls[{}];", rows);
  w.line("long long kiln_hook_prof_ns[{}][KILN_PROFILE_MAX_CALLS];", rows);
  w.blank();
  w.open("long long kiln_hook_prof_now()");
  w.line("return std::chrono::duration_cast<std::chrono::nanoseconds>(");
  w.line("           std::chrono::steady_clock::now().time_since_epoch())");
  w.line("    .count();");
  w.close();
  w.blank();
  w.open("void kiln_hook_prof_hook(const kiln_node_info *node, void *)");
  w.line("long long now = kiln_hook_prof_now();");
  w.open("if (node->phase == KILN_NODE_BEFORE)");
  w.line("kiln_hook_prof_t0[node->index] = now;");
  w.line("return;");
  w.close();
  w.line("long long &calls = kiln_hook_prof_calls[node->index];");
  w.line("kiln_hook_prof_ns[node->index][calls % KILN_PROFILE_MAX_CALLS] =");
  w.line("    now - kiln_hook_prof_t0[node->index];");
  w.line("++calls;");
  w.close();
  w.blank();
  w.line("} // namespace");
  w.blank();
  w.open(fmt::format("extern \"C\" void {}_profile_start(void)", name));
  w.open(fmt::format("for (int i = 0; i < {}; ++i)", rows));
  w.line("kiln_hook_prof_calls[i] = 0;");
  w.close();
  w.line("{}_set_node_hook(kiln_hook_prof_hook, nullptr);", name);
  w.close();
  w.blank();
  w.open(fmt::format("extern \"C\" void {}_profile_stop(void)", name));
  w.line("{}_set_node_hook(nullptr, nullptr);", name);
  w.close();
  w.blank();
  w.open(fmt::format("extern \"C\" int {}_profile_node(int index, kiln_profile_node *out)", name));
  if (numNodes == 0) {
    w.line("(void)index;");
    w.line("(void)out;");
    w.line("return -1;");
  } else {
    w.line("if (index < 0 || index >= {} || !out)", numNodes);
    w.line("  return -1;");
    w.line("const kiln_node_info &info = kiln_hook_nodes[index];");
    w.line("long long calls = kiln_hook_prof_calls[index];");
    w.line("int n = calls < KILN_PROFILE_MAX_CALLS ? int(calls) : KILN_PROFILE_MAX_CALLS;");
    w.line("long long sorted[KILN_PROFILE_MAX_CALLS];");
    w.line("long long sum = 0;");
    w.open("for (int i = 0; i < n; ++i)");
    w.line("sorted[i] = kiln_hook_prof_ns[index][i];");
    w.line("sum += sorted[i];");
    w.close();
    w.line("std::sort(sorted, sorted + n);");
    w.line(
        "*out = kiln_profile_node{index, info.name, info.op, info.kernel, info.epilogue, calls,");
    w.line("                         n, 0.0, 0.0, 0.0};");
    w.open("if (n > 0)");
    w.line("out->median_us = (n % 2 ? double(sorted[n / 2])");
    w.line("                        : (double(sorted[n / 2 - 1]) + double(sorted[n / 2])) / 2) /");
    w.line("                 1e3;");
    w.line("out->min_us = double(sorted[0]) / 1e3;");
    w.line("out->mean_us = double(sum) / n / 1e3;");
    w.close();
    w.line("return 0;");
  }
  w.close();
  w.line("// kiln_hook: end");
}

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

void printHookHeader(Writer &w, const std::string &name, const std::string &upperName,
                     size_t numNodes, bool profile) {
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
  if (profile)
    printProfileHeader(w, name);
}

void printHookDefinitions(Writer &w, const std::string &name, const std::vector<HookNode> &nodes,
                          bool profile) {
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
  if (profile)
    printProfileDefinitions(w, name, nodes.size());
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
