// The matrix family (Gemm, MatMul): shape inference, reference evaluation and the typed
// parameters of ir/OpParams.h — Gemm's transA, transB, alpha and beta read once, with ONNX's
// defaults in this one place, for inference, evaluation, the Gemm selector and the passes that
// fold into or out of a Gemm (fuse-conv-bn).
#include "ir/OpParams.h"

#include "ir/SemanticsDetail.h"

#include <fmt/format.h>

#include <algorithm>

namespace kiln {

namespace sem {
namespace {

GemmParams gemmParamsOf(const Attributes &at) {
  GemmParams p;
  p.transA = at.getInt("transA", 0) != 0;
  p.transB = at.getInt("transB", 0) != 0;
  p.alpha = at.getFloat("alpha", 1.0);
  p.beta = at.getFloat("beta", 1.0);
  return p;
}

llvm::Expected<Types> inferMatMul(const std::vector<Operand> &ops) {
  const OpKind op = OpKind::MatMul;
  if (auto e = arity(op, ops, 2, 2))
    return e;
  if (auto e = sameDType(op, ops[0], ops[1]))
    return e;
  Shape a = ops[0].type.shape, b = ops[1].type.shape;
  if (a.empty() || b.empty())
    return fail(fmt::format("MatMul expects operands of rank >= 1, found {} and {}", ts(ops[0]),
                            ts(ops[1])));
  bool vecA = a.size() == 1, vecB = b.size() == 1;
  if (vecA)
    a.insert(a.begin(), 1);
  if (vecB)
    b.push_back(1);
  if (a.back() != b[b.size() - 2])
    return fail(fmt::format("MatMul expects matching inner dimensions, found {} and {}", ts(ops[0]),
                            ts(ops[1])));
  auto batch = broadcast(op, {Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2)}, ops);
  if (!batch)
    return batch.takeError();
  Shape out = *batch;
  if (!vecA)
    out.push_back(a[a.size() - 2]);
  if (!vecB)
    out.push_back(b.back());
  return Types{rowMajor(ops[0].type.dtype(), out)};
}

llvm::Expected<Types> inferGemm(const std::vector<Operand> &ops, const Attributes &attrs) {
  const OpKind op = OpKind::Gemm;
  if (auto e = arity(op, ops, 2, 3))
    return e;
  if (auto e = exactRank(op, ops[0], 2, "A"))
    return e;
  if (auto e = exactRank(op, ops[1], 2, "B"))
    return e;
  const Shape &a = ops[0].type.shape, &b = ops[1].type.shape;
  const GemmParams p = gemmParamsOf(attrs);
  const bool ta = p.transA, tb = p.transB;
  int64_t m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
  int64_t kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
  if (k != kb)
    return fail(fmt::format("Gemm expects matching inner dimensions (transA={}, transB={}), found "
                            "{} and {}",
                            int(ta), int(tb), ts(ops[0]), ts(ops[1])));
  if (ops.size() == 3) {
    auto bc = broadcast(op, {ops[2].type.shape, Shape{m, n}}, ops);
    if (!bc)
      return bc.takeError();
    if (*bc != Shape{m, n})
      return fail(
          fmt::format("Gemm expects C broadcastable to [{},{}], found {}", m, n, ts(ops[2])));
  }
  return Types{rowMajor(ops[0].type.dtype(), {m, n})};
}

template <class T> Tensors evalMatMulT(const Tensors &xs, const TensorType &rt) {
  Shape a = xs[0].shape, b = xs[1].shape;
  if (a.size() == 1)
    a.insert(a.begin(), 1);
  if (b.size() == 1)
    b.push_back(1);
  int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
  Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  Shape batch = ba.size() > bb.size() ? ba : bb;
  // The broadcast batch shape: the larger of each aligned pair (inference already checked it).
  {
    size_t r = std::max(ba.size(), bb.size());
    batch.assign(r, 1);
    for (size_t i = 0; i < r; ++i) {
      int64_t da = i + ba.size() >= r ? ba[i + ba.size() - r] : 1;
      int64_t db = i + bb.size() >= r ? bb[i + bb.size() - r] : 1;
      batch[i] = da == 1 ? db : da;
    }
  }
  std::vector<int64_t> mapA = broadcastMap(ba, batch), mapB = broadcastMap(bb, batch);
  std::vector<T> va = valuesOf<T>(xs[0]), vb = valuesOf<T>(xs[1]);
  std::vector<T> out(static_cast<size_t>(numElements(batch) * m * n), T(0));
  for (size_t p = 0; p < mapA.size(); ++p) {
    const T *pa = va.data() + mapA[p] * m * k, *pb = vb.data() + mapB[p] * k * n;
    T *po = out.data() + p * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        T acc = 0;
        for (int64_t q = 0; q < k; ++q)
          acc = wrapAdd(acc, wrapMul(pa[i * k + q], pb[q * n + j]));
        po[i * n + j] = acc;
      }
  }
  return Tensors{make(rt.dtype(), rt.shape, out)};
}

Tensors evalGemm(const Tensors &xs, const Attributes &attrs, const TensorType &rt) {
  const GemmParams p = gemmParamsOf(attrs);
  const bool ta = p.transA, tb = p.transB;
  const double alpha = p.alpha, beta = p.beta;
  std::vector<double> a = xs[0].toDoubles(), b = xs[1].toDoubles();
  int64_t m = rt.shape[0], n = rt.shape[1], k = ta ? xs[0].shape[0] : xs[0].shape[1];
  std::vector<double> c, out(static_cast<size_t>(m * n));
  std::vector<int64_t> mc;
  if (xs.size() == 3) {
    c = xs[2].toDoubles();
    mc = broadcastMap(xs[2].shape, rt.shape);
  }
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t q = 0; q < k; ++q)
        acc += a[ta ? q * m + i : i * k + q] * b[tb ? j * k + q : q * n + j];
      acc *= alpha;
      if (!c.empty())
        acc += beta * c[mc[i * n + j]];
      out[i * n + j] = acc;
    }
  return Tensors{make(rt.dtype(), rt.shape, out)};
}

llvm::Expected<Types> inferRule(OpKind op, const std::vector<Operand> &ops,
                                const Attributes &attrs) {
  return op == OpKind::Gemm ? inferGemm(ops, attrs) : inferMatMul(ops);
}

llvm::Expected<Tensors> evaluateRule(OpKind op, const Tensors &xs, const Attributes &attrs,
                                     const Types &rts) {
  const TensorType &rt = rts[0];
  if (op == OpKind::Gemm)
    return evalGemm(xs, attrs, rt);
  return exactInts(rt.dtype()) ? evalMatMulT<int64_t>(xs, rt) : evalMatMulT<double>(xs, rt);
}

std::vector<ShapeOperand> shapeOperandsRule(OpKind) { return {}; }

} // namespace

const FamilyRules kMatrixRules = {&inferRule, &evaluateRule, &shapeOperandsRule};

} // namespace sem

GemmParams gemmParams(const Node &n) { return sem::gemmParamsOf(n.attrs()); }

} // namespace kiln
