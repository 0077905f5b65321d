// The generator family (Shape, ConstantOfShape, Range): ops whose result is made from shapes and
// scalars rather than computed from a tensor's elements — their shape inference, reference
// evaluation, and Shape's span of dims (ir/OpParams.h), which the frontend also uses to fold
// Shape of a statically typed value.
#include "ir/OpParams.h"

#include "ir/SemanticsDetail.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln {

ShapeSpan shapeSpan(int64_t rank, const Attributes &attrs) {
  int64_t s = attrs.getInt("start", 0), e = attrs.getInt("end", rank);
  s = std::clamp<int64_t>(s < 0 ? s + rank : s, 0, rank);
  e = std::clamp<int64_t>(e < 0 ? e + rank : e, 0, rank);
  return ShapeSpan{s, std::max(e, s)};
}

namespace sem {
namespace {

const char *nm(OpKind op) { return opName(op); }

Tensors evalRange(const Tensors &xs, const TensorType &rt) {
  int64_t n = rt.shape[0];
  if (exactInts(rt.dtype())) {
    int64_t s = xs[0].getInt(0), d = xs[2].getInt(0);
    std::vector<int64_t> v;
    for (int64_t i = 0; i < n; ++i)
      v.push_back(wrapAdd(s, wrapMul(i, d)));
    return Tensors{make(rt.dtype(), rt.shape, v)};
  }
  double s = xs[0].getDouble(0), d = xs[2].getDouble(0);
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i)
    v.push_back(s + static_cast<double>(i) * d);
  return Tensors{make(rt.dtype(), rt.shape, v)};
}

llvm::Expected<Types> inferRule(OpKind op, const std::vector<Operand> &ops,
                                const Attributes &attrs) {
  switch (op) {
  case OpKind::Shape: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    const ShapeSpan s = shapeSpan(ops[0].type.rank(), attrs);
    return Types{rowMajor(DType::I64, {s.end - s.begin})};
  }
  case OpKind::ConstantOfShape: {
    if (auto e = arity(op, ops, 1, 1))
      return e;
    auto shape = constInts(op, ops, 0, "shape");
    if (!shape)
      return shape.takeError();
    if (std::any_of(shape->begin(), shape->end(), [](int64_t d) { return d < 0; }))
      return fail(fmt::format("ConstantOfShape expects non-negative dims, found [{}]",
                              fmt::join(*shape, ",")));
    int64_t dt = attrs.getInt("dtype", static_cast<int64_t>(DType::F32));
    if (dt <= static_cast<int64_t>(DType::Undefined) || dt > static_cast<int64_t>(DType::Bool))
      return fail(fmt::format("ConstantOfShape expects attribute 'dtype' holding a kiln DType, "
                              "found {}",
                              dt));
    return Types{rowMajor(static_cast<DType>(dt), *shape)};
  }
  case OpKind::Range: {
    if (auto e = arity(op, ops, 3, 3))
      return e;
    for (size_t i = 0; i < 3; ++i) {
      if (!ops[i].data || ops[i].type.numElements() != 1)
        return fail(fmt::format("Range expects constant scalar start, limit and delta, found {}",
                                ts(ops[i])));
      if (auto e = sameDType(op, ops[0], ops[i]))
        return e;
    }
    int64_t n;
    if (isFloat(ops[0].type.dtype())) {
      double s = ops[0].data->getDouble(0), l = ops[1].data->getDouble(0),
             d = ops[2].data->getDouble(0);
      if (d == 0)
        return fail("Range expects a nonzero delta, found 0");
      double c = std::ceil((l - s) / d);
      // The count comes from the model's constants: NaN and counts beyond int64 are refused
      // before the cast, which would be undefined for them.
      if (std::isnan(c) || c >= 9.2e18)
        return fail(fmt::format("Range expects a finite element count, found start {}, limit {}, "
                                "delta {}",
                                s, l, d));
      n = static_cast<int64_t>(std::max(c, 0.0));
    } else {
      int64_t s = ops[0].data->getInt(0), l = ops[1].data->getInt(0), d = ops[2].data->getInt(0);
      if (d == 0)
        return fail("Range expects a nonzero delta, found 0");
      // In 128 bits: limit - start and the rounding may overflow int64.
      __int128 diff = static_cast<__int128>(l) - s, q = diff / d;
      if (diff % d != 0 && ((diff < 0) == (d < 0)))
        q += 1;
      if (q > std::numeric_limits<int64_t>::max())
        return fail(fmt::format("Range expects an element count int64 can hold, found start {}, "
                                "limit {}, delta {}",
                                s, l, d));
      n = static_cast<int64_t>(std::max<__int128>(q, 0));
    }
    return Types{rowMajor(ops[0].type.dtype(), {n})};
  }
  default:
    break;
  }
  return fail(fmt::format("{} has no type inference rule", nm(op)));
}

llvm::Expected<Tensors> evaluateRule(OpKind op, const Tensors &xs, const Attributes &attrs,
                                     const Types &rts) {
  const TensorType &rt = rts[0];
  switch (op) {
  case OpKind::Shape: {
    const ShapeSpan s = shapeSpan(static_cast<int64_t>(xs[0].shape.size()), attrs);
    std::vector<int64_t> v(xs[0].shape.begin() + s.begin, xs[0].shape.begin() + s.end);
    return Tensors{make(DType::I64, rt.shape, v)};
  }
  case OpKind::ConstantOfShape:
    return Tensors{make(
        rt.dtype(), rt.shape,
        std::vector<double>(static_cast<size_t>(rt.numElements()), attrs.getFloat("value", 0.0)))};
  case OpKind::Range:
    return evalRange(xs, rt);
  default:
    break;
  }
  return fail(fmt::format("{} has no evaluation rule", nm(op)));
}

std::vector<ShapeOperand> shapeOperandsRule(OpKind op) {
  // The operands that infer() reads through constInts or as Range's scalars.
  switch (op) {
  case OpKind::ConstantOfShape:
    return {{0, "input"}};
  case OpKind::Range:
    return {{0, "start"}, {1, "limit"}, {2, "delta"}};
  default:
    return {};
  }
}

} // namespace

const FamilyRules kGeneratorRules = {&inferRule, &evaluateRule, &shapeOperandsRule};

} // namespace sem

} // namespace kiln
