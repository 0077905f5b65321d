// Unit tests of the memory planner alone (buildMemoryPlan, codegen/MemoryPlan.h), on small graphs
// with hand-written sharing facts, without kernel selection or the emitter: views and chains of
// views share their operand's bytes, in place only over an operand that dies at the node and has
// the result's type, Concat operands become slices of the result, graph inputs and outputs never
// join a group, scratch lives only during its step, the arena meets the lower bound on chains,
// and every two entries live at the same time either share a root or do not overlap in bytes.
#include "codegen/MemoryPlan.h"

#include <gtest/gtest.h>

#include <map>

using namespace kiln;

namespace {

TensorType f32(Shape s) { return TensorType(DType::F32, std::move(s)); }

/// A graph under construction plus one NodeSharing per node.
struct Builder {
  Graph g;
  std::vector<NodeSharing> facts;

  Value *node(OpKind op, const std::string &name, std::vector<Value *> operands, TensorType type,
              NodeSharing f = {}) {
    facts.push_back(std::move(f));
    return g.addNode(op, name, std::move(operands), {std::move(type)}, {name})->result();
  }
  MemoryPlan plan() { return buildMemoryPlan(g, facts); }
};

NodeSharing view() {
  NodeSharing f;
  f.resultIsOperandView = true;
  return f;
}

NodeSharing inPlace(std::vector<unsigned> operands) {
  NodeSharing f;
  f.inPlaceOperands = std::move(operands);
  return f;
}

const MemoryPlanEntry &entry(const MemoryPlan &p, const std::string &name) {
  for (const MemoryPlanEntry &e : p.entries)
    if (e.name == name && e.kind == ArenaSlot::Kind::Value)
      return e;
  ADD_FAILURE() << "no entry '" << name << "'";
  static const MemoryPlanEntry none;
  return none;
}

bool hasEntry(const MemoryPlan &p, const std::string &name) {
  for (const MemoryPlanEntry &e : p.entries)
    if (e.name == name)
      return true;
  return false;
}

/// Entries alive at the same step overlap in bytes only when they share a root (following
/// aliasOf); every entry lies inside the arena.
void expectNoClobber(const MemoryPlan &p) {
  std::map<std::string, std::string> parent;
  for (const MemoryPlanEntry &e : p.entries)
    if (e.kind == ArenaSlot::Kind::Value && e.alias != ArenaSlot::Alias::None)
      parent[e.name] = e.aliasOf;
  auto root = [&](const MemoryPlanEntry &e) {
    if (e.kind == ArenaSlot::Kind::Scratch)
      return "scratch " + e.name;
    std::string r = e.name;
    for (auto it = parent.find(r); it != parent.end(); it = parent.find(r))
      r = it->second;
    return r;
  };
  for (size_t i = 0; i < p.entries.size(); ++i) {
    const MemoryPlanEntry &a = p.entries[i];
    EXPECT_LE(a.offset + a.bytes, p.arenaSize) << a.name;
    for (size_t j = i + 1; j < p.entries.size(); ++j) {
      const MemoryPlanEntry &b = p.entries[j];
      if (a.bytes == 0 || b.bytes == 0 || a.last < b.first || b.last < a.first ||
          root(a) == root(b))
        continue;
      EXPECT_TRUE(a.offset + a.bytes <= b.offset || b.offset + b.bytes <= a.offset)
          << a.name << " and " << b.name << " overlap while both live";
    }
  }
}

} // namespace

TEST(MemoryPlanner, ViewSharesItsOperandsBytes) {
  Builder b;
  Value *x = b.g.addInput("x", f32({16}));
  Value *a = b.node(OpKind::Relu, "a", {x}, f32({16}));
  Value *r = b.node(OpKind::Reshape, "r", {a}, f32({4, 4}), view());
  Value *y = b.node(OpKind::Neg, "y", {r}, f32({4, 4}));
  b.g.setOutputs({y});
  MemoryPlan p = b.plan();
  EXPECT_EQ(p.steps, 3);
  EXPECT_EQ(p.code[1], NodeCode::View);
  EXPECT_EQ(p.views, 1);
  const MemoryPlanEntry &ea = entry(p, "a"), &er = entry(p, "r");
  EXPECT_EQ(er.alias, ArenaSlot::Alias::View);
  EXPECT_EQ(er.aliasOf, "a");
  EXPECT_EQ(er.offset, ea.offset);
  EXPECT_EQ(p.arenaOffsetOf(r), p.arenaOffsetOf(a));
  EXPECT_EQ(p.arenaSize, 64); // one buffer for a and its view
  EXPECT_EQ(p.arenaSizeNoAlias, 128);
  expectNoClobber(p);
}

TEST(MemoryPlanner, ChainOfViewsKeepsTheRootAliveUntilTheLastView) {
  // a -> r1 (view) -> r2 (view of r1); c is produced while r2 is still to be read, so it must not
  // reuse a's bytes even though a itself is never read after step 1.
  Builder b;
  Value *x = b.g.addInput("x", f32({16}));
  Value *a = b.node(OpKind::Relu, "a", {x}, f32({16}));
  Value *r1 = b.node(OpKind::Reshape, "r1", {a}, f32({4, 4}), view());
  Value *r2 = b.node(OpKind::Flatten, "r2", {r1}, f32({1, 16}), view());
  Value *c = b.node(OpKind::Neg, "c", {x}, f32({1, 16}));
  Value *y = b.node(OpKind::Add, "y", {r2, c}, f32({1, 16}));
  b.g.setOutputs({y});
  MemoryPlan p = b.plan();
  EXPECT_EQ(p.views, 2);
  const MemoryPlanEntry &ea = entry(p, "a"), &e2 = entry(p, "r2"), &ec = entry(p, "c");
  EXPECT_EQ(e2.aliasOf, "r1");
  EXPECT_EQ(entry(p, "r1").aliasOf, "a");
  EXPECT_EQ(e2.offset, ea.offset);
  EXPECT_NE(ec.offset, ea.offset);
  EXPECT_EQ(p.arenaSize, 128);
  (void)r2;
  (void)c;
  expectNoClobber(p);
}

TEST(MemoryPlanner, InPlaceOnlyOverAnOperandThatDiesHereWithTheSameType) {
  Builder b;
  Value *x = b.g.addInput("x", f32({16}));
  Value *a = b.node(OpKind::Relu, "a", {x}, f32({16}));
  Value *t = b.node(OpKind::Tanh, "t", {a}, f32({16}), inPlace({0}));      // a dies: in place
  Value *s = b.node(OpKind::Sigmoid, "s", {t}, f32({16}), inPlace({0}));   // t read later: no
  Value *u = b.node(OpKind::Add, "u", {t, s}, f32({16}), inPlace({0, 1})); // both die: over t
  Value *w = b.node(OpKind::Cast, "w", {u}, TensorType(DType::I32, {16}), inPlace({0})); // dtype
  Value *v = b.node(OpKind::Neg, "v", {w}, TensorType(DType::I32, {16})); // no facts: no
  Value *z = b.node(OpKind::Abs, "z", {v}, TensorType(DType::I32, {2, 8}), inPlace({0})); // shape
  b.g.setOutputs({b.node(OpKind::Neg, "o", {z}, TensorType(DType::I32, {2, 8}))});
  MemoryPlan p = b.plan();
  const MemoryPlanEntry &ea = entry(p, "a"), &et = entry(p, "t"), &es = entry(p, "s"),
                        &eu = entry(p, "u");
  EXPECT_EQ(et.alias, ArenaSlot::Alias::InPlace);
  EXPECT_EQ(et.aliasOf, "a");
  EXPECT_EQ(et.offset, ea.offset);
  EXPECT_EQ(es.alias, ArenaSlot::Alias::None);
  EXPECT_NE(es.offset, et.offset);
  EXPECT_EQ(eu.alias, ArenaSlot::Alias::InPlace);
  EXPECT_EQ(eu.aliasOf, "t");
  EXPECT_EQ(entry(p, "w").alias, ArenaSlot::Alias::None);
  EXPECT_EQ(entry(p, "v").alias, ArenaSlot::Alias::None);
  EXPECT_EQ(entry(p, "z").alias, ArenaSlot::Alias::None);
  EXPECT_FALSE(hasEntry(p, "o")); // an output: the caller's buffer
  EXPECT_EQ(p.inPlace, 2);
  EXPECT_EQ(p.code[1], NodeCode::Kernel); // in place still runs its kernel
  (void)s;
  (void)u;
  (void)v;
  (void)w;
  (void)z;
  expectNoClobber(p);
}

TEST(MemoryPlanner, NoInPlaceWhenAnotherOperandReadsTheSameBytes) {
  // u = Add(a, view of a): writing u over a would clobber what the view operand still reads.
  Builder b;
  Value *x = b.g.addInput("x", f32({16}));
  Value *a = b.node(OpKind::Relu, "a", {x}, f32({16}));
  Value *r = b.node(OpKind::Reshape, "r", {a}, f32({16}), view());
  Value *u = b.node(OpKind::Add, "u", {a, r}, f32({16}), inPlace({0, 1}));
  Value *y = b.node(OpKind::Neg, "y", {u}, f32({16}));
  b.g.setOutputs({y});
  MemoryPlan p = b.plan();
  EXPECT_EQ(entry(p, "r").alias, ArenaSlot::Alias::View);
  EXPECT_EQ(entry(p, "u").alias, ArenaSlot::Alias::None);
  EXPECT_EQ(p.inPlace, 0);
  expectNoClobber(p);
}

TEST(MemoryPlanner, GraphInputsAndOutputsNeverJoinAGroup) {
  Builder b;
  Value *x = b.g.addInput("x", f32({16}));
  Value *rx = b.node(OpKind::Reshape, "rx", {x}, f32({4, 4}), view()); // a view of an input
  Value *t = b.node(OpKind::Tanh, "t", {x}, f32({16}), inPlace({0}));  // over an input
  Value *a = b.node(OpKind::Relu, "a", {t}, f32({16}));
  Value *ry = b.node(OpKind::Reshape, "ry", {a}, f32({4, 4}), view()); // a view that is an output
  Value *n = b.node(OpKind::Neg, "n", {a}, f32({16}), inPlace({0}));   // an in-place output
  Value *k = b.node(OpKind::Abs, "k", {rx}, f32({4, 4}));
  b.g.setOutputs({ry, n, x, ry, k});
  MemoryPlan p = b.plan();
  // rx has bytes of its own (its kernel copies), t does not overwrite x, and no output has an
  // arena entry: ry's and n's kernels write the caller's buffers.
  EXPECT_EQ(entry(p, "rx").alias, ArenaSlot::Alias::None);
  EXPECT_EQ(p.code[0], NodeCode::Kernel);
  EXPECT_EQ(entry(p, "t").alias, ArenaSlot::Alias::None);
  EXPECT_FALSE(hasEntry(p, "ry"));
  EXPECT_FALSE(hasEntry(p, "n"));
  EXPECT_FALSE(hasEntry(p, "k"));
  EXPECT_EQ(p.code[3], NodeCode::Kernel);
  EXPECT_EQ(p.views, 0);
  EXPECT_EQ(p.inPlace, 0);
  ASSERT_TRUE(p.homeOf(x) && p.homeOf(ry) && p.homeOf(n) && p.homeOf(k) && p.homeOf(rx));
  EXPECT_EQ(p.homeOf(x)->kind, ValueHome::Kind::Input);
  EXPECT_EQ(p.homeOf(ry)->kind, ValueHome::Kind::Output);
  EXPECT_EQ(p.homeOf(ry)->index, 0u);
  EXPECT_EQ(p.homeOf(n)->index, 1u);
  EXPECT_EQ(p.homeOf(k)->index, 4u);
  EXPECT_EQ(p.homeOf(rx)->kind, ValueHome::Kind::Arena);
  EXPECT_FALSE(p.arenaOffsetOf(x));
  // The input listed as an output and the second listing of ry are copied at the end.
  ASSERT_EQ(p.outputCopies.size(), 2u);
  EXPECT_EQ(p.outputCopies[0].first, 2u);
  EXPECT_EQ(p.outputCopies[0].second, x);
  EXPECT_EQ(p.outputCopies[1].first, 3u);
  EXPECT_EQ(p.outputCopies[1].second, ry);
  (void)t;
  expectNoClobber(p);
}

TEST(MemoryPlanner, ConcatOperandsBecomeSlicesOfTheResult) {
  Builder b;
  Value *x = b.g.addInput("x", f32({16}));
  Value *a = b.node(OpKind::Relu, "a", {x}, f32({16}));
  Value *c = b.node(OpKind::Tanh, "c", {x}, f32({16}));
  NodeSharing cat;
  cat.concatSlices = std::vector<int64_t>{0, 64};
  Value *ac = b.node(OpKind::Concat, "ac", {a, c}, f32({32}), cat);
  NodeSharing twice;
  twice.concatSlices = std::vector<int64_t>{0, 64};
  Value *aa = b.node(OpKind::Concat, "aa", {a, a}, f32({32}), twice); // one buffer, two slices
  Value *y = b.node(OpKind::Add, "y", {ac, aa}, f32({32}));
  b.g.setOutputs({y});
  MemoryPlan p = b.plan();
  EXPECT_EQ(p.code[2], NodeCode::ConcatDone);
  EXPECT_EQ(p.code[3], NodeCode::Kernel);
  EXPECT_EQ(p.concats, 1);
  const MemoryPlanEntry &ea = entry(p, "a"), &ec = entry(p, "c"), &eac = entry(p, "ac");
  EXPECT_EQ(ea.alias, ArenaSlot::Alias::Slice);
  EXPECT_EQ(ea.aliasOf, "ac");
  EXPECT_EQ(ec.alias, ArenaSlot::Alias::Slice);
  EXPECT_EQ(ea.offset, eac.offset);
  EXPECT_EQ(ec.offset, eac.offset + 64);
  EXPECT_EQ(entry(p, "aa").alias, ArenaSlot::Alias::None);
  (void)aa;
  expectNoClobber(p);
}

TEST(MemoryPlanner, SplitPartsAreViewsAtTheirOffsets) {
  Builder b;
  Value *x = b.g.addInput("x", f32({32}));
  Value *a = b.node(OpKind::Relu, "a", {x}, f32({32}));
  b.facts.push_back({});
  b.facts.back().splitParts = std::vector<int64_t>{0, 64};
  Node *split = b.g.addNode(OpKind::Split, "split", {a}, {f32({16}), f32({16})}, {"p", "q"});
  Value *y = b.node(OpKind::Add, "y", {split->result(0), split->result(1)}, f32({16}));
  b.g.setOutputs({y});
  MemoryPlan p = b.plan();
  EXPECT_EQ(p.code[1], NodeCode::SplitViews);
  const MemoryPlanEntry &ea = entry(p, "a"), &ep = entry(p, "p"), &eq = entry(p, "q");
  EXPECT_EQ(ep.alias, ArenaSlot::Alias::View);
  EXPECT_EQ(eq.aliasOf, "a");
  EXPECT_EQ(ep.offset, ea.offset);
  EXPECT_EQ(eq.offset, ea.offset + 64);
  EXPECT_EQ(p.arenaSize, 128);
  expectNoClobber(p);
}

TEST(MemoryPlanner, ScratchLivesOnlyDuringItsStep) {
  Builder b;
  Value *x = b.g.addInput("x", f32({16}));
  Value *a = b.node(OpKind::Relu, "a", {x}, f32({16}));
  NodeSharing f;
  f.scratchBytes = 100;
  Value *m = b.node(OpKind::MatMul, "mm", {a}, f32({16}), f);
  Value *c = b.node(OpKind::Neg, "c", {m}, f32({16}));
  Value *y = b.node(OpKind::Tanh, "y", {c}, f32({16}));
  b.g.setOutputs({y});
  MemoryPlan p = b.plan();
  ASSERT_EQ(p.scratchOffset.size(), 4u);
  EXPECT_EQ(p.scratchOffset[0], -1);
  ASSERT_GE(p.scratchOffset[1], 0);
  const MemoryPlanEntry *scratch = nullptr;
  for (const MemoryPlanEntry &e : p.entries)
    if (e.kind == ArenaSlot::Kind::Scratch)
      scratch = &e;
  ASSERT_TRUE(scratch);
  EXPECT_EQ(scratch->name, "mm");
  EXPECT_EQ(scratch->bytes, 100);
  EXPECT_EQ(scratch->first, 1);
  EXPECT_EQ(scratch->last, 1);
  EXPECT_EQ(scratch->offset, p.scratchOffset[1]);
  // Step 1 holds a, mm's result and 128 aligned scratch bytes: the peak.
  EXPECT_EQ(p.lowerBound, 64 + 64 + 128);
  EXPECT_EQ(p.arenaSize, p.lowerBound);
  (void)c;
  expectNoClobber(p);
}

TEST(MemoryPlanner, ArenaMeetsTheLowerBoundOnAChain) {
  // Ten unary steps of alternating sizes, no sharing facts: two live tensors at a time.
  Builder b;
  Value *v = b.g.addInput("x", f32({16}));
  for (int i = 0; i < 10; ++i)
    v = b.node(OpKind::Neg, "n" + std::to_string(i), {v}, f32({i % 2 ? 16 : 48}));
  b.g.setOutputs({v});
  MemoryPlan p = b.plan();
  EXPECT_EQ(p.entries.size(), 9u); // the last is the output
  EXPECT_EQ(p.lowerBound, 192 + 64);
  EXPECT_EQ(p.arenaSize, p.lowerBound);
  EXPECT_EQ(p.arenaSize, p.arenaSizeNoAlias);
  expectNoClobber(p);
}

TEST(MemoryPlanner, TheKirSideTableIsTheEntriesSlots) {
  Builder b;
  Value *x = b.g.addInput("x", f32({16}));
  Value *a = b.node(OpKind::Relu, "a", {x}, f32({16}));
  NodeSharing f = view();
  f.scratchBytes = 8;
  Value *r = b.node(OpKind::Reshape, "r", {a}, f32({4, 4}), f);
  b.g.setOutputs({b.node(OpKind::Neg, "y", {r}, f32({4, 4}))});
  MemoryPlan p = b.plan();
  ValueLayoutTable t = layoutTableOf(p);
  EXPECT_EQ(t.arenaSize, p.arenaSize);
  EXPECT_EQ(t.lowerBound, p.lowerBound);
  ASSERT_EQ(t.slots.size(), p.entries.size());
  for (size_t i = 0; i < t.slots.size(); ++i)
    EXPECT_EQ(t.slots[i], static_cast<const ArenaSlot &>(p.entries[i]));
  EXPECT_EQ(t.slots[1].alias, ArenaSlot::Alias::View);
  EXPECT_EQ(t.slots[2].kind, ArenaSlot::Kind::Scratch);
}
