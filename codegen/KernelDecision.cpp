// The kernel tables (codegen/Kernels.def) as lookups, and the one printer from a kernel decision
// to the C++ statements the emitter places in a node's block.
#include "codegen/KernelDecision.h"

#include "codegen/CodegenUtil.h"

#include <fmt/format.h>

#include <tuple>

namespace kiln {
namespace {

struct FamilyRow {
  const char *name, *header;
};
const FamilyRow kFamilies[] = {
#define KILN_FAMILY(Id, Name, Header) {Name, Header},
#include "codegen/Kernels.def"
};

struct KernelRow {
  const char *callee;
  KernelFamily family;
  CallForm form;
};
const KernelRow kKernels[] = {
#define KILN_KERNEL(Id, Callee, Family, Form) {Callee, KernelFamily::Family, CallForm::Form},
#include "codegen/Kernels.def"
};

struct VariantRow {
  Variant id;
  const char *name;
  KernelFamily family;
};
const VariantRow kVariants[] = {
#define KILN_VARIANT(Id, Name, Family) {Variant::Id, Name, KernelFamily::Family},
#include "codegen/Kernels.def"
};

const char *const kFunctors[] = {
#define KILN_FUNCTOR(Id, Name) Name,
#include "codegen/Kernels.def"
};

/// Element types as the kernels of a family spell them: the movement kernels have their own f16
/// and bool types, the others take the plain C++ type.
const char *typeSpelling(DType t, KernelFamily f) {
  if (f != KernelFamily::Movement)
    return cElementType(t);
  switch (t) {
  case DType::F16:
    return "kiln_mv_f16";
  case DType::Bool:
    return "kiln_mv_bool";
  default:
    return cElementType(t);
  }
}

const char *listTemplate(KernelFamily f) {
  switch (f) {
  case KernelFamily::Elementwise:
    return "kiln_ew_list";
  case KernelFamily::Reduction:
    return "kiln_rd_list";
  default:
    return "kiln_mv_list";
  }
}

/// A float literal with 9 significant digits (always enough to read back as the same float).
std::string nineDigitLiteral(float v) {
  std::string s = fmt::format("{:.9g}", v);
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s + "f";
}

std::string printTemplateArg(const TemplateArg &a, KernelFamily f) {
  switch (a.kind) {
  case TemplateArg::Kind::Int:
    return fmt::format("{}", a.value);
  case TemplateArg::Kind::Bool:
    return a.value ? "true" : "false";
  case TemplateArg::Kind::Type:
    return typeSpelling(a.type, f);
  case TemplateArg::Kind::IntList:
    return fmt::format("{}<{}>", listTemplate(f), fmt::join(a.list, ", "));
  case TemplateArg::Kind::Functor:
    return kFunctors[static_cast<int>(a.functor)];
  }
  return "";
}

const char *tableName(ConstantTable::Kind k) {
  switch (k) {
  case ConstantTable::Kind::MatMulAOffsets:
    return "kiln_aoff";
  case ConstantTable::Kind::MatMulBOffsets:
    return "kiln_boff";
  case ConstantTable::Kind::PadValue:
    return "pad_value";
  }
  return "";
}

std::string printTable(const ConstantTable &t) {
  if (t.kind == ConstantTable::Kind::PadValue) {
    std::vector<std::string> bytes;
    for (int64_t b : t.values)
      bytes.push_back(fmt::format("0x{:02x}", b));
    return fmt::format("const unsigned char {}[{}] = {{{}}};", tableName(t.kind), t.values.size(),
                       fmt::join(bytes, ", "));
  }
  return fmt::format("static const long {}[{}] = {{{}}};", tableName(t.kind), t.values.size(),
                     fmt::join(t.values, ", "));
}

std::string pointer(const char *base, unsigned i, int64_t offset) {
  return offset == 0 ? fmt::format("{}{}", base, i) : fmt::format("{}{} + {}", base, i, offset);
}

std::string printArg(const CallArg &a, const KernelDecision &d) {
  switch (a.role) {
  case CallArg::Role::Operand:
    return pointer("in", a.index, a.byteOffset);
  case CallArg::Role::Result:
    return pointer("out", a.index, a.byteOffset);
  case CallArg::Role::Packed:
    return pointer("pk", a.index, 0);
  case CallArg::Role::Scratch:
    return "scratch";
  case CallArg::Role::Epilogue:
    return "epi";
  case CallArg::Role::Null:
    return "nullptr";
  case CallArg::Role::Int:
    return fmt::format("{}", a.value);
  case CallArg::Role::Float:
    return a.nineDigits ? nineDigitLiteral(static_cast<float>(a.real)) : floatLiteral(a.real);
  case CallArg::Role::Functor:
    return printFunctor(a.functor);
  case CallArg::Role::Table:
    return tableName(d.tables[a.index].kind);
  }
  return "";
}

std::string printCall(const KernelCall &c, const KernelDecision &d) {
  std::vector<std::string> targs, args;
  const KernelFamily f = kernelFamily(c.kernel);
  for (const TemplateArg &t : c.templateArgs)
    targs.push_back(printTemplateArg(t, f));
  for (const CallArg &a : c.args)
    args.push_back(printArg(a, d));
  const std::string guard = c.unlessInPlace ? "if (out0 != in0) " : "";
  const char *callee = kernelCallee(c.kernel);
  switch (kernelForm(c.kernel)) {
  case CallForm::Template:
    return fmt::format("{}{}<{}>({});", guard, callee, fmt::join(targs, ", "),
                       fmt::join(args, ", "));
  case CallForm::StaticRun:
    return fmt::format("{}{}<{}>::run({});", guard, callee, fmt::join(targs, ", "),
                       fmt::join(args, ", "));
  case CallForm::Plain:
    return fmt::format("{}{}({});", guard, callee, fmt::join(args, ", "));
  case CallForm::Discard:
    return fmt::format("(void){};", fmt::join(args, ", "));
  }
  return "";
}

} // namespace

const char *familyName(KernelFamily f) { return kFamilies[static_cast<int>(f)].name; }
const char *familyHeader(KernelFamily f) { return kFamilies[static_cast<int>(f)].header; }
const char *kernelCallee(Kernel k) { return kKernels[static_cast<int>(k)].callee; }
KernelFamily kernelFamily(Kernel k) { return kKernels[static_cast<int>(k)].family; }
CallForm kernelForm(Kernel k) { return kKernels[static_cast<int>(k)].form; }
const char *variantName(Variant v) { return kVariants[static_cast<int>(v)].name; }
KernelFamily variantFamily(Variant v) { return kVariants[static_cast<int>(v)].family; }

std::optional<Variant> variantNamed(const std::string &name) {
  for (const VariantRow &r : kVariants)
    if (name == r.name)
      return r.id;
  return std::nullopt;
}

std::vector<Variant> variantsOf(KernelFamily f) {
  std::vector<Variant> out;
  for (const VariantRow &r : kVariants)
    if (r.family == f)
      out.push_back(r.id);
  return out;
}

std::vector<std::string> variantNames() {
  std::vector<std::string> out;
  for (const VariantRow &r : kVariants)
    out.push_back(r.name);
  return out;
}

TemplateArg TemplateArg::integer(int64_t v) {
  TemplateArg a;
  a.value = v;
  return a;
}
TemplateArg TemplateArg::boolean(bool b) {
  TemplateArg a;
  a.kind = Kind::Bool;
  a.value = b;
  return a;
}
TemplateArg TemplateArg::dtype(DType t) {
  TemplateArg a;
  a.kind = Kind::Type;
  a.type = t;
  return a;
}
TemplateArg TemplateArg::ints(std::vector<int64_t> v) {
  TemplateArg a;
  a.kind = Kind::IntList;
  a.list = std::move(v);
  return a;
}
TemplateArg TemplateArg::functorType(FunctorKind f) {
  TemplateArg a;
  a.kind = Kind::Functor;
  a.functor = f;
  return a;
}

CallArg CallArg::operand(unsigned i, int64_t byteOffset) {
  CallArg a;
  a.role = Role::Operand;
  a.index = i;
  a.byteOffset = byteOffset;
  return a;
}
CallArg CallArg::result(unsigned i, int64_t byteOffset) {
  CallArg a = operand(i, byteOffset);
  a.role = Role::Result;
  return a;
}
CallArg CallArg::packed(unsigned i) {
  CallArg a;
  a.role = Role::Packed;
  a.index = i;
  return a;
}
CallArg CallArg::scratch() {
  CallArg a;
  a.role = Role::Scratch;
  return a;
}
CallArg CallArg::epilogue() {
  CallArg a;
  a.role = Role::Epilogue;
  return a;
}
CallArg CallArg::null() { return CallArg(); }
CallArg CallArg::integer(int64_t v) {
  CallArg a;
  a.role = Role::Int;
  a.value = v;
  return a;
}
CallArg CallArg::floating(double v) {
  CallArg a;
  a.role = Role::Float;
  a.real = v;
  return a;
}
CallArg CallArg::real9(double v) {
  CallArg a = floating(v);
  a.nineDigits = true;
  return a;
}
CallArg CallArg::fn(kiln::Functor f) {
  CallArg a;
  a.role = Role::Functor;
  a.functor = f;
  return a;
}
CallArg CallArg::table(unsigned i) {
  CallArg a;
  a.role = Role::Table;
  a.index = i;
  return a;
}

bool PackedWeight::operator<(const PackedWeight &o) const {
  return std::tie(kind, operand, groups, rows, k, width) <
         std::tie(o.kind, o.operand, o.groups, o.rows, o.k, o.width);
}

namespace {
bool anyArg(const KernelDecision &d, CallArg::Role role, unsigned index) {
  for (const KernelCall &c : d.calls)
    for (const CallArg &a : c.args)
      if (a.role == role && a.index == index)
        return true;
  return false;
}
} // namespace

bool KernelDecision::readsOperand(unsigned i) const {
  if (anyArg(*this, CallArg::Role::Operand, i))
    return true;
  // A guarded copy compares operand 0 with result 0.
  for (const KernelCall &c : calls)
    if (c.unlessInPlace && i == 0)
      return true;
  return false;
}

bool KernelDecision::writesResult(unsigned i) const {
  if (anyArg(*this, CallArg::Role::Result, i))
    return true;
  for (const KernelCall &c : calls)
    if (c.unlessInPlace && i == 0)
      return true;
  return false;
}

bool KernelDecision::usesScratch() const { return anyArg(*this, CallArg::Role::Scratch, 0); }

bool KernelDecision::appliesEpilogue() const {
  for (const KernelCall &c : calls)
    for (const CallArg &a : c.args)
      if (a.role == CallArg::Role::Epilogue ||
          (a.role == CallArg::Role::Functor && a.functor.fuseArity > 0))
        return true;
  return false;
}

std::string KernelDecision::kernelName() const {
  for (const KernelCall &c : calls)
    if (std::string(kernelCallee(c.kernel)).rfind("kiln_", 0) == 0)
      return kernelCallee(c.kernel);
  for (const KernelCall &c : calls)
    if (kernelForm(c.kernel) != CallForm::Discard)
      return kernelCallee(c.kernel);
  return "inline";
}

DecisionRow KernelDecision::row(const std::string &node) const {
  DecisionRow r;
  r.node = node;
  r.variant = variantName(variant);
  for (const Tunable &t : tunables)
    r.tunables.emplace_back(t.name, t.value);
  r.scratchBytes = scratchBytes;
  r.cost = cost;
  return r;
}

std::string printFunctor(const Functor &f) {
  std::string s;
  if (f.kind == FunctorKind::Activation) {
    s = fmt::format("{}{}{}", kFunctors[static_cast<int>(f.kind)], actName(f.act),
                    f.act == ActKind::Clip ? "<float>" : "");
    switch (actParamCount(f.act)) {
    case 0:
      s += "{}";
      break;
    case 1:
      s += fmt::format("{{{}}}", floatLiteral(f.alpha));
      break;
    default:
      s += fmt::format("{{{}, {}}}", floatLiteral(f.alpha), floatLiteral(f.beta));
      break;
    }
  } else if (f.kind == FunctorKind::DivBy) {
    s = fmt::format("{}{{{}}}", kFunctors[static_cast<int>(f.kind)], floatLiteral(f.alpha));
  } else {
    s = fmt::format("{}{{}}", kFunctors[static_cast<int>(f.kind)]);
  }
  return f.fuseArity > 0 ? fmt::format("kiln_ew_fuse<{}>({}, epi)", f.fuseArity, s) : s;
}

std::string activationFunctor(const EpilogueStep &s) {
  Functor f;
  f.kind = FunctorKind::Activation;
  f.act = s.act;
  f.alpha = s.alpha;
  f.beta = s.beta;
  return printFunctor(f);
}

std::string printDecision(const KernelDecision &d) {
  std::vector<std::string> lines;
  if (d.noWork == KernelDecision::NoWork::EmptyResult)
    lines.push_back("// empty result: nothing to move");
  else if (d.noWork == KernelDecision::NoWork::EmptyTensor)
    lines.push_back("// empty tensor: nothing to normalize");
  for (const ConstantTable &t : d.tables)
    lines.push_back(printTable(t));
  for (const KernelCall &c : d.calls)
    lines.push_back(printCall(c, d));
  return fmt::format("{}", fmt::join(lines, "\n"));
}

} // namespace kiln
