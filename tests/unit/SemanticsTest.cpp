// Hand-checked cases for the reference semantics (ir/Semantics.h): result-type inference for the
// shape rules that are easy to get wrong (broadcasting, window sizes with ceil_mode, Reshape 0/-1,
// Slice with negative steps, Squeeze/Unsqueeze, Gather), the error messages users see, and
// evaluation on small tensors whose answers are worked out by hand.
#include "ir/Semantics.h"

#include <gtest/gtest.h>

using namespace kiln;

namespace {

/// Builds operands in a scratch graph: inputs carry only a type, constants carry data.
struct Fixture {
  Graph g;
  int next = 0;
  const Value *in(DType t, Shape s) { return g.addInput("x" + std::to_string(next++), {t, s}); }
  const Value *ints(std::vector<int64_t> v) {
    Shape s{static_cast<int64_t>(v.size())};
    return g.addConstant("c" + std::to_string(next++), Tensor::fromInts(DType::I64, s, v));
  }
  const Value *floats(Shape s, std::vector<double> v) {
    return g.addConstant("c" + std::to_string(next++), Tensor::fromDoubles(DType::F32, s, v));
  }
};

Shape shapeOf(OpKind op, std::vector<const Value *> ops, const Attributes &a = {}) {
  auto r = inferResultTypes(op, ops, a);
  if (!r) {
    ADD_FAILURE() << llvm::toString(r.takeError());
    return {-42};
  }
  return (*r)[0].shape;
}

std::string errorOf(OpKind op, std::vector<const Value *> ops, const Attributes &a = {}) {
  auto r = inferResultTypes(op, ops, a);
  if (r) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(r.takeError());
}

Attributes attrs(std::initializer_list<std::pair<const char *, Attribute>> kv) {
  Attributes a;
  for (auto &p : kv)
    a.set(p.first, p.second);
  return a;
}

std::vector<double> evalDoubles(OpKind op, std::vector<Tensor> xs, const Attributes &a,
                                unsigned result = 0) {
  std::vector<const Value *> vals;
  Graph g;
  for (size_t i = 0; i < xs.size(); ++i)
    vals.push_back(g.addConstant("k" + std::to_string(i), xs[i]));
  auto types = inferResultTypes(op, vals, a);
  if (!types) {
    ADD_FAILURE() << llvm::toString(types.takeError());
    return {};
  }
  auto r = evaluate(op, xs, a, *types);
  if (!r) {
    ADD_FAILURE() << llvm::toString(r.takeError());
    return {};
  }
  return (*r)[result].toDoubles();
}

Tensor f32(Shape s, std::vector<double> v) { return Tensor::fromDoubles(DType::F32, s, v); }
Tensor i64(Shape s, std::vector<int64_t> v) { return Tensor::fromInts(DType::I64, s, v); }

} // namespace

TEST(SemanticsInfer, Broadcast) {
  Fixture f;
  EXPECT_EQ(shapeOf(OpKind::Add, {f.in(DType::F32, {2, 1, 4}), f.in(DType::F32, {3, 1})}),
            (Shape{2, 3, 4}));
  EXPECT_EQ(shapeOf(OpKind::Mul, {f.in(DType::F32, {}), f.in(DType::F32, {5})}), (Shape{5}));
  auto r = inferResultTypes(OpKind::Less, {f.in(DType::I64, {3}), f.in(DType::I64, {1})}, {});
  ASSERT_TRUE(bool(r));
  EXPECT_EQ((*r)[0].dtype(), DType::Bool);
  EXPECT_EQ(shapeOf(OpKind::Max,
                    {f.in(DType::F32, {4, 1}), f.in(DType::F32, {1, 3}), f.in(DType::F32, {3})}),
            (Shape{4, 3}));
  EXPECT_EQ(errorOf(OpKind::Add, {f.in(DType::F32, {2, 3}), f.in(DType::F32, {4})}),
            "Add expects broadcastable operands, found f32[2,3] and f32[4]");
  EXPECT_EQ(errorOf(OpKind::Sub, {f.in(DType::F32, {2}), f.in(DType::I64, {2})}),
            "Sub expects operands of one element type, found f32[2] and i64[2]");
}

TEST(SemanticsInfer, ConvAndPool) {
  Fixture f;
  Attributes conv = attrs({{"kernel_shape", std::vector<int64_t>{3, 3}},
                           {"strides", std::vector<int64_t>{2, 2}},
                           {"dilations", std::vector<int64_t>{1, 1}},
                           {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                           {"group", int64_t(1)}});
  // (224 + 2 - 3) / 2 + 1 = 112
  EXPECT_EQ(shapeOf(OpKind::Conv,
                    {f.in(DType::F32, {1, 3, 224, 224}), f.in(DType::F32, {64, 3, 3, 3})}, conv),
            (Shape{1, 64, 112, 112}));
  // Depthwise with dilation 2: effective kernel 5, (10 - 5) / 1 + 1 = 6.
  Attributes dw = attrs({{"group", int64_t(8)}, {"dilations", std::vector<int64_t>{2, 2}}});
  EXPECT_EQ(
      shapeOf(OpKind::Conv, {f.in(DType::F32, {1, 8, 10, 10}), f.in(DType::F32, {8, 1, 3, 3})}, dw),
      (Shape{1, 8, 6, 6}));
  EXPECT_EQ(errorOf(OpKind::Conv, {f.in(DType::F32, {1, 3}), f.in(DType::F32, {4, 3})}),
            "Conv expects input of rank >= 3, found f32[1,3]");
  // ConvTranspose: 2 * (3 - 1) + 1 + 3 - 0 - 0 = 8 with output_padding 1.
  Attributes ct = attrs({{"strides", std::vector<int64_t>{2}},
                         {"output_padding", std::vector<int64_t>{1}},
                         {"group", int64_t(1)}});
  EXPECT_EQ(shapeOf(OpKind::ConvTranspose,
                    {f.in(DType::F32, {1, 4, 3}), f.in(DType::F32, {4, 2, 3})}, ct),
            (Shape{1, 2, 8}));
  Attributes cto = attrs(
      {{"strides", std::vector<int64_t>{3, 2}}, {"output_shape", std::vector<int64_t>{10, 8}}});
  EXPECT_EQ(shapeOf(OpKind::ConvTranspose,
                    {f.in(DType::F32, {1, 1, 3, 3}), f.in(DType::F32, {1, 2, 3, 3})}, cto),
            (Shape{1, 2, 10, 8}));

  // MaxPool 3x3 stride 2 on 6: floor (6-3)/2+1 = 2, ceil = 3 (last window starts at 4 < 6).
  Attributes pool = attrs({{"kernel_shape", std::vector<int64_t>{3}},
                           {"strides", std::vector<int64_t>{2}},
                           {"pads", std::vector<int64_t>{0, 0}}});
  EXPECT_EQ(shapeOf(OpKind::MaxPool, {f.in(DType::F32, {1, 1, 6})}, pool), (Shape{1, 1, 2}));
  pool.set("ceil_mode", int64_t(1));
  EXPECT_EQ(shapeOf(OpKind::MaxPool, {f.in(DType::F32, {1, 1, 6})}, pool), (Shape{1, 1, 3}));
  // Kernel 2 stride 2 pad 1+1 on 4 with ceil: ceil((4+2-2)/2)+1 = 3; last window starts at
  // 2*2 = 4 < 4 + 1, so it stays 3. Stride 3: ceil(4/3)+1 = 3, but 2*3 = 6 >= 5 drops one: 2.
  Attributes p2 = attrs({{"kernel_shape", std::vector<int64_t>{2}},
                         {"strides", std::vector<int64_t>{2}},
                         {"pads", std::vector<int64_t>{1, 1}},
                         {"ceil_mode", int64_t(1)}});
  EXPECT_EQ(shapeOf(OpKind::AveragePool, {f.in(DType::F32, {1, 1, 4})}, p2), (Shape{1, 1, 3}));
  p2.set("strides", std::vector<int64_t>{3});
  EXPECT_EQ(shapeOf(OpKind::AveragePool, {f.in(DType::F32, {1, 1, 4})}, p2), (Shape{1, 1, 2}));
  EXPECT_EQ(shapeOf(OpKind::GlobalAveragePool, {f.in(DType::F32, {2, 5, 7, 9})}),
            (Shape{2, 5, 1, 1}));
}

TEST(SemanticsInfer, MatMulAndGemm) {
  Fixture f;
  EXPECT_EQ(shapeOf(OpKind::MatMul, {f.in(DType::F32, {2, 1, 3, 4}), f.in(DType::F32, {5, 4, 6})}),
            (Shape{2, 5, 3, 6}));
  EXPECT_EQ(shapeOf(OpKind::MatMul, {f.in(DType::F32, {4}), f.in(DType::F32, {2, 4, 6})}),
            (Shape{2, 6}));
  EXPECT_EQ(shapeOf(OpKind::MatMul, {f.in(DType::F32, {3, 4}), f.in(DType::F32, {4})}), (Shape{3}));
  EXPECT_EQ(errorOf(OpKind::MatMul, {f.in(DType::F32, {3, 4}), f.in(DType::F32, {5, 6})}),
            "MatMul expects matching inner dimensions, found f32[3,4] and f32[5,6]");
  Attributes g = attrs({{"transA", int64_t(1)}, {"transB", int64_t(1)}});
  EXPECT_EQ(shapeOf(OpKind::Gemm,
                    {f.in(DType::F32, {4, 3}), f.in(DType::F32, {5, 4}), f.in(DType::F32, {5})}, g),
            (Shape{3, 5}));
}

TEST(SemanticsInfer, ReshapeFlattenSqueeze) {
  Fixture f;
  const Value *x = f.in(DType::F32, {2, 3, 4});
  EXPECT_EQ(shapeOf(OpKind::Reshape, {x, f.ints({0, -1})}), (Shape{2, 12}));
  EXPECT_EQ(shapeOf(OpKind::Reshape, {x, f.ints({-1, 2, 0})}), (Shape{3, 2, 4}));
  EXPECT_EQ(errorOf(OpKind::Reshape, {x, f.in(DType::I64, {2})}),
            "Reshape expects a constant shape operand, found a non-constant i64[2]");
  EXPECT_EQ(errorOf(OpKind::Reshape, {x, f.ints({5, -1})}),
            "Reshape cannot infer the -1 in shape [5,-1] for input f32[2,3,4]");
  EXPECT_EQ(shapeOf(OpKind::Reshape, {f.in(DType::F32, {0, 3}), f.ints({3, 0})},
                    attrs({{"allowzero", int64_t(1)}})),
            (Shape{3, 0}));
  EXPECT_EQ(shapeOf(OpKind::Flatten, {x}, attrs({{"axis", int64_t(-1)}})), (Shape{6, 4}));
  EXPECT_EQ(shapeOf(OpKind::Flatten, {x}, attrs({{"axis", int64_t(0)}})), (Shape{1, 24}));
  const Value *y = f.in(DType::F32, {1, 3, 1, 5});
  EXPECT_EQ(shapeOf(OpKind::Squeeze, {y}), (Shape{3, 5}));
  EXPECT_EQ(shapeOf(OpKind::Squeeze, {y, f.ints({-2})}), (Shape{1, 3, 5}));
  EXPECT_EQ(errorOf(OpKind::Squeeze, {y, f.ints({1})}),
            "Squeeze expects dim 1 of size 1, found f32[1,3,1,5]");
  EXPECT_EQ(shapeOf(OpKind::Unsqueeze, {f.in(DType::F32, {3, 4}), f.ints({0, -1})}),
            (Shape{1, 3, 4, 1}));
  EXPECT_EQ(shapeOf(OpKind::Unsqueeze, {f.in(DType::F32, {3, 4}), f.ints({1, 3})}),
            (Shape{3, 1, 4, 1}));
}

TEST(SemanticsInfer, SliceGatherSplit) {
  Fixture f;
  const Value *x = f.in(DType::F32, {10, 6});
  // Axis 0 from 8 down to (not including) 1 by -3: 8, 5, 2. Axis 1 from the end clamps to 5.
  EXPECT_EQ(shapeOf(OpKind::Slice,
                    {x, f.ints({8, 100}), f.ints({1, -100}), f.ints({0, 1}), f.ints({-3, -1})}),
            (Shape{3, 6}));
  EXPECT_EQ(shapeOf(OpKind::Slice, {x, f.ints({-3}), f.ints({INT64_MAX}), f.ints({-1})}),
            (Shape{10, 3}));
  EXPECT_EQ(shapeOf(OpKind::Slice, {x, f.ints({5}), f.ints({2})}), (Shape{0, 6}));
  EXPECT_EQ(shapeOf(OpKind::Gather, {f.in(DType::F32, {5, 4, 3}), f.in(DType::I64, {2, 7})},
                    attrs({{"axis", int64_t(1)}})),
            (Shape{5, 2, 7, 3}));
  EXPECT_EQ(shapeOf(OpKind::Gather, {f.in(DType::F32, {5, 4}), f.in(DType::I64, {})}), (Shape{4}));
  auto parts = inferResultTypes(OpKind::Split, {f.in(DType::F32, {2, 6})},
                                attrs({{"axis", int64_t(1)}, {"num_outputs", int64_t(3)}}));
  ASSERT_TRUE(bool(parts));
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[2].shape, (Shape{2, 2}));
  auto uneven = inferResultTypes(OpKind::Split, {f.in(DType::F32, {7}), f.ints({3, 4})}, {});
  ASSERT_TRUE(bool(uneven));
  EXPECT_EQ((*uneven)[1].shape, (Shape{4}));
}

TEST(SemanticsInfer, ReduceAndMisc) {
  Fixture f;
  const Value *x = f.in(DType::F32, {2, 3, 4});
  EXPECT_EQ(shapeOf(OpKind::ReduceMean, {x},
                    attrs({{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t(1)}})),
            (Shape{2, 3, 1}));
  EXPECT_EQ(shapeOf(OpKind::ReduceSum, {x, f.ints({0, 2})}, attrs({{"keepdims", int64_t(0)}})),
            (Shape{3}));
  EXPECT_EQ(shapeOf(OpKind::ReduceSum, {x}, attrs({{"keepdims", int64_t(0)}})), (Shape{}));
  EXPECT_EQ(shapeOf(OpKind::ReduceSum, {x},
                    attrs({{"keepdims", int64_t(0)}, {"noop_with_empty_axes", int64_t(1)}})),
            (Shape{2, 3, 4}));
  EXPECT_EQ(shapeOf(OpKind::Transpose, {x}), (Shape{4, 3, 2}));
  EXPECT_EQ(shapeOf(OpKind::Transpose, {x}, attrs({{"perm", std::vector<int64_t>{1, 0, 2}}})),
            (Shape{3, 2, 4}));
  EXPECT_EQ(shapeOf(OpKind::Pad, {x, f.ints({0, 1, 2, 0, 1, 3})}), (Shape{2, 5, 9}));
  EXPECT_EQ(shapeOf(OpKind::Expand, {f.in(DType::F32, {3, 1}), f.ints({2, 1, 4})}),
            (Shape{2, 3, 4}));
  EXPECT_EQ(shapeOf(OpKind::Tile, {f.in(DType::F32, {3, 1}), f.ints({2, 4})}), (Shape{6, 4}));
  EXPECT_EQ(shapeOf(OpKind::Shape, {x}, attrs({{"start", int64_t(-2)}})), (Shape{2}));
  EXPECT_EQ(
      shapeOf(OpKind::Concat, {x, f.in(DType::F32, {2, 5, 4})}, attrs({{"axis", int64_t(1)}})),
      (Shape{2, 8, 4}));
  Graph g;
  std::vector<const Value *> range = {g.addConstant("s", i64({}, {10})),
                                      g.addConstant("l", i64({}, {1})),
                                      g.addConstant("d", i64({}, {-4}))};
  EXPECT_EQ(shapeOf(OpKind::Range, range), (Shape{3}));
  auto cast =
      inferResultTypes(OpKind::Cast, {x}, attrs({{"to", static_cast<int64_t>(DType::I32)}}));
  ASSERT_TRUE(bool(cast));
  EXPECT_EQ((*cast)[0].dtype(), DType::I32);
  auto drop = inferResultTypes(OpKind::Dropout, {x}, attrs({{"num_outputs", int64_t(2)}}));
  ASSERT_TRUE(bool(drop));
  EXPECT_EQ((*drop)[1].dtype(), DType::Bool);
  EXPECT_EQ(errorOf(OpKind::Sqrt, {f.in(DType::I64, {2})}),
            "Sqrt expects a floating-point input, found i64[2]");
}

TEST(SemanticsEval, ElementwiseAndMatrix) {
  EXPECT_EQ(evalDoubles(OpKind::Add, {f32({2, 1}, {1, 2}), f32({3}, {10, 20, 30})}, {}),
            (std::vector<double>{11, 21, 31, 12, 22, 32}));
  // Integer division truncates; int64 stays exact beyond 2^53.
  EXPECT_EQ(evalDoubles(OpKind::Div, {i64({2}, {-7, 7}), i64({1}, {2})}, {}),
            (std::vector<double>{-3, 3}));
  Graph g;
  Value *big = g.addConstant("b", i64({1}, {(int64_t(1) << 60) + 1}));
  Value *one = g.addConstant("o", i64({1}, {1}));
  auto t = inferResultTypes(OpKind::Add, {big, one}, {});
  ASSERT_TRUE(bool(t));
  auto r = evaluate(OpKind::Add, {big->constant(), one->constant()}, {}, *t);
  ASSERT_TRUE(bool(r));
  EXPECT_EQ((*r)[0].getInt(0), (int64_t(1) << 60) + 2);
  EXPECT_EQ(evalDoubles(OpKind::MatMul, {f32({2, 2}, {1, 2, 3, 4}), f32({2}, {5, 6})}, {}),
            (std::vector<double>{17, 39}));
  EXPECT_EQ(evalDoubles(OpKind::Gemm,
                        {f32({2, 2}, {1, 2, 3, 4}), f32({2, 2}, {1, 0, 0, 1}), f32({2}, {10, 20})},
                        attrs({{"transA", int64_t(1)}, {"alpha", 2.0}, {"beta", 1.0}})),
            (std::vector<double>{12, 26, 14, 28}));
  EXPECT_EQ(evalDoubles(OpKind::Clip, {f32({3}, {-5, 0.5, 9}), f32({}, {0}), f32({}, {1})}, {}),
            (std::vector<double>{0, 0.5, 1}));
}

TEST(SemanticsEval, ConvAndPool) {
  // 1-D: x = [1,2,3,4], w = [1,0,-1], pad 1 both sides: [0-2, 1-3, 2-4, 3-0] = [-2,-2,-2,3].
  Attributes a = attrs({{"pads", std::vector<int64_t>{1, 1}}});
  EXPECT_EQ(
      evalDoubles(OpKind::Conv, {f32({1, 1, 4}, {1, 2, 3, 4}), f32({1, 1, 3}, {1, 0, -1})}, a),
      (std::vector<double>{-2, -2, -2, 3}));
  // ConvTranspose stride 2, kernel [1,1]: each input spreads into two outputs.
  EXPECT_EQ(evalDoubles(OpKind::ConvTranspose, {f32({1, 1, 2}, {1, 2}), f32({1, 1, 2}, {1, 10})},
                        attrs({{"strides", std::vector<int64_t>{2}}})),
            (std::vector<double>{1, 10, 2, 20}));
  // MaxPool 2x2 stride 2 with indices.
  Attributes mp = attrs({{"kernel_shape", std::vector<int64_t>{2, 2}},
                         {"strides", std::vector<int64_t>{2, 2}},
                         {"num_outputs", int64_t(2)}});
  Tensor x = f32({1, 1, 2, 4}, {1, 5, 2, 0, 3, 4, 8, 7});
  EXPECT_EQ(evalDoubles(OpKind::MaxPool, {x}, mp), (std::vector<double>{5, 8}));
  EXPECT_EQ(evalDoubles(OpKind::MaxPool, {x}, mp, 1), (std::vector<double>{1, 6}));
  // AveragePool with pad 1 on [1,2,3]: kernel 2 stride 2 → windows {pad,1} {2,3}.
  Attributes ap = attrs({{"kernel_shape", std::vector<int64_t>{2}},
                         {"strides", std::vector<int64_t>{2}},
                         {"pads", std::vector<int64_t>{1, 0}}});
  EXPECT_EQ(evalDoubles(OpKind::AveragePool, {f32({1, 1, 3}, {1, 2, 3})}, ap),
            (std::vector<double>{1, 2.5}));
  ap.set("count_include_pad", int64_t(1));
  EXPECT_EQ(evalDoubles(OpKind::AveragePool, {f32({1, 1, 3}, {1, 2, 3})}, ap),
            (std::vector<double>{0.5, 2.5}));
}

TEST(SemanticsEval, DataMovement) {
  Tensor x = f32({2, 3}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(evalDoubles(OpKind::Transpose, {x}, {}), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(evalDoubles(OpKind::Slice,
                        {x, i64({1}, {-1}), i64({1}, {INT64_MIN}), i64({1}, {1}), i64({1}, {-2})},
                        {}),
            (std::vector<double>{2, 0, 5, 3}));
  EXPECT_EQ(evalDoubles(OpKind::Gather, {x, i64({2}, {-1, 0})}, attrs({{"axis", int64_t(1)}})),
            (std::vector<double>{2, 0, 5, 3}));
  EXPECT_EQ(evalDoubles(OpKind::Pad, {f32({3}, {1, 2, 3}), i64({2}, {2, 1})},
                        attrs({{"mode", std::string("reflect")}})),
            (std::vector<double>{3, 2, 1, 2, 3, 2}));
  EXPECT_EQ(evalDoubles(OpKind::Pad, {f32({3}, {1, 2, 3}), i64({2}, {1, 2}), f32({}, {7})}, {}),
            (std::vector<double>{7, 1, 2, 3, 7, 7}));
  EXPECT_EQ(evalDoubles(OpKind::Tile, {f32({2}, {1, 2}), i64({1}, {2})}, {}),
            (std::vector<double>{1, 2, 1, 2}));
  EXPECT_EQ(evalDoubles(OpKind::Split, {x, i64({2}, {1, 2})}, attrs({{"axis", int64_t(1)}}), 1),
            (std::vector<double>{1, 2, 4, 5}));
  EXPECT_EQ(evalDoubles(OpKind::ReduceMax, {x},
                        attrs({{"axes", std::vector<int64_t>{0}}, {"keepdims", int64_t(0)}})),
            (std::vector<double>{3, 4, 5}));
  std::vector<double> sm = evalDoubles(OpKind::Softmax, {f32({2}, {0, 0})}, {});
  EXPECT_EQ(sm, (std::vector<double>{0.5, 0.5}));
}

TEST(SemanticsEval, EvaluateNodeNeedsConstants) {
  Graph g;
  Value *x = g.addInput("x", {DType::F32, {2}});
  Node *n = g.addNode(OpKind::Relu, "relu0", {x}, {TensorType(DType::F32, {2})}, {"y"});
  auto r = evaluateNode(*n);
  ASSERT_FALSE(bool(r));
  EXPECT_EQ(llvm::toString(r.takeError()),
            "Relu 'relu0' expects constant operands for evaluation, found non-constant operand 0 "
            "(x)");
  Value *c = g.addConstant("c", f32({2}, {-1, 3}));
  Node *m = g.addNode(OpKind::Relu, "relu1", {c}, {TensorType(DType::F32, {2})}, {"z"});
  auto ok = evaluateNode(*m);
  ASSERT_TRUE(bool(ok));
  EXPECT_EQ((*ok)[0].toDoubles(), (std::vector<double>{0, 3}));
}

TEST(SemanticsEval, EvaluateNodeAppliesTheEpilogue) {
  // A fused node computes its op and then each step, spelled through the ops' semantics; the
  // epilogue's operands are not operands of the op itself.
  Graph g;
  Value *a = g.addConstant("a", f32({2, 2}, {1, -2, 3, -4}));
  Value *b = g.addConstant("b", f32({2}, {1, 1}));
  Value *c = g.addConstant("c", f32({2}, {2, 10}));
  Value *d = g.addConstant("d", f32({}, {1}));
  Node *n = g.addNode(OpKind::Add, "add", {a, b, c, d}, {TensorType(DType::F32, {2, 2})}, {"y"});
  EpilogueStep relu; // activation steps default to Relu
  EpilogueStep mul{EpilogueStep::Kind::Binary, ActKind::Relu, 0, 0, 2, BinKind::Mul, false};
  EpilogueStep rsub{EpilogueStep::Kind::Binary, ActKind::Relu, 0, 0, 3, BinKind::Sub, true};
  n->epilogue().steps = {relu, mul, rsub};
  auto r = evaluateNode(*n);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  // relu(a + b) = [2, 0, 4, 0]; * c = [4, 0, 8, 0]; 1 - that.
  EXPECT_EQ((*r)[0].toDoubles(), (std::vector<double>{-3, 1, -7, 1}));

  // A Conv's bias_add reads the channel; residual_add the flat index.
  Value *x = g.addConstant("x", f32({1, 2, 1, 2}, {1, 2, 3, 4}));
  Value *w = g.addConstant("w", f32({2, 2, 1, 1}, {1, 0, 0, 1}));
  Value *bias = g.addConstant("bias", f32({2}, {10, 20}));
  Value *res = g.addConstant("res", f32({1, 2, 1, 2}, {1, 1, 1, 1}));
  Attributes at;
  at.set("kernel_shape", std::vector<int64_t>{1, 1});
  at.set("strides", std::vector<int64_t>{1, 1});
  at.set("pads", std::vector<int64_t>{0, 0, 0, 0});
  at.set("dilations", std::vector<int64_t>{1, 1});
  at.set("group", int64_t(1));
  Node *conv =
      g.addNode(OpKind::Conv, "conv", {x, w, bias, res}, {TensorType(DType::F32, {1, 2, 1, 2})},
                {"cy"}, at);
  EpilogueStep bstep{EpilogueStep::Kind::BiasAdd, ActKind::Relu, 0, 0, 2};
  EpilogueStep rstep{EpilogueStep::Kind::ResidualAdd, ActKind::Relu, 0, 0, 3};
  EpilogueStep clip{EpilogueStep::Kind::Activation, ActKind::Clip, 0, 24.5, -1};
  conv->epilogue().steps = {bstep, rstep, clip};
  auto cr = evaluateNode(*conv);
  ASSERT_TRUE(bool(cr)) << llvm::toString(cr.takeError());
  // x (identity weights) + [10, 20] per channel + 1, clipped at 24.5.
  EXPECT_EQ((*cr)[0].toDoubles(), (std::vector<double>{12, 13, 24, 24.5}));
}

TEST(SemanticsEval, GeluBothForms) {
  // Gelu is a kiln op (not in ONNX 17), so ONNX's node tests cannot check it: values by hand.
  // erf form: 0.5 * (1 + erf(1 / sqrt 2)) = 0.841344746; tanh form: 0.841191990.
  std::vector<double> exact = evalDoubles(OpKind::Gelu, {f32({2}, {1, -1})},
                                          attrs({{"approximate", std::string("none")}}));
  ASSERT_EQ(exact.size(), 2u);
  EXPECT_NEAR(exact[0], 0.841344746, 1e-6);
  EXPECT_NEAR(exact[1], -0.158655254, 1e-6);
  std::vector<double> approx = evalDoubles(OpKind::Gelu, {f32({1}, {1})},
                                           attrs({{"approximate", std::string("tanh")}}));
  ASSERT_EQ(approx.size(), 1u);
  EXPECT_NEAR(approx[0], 0.841191990, 1e-6);
}
