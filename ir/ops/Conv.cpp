// The sliding-window family (Conv, ConvTranspose, MaxPool, AveragePool, GlobalAveragePool,
// GlobalMaxPool): the window geometry, its shape inference and reference evaluation, and the
// typed parameters of ir/OpParams.h. The kernel selectors take kernel, strides, dilations and
// pads from convParams / poolParams — the window inference computes — instead of re-reading
// attributes with defaults of their own, and the frontend resolves ConvTranspose's output_shape
// through convTransposePads, the rule inference applies.
#include "ir/OpParams.h"

#include "ir/SemanticsDetail.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace kiln {

ConvTransposePads convTransposePads(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                                    int64_t outputPadding, int64_t out, bool sameUpper) {
  int64_t total = stride * (in - 1) + outputPadding + dilation * (kernel - 1) + 1 - out;
  ConvTransposePads p;
  p.outputPadding = outputPadding;
  if (total < 0) {
    // The requested output is larger than the convolution covers: grow the end only.
    p.outputPadding -= total;
    total = 0;
  }
  p.begin = sameUpper ? total / 2 : total - total / 2;
  p.end = total - p.begin;
  return p;
}

namespace sem {
namespace {

using Window = WindowParams;

const char *nm(OpKind op) { return opName(op); }

/// Shared by Conv/ConvTranspose/pools: reads kernel_shape, strides, dilations, pads with defaults.
llvm::Error readWindowAttrs(OpKind op, const Attributes &attrs, size_t nsp, Window &w) {
  w.strides = attrs.getInts("strides", std::vector<int64_t>(nsp, 1));
  w.dilations = attrs.getInts("dilations", std::vector<int64_t>(nsp, 1));
  std::vector<int64_t> pads = attrs.getInts("pads", std::vector<int64_t>(2 * nsp, 0));
  if (w.kernel.size() != nsp || w.strides.size() != nsp || w.dilations.size() != nsp ||
      pads.size() != 2 * nsp)
    return fail(fmt::format("{} expects kernel_shape, strides, dilations with {} entries and pads "
                            "with {}, found {}, {}, {} and {}",
                            nm(op), nsp, 2 * nsp, w.kernel.size(), w.strides.size(),
                            w.dilations.size(), pads.size()));
  for (size_t i = 0; i < nsp; ++i) {
    if (w.strides[i] < 1 || w.dilations[i] < 1 || w.kernel[i] < 1)
      return fail(fmt::format("{} expects positive kernel_shape, strides and dilations, found "
                              "[{}], [{}] and [{}]",
                              nm(op), fmt::join(w.kernel, ","), fmt::join(w.strides, ","),
                              fmt::join(w.dilations, ",")));
  }
  // Window sizes are products and sums of these with dims (themselves at most kMaxObjectBytes):
  // bounding every entry by the same limit keeps that arithmetic inside int64.
  for (const std::vector<int64_t> *v : {&w.kernel, &w.strides, &w.dilations, &pads})
    for (int64_t x : *v)
      if (x > kMaxObjectBytes || x < -kMaxObjectBytes)
        return fail(fmt::format("{} expects kernel_shape, strides, dilations and pads of at most "
                                "{} in magnitude, found [{}], [{}], [{}] and [{}]",
                                nm(op), kMaxObjectBytes, fmt::join(w.kernel, ","),
                                fmt::join(w.strides, ","), fmt::join(w.dilations, ","),
                                fmt::join(pads, ",")));
  w.padsBegin.assign(pads.begin(), pads.begin() + nsp);
  w.padsEnd.assign(pads.begin() + nsp, pads.end());
  return llvm::Error::success();
}

llvm::Expected<Window> convWindow(OpKind op, const std::vector<Operand> &ops,
                                  const Attributes &attrs) {
  if (auto e = arity(op, ops, 2, 3))
    return e;
  const Operand &x = ops[0], &wt = ops[1];
  if (auto e = minRank(op, x, 3))
    return e;
  if (wt.type.rank() != x.type.rank())
    return fail(fmt::format("{} expects weight of rank {} (same as input {}), found {}", nm(op),
                            x.type.rank(), ts(x), ts(wt)));
  size_t nsp = static_cast<size_t>(x.type.rank() - 2);
  Window w;
  w.group = attrs.getInt("group", 1);
  Shape wk(wt.type.shape.begin() + 2, wt.type.shape.end());
  w.kernel = attrs.getInts("kernel_shape", wk);
  if (w.kernel != wk)
    return fail(fmt::format("{} expects kernel_shape [{}] to match weight {}", nm(op),
                            fmt::join(w.kernel, ","), ts(wt)));
  if (auto e = readWindowAttrs(op, attrs, nsp, w))
    return e;
  int64_t c = x.type.shape[1];
  if (w.group < 1 || c % w.group != 0)
    return fail(fmt::format("{} expects group dividing the {} input channels, found group={}",
                            nm(op), c, w.group));
  if (op == OpKind::Conv) {
    if (wt.type.shape[1] * w.group != c || wt.type.shape[0] % w.group != 0)
      return fail(fmt::format("{} expects weight of shape [M,{},...] with M divisible by group={} "
                              "for input {}, found {}",
                              nm(op), c / w.group, w.group, ts(x), ts(wt)));
    for (size_t i = 0; i < nsp; ++i) {
      int64_t ek = w.dilations[i] * (w.kernel[i] - 1) + 1;
      int64_t in = x.type.shape[2 + i] + w.padsBegin[i] + w.padsEnd[i];
      if (in < ek)
        return fail(fmt::format("{} expects padded spatial dim {} ({}) >= dilated kernel {}, "
                                "found input {}",
                                nm(op), i, in, ek, ts(x)));
      w.out.push_back((in - ek) / w.strides[i] + 1);
    }
    if (ops.size() == 3 && ops[2].type.shape != Shape{wt.type.shape[0]})
      return fail(fmt::format("{} expects bias of shape [{}], found {}", nm(op), wt.type.shape[0],
                              ts(ops[2])));
    return w;
  }
  // ConvTranspose: weight is [C, M/group, k...].
  if (wt.type.shape[0] != c)
    return fail(fmt::format("{} expects weight of shape [{},M/group,...] for input {}, found {}",
                            nm(op), c, ts(x), ts(wt)));
  std::vector<int64_t> outPad = attrs.getInts("output_padding", std::vector<int64_t>(nsp, 0));
  if (outPad.size() != nsp)
    return fail(fmt::format("{} expects output_padding with {} entries, found {}", nm(op), nsp,
                            outPad.size()));
  std::vector<int64_t> outShape = attrs.getInts("output_shape");
  if (!outShape.empty()) {
    if (outShape.size() == nsp + 2)
      outShape.erase(outShape.begin(), outShape.begin() + 2);
    if (outShape.size() != nsp)
      return fail(fmt::format("{} expects output_shape with {} spatial entries, found [{}]", nm(op),
                              nsp, fmt::join(attrs.getInts("output_shape"), ",")));
  }
  // Canonical form has no auto_pad; a node that still carries one splits like the frontend.
  const bool sameUpper = attrs.getString("auto_pad", "NOTSET") == "SAME_UPPER";
  for (size_t i = 0; i < nsp; ++i) {
    if (!outShape.empty()) {
      // output_shape decides the pads (and, when the convolution covers less, extends the
      // output padding): the frontend resolves it with the same rule.
      ConvTransposePads p = convTransposePads(x.type.shape[2 + i], w.kernel[i], w.strides[i],
                                              w.dilations[i], outPad[i], outShape[i], sameUpper);
      w.padsBegin[i] = p.begin;
      w.padsEnd[i] = p.end;
      outPad[i] = p.outputPadding;
    }
    int64_t ek = w.dilations[i] * (w.kernel[i] - 1) + 1;
    int64_t full = w.strides[i] * (x.type.shape[2 + i] - 1) + outPad[i] + ek;
    w.out.push_back(full - w.padsBegin[i] - w.padsEnd[i]);
    if (w.out.back() < 1)
      return fail(fmt::format("{} expects a positive output size, found {} in spatial dim {}",
                              nm(op), w.out.back(), i));
  }
  int64_t m = wt.type.shape[1] * w.group;
  if (ops.size() == 3 && ops[2].type.shape != Shape{m})
    return fail(fmt::format("{} expects bias of shape [{}], found {}", nm(op), m, ts(ops[2])));
  return w;
}

llvm::Expected<Window> poolWindow(OpKind op, const std::vector<Operand> &ops,
                                  const Attributes &attrs) {
  if (auto e = arity(op, ops, 1, 1))
    return e;
  const Operand &x = ops[0];
  if (auto e = minRank(op, x, 3))
    return e;
  size_t nsp = static_cast<size_t>(x.type.rank() - 2);
  Window w;
  w.kernel = attrs.getInts("kernel_shape");
  if (auto e = readWindowAttrs(op, attrs, nsp, w))
    return e;
  bool ceilMode = attrs.getInt("ceil_mode", 0) != 0;
  for (size_t i = 0; i < nsp; ++i) {
    int64_t ek = w.dilations[i] * (w.kernel[i] - 1) + 1;
    int64_t in = x.type.shape[2 + i];
    int64_t span = in + w.padsBegin[i] + w.padsEnd[i] - ek;
    if (span < 0)
      return fail(fmt::format("{} expects padded spatial dim {} ({}) >= dilated kernel {}, found "
                              "input {}",
                              nm(op), i, span + ek, ek, ts(x)));
    int64_t out;
    if (ceilMode) {
      out = ceilDiv(span, w.strides[i]) + 1;
      // The last window must start inside the input or the left padding.
      if ((out - 1) * w.strides[i] >= in + w.padsBegin[i])
        --out;
    } else {
      out = span / w.strides[i] + 1;
    }
    w.out.push_back(out);
  }
  w.countIncludePad = op == OpKind::AveragePool && attrs.getInt("count_include_pad", 0) != 0;
  return w;
}

llvm::Expected<Types> inferPool(OpKind op, const std::vector<Operand> &ops,
                                const Attributes &attrs) {
  if (op == OpKind::GlobalAveragePool || op == OpKind::GlobalMaxPool) {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    if (auto e = minRank(op, ops[0], 3))
      return e;
    Shape out = ops[0].type.shape;
    std::fill(out.begin() + 2, out.end(), 1);
    return Types{rowMajor(ops[0].type.dtype(), out)};
  }
  auto w = poolWindow(op, ops, attrs);
  if (!w)
    return w.takeError();
  Shape out(ops[0].type.shape.begin(), ops[0].type.shape.begin() + 2);
  out.insert(out.end(), w->out.begin(), w->out.end());
  Types r{rowMajor(ops[0].type.dtype(), out)};
  if (op == OpKind::MaxPool && attrs.getInt("num_outputs", 1) == 2)
    r.push_back(rowMajor(DType::I64, out));
  return r;
}

llvm::Expected<Types> inferRule(OpKind op, const std::vector<Operand> &ops,
                                const Attributes &attrs) {
  if (op != OpKind::Conv && op != OpKind::ConvTranspose)
    return inferPool(op, ops, attrs);
  auto w = convWindow(op, ops, attrs);
  if (!w)
    return w.takeError();
  int64_t m = op == OpKind::Conv ? ops[1].type.shape[0] : ops[1].type.shape[1] * w->group;
  Shape out{ops[0].type.shape[0], m};
  out.insert(out.end(), w->out.begin(), w->out.end());
  return Types{rowMajor(ops[0].type.dtype(), out)};
}

Tensors evalConv(const Tensors &xs, const Window &w, const TensorType &rt) {
  const Shape &xsh = xs[0].shape, &wsh = xs[1].shape;
  Shape inSp(xsh.begin() + 2, xsh.end()), outSp(rt.shape.begin() + 2, rt.shape.end());
  int64_t nb = xsh[0], c = xsh[1], m = wsh[0], cg = c / w.group, mg = m / w.group;
  int64_t inSize = numElements(inSp), outSize = numElements(outSp), kSize = numElements(w.kernel);
  std::vector<double> x = xs[0].toDoubles(), wt = xs[1].toDoubles(), bias;
  if (xs.size() == 3)
    bias = xs[2].toDoubles();
  auto outPos = allIndices(outSp), kPos = allIndices(w.kernel);
  std::vector<double> y(static_cast<size_t>(nb * m * outSize));
  std::vector<int64_t> at(inSp.size());
  for (int64_t n = 0; n < nb; ++n)
    for (int64_t oc = 0; oc < m; ++oc) {
      int64_t g = oc / mg;
      for (int64_t p = 0; p < outSize; ++p) {
        double acc = bias.empty() ? 0 : bias[oc];
        for (int64_t kk = 0; kk < kSize; ++kk) {
          bool inside = true;
          for (size_t d = 0; d < inSp.size() && inside; ++d) {
            at[d] = outPos[p][d] * w.strides[d] - w.padsBegin[d] + kPos[kk][d] * w.dilations[d];
            inside = at[d] >= 0 && at[d] < inSp[d];
          }
          if (!inside)
            continue;
          int64_t xi = ravel(at, inSp);
          for (int64_t ic = 0; ic < cg; ++ic)
            acc += x[(n * c + g * cg + ic) * inSize + xi] * wt[(oc * cg + ic) * kSize + kk];
        }
        y[(n * m + oc) * outSize + p] = acc;
      }
    }
  return Tensors{make(rt.dtype(), rt.shape, y)};
}

Tensors evalConvTranspose(const Tensors &xs, const Window &w, const TensorType &rt) {
  const Shape &xsh = xs[0].shape;
  Shape inSp(xsh.begin() + 2, xsh.end()), outSp(rt.shape.begin() + 2, rt.shape.end());
  int64_t nb = xsh[0], c = xsh[1], m = rt.shape[1], cg = c / w.group, mg = m / w.group;
  int64_t inSize = numElements(inSp), outSize = numElements(outSp), kSize = numElements(w.kernel);
  std::vector<double> x = xs[0].toDoubles(), wt = xs[1].toDoubles();
  auto inPos = allIndices(inSp), kPos = allIndices(w.kernel);
  std::vector<double> y(static_cast<size_t>(nb * m * outSize), 0.0);
  std::vector<int64_t> at(inSp.size());
  for (int64_t n = 0; n < nb; ++n)
    for (int64_t ic = 0; ic < c; ++ic) {
      int64_t g = ic / cg;
      for (int64_t p = 0; p < inSize; ++p) {
        double xv = x[(n * c + ic) * inSize + p];
        for (int64_t kk = 0; kk < kSize; ++kk) {
          bool inside = true;
          for (size_t d = 0; d < inSp.size() && inside; ++d) {
            at[d] = inPos[p][d] * w.strides[d] - w.padsBegin[d] + kPos[kk][d] * w.dilations[d];
            inside = at[d] >= 0 && at[d] < outSp[d];
          }
          if (!inside)
            continue;
          int64_t yi = ravel(at, outSp);
          for (int64_t om = 0; om < mg; ++om)
            y[(n * m + g * mg + om) * outSize + yi] += xv * wt[(ic * mg + om) * kSize + kk];
        }
      }
    }
  if (xs.size() == 3) {
    std::vector<double> bias = xs[2].toDoubles();
    for (int64_t n = 0; n < nb; ++n)
      for (int64_t oc = 0; oc < m; ++oc)
        for (int64_t p = 0; p < outSize; ++p)
          y[(n * m + oc) * outSize + p] += bias[oc];
  }
  return Tensors{make(rt.dtype(), rt.shape, y)};
}

Tensors evalPool(OpKind op, const Tensor &xt, const Window &w, const Attributes &attrs,
                 const std::vector<TensorType> &rts) {
  const TensorType &rt = rts[0];
  Shape inSp(xt.shape.begin() + 2, xt.shape.end()), outSp(rt.shape.begin() + 2, rt.shape.end());
  int64_t planes = xt.shape[0] * xt.shape[1];
  int64_t inSize = numElements(inSp), outSize = numElements(outSp), kSize = numElements(w.kernel);
  const bool includePad = w.countIncludePad;
  bool colMajor = attrs.getInt("storage_order", 0) != 0;
  std::vector<double> x = xt.toDoubles(), y(static_cast<size_t>(planes * outSize));
  std::vector<int64_t> ind(y.size());
  auto outPos = allIndices(outSp), kPos = allIndices(w.kernel);
  std::vector<int64_t> at(inSp.size());
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t p = 0; p < outSize; ++p) {
      double best = -std::numeric_limits<double>::infinity(), sum = 0;
      int64_t bestAt = -1, count = 0;
      for (int64_t kk = 0; kk < kSize; ++kk) {
        bool inside = true, inPadded = true;
        for (size_t d = 0; d < inSp.size(); ++d) {
          at[d] = outPos[p][d] * w.strides[d] - w.padsBegin[d] + kPos[kk][d] * w.dilations[d];
          inside = inside && at[d] >= 0 && at[d] < inSp[d];
          inPadded = inPadded && at[d] >= -w.padsBegin[d] && at[d] < inSp[d] + w.padsEnd[d];
        }
        if (includePad ? inPadded : inside)
          ++count;
        if (!inside)
          continue;
        int64_t xi = ravel(at, inSp);
        double v = x[pl * inSize + xi];
        sum += v;
        if (v > best || bestAt < 0) {
          best = v;
          // Indices are flat over the whole input tensor; storage_order=1 is column-major
          // over the spatial dims.
          int64_t flat = xi;
          if (colMajor) {
            flat = 0;
            for (size_t d = inSp.size(); d-- > 0;)
              flat = flat * inSp[d] + at[d];
          }
          bestAt = pl * inSize + flat;
        }
      }
      y[pl * outSize + p] = op == OpKind::MaxPool ? best : (count ? sum / count : 0);
      ind[pl * outSize + p] = bestAt;
    }
  Tensors r{make(rt.dtype(), rt.shape, y)};
  if (rts.size() == 2)
    r.push_back(make(DType::I64, rts[1].shape, ind));
  return r;
}

Tensors evalGlobalPool(OpKind op, const Tensor &xt, const TensorType &rt) {
  int64_t planes = xt.shape[0] * xt.shape[1],
          inner = numElements(xt.shape) / std::max<int64_t>(planes, 1);
  std::vector<double> x = xt.toDoubles(), y;
  for (int64_t pl = 0; pl < planes; ++pl) {
    double acc = op == OpKind::GlobalMaxPool ? -std::numeric_limits<double>::infinity() : 0;
    for (int64_t i = 0; i < inner; ++i) {
      double v = x[pl * inner + i];
      acc = op == OpKind::GlobalMaxPool ? std::max(acc, v) : acc + v;
    }
    y.push_back(op == OpKind::GlobalMaxPool ? acc : acc / inner);
  }
  return Tensors{make(rt.dtype(), rt.shape, y)};
}

llvm::Expected<Tensors> evaluateRule(OpKind op, const Tensors &xs, const Attributes &attrs,
                                     const Types &rts) {
  const std::vector<Operand> ops = operandsOf(xs);
  switch (op) {
  case OpKind::Conv:
  case OpKind::ConvTranspose: {
    auto w = convWindow(op, ops, attrs);
    if (!w)
      return w.takeError();
    return op == OpKind::Conv ? evalConv(xs, *w, rts[0]) : evalConvTranspose(xs, *w, rts[0]);
  }
  case OpKind::MaxPool:
  case OpKind::AveragePool: {
    auto w = poolWindow(op, ops, attrs);
    if (!w)
      return w.takeError();
    return evalPool(op, xs[0], *w, attrs, rts);
  }
  default:
    return evalGlobalPool(op, xs[0], rts[0]);
  }
}

std::vector<ShapeOperand> shapeOperandsRule(OpKind) { return {}; }

} // namespace

const FamilyRules kConvRules = {&inferRule, &evaluateRule, &shapeOperandsRule};

} // namespace sem

llvm::Expected<WindowParams> convParams(const Node &n) {
  return sem::convWindow(n.op(), sem::nodeOperands(n), n.attrs());
}

llvm::Expected<WindowParams> poolParams(const Node &n) {
  return sem::poolWindow(n.op(), sem::nodeOperands(n), n.attrs());
}

} // namespace kiln
