#include "codegen/WeightPack.h"

namespace kiln {

int64_t packedFloats(const PackedWeight &p) {
  const int64_t panels = (p.rows + p.width - 1) / p.width;
  return p.groups * panels * p.k * p.width;
}

std::vector<float> packWeight(const PackedWeight &p, const float *src) {
  std::vector<float> out(static_cast<size_t>(packedFloats(p)), 0.0f);
  const int64_t panels = (p.rows + p.width - 1) / p.width;
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t r = 0; r < p.rows; ++r) {
      const int64_t q = r / p.width, j = r % p.width;
      const float *row = src + (g * p.rows + r) * p.k;
      float *panel = out.data() + (g * panels + q) * p.k * p.width;
      for (int64_t kk = 0; kk < p.k; ++kk)
        panel[kk * p.width + j] = row[kk];
    }
  return out;
}

} // namespace kiln
