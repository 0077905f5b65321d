// The op table, expanded from ir/Ops.def.
#include "ir/Op.h"

#include "ir/Epilogue.h"

namespace kiln {

namespace {
struct OpRow {
  const char *name;
  OpClass cls;
};
const OpRow kOps[] = {
#define KILN_OP(E, N, K, F) {N, OpClass::K},
#include "ir/Ops.def"
};
} // namespace

const char *opName(OpKind k) { return kOps[static_cast<unsigned>(k)].name; }
OpClass opClass(OpKind k) { return kOps[static_cast<unsigned>(k)].cls; }
unsigned numOps() { return sizeof(kOps) / sizeof(kOps[0]); }

std::optional<OpKind> opFromName(const std::string &name) {
  for (unsigned i = 0; i < numOps(); ++i)
    if (name == kOps[i].name)
      return static_cast<OpKind>(i);
  return std::nullopt;
}

namespace {
const char *const kActNames[] = {
#define KILN_ACT(E, N, OP, AA, AD, BA, BD, P) N,
#include "ir/Activations.def"
};
const int kActParams[] = {
#define KILN_ACT(E, N, OP, AA, AD, BA, BD, P) P,
#include "ir/Activations.def"
};
} // namespace
int actParamCount(ActKind k) { return kActParams[static_cast<unsigned>(k)]; }
const char *actName(ActKind k) { return kActNames[static_cast<unsigned>(k)]; }
bool parseActKind(const std::string &s, ActKind &out) {
  for (unsigned i = 0; i < sizeof(kActNames) / sizeof(kActNames[0]); ++i)
    if (s == kActNames[i]) {
      out = static_cast<ActKind>(i);
      return true;
    }
  return false;
}

namespace {
const char *const kBinNames[] = {
#define KILN_BIN(E, N) N,
#include "ir/BinarySteps.def"
};
}
const char *binName(BinKind k) { return kBinNames[static_cast<unsigned>(k)]; }
bool parseBinKind(const std::string &s, BinKind &out) {
  for (unsigned i = 0; i < sizeof(kBinNames) / sizeof(kBinNames[0]); ++i)
    if (s == kBinNames[i]) {
      out = static_cast<BinKind>(i);
      return true;
    }
  return false;
}

} // namespace kiln
