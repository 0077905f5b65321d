// The typed parameter accessors of ir/OpParams.h on small nodes: ONNX's defaults where the
// canonical form may omit an attribute (Transpose perm), normalized axes, Pad's mode and amounts
// (with an opset-18 axes operand), the unary ops' alpha and beta from ir/Activations.def, and the
// verifier's message for a value the op does not take.
#include "ir/OpParams.h"

#include <gtest/gtest.h>

using namespace kiln;

namespace {

/// A one-node graph: input x of `in`, constant operands as given, one result of type `out`.
struct OneNode {
  Graph g;
  Node *n = nullptr;
  OneNode(OpKind op, Shape in, std::vector<std::vector<int64_t>> consts, Shape out,
          Attributes attrs = {}) {
    std::vector<Value *> ops{g.addInput("x", {DType::F32, in})};
    for (size_t i = 0; i < consts.size(); ++i)
      ops.push_back(g.addConstant(
          "c" + std::to_string(i),
          Tensor::fromInts(DType::I64, {static_cast<int64_t>(consts[i].size())}, consts[i])));
    n = g.addNode(op, "n", ops, {TensorType{DType::F32, out}}, {"y"}, std::move(attrs));
  }
};

Attributes with(const char *k, Attribute v) {
  Attributes a;
  a.set(k, std::move(v));
  return a;
}

TEST(OpParams, TransposePermDefaultsToReversedDims) {
  OneNode none(OpKind::Transpose, {2, 3, 4}, {}, {4, 3, 2});
  EXPECT_EQ(transposePerm(*none.n), (std::vector<int64_t>{2, 1, 0}));
  OneNode given(OpKind::Transpose, {2, 3, 4}, {}, {2, 4, 3},
                with("perm", std::vector<int64_t>{0, 2, 1}));
  EXPECT_EQ(transposePerm(*given.n), (std::vector<int64_t>{0, 2, 1}));
}

TEST(OpParams, AxesAreNormalized) {
  OneNode concat(OpKind::Concat, {2, 3}, {}, {2, 3}, with("axis", int64_t(-1)));
  EXPECT_EQ(*concatAxis(*concat.n), 1);
  OneNode softmax(OpKind::Softmax, {2, 3, 4}, {}, {2, 3, 4}, with("axis", int64_t(-2)));
  EXPECT_EQ(*softmaxAxis(*softmax.n), 1);
  OneNode bad(OpKind::Gather, {2, 3}, {{0}}, {2, 1}, with("axis", int64_t(2)));
  auto ax = gatherAxis(*bad.n);
  ASSERT_FALSE(bool(ax));
  EXPECT_EQ(llvm::toString(ax.takeError()), "Gather expects axis in [-2, 1], found 2");
}

TEST(OpParams, PadModeAndAmounts) {
  // Opset-18 axes operand (operand 3, after constant_value): pads [1, 2] cover axis -1 only.
  Graph g;
  Value *x = g.addInput("x", {DType::F32, {2, 3}});
  Value *pads = g.addConstant("pads", Tensor::fromInts(DType::I64, {2}, {1, 2}));
  Value *cv = g.addConstant("cv", Tensor::fromDoubles(DType::F32, {}, {0.0}));
  Value *axes = g.addConstant("axes", Tensor::fromInts(DType::I64, {1}, {-1}));
  Node *n = g.addNode(OpKind::Pad, "p", {x, pads, cv, axes}, {TensorType{DType::F32, {2, 6}}},
                      {"y"}, with("mode", std::string("reflect")));
  auto p = padParams(*n);
  ASSERT_TRUE(bool(p)) << llvm::toString(p.takeError());
  EXPECT_EQ(p->mode, PadMode::Reflect);
  EXPECT_EQ(p->begins, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(p->ends, (std::vector<int64_t>{0, 2}));
  n->attrs().set("mode", std::string("wrap"));
  auto q = padParams(*n);
  ASSERT_FALSE(bool(q));
  EXPECT_EQ(llvm::toString(q.takeError()),
            "Pad expects mode constant, reflect or edge, found 'wrap'");
}

TEST(OpParams, UnaryParamsTakeActivationDefaults) {
  OneNode leaky(OpKind::LeakyRelu, {4}, {}, {4});
  EXPECT_EQ(unaryParams(*leaky.n).alpha, 0.01);
  OneNode hs(OpKind::HardSigmoid, {4}, {}, {4}, with("beta", 0.25));
  EXPECT_EQ(unaryParams(*hs.n).alpha, 0.2);
  EXPECT_EQ(unaryParams(*hs.n).beta, 0.25);
  OneNode gelu(OpKind::Gelu, {4}, {}, {4}, with("approximate", std::string("tanh")));
  EXPECT_EQ(*geluApproximation(*gelu.n), GeluApproximation::Tanh);
  gelu.n->attrs().set("approximate", std::string("fast"));
  auto g = geluApproximation(*gelu.n);
  ASSERT_FALSE(bool(g));
  EXPECT_EQ(llvm::toString(g.takeError()),
            "Gelu expects approximate \"none\" or \"tanh\", found \"fast\"");
}

TEST(OpParams, ClipBoundsDefaultToNoBound) {
  Graph g;
  Value *x = g.addInput("x", {DType::F32, {4}});
  Value *lo = g.addConstant("lo", Tensor::fromDoubles(DType::F32, {}, {-1.5}));
  Node *n = g.addNode(OpKind::Clip, "c", {x, lo}, {TensorType{DType::F32, {4}}}, {"y"});
  auto b = clipBounds(*n);
  ASSERT_TRUE(bool(b)) << llvm::toString(b.takeError());
  EXPECT_EQ(b->lo, -1.5);
  EXPECT_EQ(b->hi, std::numeric_limits<double>::infinity());
  Value *hi = g.addInput("hi", {DType::F32, {}});
  Node *m = g.addNode(OpKind::Clip, "d", {x, lo, hi}, {TensorType{DType::F32, {4}}}, {"z"});
  auto c = clipBounds(*m);
  ASSERT_FALSE(bool(c));
  EXPECT_EQ(llvm::toString(c.takeError()), "Clip expects a constant scalar max, found f32[]");
}

TEST(OpParams, TileRepeatsAndShapeSpan) {
  OneNode tile(OpKind::Tile, {2, 3}, {{2, 1}}, {4, 3});
  EXPECT_EQ(*tileRepeats(*tile.n), (std::vector<int64_t>{2, 1}));
  // Shape start -3, end -1 on rank 4: dims 1 and 2; end before start gives an empty span.
  Attributes a;
  a.set("start", int64_t(-3));
  a.set("end", int64_t(-1));
  EXPECT_EQ(shapeSpan(4, a).begin, 1);
  EXPECT_EQ(shapeSpan(4, a).end, 3);
  a.set("end", int64_t(0));
  EXPECT_EQ(shapeSpan(4, a).end - shapeSpan(4, a).begin, 0);
}

} // namespace
