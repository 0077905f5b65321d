// The .kir text form and the verifier: printing and parsing every construct of the IR back to the
// same text and the same graph, bit-exact constants, the sidecar, parse errors with line and
// column, and each verifier diagnostic.
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

using namespace kiln;

namespace {

std::string print(const Graph &g, const std::string &sidecar = "") {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::Error e = printGraph(g, os, sidecar);
  EXPECT_FALSE(static_cast<bool>(e)) << llvm::toString(std::move(e));
  os.flush();
  return s;
}

std::unique_ptr<Graph> parse(const std::string &text, const std::string &sidecar = "") {
  auto g = parseKir(text, "test.kir", sidecar);
  if (!g) {
    ADD_FAILURE() << llvm::toString(g.takeError()) << "\nin:\n" << text;
    return nullptr;
  }
  return std::move(*g);
}

/// The parse error message, or "" if `text` parses.
std::string parseError(const std::string &text, const std::string &sidecar = "") {
  auto g = parseKir(text, "test.kir", sidecar);
  if (g)
    return "";
  return llvm::toString(g.takeError());
}

std::string verifyError(const Graph &g) {
  llvm::Error e = verifyGraph(g);
  return e ? llvm::toString(std::move(e)) : "";
}

/// A fresh directory for the files of one test, removed with it.
struct TempDir {
  std::string path;
  TempDir() {
    llvm::SmallString<128> dir;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("kir-test", dir));
    path = std::string(dir.str());
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
};

std::string readFile(const std::string &path) {
  auto buf = llvm::MemoryBuffer::getFile(path, false, false);
  return buf ? (*buf)->getBuffer().str() : std::string("<missing>");
}

template <class T> Tensor tensorOf(DType t, Shape s, std::vector<T> v) {
  return Tensor::fromVector<T>(t, std::move(s), v);
}

float floatFromBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

/// Every construct of the IR in one graph (it does not have to make sense to the verifier).
std::unique_ptr<Graph> everything() {
  auto g = std::make_unique<Graph>();
  g->setName("model/v2");
  Value *x = g->addInput("input.1", TensorType(DType::F32, {1, 4, 8, 8}));
  ElementType qa(DType::I8);
  qa.quant = QuantParams{1, {0.5f, 0.25f, 0.1f, 3e-7f}, {0, -3, 7, 127}};
  ElementType qt(DType::U8);
  qt.quant = QuantParams{-1, {0.0078125f}, {128}};
  Value *q = g->addInput("q", TensorType(qt, {1, 4}));

  // Inline constants of every dtype, with the float values that break naive printing.
  Value *w = g->addConstant("onnx::Conv_470",
                            tensorOf<float>(DType::F32, {4},
                                            {0.1f, -0.0f, std::numeric_limits<float>::infinity(),
                                             floatFromBits(0x7fc00001)}));
  g->addConstant("f32.special",
                 tensorOf<float>(DType::F32, {2, 2},
                                 {1.0f, 1e-45f, 3.4028235e38f, floatFromBits(0xffc00000)}));
  g->addConstant("f64", tensorOf<double>(DType::F64, {3}, {0.1, -1e300, 5e-324}));
  g->addConstant("f16",
                 tensorOf<uint16_t>(DType::F16, {5}, {0x3c00, 0x0001, 0x7bff, 0xfc00, 0x7e01}));
  g->addConstant("i8", tensorOf<int8_t>(DType::I8, {3}, {-128, 0, 127}));
  g->addConstant("u8", tensorOf<uint8_t>(DType::U8, {2}, {0, 255}));
  g->addConstant("i16", tensorOf<int16_t>(DType::I16, {2}, {-32768, 32767}));
  g->addConstant("i32", tensorOf<int32_t>(DType::I32, {2}, {INT32_MIN, INT32_MAX}));
  Value *shape =
      g->addConstant("shape", tensorOf<int64_t>(DType::I64, {2}, {INT64_MIN, INT64_MAX}));
  g->addConstant("bool", tensorOf<uint8_t>(DType::Bool, {3}, {1, 0, 2}));
  g->addConstant("scalar", tensorOf<float>(DType::F32, {}, {2.5f}));
  g->addConstant("empty", tensorOf<float>(DType::F32, {0, 3}, {}));
  // Large constants go to the sidecar; one with a quantized, blocked type over i8 data of
  // another shape (a repacked weight) so that the data's own type is printed too.
  std::vector<float> big(100);
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<float>(i) * 0.37f - 11;
  Value *large =
      g->addConstant("/features/0/Conv_output_0", tensorOf<float>(DType::F32, {4, 25}, big));
  g->addConstant("same.bytes", tensorOf<float>(DType::F32, {4, 25}, big)); // one sidecar entry
  std::vector<int8_t> packed(4 * 2 * 16);
  for (size_t i = 0; i < packed.size(); ++i)
    packed[i] = static_cast<int8_t>(i * 7);
  Value *qw = g->addConstant("qw", tensorOf<int8_t>(DType::I8, {128}, packed));
  qw->setType(TensorType(qa, {4, 2, 4, 4}, Layout{{0, 1, 2, 3}, {{1, 16}}}));

  Attributes convAttrs;
  convAttrs.set("dilations", std::vector<int64_t>{1, 1});
  convAttrs.set("group", int64_t(1));
  convAttrs.set("kernel_shape", std::vector<int64_t>{1, 1});
  convAttrs.set("pads", std::vector<int64_t>{0, 0, 0, 0});
  convAttrs.set("strides", std::vector<int64_t>{1, 1});
  TensorType blocked(DType::F32, {1, 4, 8, 8}, Layout{{0, 2, 3, 1}, {{1, 2}, {2, 4}}});
  Node *conv = g->addNode(OpKind::Conv, "Conv_0", {x, w, w, x}, {blocked}, {"x.1"}, convAttrs);
  EpilogueStep bias{EpilogueStep::Kind::BiasAdd, ActKind::Relu, 0, 0, 2};
  EpilogueStep resid{EpilogueStep::Kind::ResidualAdd, ActKind::Relu, 0, 0, 3};
  EpilogueStep clip{EpilogueStep::Kind::Activation, ActKind::Clip, 0, 6, -1};
  EpilogueStep leaky{EpilogueStep::Kind::Activation, ActKind::LeakyRelu, 0.01, 0, -1};
  EpilogueStep requant{EpilogueStep::Kind::Requantize, ActKind::Relu, 0, 0, -1};
  conv->epilogue().steps = {bias, resid, clip, leaky, requant};
  for (ActKind a : {ActKind::Relu, ActKind::Sigmoid, ActKind::HardSigmoid, ActKind::HardSwish,
                    ActKind::Tanh, ActKind::SiLU, ActKind::Gelu})
    conv->epilogue().steps.push_back({EpilogueStep::Kind::Activation, a, 0, 0, -1});
  conv->epilogue().steps.push_back(
      {EpilogueStep::Kind::Activation, ActKind::HardSigmoid, 0.2, 0.5, -1});
  for (BinKind b : {BinKind::Add, BinKind::Sub, BinKind::Mul, BinKind::Div, BinKind::Pow,
                    BinKind::Max, BinKind::Min})
    for (bool swapped : {false, true})
      conv->epilogue().steps.push_back(
          {EpilogueStep::Kind::Binary, ActKind::Relu, 0, 0, 3, b, swapped});

  Attributes all;
  all.set("int", int64_t(-7));
  all.set("float", 1.0);
  all.set("small", 1e-5);
  all.set("big", 1e20);
  all.set("ninf", -std::numeric_limits<double>::infinity());
  all.set("str", std::string("a \"quoted\"\\ line\nwith\ttab and \x01 byte"));
  all.set("ints", std::vector<int64_t>{INT64_MIN, 0, INT64_MAX});
  all.set("floats", std::vector<double>{0.0, -2.0, 0.1, 1.7976931348623157e308});
  all.set("strings", std::vector<std::string>{"", "NCHW", "x,y"});
  all.set("no_ints", std::vector<int64_t>{});
  all.set("no_floats", std::vector<double>{});
  all.set("no_strings", std::vector<std::string>{});
  all.set("1st", int64_t(1));
  all.set("inf", int64_t(2));
  all.set("a.b", std::string("quoted key"));
  Node *split = g->addNode(OpKind::Split, "Split \"3\"", {conv->result(), shape},
                           {TensorType(DType::F32, {1, 2, 8, 8}), TensorType(qa, {1, 2, 8, 8})},
                           {"a", "0"}, all);
  Node *range = g->addNode(OpKind::Range, "", {}, {TensorType(DType::I64, {3})}, {""});
  g->addNode(OpKind::Identity, "no results", {range->result()}, {}, {});
  g->setOutputs({split->result(0), split->result(1), large, q, split->result(0)});
  return g;
}

/// Field-by-field equality of two graphs (with NaN attributes compared by bits).
void expectSameGraph(const Graph &a, const Graph &b) {
  EXPECT_EQ(a.name(), b.name());
  auto sameValue = [](const Value *x, const Value *y) {
    EXPECT_EQ(x->name(), y->name());
    EXPECT_EQ(x->type(), y->type()) << typeString(x->type()) << " vs " << typeString(y->type());
  };
  ASSERT_EQ(a.inputs().size(), b.inputs().size());
  for (size_t i = 0; i < a.inputs().size(); ++i)
    sameValue(a.inputs()[i], b.inputs()[i]);
  ASSERT_EQ(a.constants().size(), b.constants().size());
  for (size_t i = 0; i < a.constants().size(); ++i) {
    const Value *x = a.constants()[i], *y = b.constants()[i];
    sameValue(x, y);
    EXPECT_EQ(x->constant().dtype, y->constant().dtype);
    EXPECT_EQ(x->constant().shape, y->constant().shape);
    EXPECT_EQ(*x->constant().bytes, *y->constant().bytes) << x->name();
  }
  auto an = a.nodes(), bn = b.nodes();
  ASSERT_EQ(an.size(), bn.size());
  for (size_t i = 0; i < an.size(); ++i) {
    EXPECT_EQ(an[i]->op(), bn[i]->op());
    EXPECT_EQ(an[i]->name(), bn[i]->name());
    EXPECT_TRUE(an[i]->attrs() == bn[i]->attrs()) << an[i]->name();
    EXPECT_TRUE(an[i]->epilogue() == bn[i]->epilogue()) << an[i]->name();
    ASSERT_EQ(an[i]->numOperands(), bn[i]->numOperands());
    for (unsigned k = 0; k < an[i]->numOperands(); ++k)
      EXPECT_EQ(an[i]->operand(k)->name(), bn[i]->operand(k)->name());
    ASSERT_EQ(an[i]->numResults(), bn[i]->numResults());
    for (unsigned k = 0; k < an[i]->numResults(); ++k)
      sameValue(an[i]->result(k), bn[i]->result(k));
  }
  ASSERT_EQ(a.outputs().size(), b.outputs().size());
  for (size_t i = 0; i < a.outputs().size(); ++i)
    EXPECT_EQ(a.outputs()[i]->name(), b.outputs()[i]->name());
}

TEST(Kir, RoundTripsEveryConstruct) {
  auto g = everything();
  TempDir tmp;
  const std::string &dir = tmp.path;
  std::string path = dir + "/every.kir";
  ASSERT_FALSE(static_cast<bool>(writeKirFile(*g, path)));
  std::string text = readFile(path);
  EXPECT_EQ(text, print(*g));
  auto parsed = parseKirFile(path);
  ASSERT_TRUE(static_cast<bool>(parsed)) << llvm::toString(parsed.takeError()) << "\n" << text;
  EXPECT_EQ(print(**parsed), text);
  expectSameGraph(*g, **parsed);

  // Writing the parsed graph again gives identical files (the sidecar too).
  std::string path2 = dir + "/again.kir";
  ASSERT_FALSE(static_cast<bool>(writeKirFile(**parsed, path2)));
  EXPECT_EQ(readFile(path2), text);
  EXPECT_EQ(readFile(kirSidecarPath(path2)), readFile(kirSidecarPath(path)));
}

TEST(Kir, PrintsTheDocumentedSyntax) {
  auto g = everything();
  std::string text = print(*g);
  auto has = [&](const std::string &line) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "\nin:\n" << text;
  };
  has("// kiln IR\ngraph @\"model/v2\" {\n");
  has("  input %\"input.1\" : f32[1,4,8,8]\n");
  has("  input %q : qu8<axis=-1,scales=[0.0078125],zero_points=[128]>[1,4]\n");
  has("  const %\"onnx::Conv_470\" : f32[4] = dense<[0.1, -0.0, inf, 0x7FC00001]>\n");
  has("  const %\"f32.special\" : f32[2,2] = dense<[1.0, 1e-45, 3.4028235e+38, 0xFFC00000]>\n");
  has("  const %f64 : f64[3] = dense<[0.1, -1e+300, 5e-324]>\n");
  has("  const %f16 : f16[5] = dense<[1.0, 5.9604645e-08, 65504.0, -inf, 0x7E01]>\n");
  has("  const %i8 : i8[3] = dense<[-128, 0, 127]>\n");
  has("  const %shape : i64[2] = dense<[-9223372036854775808, 9223372036854775807]>\n");
  has("  const %bool : bool[3] = dense<[true, false, 2]>\n");
  has("  const %scalar : f32[] = dense<[2.5]>\n");
  has("  const %empty : f32[0,3] = dense<[]>\n");
  Tensor big = g->constants()[12]->constant();
  has(fmt::format("  const %\"/features/0/Conv_output_0\" : f32[4,25] = sidecar<0x{:016x}, 400>\n",
                  big.hash()));
  has("  const %qw : qi8<axis=1,scales=[0.5,0.25,0.1,3e-07],zero_points=[0,-3,7,127]>[4,2,4,4]"
      "{order=[0,1,2,3],blocks=[1:16]} = sidecar<0x");
  has("> : i8[128]\n");
  has("  %\"x.1\" = Conv \"Conv_0\" (%\"input.1\", %\"onnx::Conv_470\", %\"onnx::Conv_470\", "
      "%\"input.1\") {dilations = [1, 1], group = 1, kernel_shape = [1, 1], pads = [0, 0, 0, 0], "
      "strides = [1, 1]} epilogue [bias_add(2), residual_add(3), clip(0.0, 6.0), "
      "leaky_relu(0.01, 0.0), requantize, relu, sigmoid, hard_sigmoid, hard_swish, tanh, silu, "
      "gelu, hard_sigmoid(0.2, 0.5), add(3), radd(3), sub(3), rsub(3), mul(3), rmul(3), div(3), "
      "rdiv(3), pow(3), rpow(3), max(3), rmax(3), min(3), rmin(3)] : "
      "f32[1,4,8,8]{order=[0,2,3,1],blocks=[1:2,2:4]}\n");
  has("  %a, %0 = Split \"Split \\\"3\\\"\" (%\"x.1\", %shape) {\"1st\" = 1, \"a.b\" = \"quoted "
      "key\", big = 1e+20, float = 1.0, floats = [0.0, -2.0, 0.1, 1.7976931348623157e+308], "
      "\"inf\" = 2, int = -7, ints = [-9223372036854775808, 0, 9223372036854775807], ninf = -inf, "
      "no_floats = [] : f64, no_ints = [] : i64, no_strings = [] : str, small = 1e-05, str = \"a "
      "\\\"quoted\\\"\\\\ line\\nwith\\ttab and \\01 byte\", strings = [\"\", \"NCHW\", \"x,y\"]}"
      " : f32[1,2,8,8], qi8<");
  has("  %\"\" = Range \"\" () : i64[3]\n");
  has("  Identity \"no results\" (%\"\")\n");
  has("  output %a\n  output %0\n  output %\"/features/0/Conv_output_0\"\n  output %q\n"
      "  output %a\n}\n");
}

TEST(Kir, GoldenSmallGraph) {
  Graph g;
  g.setName("tiny");
  Value *x = g.addInput("x", TensorType(DType::F32, {1, 3}));
  Value *b = g.addConstant("b", Tensor::fromDoubles(DType::F32, {3}, {1, 2, 0.5}));
  Node *add = g.addNode(OpKind::Add, "add0", {x, b}, {TensorType(DType::F32, {1, 3})}, {"y"});
  g.setOutputs({add->result()});
  EXPECT_EQ(print(g), "// kiln IR\n"
                      "graph @tiny {\n"
                      "  input %x : f32[1,3]\n"
                      "  const %b : f32[3] = dense<[1.0, 2.0, 0.5]>\n"
                      "  %y = Add \"add0\" (%x, %b) : f32[1,3]\n"
                      "  output %y\n"
                      "}\n");
}

TEST(Kir, FloatConstantsAreBitExact) {
  // All 65536 halves (32 per graph: the inline limit), then random f32 and f64 bit patterns.
  for (uint32_t base = 0; base < 65536; base += 32) {
    std::vector<uint16_t> h(32);
    for (uint32_t i = 0; i < 32; ++i)
      h[i] = static_cast<uint16_t>(base + i);
    Graph g;
    g.addConstant("c", tensorOf<uint16_t>(DType::F16, {32}, h));
    std::string text = print(g);
    auto p = parse(text);
    ASSERT_TRUE(p);
    ASSERT_EQ(*p->constants()[0]->constant().bytes, *g.constants()[0]->constant().bytes) << text;
  }
  std::mt19937_64 rng(42);
  for (int round = 0; round < 500; ++round) {
    std::vector<uint32_t> f(16);
    std::vector<uint64_t> d(8);
    for (auto &v : f)
      v = static_cast<uint32_t>(rng());
    for (auto &v : d)
      v = rng();
    Graph g;
    g.addConstant("f", tensorOf<uint32_t>(DType::F32, {16}, f));
    g.addConstant("d", tensorOf<uint64_t>(DType::F64, {8}, d));
    std::string text = print(g);
    auto p = parse(text);
    ASSERT_TRUE(p);
    for (int k = 0; k < 2; ++k)
      ASSERT_EQ(*p->constants()[k]->constant().bytes, *g.constants()[k]->constant().bytes) << text;
  }
}

TEST(Kir, DoubleAttributesStayDoubles) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, 8);
    if (std::isnan(d))
      continue;
    Graph g;
    Attributes a;
    a.set("v", d);
    a.set("w", std::vector<double>{std::round(d), d});
    Value *x = g.addInput("x", TensorType(DType::F32, {1}));
    g.addNode(OpKind::Relu, "r", {x}, {TensorType(DType::F32, {1})}, {"y"}, a);
    auto p = parse(print(g));
    ASSERT_TRUE(p);
    const Attributes &back = p->nodes()[0]->attrs();
    ASSERT_TRUE(std::holds_alternative<double>(*back.find("v")));
    uint64_t got;
    double v = back.getFloat("v");
    std::memcpy(&got, &v, 8);
    ASSERT_EQ(got, bits) << print(g);
    ASSERT_TRUE(back == a) << print(g);
  }
}

TEST(Kir, SidecarOnlyWhenNeeded) {
  TempDir tmp;
  const std::string &dir = tmp.path;
  Graph small;
  small.addConstant("c", Tensor::fromDoubles(DType::F32, {16}, std::vector<double>(16, 1.0)));
  ASSERT_FALSE(static_cast<bool>(writeKirFile(small, dir + "/small.kir")));
  EXPECT_FALSE(llvm::sys::fs::exists(dir + "/small.kir.bin")); // 64 bytes are inline

  Graph large;
  large.addConstant("c", Tensor::fromDoubles(DType::F32, {17}, std::vector<double>(17, 1.0)));
  ASSERT_FALSE(static_cast<bool>(writeKirFile(large, dir + "/large.kir")));
  std::string sc = readFile(dir + "/large.kir.bin");
  EXPECT_EQ(sc.size(), 8u + 16u + 68u); // magic, one (hash, size) header, the bytes
  EXPECT_EQ(kirSidecarPath("dir/x.kir"), "dir/x.kir.bin");
}

TEST(Kir, SidecarErrorsNameTheConstant) {
  TempDir tmp;
  const std::string &dir = tmp.path;
  Graph g;
  g.addConstant("big weight", Tensor::fromDoubles(DType::F32, {20}, std::vector<double>(20, 3)));
  std::string kir = dir + "/m.kir";
  ASSERT_FALSE(static_cast<bool>(writeKirFile(g, kir)));
  std::string text = readFile(kir);
  uint64_t h = g.constants()[0]->constant().hash();

  EXPECT_EQ(parseError(text, dir + "/none.bin"),
            fmt::format("test.kir:3:35: error: constant %\"big weight\": cannot read sidecar "
                        "'{}/none.bin': No such file or directory",
                        dir));
  EXPECT_EQ(parseError(text, ""),
            "test.kir:3:35: error: constant %\"big weight\": its data is in a sidecar, but no "
            "sidecar file was given");

  // An entry that is not there, one of another size, data that does not hash to the reference.
  std::string other = text;
  other.replace(other.find("0x"), 18, "0x0000000000000001");
  EXPECT_EQ(parseError(other, kir + ".bin"),
            fmt::format("test.kir:3:35: error: constant %\"big weight\": sidecar '{}.bin' has no "
                        "entry 0x0000000000000001",
                        kir));
  std::string size = text;
  size.replace(size.find(", 80>"), 5, ", 81>");
  EXPECT_EQ(
      parseError(size, kir + ".bin"),
      fmt::format("test.kir:3:35: error: constant %\"big weight\": sidecar entry 0x{:016x} has "
                  "80 bytes, expected 81",
                  h));
  std::string type = text;
  type.replace(type.find("f32[20]"), 7, "i32[20]");
  EXPECT_NE(parseError(type, kir + ".bin").find("does not match the reference"), std::string::npos);

  std::ofstream(dir + "/bad.bin") << "not a sidecar";
  EXPECT_EQ(
      parseError(text, dir + "/bad.bin"),
      fmt::format("test.kir:3:35: error: constant %\"big weight\": '{}/bad.bin' is not a kiln "
                  "sidecar",
                  dir));
}

TEST(Kir, ParseErrorsHaveLineAndColumn) {
  const std::pair<const char *, const char *> cases[] = {
      {"", "test.kir:1:1: error: expected 'graph', found end of file"},
      {"graph tiny {}", "test.kir:1:7: error: expected a graph name (@name), found 'tiny'"},
      {"graph @g {\n  input %x f32[1]\n}", "test.kir:2:12: error: expected ':', found 'f32'"},
      {"graph @g {\n  input %x : f33[1]\n}",
       "test.kir:2:14: error: expected an element type (f32, i8, qi8<...>, ...), found 'f33'"},
      {"graph @g {\n  input %x : f32[1,]\n}",
       "test.kir:2:20: error: expected a dimension, found ']'"},
      {"graph @g {\n  input %x : f32[1]\n  input %x : f32[2]\n}",
       "test.kir:3:9: error: redefinition of value %x (first defined at line 2)"},
      {"graph @g {\n  %y = Relu \"r\" (%x) : f32[1]\n}",
       "test.kir:2:18: error: use of undefined value %x"},
      {"graph @g {\n  input %x : f32[1]\n  %y = Frobnicate \"r\" (%x) : f32[1]\n}",
       "test.kir:3:8: error: unknown op 'Frobnicate'"},
      {"graph @g {\n  input %x : f32[1]\n  %y = Relu r (%x) : f32[1]\n}",
       "test.kir:3:13: error: expected a node name (a quoted string), found 'r'"},
      {"graph @g {\n  input %x : f32[1]\n  %y, %z = Relu \"r\" (%x) : f32[1]\n}",
       "test.kir:4:1: error: node 'r' has 2 results but 1 result types"},
      {"graph @g {\n  input %x : f32[1]\n  %y, %y = Relu \"r\" (%x) : f32[1], f32[1]\n}",
       "test.kir:3:7: error: value %y is defined twice by this node"},
      {"graph @g {\n  input %x : f32[1]\n  %y = Relu \"r\" (%x) {a = [1, 2.0]} : f32[1]\n}",
       "test.kir:3:31: error: expected an integer (the list started with one), found '2.0'"},
      {"graph @g {\n  input %x : f32[1]\n  %y = Relu \"r\" (%x) {a = []} : f32[1]\n}",
       "test.kir:3:29: error: expected ':', found '}'"},
      {"graph @g {\n  input %x : f32[1]\n  %y = Relu \"r\" (%x) {a = 1, a = 2} : f32[1]\n}",
       "test.kir:3:30: error: attribute 'a' is given twice"},
      {"graph @g {\n  input %x : f32[1]\n  %y = Conv \"r\" (%x) epilogue [swish] : f32[1]\n}",
       "test.kir:3:32: error: expected an epilogue step (bias_add, residual_add, a binary step "
       "such as mul(k) or rsub(k), requantize or an activation), found 'swish'"},
      {"graph @g {\n  const %c : i8[2] = dense<[1, 300]>\n}",
       "test.kir:2:32: error: 300 out of range for i8, expected -128..127"},
      {"graph @g {\n  const %c : f32[3] = dense<[1.0, 2.0]>\n}",
       "test.kir:2:23: error: constant %c has 2 elements, its data type f32[3] holds 3"},
      {"graph @g {\n  const %c : i32[1] = dense<[1.5]>\n}",
       "test.kir:2:30: error: expected an integer element, found '1.5'"},
      {"graph @g {\n  const %c : f16[1] = dense<[0x10000]>\n}",
       "test.kir:2:30: error: 0x10000 does not fit in 16 bits"},
      {"graph @g {\n  const %c : f32[1] = zeros\n}",
       "test.kir:2:23: error: expected constant data (dense<[...]> or sidecar<0xHASH, SIZE>), "
       "found 'zeros'"},
      {"graph @g {\n  output %nope\n}", "test.kir:2:10: error: use of undefined value %nope"},
      {"graph @g {\n  input %\"x : f32[1]\n}", "test.kir:2:9: error: unterminated string"},
      {"graph @g {\n  input %\"\\q\" : f32[1]\n}",
       "test.kir:2:9: error: unknown escape in string (use \\\" \\\\ \\n \\t or \\XX)"},
      {"graph @g {\n  input $x : f32[1]\n}", "test.kir:2:9: error: unexpected character '$'"},
      {"graph @g {\n}\ngraph @h {\n}",
       "test.kir:3:1: error: expected end of file after the graph, found 'graph'"},
      {"graph @g {\n  input %x : f32[99999999999999999999]\n}",
       "test.kir:2:18: error: integer 99999999999999999999 does not fit in 64 bits"},
      {"graph @g {\n  input %x : qi8<axis=0,scales=[1],zero_points=[0]\n}",
       "test.kir:3:1: error: expected '>', found '}'"},
      {"graph @g {\n  input %x : f32[2]{order=[0],blocks=[0:0]}\n}",
       "test.kir:2:41: error: 0 out of range, expected 1..2147483647"},
  };
  for (auto &[text, message] : cases)
    EXPECT_EQ(parseError(text), message) << "for:\n" << text;
}

TEST(Kir, ParsesHandWrittenText) {
  // Comments, blank lines, integers where a float is expected, bits for a float element.
  auto g = parse("// a comment\n"
                 "graph @g { // trailing comment\n"
                 "\n"
                 "  input %x : f32[2]\n"
                 "  const %c : f32[2] = dense<[1, 0x3F800000]>\n"
                 "  %y = Conv \"c\" (%x, %c) epilogue [clip(0, 6)] : f32[2]\n"
                 "  output %y\n"
                 "}\n");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->constants()[0]->constant().toDoubles(), (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(g->nodes()[0]->epilogue().steps[0].beta, 6.0);
  EXPECT_EQ(g->outputs()[0]->name(), "y");
}

// ---- verifier ----

/// x -> Relu -> Add(_, b) -> output; valid.
std::unique_ptr<Graph> smallValid() {
  return parse("graph @g {\n"
               "  input %x : f32[1,3]\n"
               "  const %b : f32[3] = dense<[1.0, 2.0, 3.0]>\n"
               "  %r = Relu \"relu\" (%x) : f32[1,3]\n"
               "  %y = Add \"add\" (%r, %b) : f32[1,3]\n"
               "  output %y\n"
               "}\n");
}

TEST(Verifier, AcceptsValidGraphs) {
  auto g = smallValid();
  ASSERT_TRUE(g);
  EXPECT_EQ(verifyError(*g), "");
  // A Conv whose bias and residual live in the epilogue, with a blocked result layout.
  auto c = parse("graph @c {\n"
                 "  input %x : f32[1,2,4,4]\n"
                 "  input %r : f32[1,2,4,4]\n"
                 "  const %w : f32[2,2,1,1] = dense<[1.0, 0.0, 0.0, 1.0]>\n"
                 "  const %b : f32[2] = dense<[0.5, -0.5]>\n"
                 "  %y = Conv \"conv\" (%x, %w, %b, %r) {dilations = [1, 1], group = 1, "
                 "kernel_shape = [1, 1], pads = [0, 0, 0, 0], strides = [1, 1]} "
                 "epilogue [bias_add(2), residual_add(3), relu] : f32[1,2,4,4]\n"
                 "  %z = Relu \"relu\" (%y) : f32[1,2,4,4]\n"
                 "  output %z\n"
                 "}\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(verifyError(*c), "");
}

TEST(Verifier, ResultTypeMismatch) {
  auto g = smallValid();
  ASSERT_TRUE(g);
  g->nodes()[1]->result()->setType(TensorType(DType::F32, {1, 2}));
  g->setOutputs({g->nodes()[0]->result()});
  EXPECT_EQ(verifyError(*g), "node 'add' (Add): result 0 has type f32[1,2], expected f32[1,3] "
                             "from the op's semantics");
}

TEST(Verifier, SemanticsErrorsNameTheNode) {
  auto g = parse("graph @g {\n"
                 "  input %x : f32[1,3]\n"
                 "  input %z : f32[1,4]\n"
                 "  %y = Add \"bad add\" (%x, %z) : f32[1,3]\n"
                 "  output %y\n"
                 "}\n");
  ASSERT_TRUE(g);
  std::string e = verifyError(*g);
  EXPECT_EQ(e.rfind("node 'bad add' (Add): ", 0), 0u) << e;
}

TEST(Verifier, UseBeforeDefinitionAndForeignValues) {
  auto g = smallValid();
  ASSERT_TRUE(g);
  Node *relu = g->nodes()[0], *add = g->nodes()[1];
  g->moveNodeBefore(add, relu);
  EXPECT_EQ(verifyError(*g),
            "node 'add' (Add): operand 0 (%r) is used before its definition by node 'relu'");
  g->moveNodeBefore(relu, add);
  EXPECT_EQ(verifyError(*g), "");

  Graph other;
  Value *foreign = other.addInput("f", TensorType(DType::F32, {1, 3}));
  add->setOperand(0, foreign);
  EXPECT_EQ(verifyError(*g),
            "node 'add' (Add): operand 0 is not a value of this graph (erased or foreign)");
  add->setOperand(0, relu->result());
  g->setOutputs({foreign});
  EXPECT_EQ(verifyError(*g), "graph output 0 is not a value of this graph (erased or foreign)");
}

TEST(Verifier, DuplicateNames) {
  auto g = smallValid();
  ASSERT_TRUE(g);
  g->nodes()[1]->result()->setName("r");
  EXPECT_EQ(verifyError(*g), "value %r is defined twice: by node 'relu' and by node 'add'");
}

TEST(Verifier, ConstantBytesMatchTheirType) {
  auto g = smallValid();
  ASSERT_TRUE(g);
  Value *b = g->constants()[0];
  b->setType(TensorType(DType::F32, {4}));
  EXPECT_EQ(verifyError(*g), "constant %b has type f32[4] (16 bytes of f32), but its data is "
                             "f32[3] (12 bytes)");
  b->setType(TensorType(DType::F32, {3}));
  b->setConstant(Tensor(DType::F32, {3}, std::vector<uint8_t>(11)));
  EXPECT_EQ(verifyError(*g), "constant %b: its data holds 11 bytes, but f32[3] needs 12");
}

TEST(Verifier, EpilogueOperandsInRange) {
  auto g = parse("graph @c {\n"
                 "  input %x : f32[1,2,4,4]\n"
                 "  const %w : f32[2,2,1,1] = dense<[1.0, 0.0, 0.0, 1.0]>\n"
                 "  const %b : f32[2] = dense<[0.5, -0.5]>\n"
                 "  %y = Conv \"conv\" (%x, %w, %b) {dilations = [1, 1], group = 1, "
                 "kernel_shape = [1, 1], pads = [0, 0, 0, 0], strides = [1, 1]} "
                 "epilogue [bias_add(3)] : f32[1,2,4,4]\n"
                 "  output %y\n"
                 "}\n");
  ASSERT_TRUE(g);
  EXPECT_EQ(verifyError(*g),
            "node 'conv' (Conv): epilogue step 0 (bias_add) uses operand 3, expected 0..2");
  g->nodes()[0]->epilogue().steps[0].operand = 0;
  EXPECT_EQ(verifyError(*g), "node 'conv' (Conv): epilogue bias_add operand 0 has type "
                             "f32[1,2,4,4], expected 2 elements of the result's dimension 1 "
                             "(f32[1,2,4,4])");
  g->nodes()[0]->epilogue().steps[0] = {EpilogueStep::Kind::ResidualAdd, ActKind::Relu, 0, 0, 2};
  EXPECT_EQ(verifyError(*g), "node 'conv' (Conv): epilogue residual_add operand 2 has type "
                             "f32[2], expected the result's shape f32[1,2,4,4]");
}

TEST(Verifier, EpilogueOnlyOnFusingOps) {
  auto g = smallValid();
  ASSERT_TRUE(g);
  // An elementwise op carries activation and binary steps (a fused chain), nothing else.
  g->nodes()[0]->epilogue().steps.push_back({});
  EXPECT_EQ(verifyError(*g), "");
  g->nodes()[0]->epilogue().steps[0].kind = EpilogueStep::Kind::ResidualAdd;
  EXPECT_EQ(verifyError(*g), "node 'relu' (Relu): epilogue step 0 of an elementwise op: expected "
                             "an activation or a binary step, found residual_add");
}

TEST(Verifier, BinaryEpilogueSteps) {
  // An elementwise producer reads any operand that broadcasts to its result; a Conv reads one at
  // the flat index, the channel or element 0.
  auto g = parse("graph @g {\n"
                 "  input %x : f32[1,2,4,4]\n"
                 "  input %s : f32[2,1,1]\n"
                 "  input %row : f32[4]\n"
                 "  input %big : f32[2,2,4,4]\n"
                 "  const %w : f32[2,2,1,1] = dense<[1.0, 0.0, 0.0, 1.0]>\n"
                 "  %a = Sqrt \"sqrt\" (%x, %row, %s) epilogue [rdiv(1), mul(2), relu] : "
                 "f32[1,2,4,4]\n"
                 "  %y = Conv \"conv\" (%a, %w, %s, %x) {dilations = [1, 1], group = 1, "
                 "kernel_shape = [1, 1], pads = [0, 0, 0, 0], strides = [1, 1]} "
                 "epilogue [mul(2), rsub(3)] : f32[1,2,4,4]\n"
                 "  output %y\n"
                 "}\n");
  ASSERT_TRUE(g);
  EXPECT_EQ(verifyError(*g), "");
  Node *sqrt = g->nodes()[0], *conv = g->nodes()[1];
  // A per-row operand is fine for the elementwise loop, not for the conv's epilogue.
  conv->setOperand(2, sqrt->operand(1));
  EXPECT_EQ(verifyError(*g), "node 'conv' (Conv): epilogue step 0 (mul) operand 2 has type f32[4], "
                             "expected f32 broadcasting to the result f32[1,2,4,4] as the whole "
                             "result, its channel vector or one element");
  conv->setOperand(2, sqrt->operand(2));
  // An operand that would enlarge the result is not an epilogue operand.
  sqrt->setOperand(2, g->inputs()[3]);
  EXPECT_EQ(verifyError(*g), "node 'sqrt' (Sqrt): epilogue step 1 (mul) operand 2 has type "
                             "f32[2,2,4,4], expected f32 broadcasting to the result f32[1,2,4,4]");
  sqrt->setOperand(2, g->inputs()[1]);
  sqrt->epilogue().steps[1].operand = 7;
  EXPECT_EQ(verifyError(*g), "node 'sqrt' (Sqrt): epilogue step 1 (mul) uses operand 7, expected "
                             "0..2");
}

TEST(Verifier, LayoutsAndBoundary) {
  auto g = smallValid();
  ASSERT_TRUE(g);
  Value *r = g->nodes()[0]->result();
  r->setType(TensorType(DType::F32, {1, 3}, Layout{{1, 0}, {}}));
  EXPECT_EQ(verifyError(*g), ""); // a result's layout is the layout passes' choice
  r->setType(TensorType(DType::F32, {1, 3}, Layout{{0, 2}, {}}));
  EXPECT_EQ(verifyError(*g), "node 'relu' (Relu): result 0 (%r) has type "
                             "f32[1,3]{order=[0,2],blocks=[]}, which layout order [0,2] is not a "
                             "permutation of the 2 dimensions");
  r->setType(TensorType(DType::F32, {1, 3}, Layout{{}, {{2, 4}}}));
  EXPECT_EQ(verifyError(*g), "node 'relu' (Relu): result 0 (%r) has type "
                             "f32[1,3]{order=[],blocks=[2:4]}, which blocks dimension 2, which a "
                             "rank-2 tensor does not have");
  r->setType(TensorType(DType::F32, {1, 3}));
  g->setOutputs({r});
  r->setType(TensorType(DType::F32, {1, 3}, Layout{{1, 0}, {}}));
  EXPECT_EQ(verifyError(*g), "graph output 0 (%r) has type f32[1,3]{order=[1,0],blocks=[]}, "
                             "expected dense row-major at the model boundary");
}

TEST(Verifier, QuantizationParameterCounts) {
  auto g = smallValid();
  ASSERT_TRUE(g);
  ElementType q(DType::I8);
  q.quant = QuantParams{1, {0.5f, 0.5f}, {0, 0}};
  g->addInput("qx", TensorType(q, {1, 3}));
  EXPECT_EQ(verifyError(*g), "graph input %qx has type "
                             "qi8<axis=1,scales=[0.5,0.5],zero_points=[0,0]>[1,3], whose "
                             "quantization needs 3 scales and zero points");
}

} // namespace

// The arena plan as a side table: a `memory` block after the graph prints, parses back to the same
// table and prints to the same text; without a table nothing is printed after the graph.
TEST(Kir, MemoryBlockRoundTrips) {
  const std::string graphText = "// kiln IR\n"
                                "graph @g {\n"
                                "  input %x : f32[4]\n"
                                "  %a = Relu \"r1\" (%x) : f32[4]\n"
                                "  %\"b.1\" = Reshape \"r2\" (%a) {shape = [2, 2]} : f32[2,2]\n"
                                "  %c = Sigmoid \"s\" (%\"b.1\") : f32[2,2]\n"
                                "  %y = Relu \"r3\" (%c) : f32[2,2]\n"
                                "  output %y\n"
                                "}\n";
  auto g = parse(graphText);
  ASSERT_TRUE(g);
  EXPECT_EQ(print(*g), graphText);
  ValueLayoutTable t;
  t.arenaSize = 128;
  t.lowerBound = 80;
  auto slot = [](ArenaSlot::Kind k, std::string name, int64_t off, int64_t bytes,
                 ArenaSlot::Alias alias = ArenaSlot::Alias::None, std::string of = "") {
    ArenaSlot s;
    s.kind = k;
    s.name = std::move(name);
    s.offset = off;
    s.bytes = bytes;
    s.alias = alias;
    s.aliasOf = std::move(of);
    return s;
  };
  t.slots = {slot(ArenaSlot::Kind::Value, "a", 0, 16),
             slot(ArenaSlot::Kind::Scratch, "r1", 64, 64),
             slot(ArenaSlot::Kind::Value, "b.1", 0, 16, ArenaSlot::Alias::View, "a"),
             slot(ArenaSlot::Kind::Value, "c", 0, 16, ArenaSlot::Alias::InPlace, "b.1")};
  std::string s;
  llvm::raw_string_ostream os(s);
  ASSERT_FALSE(static_cast<bool>(printGraph(*g, os, "", &t)));
  os.flush();
  EXPECT_EQ(s, graphText + "memory @g arena = 128, lower_bound = 80 {\n"
                           "  %a : offset = 0, bytes = 16\n"
                           "  scratch \"r1\" : offset = 64, bytes = 64\n"
                           "  %\"b.1\" : offset = 0, bytes = 16, view = %a\n"
                           "  %c : offset = 0, bytes = 16, in_place = %\"b.1\"\n"
                           "}\n");
  std::optional<ValueLayoutTable> back;
  auto g2 = parseKir(s, "test.kir", "", &back);
  ASSERT_TRUE(static_cast<bool>(g2)) << llvm::toString(g2.takeError());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, t);
  std::string s2;
  llvm::raw_string_ostream os2(s2);
  ASSERT_FALSE(static_cast<bool>(printGraph(**g2, os2, "", &*back)));
  os2.flush();
  EXPECT_EQ(s2, s);
  // Without a block the table is reset; an empty block is a table with no slots.
  ASSERT_TRUE(static_cast<bool>(parseKir(graphText, "test.kir", "", &back)));
  EXPECT_FALSE(back.has_value());
  ASSERT_TRUE(static_cast<bool>(
      parseKir(graphText + "memory @g arena = 0, lower_bound = 0 {\n}\n", "test.kir", "", &back)));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->slots.empty());
}

TEST(Kir, MemoryBlockErrors) {
  const std::string graphText = "graph @g {\n"
                                "  input %x : f32[4]\n"
                                "  %a = Relu \"r1\" (%x) : f32[4]\n"
                                "  output %a\n"
                                "}\n";
  std::vector<std::pair<std::string, std::string>> cases = {
      {"memory @g arena = 64, lower_bound = 64 {\n  %b : offset = 0, bytes = 16\n}\n",
       "test.kir:7:3: error: memory block names undefined value %b"},
      {"memory @g arena = 64, lower_bound = 64 {\n  scratch \"nope\" : offset = 0, bytes = 16\n}\n",
       "test.kir:7:11: error: memory block names scratch of undefined node \"nope\""},
      {"memory @g arena = 64, lower_bound = 64 {\n  %a : offset = 0, bytes = 16, view = %q\n}\n",
       "test.kir:7:39: error: memory block names undefined value %q"},
      {"memory @h arena = 64, lower_bound = 64 {\n}\n",
       "test.kir:6:8: error: memory block of @h after graph @g"},
      {"memory @g arena = -1, lower_bound = 64 {\n}\n",
       "test.kir:6:19: error: -1 out of range, expected 0..9223372036854775807"},
      {"memory @g arena = 64, lower_bound = 64 {\n  %a : offset = 0, bytes = 16, alias = %x\n}\n",
       "test.kir:7:32: error: expected view, in_place or slice, found 'alias'"},
      {"memory @g arena = 64, lower_bound = 64 {\n}\nmemory @g arena = 0, lower_bound = 0 {\n}\n",
       "test.kir:8:1: error: expected end of file after the memory block, found 'memory'"},
  };
  for (auto &[block, message] : cases) {
    std::string text = graphText + block;
    auto g = parseKir(text, "test.kir", "");
    ASSERT_FALSE(static_cast<bool>(g)) << "for:\n" << text;
    EXPECT_EQ(llvm::toString(g.takeError()), message) << "for:\n" << text;
  }
}
