// The data-movement family's typed parameters (ir/OpParams.h), and DepthToSpace whole: its
// parameters, shape inference and reference evaluation live here (the switches of
// ir/Semantics.cpp and ir/SemanticsEval.cpp only call them). Slice's parameters come from the rule
// its shape inference uses (sem::sliceDims in ir/Semantics.cpp), so that the Slice kernel selector
// and codegen's view of a contiguous Slice take their offsets from ir instead of re-deriving
// ONNX's clamping.
#include "ir/OpParams.h"

#include "ir/SemanticsDetail.h"

#include <fmt/format.h>

#include <cstring>

namespace kiln {

llvm::Expected<SliceParams> sliceParams(const Node &n) {
  auto d = sem::sliceDims(sem::nodeOperands(n));
  if (!d)
    return d.takeError();
  return SliceParams{std::move(d->start), std::move(d->step), std::move(d->out)};
}

namespace sem {

llvm::Expected<DepthToSpaceParams> depthToSpaceParams(const std::vector<Operand> &ops,
                                                      const Attributes &attrs) {
  if (ops.size() != 1)
    return fail(fmt::format("DepthToSpace expects 1 operand, found {}", ops.size()));
  const TensorType &t = ops[0].type;
  if (t.rank() != 4)
    return fail(fmt::format("DepthToSpace expects a 4-D input, found {}", typeString(t)));
  DepthToSpaceParams p;
  p.blocksize = attrs.getInt("blocksize", 0);
  const std::string mode = attrs.getString("mode", "DCR");
  if (mode != "DCR" && mode != "CRD")
    return fail(fmt::format("DepthToSpace expects mode DCR or CRD, found '{}'", mode));
  p.crd = mode == "CRD";
  // b^2 must divide the channels; bounding b by 2^15 keeps b^2 and H b, W b inside int64.
  const int64_t b = p.blocksize, c = t.shape[1];
  if (b < 1 || b > 32768 || c % (b * b) != 0)
    return fail(fmt::format("DepthToSpace expects a blocksize b in [1, 32768] with b^2 dividing "
                            "the {} channels of {}, found blocksize {}",
                            c, typeString(t), b));
  return p;
}

llvm::Expected<TensorType> inferDepthToSpace(const std::vector<Operand> &ops,
                                             const Attributes &attrs) {
  auto p = depthToSpaceParams(ops, attrs);
  if (!p)
    return p.takeError();
  const Shape &in = ops[0].type.shape;
  const int64_t b = p->blocksize;
  return TensorType(ops[0].type.elem, {in[0], in[1] / (b * b), in[2] * b, in[3] * b});
}

llvm::Expected<Tensor> evalDepthToSpace(const Tensor &x, const Attributes &attrs) {
  auto p = depthToSpaceParams({Operand{TensorType(ElementType(x.dtype), x.shape), &x}}, attrs);
  if (!p)
    return p.takeError();
  const int64_t b = p->blocksize, n = x.shape[0], c = x.shape[1] / (b * b), h = x.shape[2],
                w = x.shape[3];
  const size_t es = dtypeSize(x.dtype);
  std::vector<uint8_t> out(x.raw() ? static_cast<size_t>(n * c * h * b * w * b) * es : 0);
  size_t k = 0;
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < c; ++ic)
      for (int64_t y = 0; y < h * b; ++y)
        for (int64_t z = 0; z < w * b; ++z, ++k) {
          const int64_t i = y % b, j = z % b;
          const int64_t ch = p->crd ? ic * b * b + i * b + j : (i * b + j) * c + ic;
          const int64_t from = ((in * x.shape[1] + ch) * h + y / b) * w + z / b;
          std::memcpy(out.data() + k * es, x.raw() + static_cast<size_t>(from) * es, es);
        }
  return Tensor(x.dtype, {n, c, h * b, w * b}, std::move(out));
}

} // namespace sem

llvm::Expected<DepthToSpaceParams> depthToSpaceParams(const Node &n) {
  return sem::depthToSpaceParams(sem::nodeOperands(n), n.attrs());
}

} // namespace kiln
