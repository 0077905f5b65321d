// The memory limits `kiln compile` enforces on the arena plan before writing anything: the arena
// must be addressable on the target (at most kMaxObjectBytes, ir/Types.h) and, with
// --max-arena=BYTES, no larger than the user allows. Tensors are checked as they are typed, by the
// frontend; the arena (and kernel scratch in it) is known only once code generation has planned it.
#pragma once

#include "codegen/Codegen.h"

#include <llvm/Support/Error.h>

#include <cstdint>
#include <optional>
#include <string>

namespace kiln {
namespace driver {

/// Success, or a diagnostic for `model` naming the arena's size, the limit it breaks and the
/// tensors that make it that large (the one at the arena's top and the largest one).
llvm::Error checkArenaLimits(const MemoryPlan &plan, std::optional<int64_t> maxArena,
                             const std::string &model);

} // namespace driver
} // namespace kiln
