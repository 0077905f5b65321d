// Kernel selection for data movement: Concat, Split, Reshape, Flatten, Squeeze, Unsqueeze,
// Identity, Dropout, Transpose, Slice, Gather, Expand, Tile, Pad and Cast. Every choice
// instantiates a template of codegen/kernels/movement.h on raw bytes. Before printing, the selector
// reduces each op to the fewest dimensions that describe it (size-1 dims dropped, dims that stay
// adjacent merged, a contiguous innermost run folded into the element size), so a few generic
// templates serve every rank and the common cases end up as a handful of large memcpys.
#include "codegen/KernelSelect.h"
#include "ir/OpParams.h"
#include "ir/Semantics.h"

#include <fmt/format.h>

#include <algorithm>

namespace kiln {

namespace {

int64_t product(const Shape &s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < s.size(); ++i)
    p *= s[i];
  return p;
}

/// Row-major strides in elements.
std::vector<int64_t> stridesOf(const Shape &s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;)
    st[i - 1] = st[i] * s[i];
  return st;
}

/// Every operand and result must be dense row-major: the kernels address bytes by logical index.
llvm::Error checkRowMajor(const Node &n) {
  for (const auto *vals : {&n.operands(), &n.results()})
    for (const Value *v : *vals)
      if (!v->type().layout.isRowMajor())
        return selectError(n, fmt::format("expected row-major layout for '{}', found {}", v->name(),
                                          typeString(v->type())));
  return llvm::Error::success();
}

llvm::Expected<std::vector<int64_t>> constantInts(const Node &n, unsigned i, const char *what) {
  const Value *v = n.operand(i);
  if (!v->isConstant())
    return selectError(n, fmt::format("expected {} to be a constant, found the computed value '{}'",
                                      what, v->name()));
  return v->constant().toInts();
}

llvm::Error checkResultShape(const Node &n, unsigned r, const Shape &expected) {
  const Shape &found = n.result(r)->type().shape;
  if (found != expected)
    return selectError(n, fmt::format("expected result shape {}, found {}", shapeString(expected),
                                      shapeString(found)));
  return llvm::Error::success();
}

KernelDecision decision(std::vector<KernelCall> calls) {
  KernelDecision d;
  d.variant = Variant::Movement;
  d.calls = std::move(calls);
  d.bytePointers = true;
  return d;
}

std::vector<TemplateArg> ints(std::initializer_list<int64_t> v) {
  std::vector<TemplateArg> out;
  for (int64_t x : v)
    out.push_back(TemplateArg::integer(x));
  return out;
}

/// Marks result i unused: a call that needs no code still names the pointer it would write.
KernelCall unused(unsigned i) { return {Kernel::Unused, {}, {CallArg::result(i)}, false}; }

/// A result with no elements needs no code; the decision still names the pointers so that an
/// emitter never sees them unused.
KernelDecision nothingToMove(const Node &n) {
  KernelDecision d = decision({});
  d.noWork = KernelDecision::NoWork::EmptyResult;
  for (unsigned i = 0; i < n.numResults(); ++i)
    d.calls.push_back(unused(i));
  return d;
}

/// A dense result over `dims` whose element k reads the E-byte element at in + base + sum(ik *
/// strides[k]). Collapses it to the fewest dimensions and prints one kiln_mv_view call.
KernelDecision viewCall(int64_t elemBytes, std::vector<int64_t> dims, std::vector<int64_t> strides,
                        CallArg in) {
  std::vector<int64_t> d, s;
  for (size_t k = 0; k < dims.size(); ++k) {
    if (dims[k] == 1)
      continue; // index always 0: contributes nothing
    if (!d.empty() && s.back() == strides[k] * dims[k]) {
      d.back() *= dims[k]; // stays adjacent: one longer dimension
      s.back() = strides[k];
      continue;
    }
    d.push_back(dims[k]);
    s.push_back(strides[k]);
  }
  // A contiguous innermost dimension becomes part of the element: one memcpy per row.
  if (!d.empty() && s.back() == elemBytes) {
    elemBytes *= d.back();
    d.pop_back();
    s.pop_back();
  }
  return decision({{Kernel::MvView,
                    {TemplateArg::integer(elemBytes), TemplateArg::ints(d), TemplateArg::ints(s)},
                    {CallArg::result(0), in},
                    false}});
}

llvm::Expected<KernelDecision> selectCopy(const Node &n) {
  const TensorType &in = n.operand(0)->type(), &out = n.result(0)->type();
  if (in.dtype() != out.dtype() || in.numElements() != out.numElements())
    return selectError(
        n, fmt::format("expected a result with the operand's dtype and element count ({}), "
                       "found {}",
                       typeString(in), typeString(out)));
  KernelDecision k = decision(
      {{Kernel::MvCopy, ints({in.byteSize()}), {CallArg::result(0), CallArg::operand(0)}, false}});
  if (n.op() == OpKind::Dropout) {
    if (n.numOperands() > 2) {
      const Value *training = n.operand(2);
      if (!training->isConstant() || training->constant().numElements() != 1 ||
          training->constant().getInt(0) != 0)
        return selectError(n, "expected training_mode to be a constant false, found '" +
                                  training->name() + "'");
    }
    // Inference-mode Dropout keeps everything: the optional mask is all true.
    if (n.numResults() > 1)
      k.calls.push_back({Kernel::MvSet,
                         ints({n.result(1)->type().numElements()}),
                         {CallArg::result(1), CallArg::integer(1)},
                         false});
  }
  k.resultIsOperandView = n.numResults() == 1;
  return k;
}

llvm::Expected<KernelDecision> selectConcat(const Node &n) {
  const TensorType &out = n.result(0)->type();
  if (out.rank() == 0)
    return selectError(n, "expected a result of rank >= 1, found a scalar");
  auto axis = concatAxis(n);
  if (!axis)
    return selectError(n, llvm::toString(axis.takeError()));
  const int64_t e = static_cast<int64_t>(dtypeSize(out.dtype()));
  const int64_t outer = product(out.shape, 0, *axis);
  const int64_t total = product(out.shape, *axis, out.shape.size()) * e;
  KernelDecision d = decision({});
  // Shape inference checked that the operands match the result except along the axis, where
  // their extents sum to the result's.
  int64_t offset = 0;
  for (unsigned i = 0; i < n.numOperands(); ++i) {
    const TensorType &t = n.operand(i)->type();
    const int64_t chunk = product(t.shape, *axis, t.shape.size()) * e;
    if (chunk == 0 || outer == 0)
      continue;
    d.calls.push_back({Kernel::MvRows,
                       ints({outer, chunk, total, chunk}),
                       {CallArg::result(0, offset), CallArg::operand(i)},
                       false});
    offset += chunk;
  }
  if (d.calls.empty())
    return nothingToMove(n);
  return d;
}

llvm::Expected<KernelDecision> selectSplit(const Node &n) {
  const TensorType &in = n.operand(0)->type();
  if (in.rank() == 0)
    return selectError(n, "expected an operand of rank >= 1, found a scalar");
  auto axis = splitAxis(n);
  if (!axis)
    return selectError(n, llvm::toString(axis.takeError()));
  // The result types carry the split: shape inference checked them against the split operand
  // or num_outputs, and that they cover the operand along the axis.
  const int64_t e = static_cast<int64_t>(dtypeSize(in.dtype()));
  const int64_t outer = product(in.shape, 0, *axis);
  const int64_t total = product(in.shape, *axis, in.shape.size()) * e;
  KernelDecision d = decision({});
  int64_t offset = 0;
  for (unsigned i = 0; i < n.numResults(); ++i) {
    const TensorType &t = n.result(i)->type();
    const int64_t chunk = product(t.shape, *axis, t.shape.size()) * e;
    if (chunk == 0 || outer == 0)
      d.calls.push_back(unused(i));
    else
      d.calls.push_back({Kernel::MvRows,
                         ints({outer, chunk, chunk, total}),
                         {CallArg::result(i), CallArg::operand(0, offset)},
                         false});
    offset += chunk;
  }
  return d;
}

/// DepthToSpace as one strided view: the result walked as [N, C', H, b, W, b] reads input channel
/// (i b + j) C' + c (DCR) or c b^2 + i b + j (CRD) at (h, w); the view kernel merges what it can.
llvm::Expected<KernelDecision> selectDepthToSpace(const Node &n) {
  auto p = depthToSpaceParams(n);
  if (!p)
    return selectError(n, llvm::toString(p.takeError()));
  const TensorType &in = n.operand(0)->type();
  const int64_t b = p->blocksize, N = in.shape[0], C = in.shape[1] / (b * b), H = in.shape[2],
                W = in.shape[3];
  const int64_t e = static_cast<int64_t>(dtypeSize(in.dtype()));
  const int64_t plane = H * W;
  // Strides of (n, c, h, i, w, j) in input elements.
  const int64_t sc = p->crd ? b * b * plane : plane, si = p->crd ? b * plane : b * C * plane,
                sj = p->crd ? plane : C * plane;
  std::vector<int64_t> dims = {N, C, H, b, W, b};
  std::vector<int64_t> strides = {C * b * b * plane * e, sc * e, W * e, si * e, e, sj * e};
  if (in.numElements() == 0)
    return nothingToMove(n);
  return viewCall(e, dims, strides, CallArg::operand(0));
}

llvm::Expected<KernelDecision> selectTranspose(const Node &n) {
  const TensorType &in = n.operand(0)->type();
  // The verifier checked that perm permutes the input's dims.
  const std::vector<int64_t> perm = transposePerm(n);
  const int64_t e = static_cast<int64_t>(dtypeSize(in.dtype()));
  std::vector<int64_t> st = stridesOf(in.shape), dims, strides;
  for (int64_t p : perm) {
    dims.push_back(in.shape[p]);
    strides.push_back(st[p] * e);
  }
  if (auto err = checkResultShape(n, 0, dims))
    return err;
  if (in.numElements() == 0)
    return nothingToMove(n);
  return viewCall(e, dims, strides, CallArg::operand(0));
}

llvm::Expected<KernelDecision> selectSlice(const Node &n) {
  // Bounds, axes and steps are valid once the verifier has typed the node; ir's sliceParams
  // applies ONNX's clamping, the rule shape inference used.
  const TensorType &in = n.operand(0)->type();
  const int rank = in.rank();
  auto p = sliceParams(n);
  if (!p)
    return selectError(n, llvm::toString(p.takeError()));
  const int64_t e = static_cast<int64_t>(dtypeSize(in.dtype()));
  std::vector<int64_t> st = stridesOf(in.shape);
  std::vector<int64_t> dims = p->out, strides(rank);
  const std::vector<int64_t> &first = p->first, &step = p->step;
  int64_t base = 0;
  for (int d = 0; d < rank; ++d) {
    strides[d] = st[d] * step[d] * e;
    base += first[d] * st[d] * e;
  }
  if (numElements(dims) == 0)
    return nothingToMove(n);
  return viewCall(e, dims, strides, CallArg::operand(0, base));
}

llvm::Expected<KernelDecision> selectGather(const Node &n) {
  const TensorType &data = n.operand(0)->type(), &idx = n.operand(1)->type();
  auto axis = gatherAxis(n);
  if (!axis)
    return selectError(n, llvm::toString(axis.takeError()));
  if (data.rank() == 0)
    return selectError(n, "expected data of rank >= 1, found a scalar");
  if (idx.dtype() != DType::I64 && idx.dtype() != DType::I32)
    return selectError(
        n, fmt::format("expected int64 or int32 indices, found {}", dtypeName(idx.dtype())));
  Shape expect(data.shape.begin(), data.shape.begin() + *axis);
  expect.insert(expect.end(), idx.shape.begin(), idx.shape.end());
  expect.insert(expect.end(), data.shape.begin() + *axis + 1, data.shape.end());
  if (auto err = checkResultShape(n, 0, expect))
    return err;
  const int64_t axisDim = data.shape[*axis];
  // Constant indices are checked now; runtime ones are clamped by the kernel.
  if (n.operand(1)->isConstant())
    for (int64_t i : n.operand(1)->constant().toInts())
      if (i < -axisDim || i >= axisDim)
        return selectError(
            n, fmt::format("expected indices in [{}, {}), found {}", -axisDim, axisDim, i));
  if (numElements(expect) == 0)
    return nothingToMove(n);
  const int64_t e = static_cast<int64_t>(dtypeSize(data.dtype()));
  std::vector<TemplateArg> targs = ints({product(data.shape, 0, *axis), axisDim, idx.numElements(),
                                         product(data.shape, *axis + 1, data.shape.size()) * e});
  targs.push_back(TemplateArg::dtype(idx.dtype()));
  return decision({{Kernel::MvGather,
                    std::move(targs),
                    {CallArg::result(0), CallArg::operand(0), CallArg::operand(1)},
                    false}});
}

llvm::Expected<KernelDecision> selectExpand(const Node &n) {
  const TensorType &in = n.operand(0)->type(), &out = n.result(0)->type();
  if (in.rank() > out.rank())
    return selectError(
        n, fmt::format("expected a result of rank >= {}, found {}", in.rank(), typeString(out)));
  const int64_t e = static_cast<int64_t>(dtypeSize(in.dtype()));
  const int lead = out.rank() - in.rank();
  std::vector<int64_t> st = stridesOf(in.shape), strides(out.rank(), 0);
  for (int d = 0; d < in.rank(); ++d) {
    const int64_t from = in.shape[d], to = out.shape[lead + d];
    if (from != to && from != 1)
      return selectError(
          n, fmt::format("expected {} to broadcast to {}, found dim {} of size {} vs {}",
                         shapeString(in.shape), shapeString(out.shape), d, from, to));
    strides[lead + d] = from == to ? st[d] * e : 0; // broadcast dims re-read the same element
  }
  if (in.dtype() != out.dtype())
    return selectError(n, fmt::format("expected result dtype {}, found {}", dtypeName(in.dtype()),
                                      dtypeName(out.dtype())));
  if (out.numElements() == 0)
    return nothingToMove(n);
  return viewCall(e, out.shape, strides, CallArg::operand(0));
}

llvm::Expected<KernelDecision> selectTile(const Node &n) {
  const TensorType &in = n.operand(0)->type();
  auto reps = constantInts(n, 1, "repeats");
  if (!reps)
    return reps.takeError();
  // Shape inference checked one non-negative repeat per dim and the result shape.
  const int64_t e = static_cast<int64_t>(dtypeSize(in.dtype()));
  // Each dimension d becomes (repeat, d): the repeat index re-reads the same block (stride 0).
  std::vector<int64_t> st = stridesOf(in.shape), dims, strides;
  Shape expect;
  for (int d = 0; d < in.rank(); ++d) {
    dims.insert(dims.end(), {(*reps)[d], in.shape[d]});
    strides.insert(strides.end(), {0, st[d] * e});
    expect.push_back(in.shape[d] * (*reps)[d]);
  }
  if (numElements(expect) == 0)
    return nothingToMove(n);
  return viewCall(e, dims, strides, CallArg::operand(0));
}

/// The bytes of `value` element 0 as dtype t.
std::vector<int64_t> valueBytes(const Tensor &value, DType t) {
  Tensor conv = value.dtype == t ? value : Tensor::fromDoubles(t, {1}, {value.getDouble(0)});
  std::vector<int64_t> bytes;
  for (size_t i = 0; i < dtypeSize(t); ++i)
    bytes.push_back(conv.raw()[i]);
  return bytes;
}

llvm::Expected<KernelDecision> selectPad(const Node &n) {
  const TensorType &in = n.operand(0)->type();
  const int rank = in.rank();
  if (n.numOperands() < 2 || n.numOperands() > 4)
    return selectError(
        n, fmt::format("expected operands data, pads[, constant_value[, axes]], found {} operands",
                       n.numOperands()));
  // The verifier checked the pads (one begin and end per dim, leaving no dim negative) and the
  // mode; the kernel cannot reflect or repeat the border of a dim that cropping leaves empty.
  auto params = padParams(n);
  if (!params)
    return selectError(n, llvm::toString(params.takeError()));
  const int mode = params->mode == PadMode::Constant ? 0 : params->mode == PadMode::Reflect ? 1 : 2;
  const char *modeName = mode == 0 ? "constant" : mode == 1 ? "reflect" : "edge";
  std::vector<int64_t> outDims, begins, inDims;
  Shape expect;
  for (int d = 0; d < rank; ++d) {
    const int64_t b = params->begins[d], en = params->ends[d], dim = in.shape[d];
    expect.push_back(dim + b + en);
    if (mode != 0 && expect.back() > 0 &&
        dim + std::min<int64_t>(b, 0) + std::min<int64_t>(en, 0) <= 0)
      return selectError(n, fmt::format("expected a non-empty dim {} to {} from, found size {}", d,
                                        modeName, dim));
    outDims.push_back(expect.back());
    begins.push_back(b);
    inDims.push_back(dim);
  }
  if (auto err = checkResultShape(n, 0, expect))
    return err;
  if (numElements(expect) == 0)
    return nothingToMove(n);
  // A negative begin crops inside the kernel (result index o reads o - begin); a negative end
  // needs no code, the result simply stops early.
  int64_t e = static_cast<int64_t>(dtypeSize(in.dtype()));
  // Unpadded dims: drop size-1 ones, merge adjacent ones, fold a trailing run into the element.
  std::vector<int64_t> od, bd, id;
  for (int d = 0; d < rank; ++d) {
    const bool unpadded = outDims[d] == inDims[d] && begins[d] == 0;
    if (unpadded && inDims[d] == 1)
      continue;
    if (unpadded && !od.empty() && bd.back() == 0 && od.back() == id.back()) {
      od.back() *= inDims[d];
      id.back() *= inDims[d];
      continue;
    }
    od.push_back(outDims[d]);
    bd.push_back(begins[d]);
    id.push_back(inDims[d]);
  }
  if (!od.empty() && bd.back() == 0 && od.back() == id.back()) {
    e *= od.back();
    od.pop_back();
    bd.pop_back();
    id.pop_back();
  }
  auto pad = [&](CallArg value) {
    return KernelCall{Kernel::MvPad,
                      {TemplateArg::integer(mode), TemplateArg::integer(e), TemplateArg::ints(od),
                       TemplateArg::ints(bd), TemplateArg::ints(id)},
                      {CallArg::result(0), CallArg::operand(0), value},
                      false};
  };
  if (mode != 0)
    return decision({pad(CallArg::null())});
  Tensor value = Tensor::fromDoubles(in.dtype(), {1}, {0.0});
  if (n.numOperands() > 2) {
    const Value *v = n.operand(2);
    if (v->type().numElements() != 1 || v->type().dtype() != in.dtype())
      return selectError(n, fmt::format("expected constant_value to be one {} element, found '{}' "
                                        "of type {}",
                                        dtypeName(in.dtype()), v->name(), typeString(v->type())));
    // A value computed at run time (a graph input): the kernel reads its bytes where it lives.
    if (!v->isConstant())
      return decision({pad(CallArg::operand(2))});
    value = v->constant();
  }
  if (in.dtype() == DType::Undefined)
    return selectError(n, "expected a defined dtype, found undefined");
  KernelDecision d = decision({pad(CallArg::table(0))});
  d.tables = {{ConstantTable::Kind::PadValue, valueBytes(value, in.dtype())}};
  return d;
}

/// Whether kiln_mv_cast converts from and to dtype t.
bool castable(DType t) { return t != DType::Undefined; }

llvm::Expected<KernelDecision> selectCast(const Node &n) {
  const TensorType &in = n.operand(0)->type(), &out = n.result(0)->type();
  if (in.elem.isQuantized() || out.elem.isQuantized())
    return selectError(n, fmt::format("expected plain element types, found {} -> {}",
                                      typeString(in), typeString(out)));
  if (in.shape != out.shape)
    return selectError(n, fmt::format("expected result shape {}, found {}", shapeString(in.shape),
                                      shapeString(out.shape)));
  if (!castable(in.dtype()) || !castable(out.dtype()))
    return selectError(n,
                       fmt::format("expected a cast between f32, f64, f16, i8, u8, i16, i32, i64, "
                                   "bool, found {} -> {}",
                                   dtypeName(in.dtype()), dtypeName(out.dtype())));
  if (in.dtype() == out.dtype())
    return decision({{Kernel::MvCopy,
                      ints({in.byteSize()}),
                      {CallArg::result(0), CallArg::operand(0)},
                      false}});
  return decision({{Kernel::MvCast,
                    {TemplateArg::dtype(in.dtype()), TemplateArg::dtype(out.dtype()),
                     TemplateArg::integer(in.numElements())},
                    {CallArg::result(0), CallArg::operand(0)},
                    false}});
}

} // namespace

llvm::Expected<KernelDecision> selectDataMovementKernel(const Node &n) {
  if (n.numOperands() == 0 || n.numResults() == 0)
    return selectError(n, fmt::format("expected operands and results, found {} and {}",
                                      n.numOperands(), n.numResults()));
  if (auto err = checkRowMajor(n))
    return err;
  const bool twoOperands =
      n.op() == OpKind::Gather || n.op() == OpKind::Expand || n.op() == OpKind::Tile;
  if (twoOperands && n.numOperands() != 2)
    return selectError(n, fmt::format("expected 2 operands, found {}", n.numOperands()));
  switch (n.op()) {
  case OpKind::Reshape:
  case OpKind::Flatten:
  case OpKind::Squeeze:
  case OpKind::Unsqueeze:
  case OpKind::Identity:
  case OpKind::Dropout:
    return selectCopy(n);
  case OpKind::Concat:
    return selectConcat(n);
  case OpKind::Split:
    return selectSplit(n);
  case OpKind::Transpose:
    return selectTranspose(n);
  case OpKind::DepthToSpace:
    return selectDepthToSpace(n);
  case OpKind::Slice:
    return selectSlice(n);
  case OpKind::Gather:
    return selectGather(n);
  case OpKind::Expand:
    return selectExpand(n);
  case OpKind::Tile:
    return selectTile(n);
  case OpKind::Pad:
    return selectPad(n);
  case OpKind::Cast:
    return selectCast(n);
  default:
    return selectError(n, "expected a data-movement op, found one of another family");
  }
}

} // namespace kiln
