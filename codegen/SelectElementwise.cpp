// Kernel selection for the elementwise family (codegen/kernels/elementwise.h): unary maps, binary
// ops with numpy broadcasting, the variadic ops as a chain of in-place binary steps, Clip with
// its constant bounds baked in, Where, PRelu and inference BatchNormalization.
//
// Broadcasting is decided here, at compile time: the output shape is collapsed into the fewest
// dimensions that keep every operand's pattern (full extent or broadcast) and each operand gets a
// stride per collapsed dimension (0 where broadcast). A same-shape op becomes one flat loop, a
// scalar or per-channel operand a loop with a stride of 0, and all of it is template arguments.
#include "codegen/CodegenUtil.h"
#include "codegen/KernelSelect.h"
#include "ir/OpParams.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

namespace kiln {
namespace {

template <class... Args>
llvm::Error fail(const Node &n, fmt::format_string<Args...> f, Args &&...args) {
  std::string what = fmt::format(f, std::forward<Args>(args)...);
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "node '%s' (%s): %s",
                                 n.name().c_str(), opName(n.op()), what.c_str());
}

std::string dtypeList(const std::vector<DType> &ts) {
  std::string s;
  size_t i = 0;
  for (DType t : ts) {
    if (i)
      s += i + 1 == ts.size() ? " or " : ", ";
    s += dtypeName(t);
    ++i;
  }
  return s;
}

/// Checks the dtype of one operand or result; `what` names it in the message.
llvm::Error expectDType(const Node &n, const char *what, DType t, std::vector<DType> allowed) {
  for (DType a : allowed)
    if (a == t)
      return llvm::Error::success();
  return fail(n, "{} dtype: expected {}, found {}", what, dtypeList(allowed), dtypeName(t));
}

/// Every elementwise kernel reads and writes dense row-major tensors and has one result.
llvm::Error checkCommon(const Node &n) {
  // A fused chain (Add -> Mul -> Relu) leaves activation and binary steps on f32 unary/binary ops
  // and Clip; the functor is wrapped in kiln_ew_fuse. Anything else cannot carry an epilogue here.
  bool fusable = isElementwiseEpilogueOp(n.op()) && n.numResults() == 1 &&
                 n.result()->type().dtype() == DType::F32;
  for (const EpilogueStep &st : n.epilogue().steps)
    if (!fusable ||
        (st.kind != EpilogueStep::Kind::Activation && st.kind != EpilogueStep::Kind::Binary))
      return fail(n,
                  "expected only activation and binary steps on an f32 unary or binary op's "
                  "epilogue, "
                  "found {} step(s) on a {} {}",
                  n.epilogue().steps.size(), dtypeName(n.result()->type().dtype()), opName(n.op()));
  if (n.numResults() != 1)
    return fail(n, "expected 1 result, found {}", n.numResults());
  for (const Value *v : n.operands())
    if (!v->type().layout.isRowMajor())
      return fail(n, "expected row-major operands, found {} for '{}'", typeString(v->type()),
                  v->name());
  if (!n.result()->type().layout.isRowMajor())
    return fail(n, "expected a row-major result, found {}", typeString(n.result()->type()));
  return llvm::Error::success();
}

struct Collapsed {
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> strides; // per operand, one per dim
};

/// Collapses `out` with the operand shapes broadcast (numpy rules, right-aligned) onto it.
llvm::Expected<Collapsed> collapse(const Node &n, const Shape &out, const std::vector<Shape> &ins) {
  const size_t rank = out.size(), k = ins.size();
  std::vector<int64_t> dims;
  std::vector<std::vector<bool>> has; // per collapsed dim, per operand: full extent there
  for (size_t d = 0; d < rank; ++d) {
    if (out[d] == 1)
      continue; // size-1 dims change no address
    std::vector<bool> mask(k, false);
    for (size_t j = 0; j < k; ++j) {
      const Shape &s = ins[j];
      if (s.size() > rank)
        return fail(n, "operand {} of rank {} does not broadcast to the result {}", j, s.size(),
                    shapeString(out));
      if (d + s.size() < rank)
        continue; // missing leading dim: broadcast
      int64_t e = s[d + s.size() - rank];
      if (e == out[d])
        mask[j] = true;
      else if (e != 1)
        return fail(n, "operand {} shape {} does not broadcast to the result shape {}", j,
                    shapeString(s), shapeString(out));
    }
    if (!has.empty() && has.back() == mask)
      dims.back() *= out[d];
    else {
      dims.push_back(out[d]);
      has.push_back(mask);
    }
  }
  Collapsed c;
  if (dims.empty()) { // a single element
    c.dims = {1};
    c.strides.assign(k, std::vector<int64_t>{0});
    return c;
  }
  c.dims = dims;
  c.strides.assign(k, std::vector<int64_t>(dims.size(), 0));
  for (size_t j = 0; j < k; ++j) {
    int64_t acc = 1;
    for (size_t d = dims.size(); d-- > 0;)
      if (has[d][j]) {
        c.strides[j][d] = acc;
        acc *= dims[d];
      }
  }
  return c;
}

KernelDecision decision(std::vector<KernelCall> calls) {
  KernelDecision d;
  d.variant = Variant::Elementwise;
  d.calls = std::move(calls);
  return d;
}

Functor functor(FunctorKind k) {
  Functor f;
  f.kind = k;
  return f;
}

Functor activation(const EpilogueStep &s) {
  Functor f;
  f.kind = FunctorKind::Activation;
  f.act = s.act;
  f.alpha = s.alpha;
  f.beta = s.beta;
  return f;
}

std::vector<DType> arith() { return {DType::F32, DType::F64, DType::I32, DType::I64}; }
std::vector<DType> f32Only() { return {DType::F32}; }
/// arith() and the narrow integers: the binary arithmetic and the variadic functors cast their
/// (promoted) result back to T, so 8- and 16-bit results wrap like numpy's.
std::vector<DType> arithAll() {
  return {DType::F32, DType::F64, DType::I8, DType::U8, DType::I16, DType::I32, DType::I64};
}

/// One binary step out = f(a, b) over the result's shape.
llvm::Expected<KernelCall> binaryStep(const Node &n, DType to, DType ta, DType tb, const Shape &sa,
                                      const Shape &sb, CallArg a, CallArg b, Functor f) {
  auto c = collapse(n, n.result()->type().shape, {sa, sb});
  if (!c)
    return c.takeError();
  return KernelCall{Kernel::EwBinary,
                    {TemplateArg::dtype(to), TemplateArg::dtype(ta), TemplateArg::dtype(tb),
                     TemplateArg::ints(c->dims), TemplateArg::ints(c->strides[0]),
                     TemplateArg::ints(c->strides[1])},
                    {CallArg::result(0), a, b, CallArg::fn(f)},
                    false};
}

/// The functor `f` of `arity` operands with the node's epilogue applied after it (f32 results;
/// the verifier enforces it).
Functor withEpilogue(const Node &n, Functor f, int arity) {
  if (!n.epilogue().empty())
    f.fuseArity = arity;
  return f;
}

/// The operands of the op itself: all but those its epilogue reads (which fuse-epilogue appends).
std::vector<unsigned> ownOperands(const Node &n) {
  std::vector<unsigned> own;
  for (unsigned i = 0; i < n.numOperands(); ++i)
    if (!n.isEpilogueOperand(i))
      own.push_back(i);
  return own;
}

/// The binary steps' operands, in step order (the values the epilogue functor takes).
std::vector<unsigned> stepOperands(const Node &n) {
  std::vector<unsigned> ops;
  for (const EpilogueStep &st : n.epilogue().steps)
    if (st.kind == EpilogueStep::Kind::Binary)
      ops.push_back(static_cast<unsigned>(st.operand));
  return ops;
}

/// A fused chain with binary steps (Add -> Mul(scale) -> Add(shift) -> Relu): one kiln_ew_map
/// loop over the op's own operands `primary` and then the steps' operands, each loaded at its own
/// broadcast stride, into `f` followed by the epilogue. Every operand of the result's type is
/// read at the index written, so each may share the result's buffer.
llvm::Expected<KernelDecision> chainCall(const Node &n, std::vector<unsigned> operands,
                                         const Functor &f) {
  const int arity = static_cast<int>(operands.size());
  for (unsigned i : stepOperands(n))
    operands.push_back(i);
  std::vector<Shape> shapes;
  for (unsigned i : operands)
    shapes.push_back(n.operand(i)->type().shape);
  auto c = collapse(n, n.result()->type().shape, shapes);
  if (!c)
    return c.takeError();
  KernelCall map{Kernel::EwMap, {TemplateArg::ints(c->dims)}, {CallArg::result(0)}, false};
  for (const std::vector<int64_t> &st : c->strides)
    map.templateArgs.push_back(TemplateArg::ints(st));
  map.args.push_back(CallArg::fn(withEpilogue(n, f, arity)));
  for (unsigned i : operands)
    map.args.push_back(CallArg::operand(i));
  KernelDecision k = decision({std::move(map)});
  k.inPlaceOperands = operands;
  return k;
}

/// out = f(in) over all elements of the result.
KernelCall unaryCall(DType to, DType ti, int64_t count, CallArg in, Functor f) {
  return {Kernel::EwUnary,
          {TemplateArg::dtype(to), TemplateArg::dtype(ti), TemplateArg::integer(count)},
          {CallArg::result(0), in, CallArg::fn(f)},
          false};
}

/// std::memcpy of the whole result from operand 0.
KernelCall copyCall(int64_t bytes) {
  return {Kernel::Memcpy,
          {},
          {CallArg::result(0), CallArg::operand(0), CallArg::integer(bytes)},
          false};
}

llvm::Expected<KernelDecision> selectUnary(const Node &n) {
  const DType ti = n.operand(0)->type().dtype(), to = n.result()->type().dtype();
  Functor f;
  std::vector<DType> allowed = f32Only();
  if (n.op() == OpKind::Not) {
    f = functor(FunctorKind::Not);
    allowed = {DType::Bool};
  } else if (std::optional<EpilogueStep> st = activationStepOf(n.op(), n.attrs())) {
    f = activation(*st);
    if (n.op() == OpKind::Relu || n.op() == OpKind::Abs || n.op() == OpKind::Neg)
      allowed = arith();
  } else if (n.op() == OpKind::Gelu) {
    if (auto a = geluApproximation(n); !a)
      return selectError(n, llvm::toString(a.takeError()));
    return fail(n, "Gelu: expected an activation step, found none");
  } else {
    return fail(n, "not a unary elementwise op");
  }
  if (auto e = expectDType(n, "operand", ti, allowed))
    return e;
  if (to != ti)
    return fail(n, "result dtype: expected {} (the operand's), found {}", dtypeName(ti),
                dtypeName(to));
  if (n.operand(0)->type().shape != n.result()->type().shape)
    return fail(n, "result shape: expected {}, found {}", shapeString(n.operand(0)->type().shape),
                shapeString(n.result()->type().shape));
  if (!stepOperands(n).empty())
    return chainCall(n, {0}, f);
  KernelDecision k = decision({unaryCall(to, ti, n.result()->type().numElements(),
                                         CallArg::operand(0), withEpilogue(n, f, 1))});
  k.inPlaceOperands = {0}; // kiln_ew_unary: out[i] = f(in[i])
  return k;
}

llvm::Expected<KernelDecision> selectBinary(const Node &n) {
  if (ownOperands(n) != std::vector<unsigned>{0, 1})
    return fail(n, "expected 2 operands, found {}", ownOperands(n).size());
  const TensorType &a = n.operand(0)->type(), &b = n.operand(1)->type(), &o = n.result()->type();
  Functor f;
  DType expectOut = a.dtype();
  bool sameOperandTypes = true;
  std::vector<DType> allowed = arithAll();
  switch (n.op()) {
  case OpKind::Add:
    f = functor(FunctorKind::Add);
    break;
  case OpKind::Sub:
    f = functor(FunctorKind::Sub);
    break;
  case OpKind::Mul:
    f = functor(FunctorKind::Mul);
    break;
  case OpKind::Div:
    f = functor(FunctorKind::Div);
    break;
  case OpKind::Pow:
    f = functor(FunctorKind::Pow);
    allowed = {DType::F32, DType::I32, DType::I64};
    sameOperandTypes = false;
    if (auto e = expectDType(n, "exponent", b.dtype(), {DType::F32, DType::I32, DType::I64}))
      return e;
    break;
  case OpKind::PRelu:
    f = functor(FunctorKind::PRelu);
    allowed = f32Only();
    break;
  case OpKind::Equal:
    f = functor(FunctorKind::Equal);
    expectOut = DType::Bool;
    allowed = {DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool};
    break;
  case OpKind::Less:
    f = functor(FunctorKind::Less);
    expectOut = DType::Bool;
    break;
  case OpKind::Greater:
    f = functor(FunctorKind::Greater);
    expectOut = DType::Bool;
    break;
  default:
    return fail(n, "not a binary elementwise op");
  }
  if (auto e = expectDType(n, "operand", a.dtype(), allowed))
    return e;
  if (sameOperandTypes && b.dtype() != a.dtype())
    return fail(n, "operand dtypes: expected equal, found {} and {}", dtypeName(a.dtype()),
                dtypeName(b.dtype()));
  if (o.dtype() != expectOut)
    return fail(n, "result dtype: expected {}, found {}", dtypeName(expectOut),
                dtypeName(o.dtype()));
  if (!stepOperands(n).empty())
    return chainCall(n, {0, 1}, f);
  auto s = binaryStep(n, o.dtype(), a.dtype(), b.dtype(), a.shape, b.shape, CallArg::operand(0),
                      CallArg::operand(1), withEpilogue(n, f, 2));
  if (!s)
    return s.takeError();
  KernelDecision k = decision({std::move(*s)});
  // kiln_ew_binary reads a same-shape operand at the index it writes (see elementwise.h).
  k.inPlaceOperands = {0, 1};
  return k;
}

llvm::Expected<KernelDecision> selectVariadic(const Node &n) {
  const TensorType &o = n.result()->type();
  const DType t = o.dtype();
  Functor f;
  std::vector<DType> allowed = arithAll();
  switch (n.op()) {
  case OpKind::Max:
    f = functor(FunctorKind::Max);
    break;
  case OpKind::Min:
    f = functor(FunctorKind::Min);
    break;
  case OpKind::Sum:
    f = functor(FunctorKind::Add);
    break;
  case OpKind::Mean:
    f = functor(FunctorKind::Add);
    allowed = f32Only();
    break;
  default:
    return fail(n, "not a variadic elementwise op");
  }
  if (n.numOperands() == 0)
    return fail(n, "expected at least 1 operand, found none");
  if (auto e = expectDType(n, "result", t, allowed))
    return e;
  for (const Value *v : n.operands())
    if (v->type().dtype() != t)
      return fail(n, "operand '{}' dtype: expected {} (the result's), found {}", v->name(),
                  dtypeName(t), dtypeName(v->type().dtype()));
  std::vector<KernelCall> calls;
  if (n.numOperands() == 1) {
    if (n.operand(0)->type().shape != o.shape)
      return fail(n, "result shape: expected {}, found {}", shapeString(n.operand(0)->type().shape),
                  shapeString(o.shape));
    calls.push_back(copyCall(o.byteSize()));
  } else {
    // Accumulate in the result buffer: each step reads it back at the same index it writes.
    for (unsigned k = 1; k < n.numOperands(); ++k) {
      bool first = k == 1;
      auto s = binaryStep(n, t, t, t, first ? n.operand(0)->type().shape : o.shape,
                          n.operand(k)->type().shape,
                          first ? CallArg::operand(0) : CallArg::result(0), CallArg::operand(k), f);
      if (!s)
        return s.takeError();
      calls.push_back(std::move(*s));
    }
  }
  if (n.op() == OpKind::Mean) {
    Functor div = functor(FunctorKind::DivBy);
    div.alpha = n.numOperands();
    calls.push_back(unaryCall(DType::F32, DType::F32, o.numElements(), CallArg::result(0), div));
  }
  return decision(std::move(calls));
}

llvm::Expected<KernelDecision> selectClip(const Node &n) {
  const TensorType &x = n.operand(0)->type(), &o = n.result()->type();
  if (o.dtype() != x.dtype() || o.shape != x.shape)
    return fail(n, "result: expected {}, found {}", typeString(x), typeString(o));
  double bounds[2] = {-HUGE_VAL, HUGE_VAL};
  const char *names[2] = {"min", "max"};
  const std::vector<unsigned> own = ownOperands(n);
  bool runtimeBounds = false;
  for (unsigned i = 1; i < own.size() && i < 3; ++i)
    runtimeBounds |= !n.operand(own[i])->isConstant();
  if (runtimeBounds || x.dtype() != DType::F32) {
    // A bound computed at run time, or an integer Clip: numpy's clip, min(max(x, lo), hi), as
    // two broadcasting steps in the result buffer (the second reads back what the first wrote at
    // that index); without bounds, a copy.
    if (auto e = expectDType(n, "operand", x.dtype(), arithAll()))
      return e;
    if (!stepOperands(n).empty() || own.size() > 3)
      return fail(n,
                  "operands: expected at most min and max and no epilogue with a bound "
                  "computed at run time, found {} operands",
                  n.numOperands());
    std::vector<KernelCall> calls;
    CallArg cur = CallArg::operand(0);
    for (unsigned i = 1; i < own.size(); ++i) {
      const TensorType &b = n.operand(own[i])->type();
      if (b.dtype() != x.dtype() || b.numElements() != 1)
        return fail(n, "operand {}: expected a {} scalar, found {}", names[i - 1],
                    dtypeName(x.dtype()), typeString(b));
      auto st = binaryStep(n, o.dtype(), x.dtype(), b.dtype(), i == 1 ? x.shape : o.shape, b.shape,
                           cur, CallArg::operand(own[i]),
                           functor(i == 1 ? FunctorKind::Max : FunctorKind::Min));
      if (!st)
        return st.takeError();
      calls.push_back(std::move(*st));
      cur = CallArg::result(0);
    }
    if (calls.empty())
      calls.push_back(copyCall(o.byteSize()));
    return decision(std::move(calls));
  }
  if (auto e = expectDType(n, "operand", x.dtype(), f32Only()))
    return e;
  for (unsigned i = 1; i < own.size() && i < 3; ++i) {
    const Value *v = n.operand(own[i]);
    if (v->constant().numElements() != 1)
      return fail(n, "operand {}: expected a scalar, found {} elements", names[i - 1],
                  v->constant().numElements());
    bounds[i - 1] = v->constant().getDouble(0);
  }
  if (own.size() > 3)
    return fail(n, "expected at most 3 operands, found {}", own.size());
  EpilogueStep clip;
  clip.act = ActKind::Clip;
  clip.alpha = bounds[0];
  clip.beta = bounds[1];
  Functor f = activation(clip);
  if (!stepOperands(n).empty())
    return chainCall(n, {0}, f);
  KernelDecision k = decision({unaryCall(DType::F32, DType::F32, o.numElements(),
                                         CallArg::operand(0), withEpilogue(n, f, 1))});
  k.inPlaceOperands = {0};
  return k;
}

llvm::Expected<KernelDecision> selectWhere(const Node &n) {
  if (n.numOperands() != 3)
    return fail(n, "expected 3 operands, found {}", n.numOperands());
  const TensorType &c = n.operand(0)->type(), &x = n.operand(1)->type(), &y = n.operand(2)->type(),
                   &o = n.result()->type();
  if (auto e = expectDType(n, "condition", c.dtype(), {DType::Bool}))
    return e;
  if (!cElementType(o.dtype()) || x.dtype() != o.dtype() || y.dtype() != o.dtype())
    return fail(n,
                "dtypes: expected X, Y and the result of one supported dtype, found {}, {} "
                "and {}",
                dtypeName(x.dtype()), dtypeName(y.dtype()), dtypeName(o.dtype()));
  auto col = collapse(n, o.shape, {c.shape, x.shape, y.shape});
  if (!col)
    return col.takeError();
  return decision(
      {{Kernel::EwWhere,
        {TemplateArg::dtype(o.dtype()), TemplateArg::ints(col->dims),
         TemplateArg::ints(col->strides[0]), TemplateArg::ints(col->strides[1]),
         TemplateArg::ints(col->strides[2])},
        {CallArg::result(0), CallArg::operand(0), CallArg::operand(1), CallArg::operand(2)},
        false}});
}

llvm::Expected<KernelDecision> selectBatchNorm(const Node &n) {
  if (n.numOperands() != 5)
    return fail(n, "expected 5 operands (X, scale, B, mean, var), found {}", n.numOperands());
  const BatchNormParams params = batchNormParams(n);
  if (params.training)
    return fail(n, "attribute training_mode: expected 0 (inference), found 1");
  const TensorType &x = n.operand(0)->type(), &o = n.result()->type();
  if (x.rank() < 2)
    return fail(n, "X: expected rank >= 2 (N x C x ...), found {}", typeString(x));
  for (const Value *v : n.operands())
    if (auto e = expectDType(n, "operand", v->type().dtype(), f32Only()))
      return e;
  const int64_t C = x.shape[1];
  for (unsigned i = 1; i < 5; ++i)
    if (n.operand(i)->type().shape != Shape{C})
      return fail(n, "operand {}: expected shape {}, found {}", i, C,
                  shapeString(n.operand(i)->type().shape));
  if (o != x)
    return fail(n, "result: expected {}, found {}", typeString(x), typeString(o));
  int64_t inner = 1;
  for (int d = 2; d < x.rank(); ++d)
    inner *= x.shape[d];
  KernelCall bn{
      Kernel::EwBatchNorm,
      {TemplateArg::integer(x.shape[0]), TemplateArg::integer(C), TemplateArg::integer(inner)},
      {CallArg::result(0)},
      false};
  for (unsigned i = 0; i < 5; ++i)
    bn.args.push_back(CallArg::operand(i));
  bn.args.push_back(CallArg::floating(params.epsilon));
  return decision({std::move(bn)});
}

} // namespace

llvm::Expected<KernelDecision> selectElementwiseKernel(const Node &n) {
  if (auto e = checkCommon(n))
    return e;
  switch (n.op()) {
  case OpKind::Clip:
    return selectClip(n);
  case OpKind::Where:
    return selectWhere(n);
  case OpKind::BatchNormalization:
    return selectBatchNorm(n);
  case OpKind::PRelu:
    return selectBinary(n);
  default:
    break;
  }
  switch (opClass(n.op())) {
  case OpClass::Unary:
    if (ownOperands(n).size() != 1)
      return fail(n, "expected 1 operand, found {}", ownOperands(n).size());
    return selectUnary(n);
  case OpClass::Binary:
    return selectBinary(n);
  case OpClass::Variadic:
    return selectVariadic(n);
  default:
    return fail(n, "not an elementwise op");
  }
}

} // namespace kiln
