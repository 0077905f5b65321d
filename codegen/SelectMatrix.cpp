// Kernel selection for Gemm and MatMul (kernels in codegen/kernels/gemm.h). Decides from static
// types: transposes become strides, Gemm's C broadcast becomes a pair of strides (0 broadcasts),
// MatMul's 1-D operands become a row / column matrix and its broadcast batch dims become one
// stride per operand when regular (an A-only batch over a shared B is folded into the rows of one
// product) or per-batch offset tables otherwise. Two variants (codegen/Kernels.def): gemm_rows
// skips packing (chunk 0), the default for products with fewer rows than one register block;
// gemm_packed packs B in chunks of `nc` columns sized to stay in cache.
#include "codegen/KernelSelect.h"
#include "ir/OpParams.h"

#include <fmt/format.h>

#include <cmath>

namespace kiln {
namespace {

/// The matrix variants: rows (no packing; the default for products with fewer rows than one
/// register block, the target's MR, gemm.h) or packed, B packed in chunks of `nc` columns sized to
/// stay in cache (packedChunkColumns) unless forced. Sets the variant and its tunable on `d` and
/// returns the chunk the kernel takes (0: rows).
llvm::Expected<int64_t> chooseChunk(const Node &n, int64_t m, int64_t k, int64_t cols,
                                    const Target &t, const ForcedVariant *forced,
                                    KernelDecision &d) {
  const Variant v = forced         ? forced->variant
                    : m < t.gemmMr ? Variant::GemmRows
                                   : Variant::GemmPacked;
  if (v != Variant::GemmRows && v != Variant::GemmPacked)
    return selectError(n, fmt::format("variant {} does not apply: expected gemm_packed or "
                                      "gemm_rows",
                                      variantName(v)));
  d.variant = v;
  if (v == Variant::GemmRows)
    return 0;
  auto nc = chunkTunable(n, forced, packedChunkColumns(k, cols, t), t);
  if (!nc)
    return nc.takeError();
  d.tunables = {{"nc", *nc}};
  return *nc;
}

std::vector<TemplateArg> ints(std::initializer_list<int64_t> v) {
  std::vector<TemplateArg> out;
  for (int64_t x : v)
    out.push_back(TemplateArg::integer(x));
  return out;
}

llvm::Expected<KernelDecision> selectGemm(const Node &n, const Target &t,
                                          const ForcedVariant *forced) {
  if (n.numOperands() < 2 || n.numResults() != 1)
    return selectError(n,
                       fmt::format("expected operands A, B[, C] and one result, found {} operands "
                                   "and {} results",
                                   n.numOperands(), n.numResults()));
  const Value *a = n.operand(0), *b = n.operand(1), *y = n.result(0);
  const bool hasC = n.numOperands() >= 3 && !n.isEpilogueOperand(2);
  for (auto [v, role] : {std::pair<const Value *, const char *>{a, "A"}, {b, "B"}, {y, "result"}})
    if (auto e = checkDenseF32(n, v, role))
      return e;
  if (hasC)
    if (auto e = checkDenseF32(n, n.operand(2), "C"))
      return e;
  if (a->type().rank() != 2 || b->type().rank() != 2 || y->type().rank() != 2)
    return selectError(n, fmt::format("expected 2-D A, B and result, found {}, {} and {}",
                                      typeString(a->type()), typeString(b->type()),
                                      typeString(y->type())));
  const GemmParams gp = gemmParams(n);
  const bool ta = gp.transA, tb = gp.transB;
  const double alpha = gp.alpha, beta = gp.beta;
  if (!std::isfinite(alpha) || !std::isfinite(beta))
    return selectError(n,
                       fmt::format("expected finite alpha and beta, found {} and {}", alpha, beta));
  const Shape &as = a->type().shape, &bs = b->type().shape, &ys = y->type().shape;
  const int64_t m = ta ? as[1] : as[0], k = ta ? as[0] : as[1];
  const int64_t kb = tb ? bs[1] : bs[0], nn = tb ? bs[0] : bs[1];
  if (k != kb || ys != Shape{m, nn})
    return selectError(n, fmt::format("expected A' [M,K], B' [K,N] and result [M,N] (transA={}, "
                                      "transB={}), found {}, {} and {}",
                                      int(ta), int(tb), typeString(a->type()),
                                      typeString(b->type()), typeString(y->type())));
  int64_t csm = 0, csn = 0;
  if (hasC) {
    const Shape &cs = n.operand(2)->type().shape;
    const int64_t cm = cs.size() == 2 ? cs[0] : 1, cn = cs.empty() ? 1 : cs.back();
    if (cs.size() > 2 || (cm != 1 && cm != m) || (cn != 1 && cn != nn))
      return selectError(
          n, fmt::format("expected C unidirectionally broadcastable to [{},{}], found {}", m, nn,
                         typeString(n.operand(2)->type())));
    csn = cn == 1 ? 0 : 1;
    csm = cm == 1 ? 0 : cn;
  }
  KernelDecision d;
  auto nc = chooseChunk(n, m, k, nn, t, forced, d);
  if (!nc)
    return nc.takeError();
  d.scratchBytes = k * *nc * 4;
  d.cost = m * nn * k;
  std::vector<TemplateArg> targs = ints({m, nn, k, *nc});
  for (bool b : {ta, tb, hasC})
    targs.push_back(TemplateArg::boolean(b));
  targs.push_back(TemplateArg::integer(csm));
  targs.push_back(TemplateArg::integer(csn));
  d.calls.push_back(
      {Kernel::Gemm,
       std::move(targs),
       {CallArg::operand(0), CallArg::operand(1), hasC ? CallArg::operand(2) : CallArg::null(),
        CallArg::result(0), CallArg::real9(static_cast<float>(alpha)),
        CallArg::real9(static_cast<float>(beta)), CallArg::scratch(), CallArg::epilogue()},
       false});
  return d;
}

llvm::Expected<KernelDecision> selectMatMul(const Node &n, const Target &t,
                                            const ForcedVariant *forced) {
  if (n.numOperands() < 2 || n.numResults() != 1)
    return selectError(
        n, fmt::format("expected operands A, B and one result, found {} operands and {} "
                       "results",
                       n.numOperands(), n.numResults()));
  const Value *a = n.operand(0), *b = n.operand(1), *y = n.result(0);
  for (auto [v, role] : {std::pair<const Value *, const char *>{a, "A"}, {b, "B"}, {y, "result"}})
    if (auto e = checkDenseF32(n, v, role))
      return e;
  Shape as = a->type().shape, bs = b->type().shape;
  if (as.empty() || bs.empty())
    return selectError(n, fmt::format("expected A and B of rank >= 1, found {} and {}",
                                      typeString(a->type()), typeString(b->type())));
  // numpy: a 1-D A is a row [1,K], a 1-D B a column [K,1]; the added dim is not in the result.
  const bool bVector = bs.size() == 1;
  if (as.size() == 1)
    as.insert(as.begin(), 1);
  if (bVector)
    bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), nn = bs.back();
  if (bs[bs.size() - 2] != k)
    return selectError(n, fmt::format("expected B with {} rows to match A, found {} and {}", k,
                                      typeString(a->type()), typeString(b->type())));
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  const size_t nb = std::max(ab.size(), bb.size());
  ab.insert(ab.begin(), nb - ab.size(), 1);
  bb.insert(bb.begin(), nb - bb.size(), 1);
  Shape ob(nb);
  for (size_t d = 0; d < nb; ++d) {
    if (ab[d] != bb[d] && ab[d] != 1 && bb[d] != 1)
      return selectError(n, fmt::format("expected broadcastable batch dims, found {} and {}",
                                        typeString(a->type()), typeString(b->type())));
    ob[d] = std::max(ab[d], bb[d]);
  }
  const int64_t batch = numElements(ob);
  if (y->type().numElements() != batch * m * nn)
    return selectError(
        n, fmt::format("expected a result of {} elements ({} batches of {}x{}), found {}",
                       batch * m * nn, batch, m, nn, typeString(y->type())));

  // Per-batch element offsets of A and B in row-major order of the broadcast batch dims.
  std::vector<int64_t> aoff(batch), boff(batch);
  for (int64_t bi = 0; bi < batch; ++bi) {
    int64_t rest = bi, ao = 0, bo = 0, astr = m * k, bstr = k * nn;
    for (size_t d = nb; d-- > 0;) {
      const int64_t idx = rest % ob[d];
      rest /= ob[d];
      if (ab[d] != 1)
        ao += idx * astr;
      if (bb[d] != 1)
        bo += idx * bstr;
      astr *= ab[d];
      bstr *= bb[d];
    }
    aoff[bi] = ao;
    boff[bi] = bo;
  }
  const int64_t sa = batch > 1 ? aoff[1] : 0, sb = batch > 1 ? boff[1] : 0;
  bool regular = true;
  for (int64_t bi = 0; bi < batch; ++bi)
    regular = regular && aoff[bi] == bi * sa && boff[bi] == bi * sb;

  KernelDecision d;
  d.cost = batch * m * nn * k;
  const std::vector<CallArg> abOut = {CallArg::operand(0), CallArg::operand(1), CallArg::result(0)};
  auto call = [&](Kernel kernel, std::vector<TemplateArg> targs, std::vector<CallArg> mid) {
    std::vector<CallArg> args = abOut;
    args.insert(args.end(), mid.begin(), mid.end());
    args.push_back(CallArg::scratch());
    args.push_back(CallArg::epilogue());
    d.calls.push_back({kernel, std::move(targs), std::move(args), false});
  };
  if (regular && batch > 1 && sb == 0 && sa == m * k && !bVector) {
    // Dense A batches over one shared B are a single product with batch * M rows.
    const int64_t rows = batch * m;
    auto nc = chooseChunk(n, rows, k, nn, t, forced, d);
    if (!nc)
      return nc.takeError();
    d.scratchBytes = k * *nc * 4;
    std::vector<TemplateArg> targs = ints({1, rows, nn, k, *nc, 0, 0});
    targs.push_back(TemplateArg::boolean(false));
    call(Kernel::MatMul, std::move(targs), {});
    return d;
  }
  auto nc = chooseChunk(n, m, k, nn, t, forced, d);
  if (!nc)
    return nc.takeError();
  d.scratchBytes = k * *nc * 4;
  if (regular) {
    std::vector<TemplateArg> targs = ints({batch, m, nn, k, *nc, sa, sb});
    targs.push_back(TemplateArg::boolean(bVector));
    call(Kernel::MatMul, std::move(targs), {});
    return d;
  }
  d.tables = {{ConstantTable::Kind::MatMulAOffsets, aoff},
              {ConstantTable::Kind::MatMulBOffsets, boff}};
  std::vector<TemplateArg> targs = ints({batch, m, nn, k, *nc});
  targs.push_back(TemplateArg::boolean(bVector));
  call(Kernel::MatMulBroadcast, std::move(targs), {CallArg::table(0), CallArg::table(1)});
  return d;
}

} // namespace

llvm::Expected<KernelDecision> selectMatrixKernel(const Node &n, const Target &t,
                                                  const ForcedVariant *forced) {
  if (n.op() == OpKind::Gemm)
    return selectGemm(n, t, forced);
  if (n.op() == OpKind::MatMul)
    return selectMatMul(n, t, forced);
  return selectError(n, "expected Gemm or MatMul, found another op");
}

} // namespace kiln
