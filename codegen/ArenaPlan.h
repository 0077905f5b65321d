// Static memory planning for the one arena of a generated model. The planner knows nothing about
// the IR: it takes buffers as (size, [first, last] step interval) and returns aligned offsets such
// that buffers whose intervals overlap never share bytes. Greedy, largest buffer first, each placed
// in the best-fitting (smallest sufficient) gap among the already placed buffers it overlaps in
// time. It also reports the lower bound (the largest sum of simultaneously live bytes), against
// which the arena size is judged.
#pragma once

#include <cstdint>
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
};

/// Plans offsets; `alignment` must be a power of two. Deterministic: ties are broken by index.
ArenaPlan planArena(const std::vector<ArenaBuffer> &buffers, int64_t alignment = 64);

} // namespace kiln
