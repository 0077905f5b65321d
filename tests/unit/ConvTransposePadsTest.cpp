// ConvTranspose's output_shape → pads rule (convTransposePads, ir/ops/Conv.cpp) has one
// definition: these tests check its arithmetic by hand, including the negative totals of an
// output larger than the convolution covers, and that the frontend (which resolves output_shape
// at import) and shape inference and evaluation (which apply it to a node that still carries
// output_shape) give the same window and the same values.
#include "compiler/frontend/OnnxFrontend.h"
#include "ir/OpParams.h"
#include "ir/Semantics.h"

#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

using namespace kiln;

namespace {

TEST(ConvTransposePads, SplitsTheTotalAndGrowsTheEndWhenNegative) {
  // in 3, kernel 3, stride 3: the convolution covers 3 (3 - 1) + 3 = 9.
  // Total 9 - 6 = 3: the odd unit at the begin, or at the end for SAME_UPPER.
  ConvTransposePads p = convTransposePads(3, 3, 3, 1, 0, 6, false);
  EXPECT_EQ(p.begin, 2);
  EXPECT_EQ(p.end, 1);
  EXPECT_EQ(p.outputPadding, 0);
  p = convTransposePads(3, 3, 3, 1, 0, 6, true);
  EXPECT_EQ(p.begin, 1);
  EXPECT_EQ(p.end, 2);
  // Total 9 - 10 = -1 and 9 - 12 = -3: no pads, the output padding grows by the difference, so
  // the extra positions are at the end.
  p = convTransposePads(3, 3, 3, 1, 0, 10, false);
  EXPECT_EQ(p.begin, 0);
  EXPECT_EQ(p.end, 0);
  EXPECT_EQ(p.outputPadding, 1);
  p = convTransposePads(3, 3, 3, 1, 1, 12, true);
  EXPECT_EQ(p.begin, 0);
  EXPECT_EQ(p.end, 0);
  EXPECT_EQ(p.outputPadding, 3); // 1 + (3 (3 - 1) + 1 + 3 - 12 = -2) → 3
  // Dilation widens the kernel: 2 (3 - 1) + 1 = 5, covered 1 (4 - 1) + 5 = 8; total 8 - 11 = -3.
  p = convTransposePads(4, 3, 1, 2, 0, 11, false);
  EXPECT_EQ(p.begin, 0);
  EXPECT_EQ(p.outputPadding, 3);
}

/// A one-node model: ConvTranspose of X [1, 1, 3] by W [1, 1, 3] with stride 3 and the given
/// output_shape, W an initializer of ones.
std::string convTransposeModel(int64_t outShape) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  onnx::GraphProto *g = m.mutable_graph();
  g->set_name("ct");
  auto addValue = [](onnx::ValueInfoProto *v, const char *name, std::vector<int64_t> dims) {
    v->set_name(name);
    onnx::TypeProto_Tensor *t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims)
      t->mutable_shape()->add_dim()->set_dim_value(d);
  };
  addValue(g->add_input(), "X", {1, 1, 3});
  addValue(g->add_output(), "Y", {1, 1, outShape});
  onnx::TensorProto *w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {1, 1, 3})
    w->add_dims(d);
  for (int i = 0; i < 3; ++i)
    w->add_float_data(1.0f);
  onnx::NodeProto *n = g->add_node();
  n->set_op_type("ConvTranspose");
  n->set_name("up");
  n->add_input("X");
  n->add_input("W");
  n->add_output("Y");
  onnx::AttributeProto *a = n->add_attribute();
  a->set_name("strides");
  a->set_type(onnx::AttributeProto::INTS);
  a->add_ints(3);
  a = n->add_attribute();
  a->set_name("output_shape");
  a->set_type(onnx::AttributeProto::INTS);
  a->add_ints(outShape);
  return m.SerializeAsString();
}

TEST(ConvTransposePads, FrontendAndSemanticsApplyOneRule) {
  // Covered: 3 (3 - 1) + 3 = 9; output 12 gives the negative total -3.
  auto g = importOnnxBytes(convTransposeModel(12), "ct.onnx", {});
  ASSERT_TRUE(bool(g)) << llvm::toString(g.takeError());
  const Node *imported = nullptr;
  for (const Node *n : (*g)->nodes())
    if (n->op() == OpKind::ConvTranspose)
      imported = n;
  ASSERT_NE(imported, nullptr);
  EXPECT_FALSE(imported->attrs().has("output_shape"));
  EXPECT_EQ(imported->attrs().getInts("pads"), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(imported->attrs().getInts("output_padding"), (std::vector<int64_t>{3}));
  auto importedWindow = convParams(*imported);
  ASSERT_TRUE(bool(importedWindow)) << llvm::toString(importedWindow.takeError());

  // The same node with output_shape still present, as shape inference sees it in .kir.
  Graph h;
  Value *x = h.addInput("X", {DType::F32, {1, 1, 3}});
  Value *w = h.addConstant("W", Tensor::fromDoubles(DType::F32, {1, 1, 3}, {1, 1, 1}));
  Attributes attrs;
  attrs.set("strides", std::vector<int64_t>{3});
  attrs.set("output_shape", std::vector<int64_t>{12});
  auto types = inferResultTypes(OpKind::ConvTranspose, {x, w}, attrs);
  ASSERT_TRUE(bool(types)) << llvm::toString(types.takeError());
  EXPECT_EQ((*types)[0].shape, (Shape{1, 1, 12}));
  Node *raw = h.addNode(OpKind::ConvTranspose, "up", {x, w}, *types, {"Y"}, attrs);
  auto rawWindow = convParams(*raw);
  ASSERT_TRUE(bool(rawWindow)) << llvm::toString(rawWindow.takeError());
  EXPECT_EQ(rawWindow->padsBegin, importedWindow->padsBegin);
  EXPECT_EQ(rawWindow->padsEnd, importedWindow->padsEnd);
  EXPECT_EQ(rawWindow->out, importedWindow->out);

  // Both forms evaluate alike: each input element lands on 3 positions, the last 3 stay zero.
  Tensor xv = Tensor::fromDoubles(DType::F32, {1, 1, 3}, {1, 2, 3});
  std::vector<TensorType> rt = {imported->result()->type()};
  auto a = evaluate(OpKind::ConvTranspose, {xv, w->constant()}, imported->attrs(), rt);
  auto b = evaluate(OpKind::ConvTranspose, {xv, w->constant()}, attrs, *types);
  ASSERT_TRUE(bool(a)) << llvm::toString(a.takeError());
  ASSERT_TRUE(bool(b)) << llvm::toString(b.takeError());
  const std::vector<double> want = {1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 0, 0};
  EXPECT_EQ((*a)[0].toDoubles(), want);
  EXPECT_EQ((*b)[0].toDoubles(), want);
}

} // namespace
