// Human-readable views of the memory plan (MemoryPlan, codegen/MemoryPlan.h):
// the table printed by `kiln compile --memory-report` and the SVG written by
// `--emit=memory-svg`. Pure formatting of plain data, deterministic byte for byte.
#pragma once

#include "codegen/MemoryPlan.h"

#include <string>

namespace kiln {

/// A table of every arena buffer (tensor or scratch: bytes, first and last step, offset, and
/// whether it is a view of, written in place over, or a Concat slice of another tensor), then the
/// arena against its lower bound, with views and in-place reuse and without.
std::string formatMemoryReport(const MemoryPlan &plan, const std::string &modelName);

/// An SVG picture of the plan: x is the step, y the arena offset; one <rect> per buffer of the
/// table (class "tensor", "view", "inplace", "slice" or "scratch") with a <title> naming it, for
/// hover.
std::string formatMemorySvg(const MemoryPlan &plan, const std::string &modelName);

} // namespace kiln
