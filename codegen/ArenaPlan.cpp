// Arena planner: see ArenaPlan.h. Every strategy is an order of the buffers fed to one best-fit
// placer; the local search perturbs the winning order by swapping pairs and keeps a swap only when
// the arena strictly shrinks, so it terminates and stays deterministic.
#include "codegen/ArenaPlan.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace kiln {
namespace {

int64_t alignUp(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

bool overlap(const ArenaBuffer &a, const ArenaBuffer &b) {
  return a.first <= b.last && b.first <= a.last;
}

struct Placer {
  const std::vector<ArenaBuffer> &buffers;
  std::vector<int64_t> sizes; // aligned

  /// Places the buffers in `order` (indices of non-empty buffers), each at the smallest gap that
  /// fits among the placed buffers overlapping it in time, else above all of them.
  ArenaPlan place(const std::vector<size_t> &order) const {
    ArenaPlan plan;
    plan.offsets.assign(buffers.size(), 0);
    std::vector<size_t> placed;
    placed.reserve(order.size());
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t idx : order) {
      const ArenaBuffer &b = buffers[idx];
      busy.clear();
      for (size_t p : placed)
        if (overlap(buffers[p], b))
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
      if (bestOffset < 0)
        bestOffset = cursor;
      plan.offsets[idx] = bestOffset;
      plan.size = std::max(plan.size, bestOffset + sizes[idx]);
      placed.push_back(idx);
    }
    return plan;
  }
};

std::vector<size_t> orderFor(const std::vector<ArenaBuffer> &buffers,
                             const std::vector<int64_t> &sizes, ArenaStrategy s) {
  std::vector<size_t> order;
  for (size_t i = 0; i < buffers.size(); ++i)
    if (sizes[i] > 0)
      order.push_back(i);
  std::vector<int64_t> key(buffers.size(), 0), key2(buffers.size(), 0), key3(buffers.size(), 0);
  for (size_t i : order) {
    switch (s) {
    case ArenaStrategy::LargestFirst:
      key[i] = sizes[i];
      break;
    case ArenaStrategy::LongestFirst:
      key[i] = buffers[i].last - buffers[i].first;
      key2[i] = sizes[i];
      break;
    case ArenaStrategy::ConflictFirst:
      for (size_t j : order)
        if (j != i && overlap(buffers[i], buffers[j]))
          key[i] += sizes[j];
      key2[i] = sizes[i];
      break;
    case ArenaStrategy::EarliestFirst:
      key[i] = -int64_t(buffers[i].first);
      key2[i] = buffers[i].last - buffers[i].first;
      key3[i] = sizes[i];
      break;
    }
  }
  // Descending keys; stable, so equal keys keep index order.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (key[a] != key[b])
      return key[a] > key[b];
    return key2[a] != key2[b] ? key2[a] > key2[b] : key3[a] > key3[b];
  });
  return order;
}

std::vector<int64_t> alignedSizes(const std::vector<ArenaBuffer> &buffers, int64_t alignment) {
  std::vector<int64_t> sizes(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i)
    sizes[i] = alignUp(std::max<int64_t>(buffers[i].size, 0), alignment);
  return sizes;
}

const ArenaStrategy kStrategies[] = {ArenaStrategy::LargestFirst, ArenaStrategy::LongestFirst,
                                     ArenaStrategy::ConflictFirst, ArenaStrategy::EarliestFirst};

} // namespace

const char *arenaStrategyName(ArenaStrategy s) {
  switch (s) {
  case ArenaStrategy::LargestFirst:
    return "size";
  case ArenaStrategy::LongestFirst:
    return "lifetime";
  case ArenaStrategy::ConflictFirst:
    return "conflict";
  case ArenaStrategy::EarliestFirst:
    return "start";
  }
  return "?";
}

int64_t arenaLowerBound(const std::vector<ArenaBuffer> &buffers, int64_t alignment) {
  // Sweep the steps, adding a buffer's bytes at `first` and removing them after `last`.
  std::map<int, int64_t> delta;
  for (const ArenaBuffer &b : buffers) {
    int64_t size = alignUp(std::max<int64_t>(b.size, 0), alignment);
    if (size == 0)
      continue;
    delta[b.first] += size;
    delta[b.last + 1] -= size;
  }
  int64_t live = 0, peak = 0;
  for (auto &[step, d] : delta) {
    live += d;
    peak = std::max(peak, live);
  }
  return peak;
}

ArenaPlan planArenaWith(const std::vector<ArenaBuffer> &buffers, ArenaStrategy s,
                        int64_t alignment) {
  Placer placer{buffers, alignedSizes(buffers, alignment)};
  ArenaPlan plan = placer.place(orderFor(buffers, placer.sizes, s));
  plan.lowerBound = arenaLowerBound(buffers, alignment);
  plan.strategy = arenaStrategyName(s);
  return plan;
}

ArenaPlan planArena(const std::vector<ArenaBuffer> &buffers, int64_t alignment) {
  Placer placer{buffers, alignedSizes(buffers, alignment)};
  const int64_t lowerBound = arenaLowerBound(buffers, alignment);
  ArenaPlan best;
  std::vector<size_t> bestOrder;
  bool have = false;
  for (ArenaStrategy s : kStrategies) {
    std::vector<size_t> order = orderFor(buffers, placer.sizes, s);
    ArenaPlan p = placer.place(order);
    if (!have || p.size < best.size) {
      best = std::move(p);
      best.strategy = arenaStrategyName(s);
      bestOrder = std::move(order);
      have = true;
    }
  }
  // Local search on small problems: swap two positions of the winning order, keep the swap when
  // the arena strictly shrinks, repeat until a full sweep finds nothing or the bound is reached.
  const size_t n = bestOrder.size();
  if (n <= kLocalSearchMaxBuffers) {
    bool improved = true;
    for (int sweep = 0; improved && best.size > lowerBound && sweep < 8; ++sweep) {
      improved = false;
      for (size_t i = 0; i + 1 < n && best.size > lowerBound; ++i)
        for (size_t j = i + 1; j < n && best.size > lowerBound; ++j) {
          std::swap(bestOrder[i], bestOrder[j]);
          ArenaPlan p = placer.place(bestOrder);
          if (p.size < best.size) {
            std::string name = best.strategy;
            best = std::move(p);
            best.strategy = name.find("+swap") == std::string::npos ? name + "+swap" : name;
            improved = true;
          } else {
            std::swap(bestOrder[i], bestOrder[j]);
          }
        }
    }
  }
  best.lowerBound = lowerBound;
  return best;
}

} // namespace kiln
