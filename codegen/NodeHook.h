// The node hook of `kiln compile --debug-tensors`: what the emitter prints so that the generated
// NAME_run calls a caller-supplied function before and after each node (runtime_stub/
// kiln_node_hook.h holds the C types the caller sees). Kept apart from the emitter so that the
// emitter only says where a call goes and with which result pointers; everything about the hook's
// tables and calls is printed here. Without the flag the emitter calls none of this, so the pair
// is byte-identical to one from a kiln without hooks.
//
// Every line printed into NAME_run and every file-scope block contains "kiln_hook" (blocks are
// framed by "kiln_hook: begin" / "kiln_hook: end" comments), so a test can delete them and get
// back the pair compiled without the flag, byte for byte.
//
// `kiln compile --profile` is the hook plus a profiler built on it (NAME_profile_*): the hook
// function it installs times each node from its BEFORE to its AFTER call with steady_clock and
// keeps the last KILN_PROFILE_MAX_CALLS samples per node in static storage (no heap), so a host
// can read each node's median. Its blocks are framed the same way, so stripping gives back the
// plain pair too.
#pragma once

#include "codegen/Sanitize.h"
#include "codegen/Writer.h"
#include "ir/Graph.h"

#include <string>
#include <vector>

namespace kiln {

/// What the hook tables say about one node in execution order.
struct HookNode {
  const Node *node = nullptr;
  std::string kernel; // KernelDecision::kernelName(), or "view" / "concat-in-place" for nodes
                      // without code
};

/// The node's epilogue steps by kind, without operand indices ("bias_add, residual_add, relu"; ""
/// when none): kiln_node_info.epilogue.
std::string epilogueSummary(const Node &n);

/// NAME.h: the hook types, NAME_NUM_NODES and the NAME_set_node_hook declaration, then with
/// `profile` the profiler's type and NAME_profile_* declarations; goes inside the header's
/// extern "C" block.
void printHookHeader(Writer &w, const std::string &name, const std::string &upperName,
                     size_t numNodes, bool profile);

/// NAME.cpp at file scope before NAME_run: NAME.h (for the types), the static node and result
/// tables, the dispatcher kiln_hook_event and NAME_set_node_hook, then with `profile` the
/// profiler's sample buffers and NAME_profile_*. All constant-initialized.
void printHookDefinitions(Writer &w, const std::string &name, const std::vector<HookNode> &nodes,
                          bool profile);

/// The statement right before node `step`'s kernel.
std::string hookBefore(size_t step);

/// The statements right after node `step`'s kernel: `resultPointers[i]` is an untyped pointer
/// expression for result i ("" when the value has no dense row-major bytes: data is NULL).
std::string hookAfter(size_t step, const std::vector<std::string> &resultPointers);

/// Under ASan: unpoison (poison = false) or poison again the arena ranges of a node without code,
/// so that the hook may read its results although no kernel step unpoisoned them.
void hookExpose(Writer &w, const std::string &arena, const std::vector<ArenaRange> &ranges,
                bool poison);

} // namespace kiln
