// Unit tests of the C++ emitter on graphs built by hand: all unsupported nodes reported in one
// error, memory binding of inputs / outputs / constants / intermediates, output copies, the
// header's macros, epilogue functors, and the weight blob's string-literal encoding (decoded back
// here with the C rules for escapes and adjacent literals).
#include "codegen/Codegen.h"
#include "codegen/WeightBlob.h"

#include <gtest/gtest.h>
#include <llvm/Support/Error.h>

#include <random>

using namespace kiln;

namespace {

TensorType f32(Shape s) { return TensorType(DType::F32, std::move(s)); }

std::string errorText(llvm::Error e) { return llvm::toString(std::move(e)); }

/// Decodes the text of adjacent C string literals (as printed by encodeStringLiteral).
std::vector<uint8_t> decodeLiterals(const std::string &text, bool &ok) {
  std::vector<uint8_t> out;
  ok = true;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\n' || text[i] == ' ') {
      ++i;
      continue;
    }
    if (text[i] != '"') {
      ok = false;
      return out;
    }
    ++i;
    while (i < text.size() && text[i] != '"') {
      char c = text[i++];
      if (c == '?' || c == '\n') {
        ok = false; // raw '?' could start a trigraph; raw newline is invalid
        return out;
      }
      if (c != '\\') {
        out.push_back(uint8_t(c));
        continue;
      }
      unsigned v = 0, n = 0;
      while (n < 3 && i < text.size() && text[i] >= '0' && text[i] <= '7') {
        v = v * 8 + unsigned(text[i++] - '0');
        ++n;
      }
      if (n == 0 || v > 255) {
        ok = false;
        return out;
      }
      out.push_back(uint8_t(v));
    }
    ++i; // closing quote
  }
  return out;
}

} // namespace

TEST(WeightBlob, AlignsEveryConstant) {
  WeightBlob b;
  uint8_t d[3] = {1, 2, 3};
  EXPECT_EQ(b.add(d, 3), 0);
  EXPECT_EQ(b.add(d, 1), 64);
  EXPECT_EQ(b.add(d, 0), 128);
  EXPECT_EQ(b.add(d, 2, 16), 128);
  EXPECT_EQ(b.bytes.size(), 130u);
  EXPECT_EQ(b.bytes[64], 1);
  EXPECT_EQ(b.bytes[3], 0); // padding is zero
}

TEST(WeightBlob, LiteralEncodingIsCompactAndExact) {
  const uint8_t tricky[] = {'a', 0, '1', 0, 'x', '?', '?', '=', '"', '\\', 7, '8', 255, 63, 10};
  std::string lit = encodeStringLiteral(tricky, sizeof tricky);
  EXPECT_EQ(lit, "\"a\\0001\\0x\\77\\77=\\42\\134\\0078\\377\\77\\12\"\n");
  bool ok = false;
  EXPECT_EQ(decodeLiterals(lit, ok), std::vector<uint8_t>(tricky, tricky + sizeof tricky));
  EXPECT_TRUE(ok);
  EXPECT_EQ(encodeStringLiteral(nullptr, 0), "\"\"\n");

  // Every byte value, random data, digits after escapes, and line splits at many widths.
  std::mt19937 rng(7);
  for (size_t width : {1, 2, 3, 5, 64, 4096}) {
    std::vector<uint8_t> data(3000);
    for (size_t i = 0; i < data.size(); ++i)
      data[i] =
          i < 256 ? uint8_t(i) : (rng() % 3 == 0 ? uint8_t('0' + rng() % 10) : uint8_t(rng()));
    std::string text = encodeStringLiteral(data.data(), data.size(), width);
    EXPECT_EQ(decodeLiterals(text, ok), data) << "width " << width;
    EXPECT_TRUE(ok);
    // Lines stay near the requested width.
    size_t start = 0, longest = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
      longest = std::max(longest, nl - start);
    EXPECT_LE(longest, width + 6);
  }
  // Float weights are mostly small octal escapes: well under 4 source bytes per byte.
  std::vector<float> w(1000);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = std::sin(float(i)) * 0.1f;
  std::string text = encodeStringLiteral(reinterpret_cast<const uint8_t *>(w.data()), 4000);
  EXPECT_LT(text.size(), 4000u * 3);
}

TEST(Codegen, ReportsEveryUnsupportedNodeInOneError) {
  Graph g;
  g.setName("bad");
  Value *x = g.addInput("x", TensorType(DType::Bool, {4}));
  Value *d = g.addInput("d", TensorType(DType::F64, {4}));
  Node *mul = g.addNode(OpKind::Mul, "mul_bool", {x, x}, {TensorType(DType::Bool, {4})}, {"m"});
  Node *erf = g.addNode(OpKind::Erf, "erf_f64", {d}, {TensorType(DType::F64, {4})}, {"e"});
  Node *relu = g.addNode(OpKind::Relu, "relu_q", {d}, {TensorType(DType::F64, {4})}, {"r"});
  relu->epilogue().steps.push_back(EpilogueStep{});
  g.setOutputs({mul->result(), erf->result(), relu->result()});
  auto r = generateCpp(g, {"bad", "bad.onnx"});
  ASSERT_FALSE(bool(r));
  std::string msg = errorText(r.takeError());
  EXPECT_NE(msg.find("3 problem(s)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("node 'mul_bool' (Mul): operand dtype: expected f32, f64, i8, u8, i16, i32 or "
                     "i64, found bool"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("node 'erf_f64' (Erf): operand dtype: expected f32, found f64"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("node 'relu_q' (Relu): expected only activation and binary steps on an f32 unary or binary op's epilogue"), std::string::npos) << msg;
}

TEST(Codegen, RejectsANameThatIsNotACIdentifier) {
  Graph g;
  Value *x = g.addInput("x", f32({2}));
  g.setOutputs({x});
  auto r = generateCpp(g, {"3d-model", "m.onnx"});
  ASSERT_FALSE(bool(r));
  EXPECT_NE(errorText(r.takeError()).find("'3d-model' is not a C identifier"), std::string::npos);
}

TEST(Codegen, BindsMemoryAndCopiesOutputsThatAreNotComputedInPlace) {
  Graph g;
  g.setName("m");
  Value *x = g.addInput("x", f32({2, 3}));
  Value *c = g.addConstant("c", Tensor::fromVector<float>(DType::F32, {3}, {1, 2, 3}));
  Node *add = g.addNode(OpKind::Add, "add", {x, c}, {f32({2, 3})}, {"a"});
  Node *relu = g.addNode(OpKind::Relu, "relu", {add->result()}, {f32({2, 3})}, {"r"});
  // r twice, the input itself, and the constant.
  g.setOutputs({relu->result(), x, relu->result(), c});
  auto r = generateCpp(g, {"m", "m.onnx"});
  ASSERT_TRUE(bool(r)) << errorText(r.takeError());
  const std::string &src = r->source;
  EXPECT_NE(src.find("// m.cpp: generated by kiln from m.onnx; do not edit."), std::string::npos);
  EXPECT_NE(src.find("alignas(64) static const unsigned char m_weights[13] =\n"
                     "\"\\0\\0\\200\\77\\0\\0\\0@\\0\\0@@\";"),
            std::string::npos)
      << src;
  EXPECT_NE(src.find("alignas(64) static unsigned char m_arena[64];"), std::string::npos);
  EXPECT_NE(src.find("  { // node 'add' (Add)\n"
                     "    const kiln_f32 *in0 = static_cast<const kiln_f32 *>(inputs[0]);\n"
                     "    const kiln_f32 *in1 = reinterpret_cast<const kiln_f32 *>(m_weights);\n"
                     "    kiln_f32 *out0 = reinterpret_cast<kiln_f32 *>(m_arena);\n"),
            std::string::npos)
      << src;
  EXPECT_NE(src.find("    kiln_f32 *out0 = static_cast<kiln_f32 *>(outputs[0]);\n"
                     "    kiln_ew_unary<float, float, 6>(out0, in0, kiln_ew_relu{});"),
            std::string::npos)
      << src;
  EXPECT_NE(src.find("std::memcpy(outputs[1], inputs[0], 24);"), std::string::npos);
  EXPECT_NE(src.find("std::memcpy(outputs[2], outputs[0], 24);"), std::string::npos);
  EXPECT_NE(src.find("std::memcpy(outputs[3], m_weights, 12);"), std::string::npos);

  const std::string &h = r->header;
  EXPECT_NE(h.find("int m_run(const void *const *inputs, void *const *outputs);"),
            std::string::npos);
  EXPECT_NE(h.find("#define M_NUM_INPUTS 1\n#define M_NUM_OUTPUTS 4\n#define M_ARENA_SIZE 64\n"
                   "#define M_ARENA_ALIGN 64\n"),
            std::string::npos)
      << h;
  EXPECT_NE(h.find("#define M_OUTPUT3_NAME \"c\"\n#define M_OUTPUT3_RANK 1\n"
                   "#define M_OUTPUT3_SHAPE {3}\n#define M_OUTPUT3_DTYPE M_DTYPE_F32\n"
                   "#define M_OUTPUT3_DTYPE_NAME \"f32\"\n#define M_OUTPUT3_NUM_ELEMENTS 3\n"
                   "#define M_OUTPUT3_SIZE_BYTES 12\n"),
            std::string::npos)
      << h;
  EXPECT_NE(h.find("Not reentrant"), std::string::npos);

  // Byte-identical on a second run.
  auto again = generateCpp(g, {"m", "m.onnx"});
  ASSERT_TRUE(bool(again));
  EXPECT_EQ(again->source, r->source);
  EXPECT_EQ(again->header, r->header);
}

TEST(Codegen, ScalarsHaveNoShapeMacroAndNamesAreEscaped) {
  Graph g;
  Value *x = g.addInput("in \"*/ x", f32({}));
  Node *n = g.addNode(OpKind::Neg, "neg\nnode", {x}, {f32({})}, {"y"});
  g.setOutputs({n->result()});
  auto r = generateCpp(g, {"s", "s.onnx"});
  ASSERT_TRUE(bool(r)) << errorText(r.takeError());
  EXPECT_EQ(r->header.find("S_INPUT0_SHAPE"), std::string::npos);
  EXPECT_NE(r->header.find("#define S_INPUT0_RANK 0"), std::string::npos);
  EXPECT_NE(r->header.find("#define S_INPUT0_NAME \"in \\042*/ x\""), std::string::npos)
      << r->header;
  EXPECT_NE(r->header.find("/* input 0: 'in \"* / x'"), std::string::npos) << r->header;
  EXPECT_NE(r->source.find("{ // node 'neg\\x0anode' (Neg)"), std::string::npos);
  EXPECT_NE(r->source.find("kiln_ew_unary<float, float, 1>(out0, in0, kiln_ew_neg{});"),
            std::string::npos);
  // No intermediates: no arena at all.
  EXPECT_EQ(r->source.find("s_arena"), std::string::npos);
  EXPECT_NE(r->header.find("#define S_ARENA_SIZE 0"), std::string::npos);
}

TEST(Codegen, EpilogueBecomesAFunctorHoldingItsOperands) {
  Graph g;
  g.setName("e");
  Value *x = g.addInput("x", f32({1, 2, 2, 2}));
  std::vector<float> w(2 * 2 * 1 * 1, 0.5f);
  Value *wc = g.addConstant("w", Tensor::fromVector<float>(DType::F32, {2, 2, 1, 1}, w));
  Value *b = g.addConstant("b", Tensor::fromVector<float>(DType::F32, {2}, {1, -1}));
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{1, 1});
  a.set("strides", std::vector<int64_t>{1, 1});
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("pads", std::vector<int64_t>{0, 0, 0, 0});
  a.set("group", int64_t(1));
  Node *conv = g.addNode(OpKind::Conv, "conv", {x, wc, b, x}, {f32({1, 2, 2, 2})}, {"y"}, a);
  EpilogueStep bias;
  bias.kind = EpilogueStep::Kind::BiasAdd;
  bias.operand = 2;
  EpilogueStep res;
  res.kind = EpilogueStep::Kind::ResidualAdd;
  res.operand = 3;
  EpilogueStep act;
  act.kind = EpilogueStep::Kind::Activation;
  act.act = ActKind::Clip;
  act.alpha = 0;
  act.beta = 6;
  // Binary steps read their operand at the channel (a [2] vector) or the flat index (the
  // result's shape); rsub puts the operand on the left.
  EpilogueStep mul;
  mul.kind = EpilogueStep::Kind::Binary;
  mul.bin = BinKind::Mul;
  mul.operand = 2;
  EpilogueStep rsub = mul;
  rsub.bin = BinKind::Sub;
  rsub.swapped = true;
  rsub.operand = 3;
  conv->epilogue().steps = {bias, res, mul, rsub, act};
  g.setOutputs({conv->result()});
  auto r = generateCpp(g, {"e", "e.onnx"});
  if (!r) {
    // The conv selector is another family's; without it there is no functor to check.
    std::string msg = errorText(r.takeError());
    EXPECT_EQ(msg.find("epilogue"), std::string::npos) << msg;
    GTEST_SKIP() << msg;
  }
  const std::string &src = r->source;
  EXPECT_NE(src.find("struct kiln_epi_0 {\n"
                     "  const kiln_f32 *p0;\n"
                     "  const kiln_f32 *p1;\n"
                     "  const kiln_f32 *p2;\n"
                     "  const kiln_f32 *p3;\n"
                     "  KILN_INLINE float operator()(float v, long i, long c) const {\n"
                     "    v += p0[c];\n"
                     "    v += p1[i];\n"
                     "    v = v * p2[c];\n"
                     "    v = p3[i] - v;\n"
                     "    v = kiln_ew_clip<float>{0.0f, 6.0f}(v);\n"
                     "    return v;\n"
                     "  }\n"
                     "  template <bool CV>\n"
                     "  KILN_INLINE kiln_vf32 vec(kiln_vf32 v, long i, long c) const {\n"
                     "    v += CV ? kiln_vload(p0 + c) : kiln_vset1(p0[c]);\n"
                     "    v += kiln_vload(p1 + i);\n"
                     "    const kiln_vf32 x2 = CV ? kiln_vload(p2 + c) : kiln_vset1(p2[c]);\n"
                     "    v = v * x2;\n"
                     "    const kiln_vf32 x3 = kiln_vload(p3 + i);\n"
                     "    v = x3 - v;\n"
                     "    v = kiln_vapply(kiln_ew_clip<float>{0.0f, 6.0f}, v);\n"
                     "    return v;\n"
                     "  }\n"
                     "};"),
            std::string::npos)
      << src;
  EXPECT_NE(src.find("const kiln_epi_0 epi{reinterpret_cast<const kiln_f32 *>(e_weights + 64), "
                     "static_cast<const kiln_f32 *>(inputs[0]), reinterpret_cast<const kiln_f32 "
                     "*>(e_weights + 64), static_cast<const kiln_f32 *>(inputs[0])};"),
            std::string::npos)
      << src;
}

TEST(Codegen, RequantizeEpilogueIsReportedNotEmitted) {
  Graph g;
  Value *x = g.addInput("x", f32({1, 2}));
  Value *w = g.addConstant("w", Tensor::fromVector<float>(DType::F32, {2, 2}, {1, 0, 0, 1}));
  Node *mm = g.addNode(OpKind::MatMul, "mm", {x, w}, {f32({1, 2})}, {"y"});
  EpilogueStep q;
  q.kind = EpilogueStep::Kind::Requantize;
  mm->epilogue().steps = {q};
  g.setOutputs({mm->result()});
  auto r = generateCpp(g, {"q", "q.onnx"});
  ASSERT_FALSE(bool(r));
  EXPECT_NE(errorText(r.takeError()).find("node 'mm' (MatMul)"), std::string::npos);
}
