// AddressSanitizer arena annotations: see Sanitize.h.
#include "codegen/Sanitize.h"

#include <fmt/format.h>

#include <algorithm>

namespace kiln {
namespace {

std::vector<ArenaRange> normalized(std::vector<ArenaRange> r) {
  r.erase(std::remove_if(r.begin(), r.end(), [](const ArenaRange &a) { return a.bytes <= 0; }),
          r.end());
  std::sort(r.begin(), r.end());
  r.erase(std::unique(r.begin(), r.end()), r.end());
  return r;
}

std::string address(const std::string &arena, int64_t offset) {
  return offset ? fmt::format("{} + {}", arena, offset) : arena;
}

} // namespace

void asanPrelude(Writer &w) {
  // g++ 12 has no __has_feature; the nested #if is skipped when it is not defined.
  w.line("// AddressSanitizer builds poison the arena bytes the current node does not use");
  w.line("// (codegen/Sanitize.h in kiln); in every other build these annotations are empty.");
  w.line("#if defined(__SANITIZE_ADDRESS__)");
  w.line("#define KILN_ASAN 1");
  w.line("#elif defined(__has_feature)");
  w.line("#if __has_feature(address_sanitizer)");
  w.line("#define KILN_ASAN 1");
  w.line("#endif");
  w.line("#endif");
  w.line("#if defined(KILN_ASAN)");
  w.line("#include <sanitizer/asan_interface.h>");
  w.line("#define KILN_ASAN_POISON(p, n) __asan_poison_memory_region((p), (n))");
  w.line("#define KILN_ASAN_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))");
  w.line("#else");
  w.line("#define KILN_ASAN_POISON(p, n) ((void)0)");
  w.line("#define KILN_ASAN_UNPOISON(p, n) ((void)0)");
  w.line("#endif");
}

void asanEntry(Writer &w, const std::string &arena, int64_t arenaBytes) {
  if (arenaBytes > 0)
    w.line("KILN_ASAN_POISON({}, {});", arena, arenaBytes);
}

void asanStep(Writer &w, const std::string &arena, const std::vector<ArenaRange> &previous,
              const std::vector<ArenaRange> &current) {
  std::vector<ArenaRange> prev = normalized(previous), cur = normalized(current);
  for (const ArenaRange &r : prev)
    if (!std::binary_search(cur.begin(), cur.end(), r))
      w.line("KILN_ASAN_POISON({}, {});", address(arena, r.offset), r.bytes);
  for (const ArenaRange &r : cur)
    w.line("KILN_ASAN_UNPOISON({}, {});", address(arena, r.offset), r.bytes);
}

void asanExit(Writer &w, const std::string &arena, int64_t arenaBytes) {
  if (arenaBytes > 0)
    w.line("KILN_ASAN_UNPOISON({}, {});", arena, arenaBytes);
}

} // namespace kiln
