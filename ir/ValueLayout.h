// A side table of analysis results about a graph's values (DESIGN.md: analysis results live in
// side tables, not on IR objects): where each intermediate tensor and each node's scratch sits in
// the arena code generation planned. The .kir printer shows it as a `memory` block after the graph
// and the parser reads it back (docs/ir.md); nothing in ir/ computes it: codegen/MemoryPlan.h
// does, and each of its plan entries is one of these slots plus its lifetime.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

/// One buffer of the arena: a value (by name) or a node's scratch (by node name).
struct ArenaSlot {
  enum class Kind { Value, Scratch };
  /// View: the bytes of `aliasOf` under another shape; InPlace: written over `aliasOf`, which dies
  /// there; Slice: written straight into its part of the Concat result `aliasOf`.
  enum class Alias { None, View, InPlace, Slice };
  Kind kind = Kind::Value;
  std::string name;
  int64_t offset = 0; // bytes from the start of the arena
  int64_t bytes = 0;  // its own size (an alias shares the buffer of `aliasOf`)
  Alias alias = Alias::None;
  std::string aliasOf; // a value name, when alias != None

  bool operator==(const ArenaSlot &o) const {
    return kind == o.kind && name == o.name && offset == o.offset && bytes == o.bytes &&
           alias == o.alias && aliasOf == o.aliasOf;
  }
};

/// The arena plan of a graph: its size, the lower bound it is measured against (peak of
/// simultaneously live bytes), and its slots in execution order.
struct ValueLayoutTable {
  int64_t arenaSize = 0;
  int64_t lowerBound = 0;
  std::vector<ArenaSlot> slots;

  bool operator==(const ValueLayoutTable &o) const {
    return arenaSize == o.arenaSize && lowerBound == o.lowerBound && slots == o.slots;
  }
};

} // namespace kiln
