// Kernel decisions as data (codegen/KernelDecision.h, codegen/Kernels.def): the side table prints,
// parses and prints back the same (ir/DecisionTable.h); every conv and matrix variant can be
// forced on a node it applies to, giving that variant's kernel, and refuses one it does not apply
// to with an error naming node, op, variant and the reason.
#include "codegen/KernelSelect.h"
#include "ir/Parser.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

using namespace kiln;

namespace {

TensorType f32(Shape s) { return TensorType(DType::F32, std::move(s)); }

Node *addConv(Graph &g, const std::string &name, Shape x, Shape w, Shape y, std::vector<int64_t> k,
              std::vector<int64_t> s, std::vector<int64_t> p, int64_t group) {
  Attributes a;
  a.set("kernel_shape", k);
  a.set("strides", s);
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("pads", p);
  a.set("group", group);
  return g.addNode(OpKind::Conv, name,
                   {g.addInput(name + "_x", f32(x)), g.addInput(name + "_w", f32(w))}, {f32(y)},
                   {name + "_y"}, a);
}

llvm::Expected<KernelDecision> force(const Node &n, Variant v, std::vector<Tunable> t = {}) {
  ForcedVariant f{v, std::move(t)};
  return selectKernel(n, genericTarget(), &f);
}

std::string forceError(const Node &n, Variant v, std::vector<Tunable> t = {}) {
  auto d = force(n, v, std::move(t));
  if (d) {
    ADD_FAILURE() << "expected an error, got " << printDecision(*d);
    return "";
  }
  return llvm::toString(d.takeError());
}

} // namespace

TEST(KernelDecision, SideTablePrintParsePrint) {
  DecisionTable t;
  t.rows.push_back({"/conv1/Conv", "conv_im2col", {{"nc", 432}}, 254016, 118013952});
  t.rows.push_back({"odd \"name\"", "elementwise", {}, 0, 4096});
  t.rows.push_back({"fc", "gemm_packed", {{"nc", 256}, {"kc", -1}}, 1024, 512000});
  const std::string text = decisionsString("g", t);
  EXPECT_EQ(text.substr(0, 79), "decisions @g {\n"
                                "  \"/conv1/Conv\" : conv_im2col {nc = 432}, scratch = 254016, "
                                "cost");
  auto back = parseDecisionTable(text, "t.txt");
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(*back, t);
  EXPECT_EQ(decisionsString("g", *back), text);

  auto bad = parseDecisionTable("decisions @g {\n  \"n\" : conv_dw, cost = 1\n}\n", "t.txt");
  ASSERT_FALSE(bool(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()), "t.txt:2:18: error: expected 'scratch', found 'cost'");
}

TEST(KernelDecision, EveryVariantIsInTheTable) {
  for (KernelFamily f :
       {KernelFamily::Conv, KernelFamily::Matrix, KernelFamily::Pool, KernelFamily::Elementwise,
        KernelFamily::Movement, KernelFamily::Reduction})
    for (Variant v : variantsOf(f)) {
      EXPECT_EQ(variantFamily(v), f);
      EXPECT_EQ(variantNamed(variantName(v)), v);
    }
  EXPECT_EQ(variantNamed("conv_winograd"), std::nullopt);
}

TEST(KernelDecision, ForceEachConvVariant) {
  Graph g;
  // A 3x3 convolution with padding: im2col and the implicit GEMM apply.
  Node *c3 =
      addConv(g, "c3", {1, 3, 9, 7}, {5, 3, 3, 3}, {1, 5, 9, 7}, {3, 3}, {1, 1}, {1, 1, 1, 1}, 1);
  // Depthwise 3x3 at stride 2.
  Node *dw =
      addConv(g, "dw", {1, 6, 9, 9}, {6, 1, 3, 3}, {1, 6, 4, 4}, {3, 3}, {2, 2}, {0, 0, 0, 0}, 6);
  // Pointwise: every conv variant but depthwise (one channel per group) applies.
  Node *pw =
      addConv(g, "pw", {1, 4, 5, 5}, {6, 4, 1, 1}, {1, 6, 5, 5}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 1);

  auto d = force(*c3, Variant::ConvIm2col, {{"nc", 16}});
  ASSERT_TRUE(bool(d)) << llvm::toString(d.takeError());
  EXPECT_EQ(d->calls[0].kernel, Kernel::ConvIm2col);
  EXPECT_EQ(d->tunables, (std::vector<Tunable>{{"nc", 16}}));
  EXPECT_EQ(d->scratchBytes, 27 * 16 * 4);
  // The cost estimate: 5 rows by 63 pixels rounded up to the generic target's panels of 8, 27
  // MACs each, times 1.2 for im2col's packing.
  EXPECT_EQ(d->cost, 5 * 64 * 27 * 120 / 100);
  EXPECT_EQ(d->row("c3"), (DecisionRow{"c3", "conv_im2col", {{"nc", 16}}, 27 * 16 * 4, 10368}));
  d = force(*c3, Variant::ConvImplicitGemm);
  ASSERT_TRUE(bool(d)) << llvm::toString(d.takeError());
  EXPECT_EQ(d->calls[0].kernel, Kernel::ConvImplicitGemm);
  EXPECT_TRUE(d->tunables.empty());
  EXPECT_EQ(forceError(*c3, Variant::ConvPointwise),
            "node 'c3' (Conv): variant conv_1x1 does not apply: expected a 1x1 kernel at stride "
            "1 without padding, found kernel 3x3, strides 1x1, dilations 1x1, pads 1,1, 1 "
            "group(s)");
  EXPECT_EQ(forceError(*c3, Variant::ConvDepthwise),
            "node 'c3' (Conv): variant conv_dw does not apply: expected one input channel per "
            "group, found 3 channels in 1 group(s)");
  EXPECT_EQ(forceError(*c3, Variant::ConvTranspose),
            "node 'c3' (Conv): variant conv_transpose does not apply: expected a ConvTranspose, "
            "found a Conv");
  EXPECT_EQ(forceError(*c3, Variant::ConvIm2col, {{"nc", 12}}),
            "node 'c3' (Conv): variant conv_im2col: expected nc a positive multiple of the "
            "target's GEMM NR (8), found 12");
  EXPECT_EQ(forceError(*c3, Variant::ConvImplicitGemm, {{"nc", 16}}),
            "node 'c3' (Conv): variant conv_igemm: expected no tunable 'nc', found it set");
  EXPECT_EQ(forceError(*c3, Variant::GemmRows),
            "node 'c3' (Conv): variant gemm_rows does not apply: it is a matrix kernel, the node "
            "runs a conv kernel (variants: conv_dw, conv_1x1, conv_igemm, conv_direct, "
            "conv_im2col, conv_transpose)");
  EXPECT_EQ(forceError(*c3, Variant::ConvDirect),
            "node 'c3' (Conv): variant conv_direct does not apply: expected a constant weight W "
            "(it is packed at compile time), found a computed one");

  for (Variant v : {Variant::ConvDepthwise, Variant::ConvIm2col}) {
    d = force(*dw, v);
    ASSERT_TRUE(bool(d)) << llvm::toString(d.takeError());
    EXPECT_EQ(d->variant, v);
  }
  EXPECT_EQ(forceError(*dw, Variant::ConvPointwise).substr(0, 44),
            "node 'dw' (Conv): variant conv_1x1 does not ");

  for (Variant v : {Variant::ConvPointwise, Variant::ConvImplicitGemm, Variant::ConvIm2col}) {
    d = force(*pw, v);
    ASSERT_TRUE(bool(d)) << llvm::toString(d.takeError());
    EXPECT_EQ(d->variant, v);
    EXPECT_EQ(kernelFamily(d->calls[0].kernel), KernelFamily::Conv);
  }
  // The default rule is unchanged by the table: pointwise here.
  auto def = selectKernel(*pw, genericTarget());
  ASSERT_TRUE(bool(def));
  EXPECT_EQ(def->variant, Variant::ConvPointwise);
}

TEST(KernelDecision, ConvDirectPacksItsWeights) {
  Graph g;
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{3, 3});
  a.set("strides", std::vector<int64_t>{1, 1});
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  a.set("group", int64_t(1));
  Value *w = g.addConstant("w", Tensor::fromVector(DType::F32, {10, 3, 3, 3},
                                                   std::vector<float>(10 * 27, 0.5f)));
  Node *c = g.addNode(OpKind::Conv, "c", {g.addInput("x", f32({1, 3, 9, 20})), w},
                      {f32({1, 10, 9, 20})}, {"y"}, a);
  auto d = force(*c, Variant::ConvDirect);
  ASSERT_TRUE(bool(d)) << llvm::toString(d.takeError());
  // Generic: 16 vector registers, 8 accumulators, two vectors of 4 channels, so rows of 20 in
  // segments of 4 pixels.
  EXPECT_EQ(d->tunables, (std::vector<Tunable>{{"nv", 2}, {"r", 4}, {"rows", 1}}));
  ASSERT_EQ(d->packed.size(), 1u);
  EXPECT_EQ(d->packed[0], (PackedWeight{PackedWeight::Kind::ConvPanels, 1, 1, 10, 27, 8}));
  EXPECT_EQ(printDecision(*d), "kiln_f32_conv2d_direct<1, 3, 9, 20, 10, 9, 20, 3, 3, 1, 1, 1, 1, "
                               "1, 1, 1, 2, 4, 1, false>(in0, pk0, nullptr, out0, scratch, epi);");
  EXPECT_FALSE(d->readsOperand(1)); // the packed copy replaces W
  EXPECT_EQ(d->scratchBytes, 3 * 11 * 22 * 4); // the zero-padded input
  // Whole rows: r = rows * OW; a forced block outside the geometry is refused.
  d = force(*c, Variant::ConvDirect, {{"r", 40}, {"rows", 2}});
  ASSERT_TRUE(bool(d)) << llvm::toString(d.takeError());
  EXPECT_EQ(d->tunables, (std::vector<Tunable>{{"nv", 2}, {"r", 40}, {"rows", 2}}));
  EXPECT_EQ(forceError(*c, Variant::ConvDirect, {{"r", 30}, {"rows", 2}}),
            "node 'c' (Conv): variant conv_direct: expected nv in [1, 8] and either rows = 1 with "
            "r in [1, min(OW = 20, 64)] or rows in [2, OH = 9] with r = rows * OW, found nv 2, r "
            "30, rows 2");
}

TEST(KernelDecision, ForceEachMatrixVariant) {
  Graph g;
  Attributes a;
  a.set("transB", int64_t(1));
  Node *gemm =
      g.addNode(OpKind::Gemm, "fc", {g.addInput("a", f32({3, 20})), g.addInput("b", f32({7, 20}))},
                {f32({3, 7})}, {"y"}, a);
  auto d = selectKernel(*gemm, genericTarget());
  ASSERT_TRUE(bool(d));
  EXPECT_EQ(d->variant, Variant::GemmRows); // 3 rows: fewer than one register block
  EXPECT_EQ(printDecision(*d), "kiln_f32_gemm<3, 7, 20, 0, false, true, false, 0, 0>(in0, in1, "
                               "nullptr, out0, 1.0f, 1.0f, scratch, epi);");
  d = force(*gemm, Variant::GemmPacked, {{"nc", 8}});
  ASSERT_TRUE(bool(d)) << llvm::toString(d.takeError());
  EXPECT_EQ(printDecision(*d), "kiln_f32_gemm<3, 7, 20, 8, false, true, false, 0, 0>(in0, in1, "
                               "nullptr, out0, 1.0f, 1.0f, scratch, epi);");
  EXPECT_EQ(d->scratchBytes, 20 * 8 * 4);
  EXPECT_EQ(d->cost, 3 * 7 * 20);

  Node *mm = g.addNode(OpKind::MatMul, "mm",
                       {g.addInput("ma", f32({2, 9, 5})), g.addInput("mb", f32({5, 6}))},
                       {f32({2, 9, 6})}, {"my"}, Attributes());
  d = force(*mm, Variant::GemmRows);
  ASSERT_TRUE(bool(d)) << llvm::toString(d.takeError());
  EXPECT_EQ(printDecision(*d),
            "kiln_f32_matmul<1, 18, 6, 5, 0, 0, 0, false>(in0, in1, out0, scratch, epi);");
  EXPECT_EQ(forceError(*mm, Variant::ConvIm2col).substr(0, 61),
            "node 'mm' (MatMul): variant conv_im2col does not apply: it is");
}
