// Buffer sharing and the arena plan of a generated model: the one place that decides where every
// graph input, output and intermediate tensor and every node's kernel scratch lives. It takes the
// graph in execution order plus, per node, the sharing facts its kernel decision allows
// (NodeSharing: the result is a view of operand 0, may overwrite a dying operand, Concat operands
// may be written straight into their slices of the result, scratch bytes); it decides which of
// them are taken (views only of arena tensors, in place only over an operand of the same type
// that dies at the node, never joining graph inputs or outputs), groups the values that share
// bytes, and places the groups with planArena (codegen/ArenaPlan.h, which never sees the IR).
// The result, MemoryPlan, is read by the emitter (where a value's bytes are), by the .kir
// `memory` side table (layoutTableOf: its entries are ArenaSlots) and by the memory report.
#pragma once

#include "ir/Graph.h"
#include "ir/ValueLayout.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kiln {

/// What one node's kernel decision allows its results to share (the emitter fills it from the
/// KernelDecision and the node's static types; the planner decides which of it is used). Byte offsets
/// are already checked to be multiples of the plan's alignment and to cover the buffers exactly.
struct NodeSharing {
  int64_t scratchBytes = 0; // KernelDecision::scratchBytes
  /// Result 0 holds operand 0's bytes unchanged (KernelDecision::resultIsOperandView).
  bool resultIsOperandView = false;
  /// Operands whose buffer result 0 may take over when it dies here (KernelDecision::inPlaceOperands).
  std::vector<unsigned> inPlaceOperands;
  /// Slice: result 0 is the contiguous bytes of operand 0 starting at this offset.
  std::optional<int64_t> sliceView;
  /// Split: result i is the contiguous bytes of operand 0 starting at splitParts[i].
  std::optional<std::vector<int64_t>> splitParts;
  /// Concat: operand o fills result 0's bytes starting at concatSlices[o], so its producer may
  /// write it there directly.
  std::optional<std::vector<int64_t>> concatSlices;
};

/// One buffer of the arena: its .kir slot (name, offset, bytes, alias) plus its lifetime in steps.
struct MemoryPlanEntry : ArenaSlot {
  int first = 0; // producing step (node index in execution order)
  int last = 0;  // last step that reads it (== first when nothing does)
};

/// What a node prints, given the sharing the plan took.
enum class NodeCode {
  Kernel,     // the kernel calls (maybe in place: its result 0's entry says over what)
  View,       // result 0 is a view of operand 0 (view op or Slice): no code
  SplitViews, // every result is a view into operand 0: no code
  ConcatDone, // the producers wrote every operand into its slice of the result: no code
};

/// Where a value's bytes are at run time, as far as the plan is concerned (constants live in the
/// weight blob, which the emitter lays out).
struct ValueHome {
  enum class Kind { Input, Output, Arena };
  Kind kind = Kind::Arena;
  size_t index = 0; // input / output index, or index into MemoryPlan::entries
};

/// The memory plan of a graph: the emitter, the .kir `memory` block and the report all read it.
struct MemoryPlan {
  std::vector<MemoryPlanEntry> entries; // in step order, results before their node's scratch
  std::vector<NodeCode> code;           // per node
  std::vector<int64_t> scratchOffset;   // per node: arena offset of its scratch, -1 when none
  /// Outputs that are not written in place by their producer (an input, a constant, or a value
  /// listed twice): (output index, value), copied at the end of a run.
  std::vector<std::pair<size_t, const Value *>> outputCopies;
  int steps = 0; // number of nodes
  int64_t alignment = 64;
  int64_t arenaSize = 0;        // bytes of the arena the pair uses
  int64_t lowerBound = 0;       // peak of simultaneously live bytes, with views and in-place reuse
  std::string strategy;         // planner strategy that won (ArenaPlan::strategy)
  int64_t arenaSizeNoAlias = 0; // the same graph planned with one buffer per intermediate
  int64_t lowerBoundNoAlias = 0;
  int views = 0;   // view nodes (Reshape, ..., channel Split / Slice) that emit no copy
  int inPlace = 0; // results written over a dying operand
  int concats = 0; // Concats whose operands were written in place into the result

  /// Where v lives; nullopt for constants and values of no node of the planned graph. The plan
  /// keys on the graph's Value pointers: ask only while that graph lives.
  std::optional<ValueHome> homeOf(const Value *v) const;
  /// v's arena entry, or nullptr when v is not in the arena.
  const MemoryPlanEntry *entryOf(const Value *v) const;
  /// v's byte offset in the arena, or nullopt when v is not in the arena.
  std::optional<int64_t> arenaOffsetOf(const Value *v) const;

  std::map<const Value *, ValueHome> homes; // looked up only, never iterated
};

/// Decides buffer sharing and plans the arena of `g` (its nodes in g.nodes() order, which is the
/// execution order); `sharing` has one entry per node. Rules:
///   - graph inputs and outputs are the caller's buffers and never join a group: a view of an
///     input, or a value that is an output, gets no arena entry of its own or is copied;
///   - a view (view op, Split part, Slice range) shares its operand's group when the operand is
///     in the arena; an in-place result shares the group of an operand of its exact type whose
///     group ends at this node and that no other operand of the node reads;
///   - a Concat's operands move into its result's group (each at its slice) when each is a whole
///     group of its own;
///   - Concat slices and Split / Slice views lengthen groups, so the four combinations of them
///     are tried and the smallest arena wins (ties: fewer copies).
MemoryPlan buildMemoryPlan(const Graph &g, const std::vector<NodeSharing> &sharing,
                           int64_t alignment = 64);

/// The plan as the IR's side table (the `memory` block of the .kir `kiln compile --emit=ir`
/// writes): every entry's slot, in the plan's order.
ValueLayoutTable layoutTableOf(const MemoryPlan &plan);

} // namespace kiln
