// A kernel decision as data: what code generation runs for one node, decided by the selectors
// (codegen/KernelSelect.h) from the node's static types and the target, and printed by one
// printer (printDecision). The kernels, families, variants and functors come from one table
// (codegen/Kernels.def). A decision holds no C++ text: template arguments are typed values, call
// arguments are (role, index) references to the node's operands and results, the arena scratch,
// the epilogue functor or constants the selector computed, so the emitter binds exactly what a
// decision references, the node hook names its kernel, and a test compares decisions field by
// field. The side table of decisions (ir/DecisionTable.h, printed in .kir) keeps per node its
// variant, integer tunables, scratch bytes and cost; `kiln compile --decisions=FILE` forces it.
#pragma once

#include "ir/DecisionTable.h"
#include "ir/Epilogue.h"
#include "ir/Types.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

enum class KernelFamily {
#define KILN_FAMILY(Id, Name, Header) Id,
#include "codegen/Kernels.def"
};

enum class Kernel {
#define KILN_KERNEL(Id, Callee, Family, Form) Id,
#include "codegen/Kernels.def"
};

enum class Variant {
#define KILN_VARIANT(Id, Name, Family) Id,
#include "codegen/Kernels.def"
};

enum class FunctorKind {
#define KILN_FUNCTOR(Id, Name) Id,
#include "codegen/Kernels.def"
};

/// How a call of a kernel prints (Kernels.def).
enum class CallForm { Template, StaticRun, Plain, Discard };

const char *familyName(KernelFamily f);
/// The header under codegen/kernels/ holding the family's templates.
const char *familyHeader(KernelFamily f);
/// The callee ("kiln_f32_conv2d", "std::memcpy"; "" for Unused).
const char *kernelCallee(Kernel k);
KernelFamily kernelFamily(Kernel k);
CallForm kernelForm(Kernel k);
const char *variantName(Variant v);
KernelFamily variantFamily(Variant v);
/// The variant the side table spells `name`; nullopt when none does.
std::optional<Variant> variantNamed(const std::string &name);
/// The variants of a family in table order.
std::vector<Variant> variantsOf(KernelFamily f);
/// The names of all variants in table order.
std::vector<std::string> variantNames();

/// An elementwise or reduction functor: a binary op (kiln_ew_add{}), an activation with its float
/// parameters (kiln_ew_leaky_relu{0.01f}, Clip as kiln_ew_clip<float>{lo, hi}), kiln_ew_div_by
/// with its divisor, optionally followed by the node's epilogue (kiln_ew_fuse<arity>(f, epi)).
struct Functor {
  FunctorKind kind = FunctorKind::Add;
  ActKind act = ActKind::Relu; // Activation
  double alpha = 0, beta = 0;  // the activation's parameters (actParamCount), DivBy's divisor
  int fuseArity = 0;           // > 0: the node's epilogue follows, applied to `fuseArity` values

  bool operator==(const Functor &o) const {
    return kind == o.kind && act == o.act && alpha == o.alpha && beta == o.beta &&
           fuseArity == o.fuseArity;
  }
};

/// One template argument of a kernel.
struct TemplateArg {
  enum class Kind { Int, Bool, Type, IntList, Functor };
  Kind kind = Kind::Int;
  int64_t value = 0;             // Int; Bool as 0 / 1
  DType type = DType::Undefined; // Type: an element type, spelled for the kernel's family
  std::vector<int64_t> list;     // IntList: the family's list template (kiln_ew_list<...>)
  FunctorKind functor = FunctorKind::ReduceSum; // Functor: a functor type (kiln_rd_max)

  static TemplateArg integer(int64_t v);
  static TemplateArg boolean(bool b);
  static TemplateArg dtype(DType t);
  static TemplateArg ints(std::vector<int64_t> v);
  static TemplateArg functorType(FunctorKind f);
  bool operator==(const TemplateArg &o) const {
    return kind == o.kind && value == o.value && type == o.type && list == o.list &&
           functor == o.functor;
  }
};

/// A constant array the selector computed, declared before the calls that read it.
struct ConstantTable {
  /// MatMul's per-batch element offsets of A and B (static const long kiln_aoff[] / kiln_boff[]);
  /// Pad's constant value as bytes (const unsigned char pad_value[]).
  enum class Kind { MatMulAOffsets, MatMulBOffsets, PadValue };
  Kind kind = Kind::PadValue;
  std::vector<int64_t> values;
  bool operator==(const ConstantTable &o) const { return kind == o.kind && values == o.values; }
};

/// A constant operand that kiln packs at compile time into the layout a kernel reads
/// (codegen/WeightPack.h). The call reads the packed copy (CallArg role Packed); the constant
/// itself is emitted only when something else reads it.
struct PackedWeight {
  /// ConvPanels: a [groups * rows, k] float matrix (a convolution's OIHW weights, rows = output
  /// channels per group, k = (C / G) * KH * KW) as, per group, ceil(rows / width) panels of k x
  /// width floats, element (r, kk) of panel q at [kk * width + r - q * width], the rows past
  /// `rows` zero.
  enum class Kind { ConvPanels };
  Kind kind = Kind::ConvPanels;
  unsigned operand = 0;
  int64_t groups = 1, rows = 0, k = 0, width = 0;
  bool operator==(const PackedWeight &o) const {
    return kind == o.kind && operand == o.operand && groups == o.groups && rows == o.rows &&
           k == o.k && width == o.width;
  }
  bool operator<(const PackedWeight &o) const;
};

/// One argument of a call, as a reference: an operand or result of the node (plus a constant byte
/// offset), a weight the decision packs (one of its `packed`), the node's scratch, its epilogue
/// functor, a null pointer, a constant the selector computed (integer, float, functor value, one
/// of the decision's constant tables).
struct CallArg {
  enum class Role { Operand, Result, Packed, Scratch, Epilogue, Null, Int, Float, Functor, Table };
  Role role = Role::Null;
  unsigned index = 0;      // Operand, Result: the node's operand / result; Packed, Table: the
                           // decision's
  int64_t byteOffset = 0;  // Operand, Result: bytes past the start (byte-pointer kernels)
  int64_t value = 0;       // Int
  double real = 0;         // Float
  bool nineDigits = false; // Float: printed with 9 significant digits, else the shortest exact
  kiln::Functor functor;   // Functor

  static CallArg operand(unsigned i, int64_t byteOffset = 0);
  static CallArg result(unsigned i, int64_t byteOffset = 0);
  static CallArg packed(unsigned i);
  static CallArg scratch();
  static CallArg epilogue();
  static CallArg null();
  static CallArg integer(int64_t v);
  static CallArg floating(double v); // the shortest literal that reads back as float(v)
  static CallArg real9(double v);    // 9 significant digits
  static CallArg fn(kiln::Functor f);
  static CallArg table(unsigned i);
  bool operator==(const CallArg &o) const {
    return role == o.role && index == o.index && byteOffset == o.byteOffset && value == o.value &&
           real == o.real && nineDigits == o.nineDigits && functor == o.functor;
  }
};

/// One kernel call of a decision.
struct KernelCall {
  Kernel kernel = Kernel::Unused;
  std::vector<TemplateArg> templateArgs;
  std::vector<CallArg> args;
  /// Skipped at run time when result 0 and operand 0 are one buffer (a copy the memory plan may
  /// have made in place).
  bool unlessInPlace = false;
  bool operator==(const KernelCall &o) const {
    return kernel == o.kernel && templateArgs == o.templateArgs && args == o.args &&
           unlessInPlace == o.unlessInPlace;
  }
};

/// A named integer parameter of a variant (the im2col column chunk `nc`): shown in the side table,
/// and a forced decision may set it.
struct Tunable {
  std::string name;
  int64_t value = 0;
  bool operator==(const Tunable &o) const { return name == o.name && value == o.value; }
};

struct KernelDecision {
  Variant variant = Variant::Elementwise;
  std::vector<Tunable> tunables;
  /// The calls in order; a node's code is usually one, Concat / Split / the variadic ops several.
  std::vector<KernelCall> calls;
  std::vector<ConstantTable> tables;
  /// Constant operands packed at compile time, which Packed call arguments read.
  std::vector<PackedWeight> packed;
  /// Why a node has nothing to compute, printed before its calls (which then only mark results
  /// unused).
  enum class NoWork { None, EmptyResult, EmptyTensor };
  NoWork noWork = NoWork::None;
  int64_t scratchBytes = 0;
  /// Operands and results are bound as bytes (const unsigned char*) rather than typed pointers.
  bool bytePointers = false;
  /// Layout each operand is read in (by operand index); the emitter checks it against the
  /// operand's type.
  std::vector<Layout> operandLayouts;
  /// Result 0 holds operand 0's bytes unchanged (Reshape, Flatten, Squeeze, Unsqueeze, Identity,
  /// single-result Dropout): the memory plan (codegen/MemoryPlan.h) may make it a view of operand
  /// 0, and the emitter then prints no call.
  bool resultIsOperandView = false;
  /// Operands whose buffer result 0 may share (the memory plan decides) when the operand has its
  /// type and dies at this node: the calls read element i of such an operand only right before
  /// writing element i of result 0, and read no other of its elements afterwards.
  std::vector<unsigned> inPlaceOperands;
  /// Estimated cost: multiply-accumulates for Conv and matrix products, window reads for pools,
  /// bytes read and written otherwise (the cost model refines it).
  int64_t cost = 0;

  KernelFamily family() const { return variantFamily(variant); }
  bool readsOperand(unsigned i) const;
  bool writesResult(unsigned i) const;
  bool usesScratch() const;
  /// Whether a call applies the node's epilogue (passes it, or a functor fused with it).
  bool appliesEpilogue() const;
  /// The kernel the node runs, for the node hook: the first kiln_* callee, else the first callee
  /// (std::memcpy), else "inline".
  std::string kernelName() const;
  /// The side table's row for node `node`.
  DecisionRow row(const std::string &node) const;
};

/// The C++ statement(s) of a decision, one call per line, naming the pointers the emitter binds:
/// in<i> / out<i> (operand / result i), pk<i> (packed weight i), scratch, epi (see
/// codegen/KernelSelect.h).
std::string printDecision(const KernelDecision &d);
/// A functor as the kernels take it ("kiln_ew_leaky_relu{0.01f}").
std::string printFunctor(const Functor &f);
/// The activation functor of epilogue step `s` (epilogues print activations through it).
std::string activationFunctor(const EpilogueStep &s);

} // namespace kiln
