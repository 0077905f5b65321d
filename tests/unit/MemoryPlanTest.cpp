// Unit tests of the memory plan as the emitter feeds and prints it (planMemory / generateCpp,
// codegen/Codegen.h) on graphs built by hand, with real kernel decisions: views of intermediates
// share their operand's buffer, elementwise results take over only operands that die at their
// node, graph inputs and outputs never alias, the plan matches what generateCpp prints, and the
// report formats are stable. The planner alone, with hand-written sharing facts, is tested in
// MemoryPlannerTest.cpp.
#include "codegen/Codegen.h"
#include "codegen/MemoryReport.h"

#include <gtest/gtest.h>
#include <llvm/Support/Error.h>

using namespace kiln;

namespace {

TensorType f32(Shape s) { return TensorType(DType::F32, std::move(s)); }

const MemoryPlanEntry *find(const MemoryPlan &p, const std::string &name) {
  for (const MemoryPlanEntry &e : p.entries)
    if (e.name == name)
      return &e;
  return nullptr;
}

} // namespace

TEST(MemoryPlan, ViewsAndInPlaceOnlyWhereSafe) {
  Graph g;
  g.setName("m");
  Value *x = g.addInput("x", f32({2, 3, 4}));
  Value *shp = g.addConstant("shp", Tensor::fromVector<int64_t>(DType::I64, {2}, {6, 4}));
  Node *relu = g.addNode(OpKind::Relu, "relu", {x}, {f32({2, 3, 4})}, {"a"});
  Node *rs = g.addNode(OpKind::Reshape, "reshape", {relu->result(), shp}, {f32({6, 4})}, {"r"});
  Node *tanh = g.addNode(OpKind::Tanh, "tanh", {rs->result()}, {f32({6, 4})}, {"t"});
  // t is read again by 'add', so the sigmoid must not overwrite it; 'add' may overwrite either.
  Node *sig = g.addNode(OpKind::Sigmoid, "sigmoid", {tanh->result()}, {f32({6, 4})}, {"s"});
  Node *add = g.addNode(OpKind::Add, "add", {tanh->result(), sig->result()}, {f32({6, 4})}, {"u"});
  Node *out = g.addNode(
      OpKind::Reshape, "reshape_out",
      {add->result(), g.addConstant("shp24", Tensor::fromVector<int64_t>(DType::I64, {1}, {24}))},
      {f32({24})}, {"y"});
  Node *rx = g.addNode(OpKind::Reshape, "reshape_in", {x, shp}, {f32({6, 4})}, {"rx"});
  g.setOutputs({out->result(), rx->result()});

  auto p = planMemory(g, {"m", "m.onnx"});
  ASSERT_TRUE(bool(p)) << llvm::toString(p.takeError());
  EXPECT_EQ(p->steps, 7);
  const MemoryPlanEntry *a = find(*p, "a"), *r = find(*p, "r"), *t = find(*p, "t"),
                        *s = find(*p, "s"), *u = find(*p, "u");
  ASSERT_TRUE(a && r && t && s && u);
  EXPECT_EQ(r->alias, MemoryPlanEntry::Alias::View);
  EXPECT_EQ(r->aliasOf, "a");
  EXPECT_EQ(r->offset, a->offset);
  EXPECT_EQ(t->alias, MemoryPlanEntry::Alias::InPlace);
  EXPECT_EQ(t->aliasOf, "r");
  EXPECT_EQ(t->offset, a->offset);
  EXPECT_EQ(s->alias, MemoryPlanEntry::Alias::None);
  EXPECT_NE(s->offset, t->offset);
  EXPECT_EQ(u->alias, MemoryPlanEntry::Alias::InPlace);
  // Outputs and views of inputs are no arena buffers at all (copies into / out of the caller's).
  EXPECT_EQ(find(*p, "y"), nullptr);
  EXPECT_EQ(find(*p, "rx"), nullptr);
  EXPECT_EQ(p->views, 1);
  EXPECT_EQ(p->inPlace, 2);
  EXPECT_EQ(p->arenaSize, 256); // two 128-byte slots: {a, r, t, u} and s
  EXPECT_EQ(p->lowerBound, 256);
  EXPECT_GT(p->arenaSizeNoAlias, p->arenaSize);

  // generateCpp decides the same plan, and prints no code for the view.
  auto pair = generateCpp(g, {"m", "m.onnx"});
  ASSERT_TRUE(bool(pair)) << llvm::toString(pair.takeError());
  EXPECT_EQ(pair->memory.arenaSize, p->arenaSize);
  EXPECT_EQ(pair->memory.entries.size(), p->entries.size());
  EXPECT_NE(pair->source.find("// node 'reshape' (Reshape): 'r' is a view of 'a', no copy"),
            std::string::npos);
  EXPECT_NE(pair->source.find("{ // node 'reshape_in' (Reshape)"), std::string::npos);

  std::string report = formatMemoryReport(*p, "m");
  EXPECT_NE(report.find("view of 'a'"), std::string::npos) << report;
  EXPECT_NE(report.find("arena: 256 bytes, lower bound 256 bytes (100.0% of the bound"),
            std::string::npos)
      << report;
  EXPECT_EQ(report, formatMemoryReport(*p, "m"));
  std::string svg = formatMemorySvg(*p, "m");
  size_t rects = 0;
  for (size_t pos = svg.find("<rect class=\""); pos != std::string::npos;
       pos = svg.find("<rect class=\"", pos + 1))
    rects += svg.compare(pos, 19, "<rect class=\"frame\"") != 0;
  EXPECT_EQ(rects, p->entries.size());
}

TEST(MemoryPlan, ExternalArenaHasNoStaticArena) {
  Graph g;
  g.setName("e");
  Value *x = g.addInput("x", f32({4}));
  Node *a = g.addNode(OpKind::Relu, "relu", {x}, {f32({4})}, {"a"});
  Node *b = g.addNode(OpKind::Neg, "neg", {a->result()}, {f32({4})}, {"b"});
  g.setOutputs({b->result()});
  CodegenOptions o{"e", "e.onnx"};
  o.externalArena = true;
  auto pair = generateCpp(g, o);
  ASSERT_TRUE(bool(pair)) << llvm::toString(pair.takeError());
  EXPECT_EQ(pair->source.find("static unsigned char e_arena"), std::string::npos);
  EXPECT_NE(pair->source.find("extern \"C\" int e_run_with_arena(const void *const *inputs, "
                              "void *const *outputs, void *arena)"),
            std::string::npos);
  EXPECT_NE(pair->header.find("int e_run_with_arena("), std::string::npos);
  EXPECT_EQ(pair->header.find("int e_run("), std::string::npos);
  EXPECT_NE(pair->header.find("Not reentrant on a shared"), std::string::npos);
}

TEST(MemoryPlan, ConcatOperandsAreSlicesOfTheResult) {
  // a, b -> ab = Concat(a, b); ab, d -> abd = Concat(ab, d): nested, every producer writes its
  // part of abd directly. aa = Concat(a, a) cannot: one buffer cannot be two slices.
  Graph g;
  g.setName("c");
  Value *x = g.addInput("x", f32({1, 16}));
  auto unary = [&](OpKind op, const char *name, Value *in) {
    return g.addNode(op, name, {in}, {f32({1, 16})}, {name})->result();
  };
  Value *a = unary(OpKind::Relu, "a", x), *b = unary(OpKind::Tanh, "b", x);
  Node *ab = g.addNode(OpKind::Concat, "cat_ab", {a, b}, {f32({1, 32})}, {"ab"});
  ab->attrs().set("axis", int64_t(1));
  Value *d = unary(OpKind::Neg, "d", x);
  Node *abd = g.addNode(OpKind::Concat, "cat_abd", {ab->result(), d}, {f32({1, 48})}, {"abd"});
  abd->attrs().set("axis", int64_t(-1));
  Node *aa = g.addNode(OpKind::Concat, "cat_aa", {a, a}, {f32({1, 32})}, {"aa"});
  aa->attrs().set("axis", int64_t(1));
  Node *y = g.addNode(OpKind::Add, "y", {abd->result(), abd->result()}, {f32({1, 48})}, {"y"});
  g.setOutputs({y->result(), aa->result()});

  auto p = planMemory(g, {"c", "c.onnx"});
  ASSERT_TRUE(bool(p)) << llvm::toString(p.takeError());
  EXPECT_EQ(p->concats, 2);
  const MemoryPlanEntry *ea = find(*p, "a"), *eb = find(*p, "b"), *ed = find(*p, "d"),
                        *eab = find(*p, "ab"), *eabd = find(*p, "abd");
  ASSERT_TRUE(ea && eb && ed && eab && eabd);
  EXPECT_EQ(ea->alias, MemoryPlanEntry::Alias::Slice);
  EXPECT_EQ(ea->aliasOf, "ab");
  EXPECT_EQ(ed->aliasOf, "abd");
  EXPECT_EQ(eab->alias, MemoryPlanEntry::Alias::Slice);
  EXPECT_EQ(ea->offset, eabd->offset);
  EXPECT_EQ(eab->offset, eabd->offset);
  EXPECT_EQ(eb->offset, eabd->offset + 64);
  EXPECT_EQ(ed->offset, eabd->offset + 128);

  auto pair = generateCpp(g, {"c", "c.onnx"});
  ASSERT_TRUE(bool(pair)) << llvm::toString(pair.takeError());
  EXPECT_NE(pair->source.find("// node 'cat_abd' (Concat): operands written in place into 'abd'"),
            std::string::npos);
  EXPECT_NE(pair->source.find("{ // node 'cat_aa' (Concat)"), std::string::npos);
}
