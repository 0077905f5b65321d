// Arena planner: see ArenaPlan.h.
#include "codegen/ArenaPlan.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace kiln {

static int64_t alignUp(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

ArenaPlan planArena(const std::vector<ArenaBuffer> &buffers, int64_t alignment) {
  ArenaPlan plan;
  const size_t n = buffers.size();
  plan.offsets.assign(n, 0);
  std::vector<int64_t> sizes(n);
  for (size_t i = 0; i < n; ++i)
    sizes[i] = alignUp(std::max<int64_t>(buffers[i].size, 0), alignment);

  // Largest first: big buffers constrain the layout most; small ones then fill the gaps.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sizes[a] > sizes[b]; });

  std::vector<size_t> placed;
  for (size_t idx : order) {
    if (sizes[idx] == 0)
      continue;
    const ArenaBuffer &b = buffers[idx];
    // Placed buffers live at the same time as this one, by offset.
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t p : placed)
      if (buffers[p].first <= b.last && b.first <= buffers[p].last)
        busy.push_back({plan.offsets[p], plan.offsets[p] + sizes[p]});
    std::sort(busy.begin(), busy.end());
    int64_t bestOffset = -1, bestGap = INT64_MAX, cursor = 0;
    for (auto &[lo, hi] : busy) {
      if (lo > cursor) {
        int64_t gap = lo - cursor;
        if (gap >= sizes[idx] && gap < bestGap) {
          bestGap = gap;
          bestOffset = cursor;
        }
      }
      cursor = std::max(cursor, hi);
    }
    // No gap fits: place after everything live at the same time.
    if (bestOffset < 0)
      bestOffset = cursor;
    plan.offsets[idx] = bestOffset;
    plan.size = std::max(plan.size, bestOffset + sizes[idx]);
    placed.push_back(idx);
  }

  // Lower bound: sweep the steps, adding a buffer's bytes at `first` and removing after `last`.
  std::map<int, int64_t> delta;
  for (size_t i = 0; i < n; ++i) {
    if (sizes[i] == 0)
      continue;
    delta[buffers[i].first] += sizes[i];
    delta[buffers[i].last + 1] -= sizes[i];
  }
  int64_t live = 0;
  for (auto &[step, d] : delta) {
    live += d;
    plan.lowerBound = std::max(plan.lowerBound, live);
  }
  return plan;
}

} // namespace kiln
