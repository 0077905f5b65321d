// The data-movement family (Concat, Split, Reshape, Flatten, Transpose, DepthToSpace, Squeeze,
// Unsqueeze, Slice, Gather, Expand, Tile, Pad, Identity): shape inference, reference evaluation
// (byte copies, exact for every dtype) and the typed parameters of ir/OpParams.h. Slice's offsets,
// Pad's amounts and mode, the normalized axes and Transpose's permutation come from the rules
// inference applies, so the kernel selectors, codegen's views of contiguous Slices, Concats and
// Splits, and the passes that move Transposes and Reshapes take them from here instead of
// re-reading attributes with defaults of their own.
#include "ir/OpParams.h"

#include "ir/SemanticsDetail.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace kiln {

namespace sem {
namespace {

const char *nm(OpKind op) { return opName(op); }

/// Transpose's perm; absent, ONNX's default reverses the dims.
std::vector<int64_t> permOf(size_t rank, const Attributes &attrs) {
  std::vector<int64_t> perm;
  for (int64_t i = static_cast<int64_t>(rank) - 1; i >= 0; --i)
    perm.push_back(i);
  return attrs.getInts("perm", perm);
}

bool allowZeroOf(const Attributes &attrs) { return attrs.getInt("allowzero", 0) != 0; }

/// The `axis` attribute of Concat, Split and Gather (default 0), normalized on operand 0's rank.
llvm::Expected<int64_t> axisOf(OpKind op, const std::vector<Operand> &ops,
                               const Attributes &attrs) {
  if (ops.empty())
    return fail(fmt::format("{} expects at least 1 operand, found 0", nm(op)));
  return normAxis(op, attrs.getInt("axis", 0), ops[0].type.rank());
}

llvm::Expected<PadMode> padModeOf(const Attributes &attrs) {
  const std::string mode = attrs.getString("mode", "constant");
  if (mode == "constant")
    return PadMode::Constant;
  if (mode == "reflect")
    return PadMode::Reflect;
  if (mode == "edge")
    return PadMode::Edge;
  return fail(fmt::format("Pad expects mode constant, reflect or edge, found '{}'", mode));
}

/// Tile: one non-negative repeat per input dim, whose products with the dims int64 can count.
llvm::Expected<std::vector<int64_t>> tileRepeatsOf(const std::vector<Operand> &ops) {
  const OpKind op = OpKind::Tile;
  if (auto e = arity(op, ops, 2, 2))
    return e;
  auto rep = constInts(op, ops, 1, "repeats");
  if (!rep)
    return rep.takeError();
  const Shape &in = ops[0].type.shape;
  if (rep->size() != in.size() ||
      std::any_of(rep->begin(), rep->end(), [](int64_t r) { return r < 0; }))
    return fail(fmt::format("Tile expects {} non-negative repeats for {}, found [{}]", in.size(),
                            ts(ops[0]), fmt::join(*rep, ",")));
  for (size_t i = 0; i < in.size(); ++i) {
    int64_t d = 0;
    if (__builtin_mul_overflow(in[i], (*rep)[i], &d))
      return fail(fmt::format("Tile expects repeats [{}] for {} to give dimensions int64 can "
                              "count, found an overflow at axis {}",
                              fmt::join(*rep, ","), ts(ops[0]), i));
  }
  return rep;
}

/// Slice: per dim of the input, the first index, the step and the number of elements taken.
llvm::Expected<SliceParams> sliceDims(const std::vector<Operand> &ops) {
  const OpKind op = OpKind::Slice;
  if (auto e = arity(op, ops, 3, 5))
    return e;
  auto starts = constInts(op, ops, 1, "starts");
  if (!starts)
    return starts.takeError();
  auto ends = constInts(op, ops, 2, "ends");
  if (!ends)
    return ends.takeError();
  const Shape &in = ops[0].type.shape;
  int64_t rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> axes, steps(starts->size(), 1);
  if (ops.size() > 3) {
    auto a = constInts(op, ops, 3, "axes");
    if (!a)
      return a.takeError();
    axes = *a;
  } else {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(static_cast<int64_t>(i));
  }
  if (ops.size() > 4) {
    auto s = constInts(op, ops, 4, "steps");
    if (!s)
      return s.takeError();
    steps = *s;
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return fail(fmt::format("Slice expects starts, ends, axes and steps of one length, found {}, "
                            "{}, {} and {}",
                            starts->size(), ends->size(), axes.size(), steps.size()));
  SliceParams d;
  d.first.assign(in.size(), 0);
  d.step.assign(in.size(), 1);
  d.out = in;
  std::vector<bool> seen(in.size(), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    auto ax = normAxis(op, axes[i], rank);
    if (!ax)
      return ax.takeError();
    if (seen[*ax])
      return fail(fmt::format("Slice expects distinct axes, found axis {} twice", *ax));
    seen[*ax] = true;
    int64_t dim = in[*ax], step = steps[i], s = (*starts)[i], e = (*ends)[i];
    if (step == 0)
      return fail("Slice expects nonzero steps, found 0");
    SliceAxis a = sliceAxis(dim, s, e, step);
    d.first[*ax] = a.first;
    d.step[*ax] = step;
    d.out[*ax] = a.count;
  }
  return d;
}

llvm::Expected<std::vector<int64_t>> splitSizes(const std::vector<Operand> &ops,
                                                const Attributes &attrs, int64_t &axis) {
  const OpKind op = OpKind::Split;
  if (auto e = arity(op, ops, 1, 2))
    return e;
  auto ax = axisOf(op, ops, attrs);
  if (!ax)
    return ax.takeError();
  axis = *ax;
  int64_t dim = ops[0].type.shape[axis];
  if (ops.size() == 2) {
    auto s = constInts(op, ops, 1, "split");
    if (!s)
      return s.takeError();
    int64_t sum = 0;
    for (int64_t v : *s)
      sum += v;
    if (sum != dim || std::any_of(s->begin(), s->end(), [](int64_t v) { return v < 0; }))
      return fail(fmt::format("Split expects non-negative split sizes summing to {} (axis {} of "
                              "{}), found [{}]",
                              dim, axis, ts(ops[0]), fmt::join(*s, ",")));
    return *s;
  }
  int64_t n = attrs.getInt("num_outputs", 0);
  if (n < 1)
    return fail("Split without a split operand expects attribute num_outputs >= 1 (the number "
                "of results), found none");
  int64_t piece = ceilDiv(dim, n);
  std::vector<int64_t> sizes;
  int64_t left = dim;
  for (int64_t i = 0; i < n; ++i) {
    int64_t s = std::min(piece, left);
    sizes.push_back(s);
    left -= s;
  }
  if (piece * (n - 1) >= dim && dim > 0)
    return fail(fmt::format("Split expects axis {} of {} to split into {} non-empty pieces", axis,
                            ts(ops[0]), n));
  return sizes;
}

llvm::Expected<std::vector<int64_t>> padAmounts(const std::vector<Operand> &ops) {
  const OpKind op = OpKind::Pad;
  if (auto e = arity(op, ops, 2, 4))
    return e;
  auto p = constInts(op, ops, 1, "pads");
  if (!p)
    return p.takeError();
  int64_t rank = ops[0].type.rank();
  std::vector<int64_t> pads;
  if (ops.size() == 4) {
    // Opset-18 `axes` operand: pads cover only the listed axes.
    auto a = constInts(op, ops, 3, "axes");
    if (!a)
      return a.takeError();
    if (p->size() != 2 * a->size())
      return fail(fmt::format("Pad expects {} pads for {} axes, found {}", 2 * a->size(), a->size(),
                              p->size()));
    pads.assign(2 * rank, 0);
    for (size_t i = 0; i < a->size(); ++i) {
      auto ax = normAxis(op, (*a)[i], rank);
      if (!ax)
        return ax.takeError();
      pads[*ax] = (*p)[i];
      pads[rank + *ax] = (*p)[a->size() + i];
    }
  } else {
    pads = *p;
  }
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return fail(fmt::format("Pad expects {} pads for input {}, found {}", 2 * rank, ts(ops[0]),
                            pads.size()));
  for (int64_t i = 0; i < rank; ++i) {
    // Pads come from the model: the sum is checked for overflow before its sign.
    int64_t d = 0;
    if (__builtin_add_overflow(ops[0].type.shape[i], pads[i], &d) ||
        __builtin_add_overflow(d, pads[rank + i], &d))
      return fail(fmt::format("Pad expects pads giving dimensions int64 can count, found [{}] for "
                              "{}",
                              fmt::join(pads, ","), ts(ops[0])));
    if (d < 0)
      return fail(fmt::format("Pad expects pads leaving a non-negative dim {} of {}, found [{}]", i,
                              ts(ops[0]), fmt::join(pads, ",")));
  }
  return pads;
}

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

llvm::Expected<Types> inferReshape(const std::vector<Operand> &ops, const Attributes &attrs) {
  const OpKind op = OpKind::Reshape;
  if (auto e = arity(op, ops, 2, 2))
    return e;
  auto shape = constInts(op, ops, 1, "shape");
  if (!shape)
    return shape.takeError();
  const Shape &in = ops[0].type.shape;
  bool allowZero = allowZeroOf(attrs);
  Shape out = *shape;
  int inferAt = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0 && !allowZero) {
      if (i >= in.size())
        return fail(fmt::format("Reshape expects shape entry {} = 0 to copy an input dim, found "
                                "input {}",
                                i, ts(ops[0])));
      out[i] = in[i];
    }
    if (out[i] == -1) {
      if (inferAt >= 0)
        return fail(
            fmt::format("Reshape expects at most one -1 in shape [{}]", fmt::join(*shape, ",")));
      inferAt = static_cast<int>(i);
      continue;
    }
    if (out[i] < 0)
      return fail(
          fmt::format("Reshape expects shape entries >= -1, found [{}]", fmt::join(*shape, ",")));
    // Shape entries come from the model: their product may not fit in int64.
    if (__builtin_mul_overflow(known, out[i], &known))
      return fail(fmt::format("Reshape expects shape [{}] to hold {} elements of input {}, found "
                              "more than int64 can count",
                              fmt::join(*shape, ","), numElements(in), ts(ops[0])));
  }
  int64_t total = numElements(in);
  if (inferAt >= 0) {
    if (known == 0 || total % known != 0)
      return fail(fmt::format("Reshape cannot infer the -1 in shape [{}] for input {}",
                              fmt::join(*shape, ","), ts(ops[0])));
    out[inferAt] = total / known;
  } else if (known != total) {
    return fail(fmt::format("Reshape expects shape [{}] to hold {} elements of input {}, found {}",
                            fmt::join(*shape, ","), total, ts(ops[0]), known));
  }
  return Types{rowMajor(ops[0].type.dtype(), out)};
}

llvm::Expected<Types> inferConcat(const std::vector<Operand> &ops, const Attributes &attrs) {
  const OpKind op = OpKind::Concat;
  if (ops.empty())
    return fail("Concat expects at least 1 operand, found 0");
  auto ax = axisOf(op, ops, attrs);
  if (!ax)
    return ax.takeError();
  Shape out = ops[0].type.shape;
  for (size_t i = 1; i < ops.size(); ++i) {
    const Shape &s = ops[i].type.shape;
    bool ok = s.size() == out.size() && ops[i].type.dtype() == ops[0].type.dtype();
    for (size_t d = 0; ok && d < s.size(); ++d)
      ok = static_cast<int64_t>(d) == *ax || s[d] == out[d];
    if (!ok)
      return fail(fmt::format("Concat expects operands matching {} except on axis {}, found {}",
                              ts(ops[0]), *ax, ts(ops[i])));
    out[*ax] += s[*ax];
  }
  return Types{rowMajor(ops[0].type.dtype(), out)};
}

llvm::Expected<Types> inferSqueeze(OpKind op, const std::vector<Operand> &ops) {
  bool squeeze = op == OpKind::Squeeze;
  if (auto e = arity(op, ops, squeeze ? 1 : 2, 2))
    return e;
  const Shape &in = ops[0].type.shape;
  std::vector<int64_t> axes;
  if (ops.size() == 2) {
    auto a = constInts(op, ops, 1, "axes");
    if (!a)
      return a.takeError();
    axes = *a;
  }
  if (squeeze) {
    std::vector<bool> drop(in.size(), false);
    if (ops.size() == 1) {
      for (size_t i = 0; i < in.size(); ++i)
        drop[i] = in[i] == 1;
    }
    for (int64_t a : axes) {
      auto ax = normAxis(op, a, static_cast<int64_t>(in.size()));
      if (!ax)
        return ax.takeError();
      if (in[*ax] != 1)
        return fail(fmt::format("Squeeze expects dim {} of size 1, found {}", *ax, ts(ops[0])));
      drop[*ax] = true;
    }
    Shape out;
    for (size_t i = 0; i < in.size(); ++i)
      if (!drop[i])
        out.push_back(in[i]);
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  int64_t rank = static_cast<int64_t>(in.size() + axes.size());
  std::vector<bool> ins(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    auto ax = normAxis(op, a, rank);
    if (!ax)
      return ax.takeError();
    if (ins[*ax])
      return fail(fmt::format("Unsqueeze expects distinct axes, found [{}]", fmt::join(axes, ",")));
    ins[*ax] = true;
  }
  Shape out;
  size_t k = 0;
  for (int64_t i = 0; i < rank; ++i)
    out.push_back(ins[i] ? 1 : in[k++]);
  return Types{rowMajor(ops[0].type.dtype(), out)};
}

llvm::Expected<Types> inferRule(OpKind op, const std::vector<Operand> &ops,
                                const Attributes &attrs) {
  switch (op) {
  case OpKind::Concat:
    return inferConcat(ops, attrs);
  case OpKind::Split: {
    int64_t axis = 0;
    auto sizes = splitSizes(ops, attrs, axis);
    if (!sizes)
      return sizes.takeError();
    Types r;
    for (int64_t s : *sizes) {
      Shape sh = ops[0].type.shape;
      sh[axis] = s;
      r.push_back(rowMajor(ops[0].type.dtype(), sh));
    }
    return r;
  }
  case OpKind::Reshape:
    return inferReshape(ops, attrs);
  case OpKind::Flatten: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    const Shape &in = ops[0].type.shape;
    auto ax = normAxis(op, attrs.getInt("axis", 1), static_cast<int64_t>(in.size()), true);
    if (!ax)
      return ax.takeError();
    int64_t a = numElements(Shape(in.begin(), in.begin() + *ax));
    int64_t b = numElements(Shape(in.begin() + *ax, in.end()));
    return Types{rowMajor(ops[0].type.dtype(), {a, b})};
  }
  case OpKind::DepthToSpace: {
    auto t = inferDepthToSpace(ops, attrs);
    if (!t)
      return t.takeError();
    return Types{*t};
  }
  case OpKind::Transpose: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    const Shape &in = ops[0].type.shape;
    const std::vector<int64_t> perm = permOf(in.size(), attrs);
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    bool ok = perm.size() == in.size();
    for (size_t i = 0; ok && i < sorted.size(); ++i)
      ok = sorted[i] == static_cast<int64_t>(i);
    if (!ok)
      return fail(fmt::format("Transpose expects perm to be a permutation of 0..{}, found [{}] for "
                              "{}",
                              static_cast<int64_t>(in.size()) - 1, fmt::join(perm, ","),
                              ts(ops[0])));
    Shape out;
    for (int64_t p : perm)
      out.push_back(in[p]);
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  case OpKind::Squeeze:
  case OpKind::Unsqueeze:
    return inferSqueeze(op, ops);
  case OpKind::Slice: {
    auto d = sliceDims(ops);
    if (!d)
      return d.takeError();
    return Types{rowMajor(ops[0].type.dtype(), d->out)};
  }
  case OpKind::Gather: {
    if (auto e = arity(op, ops, 2, 2))
      return e;
    if (isFloat(ops[1].type.dtype()) || ops[1].type.dtype() == DType::Bool)
      return fail(fmt::format("Gather expects integer indices, found {}", ts(ops[1])));
    const Shape &in = ops[0].type.shape;
    if (in.empty())
      return fail(fmt::format("Gather expects data of rank >= 1, found {}", ts(ops[0])));
    auto ax = axisOf(op, ops, attrs);
    if (!ax)
      return ax.takeError();
    Shape out(in.begin(), in.begin() + *ax);
    out.insert(out.end(), ops[1].type.shape.begin(), ops[1].type.shape.end());
    out.insert(out.end(), in.begin() + *ax + 1, in.end());
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  case OpKind::Expand: {
    if (auto e = arity(op, ops, 2, 2))
      return e;
    auto shape = constInts(op, ops, 1, "shape");
    if (!shape)
      return shape.takeError();
    auto s = broadcast(op, {ops[0].type.shape, *shape}, ops);
    if (!s)
      return s.takeError();
    return Types{rowMajor(ops[0].type.dtype(), *s)};
  }
  case OpKind::Tile: {
    auto rep = tileRepeatsOf(ops);
    if (!rep)
      return rep.takeError();
    Shape out = ops[0].type.shape;
    for (size_t i = 0; i < out.size(); ++i)
      out[i] *= (*rep)[i];
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  case OpKind::Pad: {
    auto p = padAmounts(ops);
    if (!p)
      return p.takeError();
    if (auto mode = padModeOf(attrs); !mode)
      return mode.takeError();
    Shape out = ops[0].type.shape;
    size_t r = out.size();
    for (size_t i = 0; i < r; ++i)
      out[i] += (*p)[i] + (*p)[r + i];
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  case OpKind::Identity: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    return Types{rowMajor(ops[0].type.dtype(), ops[0].type.shape)};
  }
  default:
    break;
  }
  return fail(fmt::format("{} has no type inference rule", nm(op)));
}

Tensors evalConcat(const Tensors &xs, int64_t axis, const TensorType &rt) {
  size_t es = dtypeSize(rt.dtype());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= rt.shape[d];
  for (size_t d = axis + 1; d < rt.shape.size(); ++d)
    inner *= rt.shape[d];
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(rt.numElements()) * es);
  for (int64_t o = 0; o < outer; ++o)
    for (const Tensor &t : xs) {
      size_t chunk = static_cast<size_t>(t.shape[axis] * inner) * es;
      const uint8_t *p = t.raw() + o * chunk;
      out.insert(out.end(), p, p + chunk);
    }
  return Tensors{Tensor(rt.dtype(), rt.shape, std::move(out))};
}

Tensors evalSplit(const Tensor &x, int64_t axis, const std::vector<TensorType> &rts) {
  size_t es = dtypeSize(x.dtype);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.shape[d];
  for (size_t d = axis + 1; d < x.shape.size(); ++d)
    inner *= x.shape[d];
  Tensors r;
  int64_t offset = 0;
  for (const TensorType &rt : rts) {
    int64_t len = rt.shape[axis];
    std::vector<uint8_t> out;
    for (int64_t o = 0; o < outer; ++o) {
      const uint8_t *p = x.raw() + ((o * x.shape[axis] + offset) * inner) * es;
      out.insert(out.end(), p, p + len * inner * es);
    }
    offset += len;
    r.push_back(Tensor(rt.dtype(), rt.shape, std::move(out)));
  }
  return r;
}

Tensors evalTranspose(const Tensor &x, const Attributes &attrs, const TensorType &rt) {
  const std::vector<int64_t> perm = permOf(x.shape.size(), attrs);
  std::vector<int64_t> map(static_cast<size_t>(rt.numElements())), o, in(x.shape.size());
  for (size_t k = 0; k < map.size(); ++k) {
    unravel(static_cast<int64_t>(k), rt.shape, o);
    for (size_t d = 0; d < perm.size(); ++d)
      in[perm[d]] = o[d];
    map[k] = ravel(in, x.shape);
  }
  return Tensors{pick(x, map, rt.shape)};
}

Tensors evalSlice(const Tensor &x, const SliceParams &s, const TensorType &rt) {
  std::vector<int64_t> map(static_cast<size_t>(rt.numElements())), o, in(x.shape.size());
  for (size_t k = 0; k < map.size(); ++k) {
    unravel(static_cast<int64_t>(k), rt.shape, o);
    for (size_t d = 0; d < o.size(); ++d)
      in[d] = s.first[d] + o[d] * s.step[d];
    map[k] = ravel(in, x.shape);
  }
  return Tensors{pick(x, map, rt.shape)};
}

llvm::Expected<Tensors> evalGather(const Tensor &x, const Tensor &indices, int64_t axis,
                                   const TensorType &rt) {
  int64_t pre = 1, post = 1, dim = x.shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    pre *= x.shape[d];
  for (size_t d = axis + 1; d < x.shape.size(); ++d)
    post *= x.shape[d];
  std::vector<int64_t> idx = indices.toInts(), map;
  for (int64_t &i : idx) {
    if (i < -dim || i >= dim)
      return fail(fmt::format("Gather expects indices in [{}, {}), found {}", -dim, dim, i));
    if (i < 0)
      i += dim;
  }
  map.reserve(static_cast<size_t>(rt.numElements()));
  for (int64_t o = 0; o < pre; ++o)
    for (int64_t i : idx)
      for (int64_t in = 0; in < post; ++in)
        map.push_back((o * dim + i) * post + in);
  return Tensors{pick(x, map, rt.shape)};
}

Tensors evalTile(const Tensor &x, const TensorType &rt) {
  std::vector<int64_t> map(static_cast<size_t>(rt.numElements())), o;
  for (size_t k = 0; k < map.size(); ++k) {
    unravel(static_cast<int64_t>(k), rt.shape, o);
    for (size_t d = 0; d < o.size(); ++d)
      o[d] %= x.shape[d];
    map[k] = ravel(o, x.shape);
  }
  return Tensors{pick(x, map, rt.shape)};
}

Tensors evalPad(const Tensors &xs, const std::vector<int64_t> &pads, PadMode mode,
                const TensorType &rt) {
  const Tensor &x = xs[0];
  double cv = xs.size() > 2 && xs[2].numElements() == 1 ? xs[2].getDouble(0) : 0.0;
  Tensor fill = xs.size() > 2 && xs[2].numElements() == 1 && xs[2].dtype == x.dtype
                    ? xs[2]
                    : Tensor::fromDoubles(x.dtype, {}, {cv});
  size_t r = x.shape.size();
  std::vector<int64_t> map(static_cast<size_t>(rt.numElements())), o;
  for (size_t k = 0; k < map.size(); ++k) {
    unravel(static_cast<int64_t>(k), rt.shape, o);
    bool outside = false;
    for (size_t d = 0; d < r; ++d) {
      int64_t i = o[d] - pads[d], n = x.shape[d];
      if (i >= 0 && i < n) {
        o[d] = i;
        continue;
      }
      if (mode == PadMode::Edge) {
        i = std::clamp<int64_t>(i, 0, n - 1);
      } else if (mode == PadMode::Reflect) {
        // Mirror without repeating the edge; loops only when pads exceed the dim.
        while (n > 1 && (i < 0 || i >= n))
          i = i < 0 ? -i : 2 * (n - 1) - i;
        if (n == 1)
          i = 0;
      } else {
        outside = true;
      }
      o[d] = i;
    }
    map[k] = outside ? -1 : ravel(o, x.shape);
  }
  return Tensors{pick(x, map, rt.shape, &fill)};
}

llvm::Expected<Tensors> evaluateRule(OpKind op, const Tensors &xs, const Attributes &attrs,
                                     const Types &rts) {
  const std::vector<Operand> ops = operandsOf(xs);
  const TensorType &rt = rts[0];
  switch (op) {
  case OpKind::Concat: {
    auto ax = axisOf(op, ops, attrs);
    if (!ax)
      return ax.takeError();
    return evalConcat(xs, *ax, rt);
  }
  case OpKind::Split: {
    int64_t axis = 0;
    Attributes a = attrs;
    if (!a.has("num_outputs"))
      a.set("num_outputs", static_cast<int64_t>(rts.size()));
    auto sizes = splitSizes(ops, a, axis);
    if (!sizes)
      return sizes.takeError();
    return evalSplit(xs[0], axis, rts);
  }
  case OpKind::Reshape:
  case OpKind::Flatten:
  case OpKind::Squeeze:
  case OpKind::Unsqueeze:
  case OpKind::Identity:
    return Tensors{reshaped(xs[0], rt.shape)};
  case OpKind::Transpose:
    return evalTranspose(xs[0], attrs, rt);
  case OpKind::DepthToSpace: {
    auto y = evalDepthToSpace(xs[0], attrs);
    if (!y)
      return y.takeError();
    return Tensors{std::move(*y)};
  }
  case OpKind::Slice: {
    auto s = sliceDims(ops);
    if (!s)
      return s.takeError();
    return evalSlice(xs[0], *s, rt);
  }
  case OpKind::Gather: {
    auto ax = axisOf(op, ops, attrs);
    if (!ax)
      return ax.takeError();
    return evalGather(xs[0], xs[1], *ax, rt);
  }
  case OpKind::Expand:
    return Tensors{pick(xs[0], broadcastMap(xs[0].shape, rt.shape), rt.shape)};
  case OpKind::Tile:
    return evalTile(xs[0], rt);
  case OpKind::Pad: {
    auto p = padAmounts(ops);
    if (!p)
      return p.takeError();
    auto mode = padModeOf(attrs);
    if (!mode)
      return mode.takeError();
    return evalPad(xs, *p, *mode, rt);
  }
  default:
    break;
  }
  return fail(fmt::format("{} has no evaluation rule", nm(op)));
}

std::vector<ShapeOperand> shapeOperandsRule(OpKind op) {
  // The operands that infer() reads through constInts.
  switch (op) {
  case OpKind::Reshape:
  case OpKind::Expand:
    return {{1, "shape"}};
  case OpKind::Tile:
    return {{1, "repeats"}};
  case OpKind::Squeeze:
  case OpKind::Unsqueeze:
    return {{1, "axes"}};
  case OpKind::Split:
    return {{1, "split"}};
  case OpKind::Slice:
    return {{1, "starts"}, {2, "ends"}, {3, "axes"}, {4, "steps"}};
  case OpKind::Pad:
    return {{1, "pads"}, {3, "axes"}};
  default:
    return {};
  }
}

} // namespace

const FamilyRules kMovementRules = {&inferRule, &evaluateRule, &shapeOperandsRule};

} // namespace sem

llvm::Expected<SliceParams> sliceParams(const Node &n) {
  return sem::sliceDims(sem::nodeOperands(n));
}

llvm::Expected<DepthToSpaceParams> depthToSpaceParams(const Node &n) {
  return sem::depthToSpaceParams(sem::nodeOperands(n), n.attrs());
}

std::vector<int64_t> transposePerm(const Node &n) {
  return sem::permOf(n.numOperands() ? static_cast<size_t>(n.operand(0)->type().rank()) : 0,
                     n.attrs());
}

bool reshapeAllowZero(const Node &n) { return sem::allowZeroOf(n.attrs()); }

llvm::Expected<int64_t> concatAxis(const Node &n) {
  return sem::axisOf(OpKind::Concat, sem::nodeOperands(n), n.attrs());
}

llvm::Expected<int64_t> splitAxis(const Node &n) {
  return sem::axisOf(OpKind::Split, sem::nodeOperands(n), n.attrs());
}

llvm::Expected<int64_t> gatherAxis(const Node &n) {
  return sem::axisOf(OpKind::Gather, sem::nodeOperands(n), n.attrs());
}

llvm::Expected<std::vector<int64_t>> tileRepeats(const Node &n) {
  return sem::tileRepeatsOf(sem::nodeOperands(n));
}

llvm::Expected<PadParams> padParams(const Node &n) {
  const std::vector<sem::Operand> ops = sem::nodeOperands(n);
  auto pads = sem::padAmounts(ops);
  if (!pads)
    return pads.takeError();
  auto mode = sem::padModeOf(n.attrs());
  if (!mode)
    return mode.takeError();
  const size_t r = pads->size() / 2;
  return PadParams{*mode, std::vector<int64_t>(pads->begin(), pads->begin() + r),
                   std::vector<int64_t>(pads->begin() + r, pads->end())};
}

} // namespace kiln
