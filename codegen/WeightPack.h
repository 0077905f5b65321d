// Weights packed at compile time into the layout a kernel reads (a kernel decision's
// PackedWeight, codegen/KernelDecision.h): the emitter puts the packed bytes into the weight blob
// in place of, or next to, the constant they come from, so that no kernel repacks a constant at
// run time.
#pragma once

#include "codegen/KernelDecision.h"

#include <cstdint>
#include <vector>

namespace kiln {

/// The floats of `p` packed from the float32 constant `src` (groups * rows * k floats, row-major).
std::vector<float> packWeight(const PackedWeight &p, const float *src);
/// Floats of the packed weight.
int64_t packedFloats(const PackedWeight &p);

} // namespace kiln
