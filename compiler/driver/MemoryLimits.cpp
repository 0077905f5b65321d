// checkArenaLimits: see compiler/driver/MemoryLimits.h.
#include "compiler/driver/MemoryLimits.h"
#include "compiler/driver/Driver.h"

#include <fmt/format.h>

namespace kiln {
namespace driver {

namespace {

std::string describe(const MemoryPlanEntry &e) {
  return fmt::format("{} '{}' ({} bytes at offset {}, live from step {} to {})",
                     e.kind == MemoryPlanEntry::Kind::Scratch ? "the scratch of node" : "tensor",
                     e.name, e.bytes, e.offset, e.first, e.last);
}

} // namespace

llvm::Error checkArenaLimits(const MemoryPlan &plan, std::optional<int64_t> maxArena,
                             const std::string &model) {
  int64_t limit = kMaxObjectBytes;
  std::string why = "the largest object generated code can address on a 32-bit target";
  if (maxArena && *maxArena < limit) {
    limit = *maxArena;
    why = fmt::format("--max-arena={}", *maxArena);
  }
  if (plan.arenaSize <= limit)
    return llvm::Error::success();
  const MemoryPlanEntry *top = nullptr, *largest = nullptr;
  for (const MemoryPlanEntry &e : plan.entries) {
    if (!top || e.offset + e.bytes > top->offset + top->bytes)
      top = &e;
    if (!largest || e.bytes > largest->bytes)
      largest = &e;
  }
  std::string culprits;
  if (top)
    culprits = fmt::format("; at the arena's top is {}", describe(*top));
  if (largest && largest != top)
    culprits += fmt::format(", the largest is {}", describe(*largest));
  return driverError(fmt::format("{}: arena: expected at most {} bytes ({}), found a plan of {} "
                                 "bytes{}",
                                 model, limit, why, plan.arenaSize, culprits));
}

} // namespace driver
} // namespace kiln
