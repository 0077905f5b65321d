// Static memory planning for the one arena of a generated model. The planner knows nothing about
// the IR: it takes buffers as (size, [first, last] step interval) and returns aligned offsets such
// that buffers whose intervals overlap never share bytes. Several greedy strategies each place the
// buffers one by one, in their own order, into the best-fitting (smallest sufficient) gap among
// the already placed buffers that overlap in time: largest first, longest lifetime first, and most
// conflicting bytes first. For graphs with few buffers a small local search then swaps pairs in
// the best order while that shrinks the arena. The smallest arena wins (ties: the earlier
// strategy). The plan also reports the lower bound (the largest sum of simultaneously live bytes),
// against which the arena size is judged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

struct ArenaBuffer {
  int64_t size = 0; // bytes; 0 is allowed (gets offset 0 and occupies nothing)
  int first = 0;    // first step at which the buffer is live
  int last = 0;     // last step at which it is live (inclusive, >= first)
};

struct ArenaPlan {
  std::vector<int64_t> offsets; // one per buffer, multiples of the alignment
  int64_t size = 0;             // total arena bytes (a multiple of the alignment)
  int64_t lowerBound = 0;       // max over steps of the sum of live (aligned) sizes
  std::string strategy;         // which strategy produced the offsets (see planArena)
};

/// The placement orders planArena tries, in order of preference on ties.
enum class ArenaStrategy {
  LargestFirst,  // "size": by aligned size, descending
  LongestFirst,  // "lifetime": by interval length, then size, descending
  ConflictFirst, // "conflict": by bytes of the buffers overlapping in time, descending
  EarliestFirst, // "start": by first step ascending, then longer lifetime, then size
};

/// Name of a strategy as reported in ArenaPlan::strategy ("size", "lifetime", "conflict",
/// "start").
const char *arenaStrategyName(ArenaStrategy s);

/// One strategy alone, without local search (for tests and comparisons).
ArenaPlan planArenaWith(const std::vector<ArenaBuffer> &buffers, ArenaStrategy s,
                        int64_t alignment = 64);

/// Plans offsets with every strategy (plus local search when there are at most
/// kLocalSearchMaxBuffers non-empty buffers) and keeps the smallest arena; `alignment` must be a
/// power of two. Deterministic: ties are broken by index.
ArenaPlan planArena(const std::vector<ArenaBuffer> &buffers, int64_t alignment = 64);

/// Above this many non-empty buffers, planArena skips the local search (quadratic sweeps of
/// quadratic placements).
constexpr size_t kLocalSearchMaxBuffers = 40;

/// The largest sum of the aligned sizes of buffers live at one step.
int64_t arenaLowerBound(const std::vector<ArenaBuffer> &buffers, int64_t alignment = 64);

} // namespace kiln
