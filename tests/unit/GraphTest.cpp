// IR API: building a graph, uses, replacement, erasure.
#include "ir/Graph.h"

#include <gtest/gtest.h>

using namespace kiln;

TEST(Graph, BuildReplaceErase) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {1, 4}));
  Node *relu = g.addNode(OpKind::Relu, "relu0", {x}, {TensorType(DType::F32, {1, 4})}, {"y"});
  Node *id = g.addNode(OpKind::Identity, "id0", {relu->result()}, {relu->result()->type()}, {"z"});
  g.setOutputs({id->result()});
  EXPECT_EQ(g.users(relu->result()).size(), 1u);
  g.replaceAllUsesWith(id->result(), relu->result());
  EXPECT_TRUE(g.isOutput(relu->result()));
  g.eraseNode(id);
  EXPECT_EQ(g.numNodes(), 1u);
  EXPECT_EQ(std::string(opName(g.nodes()[0]->op())), "Relu");
}

TEST(Types, ByteSizeAndStrings) {
  TensorType t(DType::F32, {1, 3, 224, 224});
  EXPECT_EQ(t.byteSize(), 1 * 3 * 224 * 224 * 4);
  EXPECT_EQ(typeString(t), "f32[1,3,224,224]");
  TensorType blocked(DType::F32, {1, 3, 8, 8}, Layout{{0, 1, 2, 3}, {{1, 4}}});
  EXPECT_EQ(blocked.byteSize(), 1 * 4 * 8 * 8 * 4); // channels padded to a whole block
  EXPECT_EQ(opFromName("Conv"), OpKind::Conv);
  EXPECT_FALSE(opFromName("NoSuchOp").has_value());
}

TEST(Tensor, HashIsStableAndContentBased) {
  Tensor a = Tensor::fromDoubles(DType::F32, {2}, {1.0, 2.0});
  Tensor b = Tensor::fromDoubles(DType::F32, {2}, {1.0, 2.0});
  Tensor c = Tensor::fromDoubles(DType::F32, {2}, {1.0, 3.0});
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(a.hash(), c.hash());
  EXPECT_EQ(Tensor::fromDoubles(DType::F16, {1}, {0.5}).getDouble(0), 0.5);
}
