// evaluateNode on given operand values and applyEpilogue (ir/Semantics.h): what kiln bisect uses
// to run a graph's nodes on an input and to apply a fused node's epilogue to an unfused value.
// Expected values are computed by hand here.
#include "ir/Semantics.h"

#include <gtest/gtest.h>

using namespace kiln;

namespace {

Tensor f32(Shape s, std::vector<float> v) {
  return Tensor::fromVector(DType::F32, std::move(s), v);
}

} // namespace

TEST(EvaluateOnValues, NonConstantOperandsTakeTheGivenValues) {
  Graph g;
  Value *x = g.addInput("x", {DType::F32, {3}});
  Value *b = g.addConstant("b", f32({3}, {1, 1, 1}));
  Node *n = g.addNode(OpKind::Sub, "sub", {x, b}, {TensorType(DType::F32, {3})}, {"y"});
  auto r = evaluateNode(*n, {f32({3}, {0, 2, 5}), b->constant()});
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  EXPECT_EQ((*r)[0].toDoubles(), (std::vector<double>{-1, 1, 4}));

  auto bad = evaluateNode(*n, {f32({3}, {0, 2, 5})});
  ASSERT_FALSE(bool(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()), "Sub 'sub' expects 2 operand values, found 1");
}

TEST(EvaluateOnValues, EpilogueOnAnUnfusedValue) {
  // y = relu(v) + r with r a non-constant residual operand (operand 1 of the node).
  Graph g;
  Value *x = g.addInput("x", {DType::F32, {4}});
  Value *res = g.addInput("res", {DType::F32, {4}});
  Node *n = g.addNode(OpKind::Neg, "neg", {x, res}, {TensorType(DType::F32, {4})}, {"y"});
  EpilogueStep relu;
  EpilogueStep add{EpilogueStep::Kind::Binary, ActKind::Relu, 0, 0, 1, BinKind::Add, false};
  n->epilogue().steps = {relu, add};
  std::vector<Tensor> ops = {f32({4}, {1, -2, 3, -4}), f32({4}, {10, 20, 30, 40})};
  auto e = applyEpilogue(*n, f32({4}, {-1, 2, -3, 4}), ops);
  ASSERT_TRUE(bool(e)) << llvm::toString(e.takeError());
  EXPECT_EQ(e->toDoubles(), (std::vector<double>{10, 22, 30, 44}));
  // The whole node: Neg of x, then the same steps.
  auto r = evaluateNode(*n, ops);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  EXPECT_EQ((*r)[0].toDoubles(), (std::vector<double>{10, 22, 30, 44}));
}
