// Data-movement and reduction kernels (codegen/kernels/movement.h, reduce.h) and their selectors.
// Most tests build one node in a kiln::Graph, check the exact code its decision prints (shape
// numbers after dimension collapsing), then run that very statement (the KILN_EXPECT_RUN macro both
// compares its text and compiles it) on data and compare with a plain reference loop written here.
// A wrong collapse thus shows up as a text mismatch and, if the text were updated blindly, as wrong
// numbers. A few tests instantiate the kernels directly for shapes no selector test reaches.
#include "codegen/KernelSelect.h"
#include "ir/Semantics.h"
#include "ir/Verifier.h"

#include "runtime_stub/kiln_runtime.h"
// The emitter pastes kernel files inside an anonymous namespace; do the same here.
namespace {
#include "codegen/kernels/movement.h"
#include "codegen/kernels/reduce.h"
} // namespace

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

using namespace kiln;

namespace {

/// Code without whitespace: the printed decision and the macro's spelling of it (which
/// clang-format may wrap anywhere) are compared with all whitespace removed.
std::string tokensOnly(const std::string &code) {
  std::string s;
  for (char c : code)
    if (c != ' ' && c != '\n' && c != '\t')
      s += c;
  return s;
}

/// Checks the printed decision against the given code, then runs that code.
#define KILN_EXPECT_RUN(call, ...)                                                                 \
  do {                                                                                             \
    EXPECT_EQ(tokensOnly(printDecision(call)), tokensOnly(#__VA_ARGS__));                          \
    __VA_ARGS__                                                                                    \
  } while (0)

KernelDecision selectOk(llvm::Expected<KernelDecision> r) {
  if (!r) {
    ADD_FAILURE() << llvm::toString(r.takeError());
    return KernelDecision();
  }
  return *r;
}

std::string errorOf(llvm::Expected<KernelDecision> r) {
  if (r)
    return "(no error; statement: " + printDecision(*r) + ")";
  return llvm::toString(r.takeError());
}

template <class T> std::vector<T> iota(int64_t n, T first = T(0)) {
  std::vector<T> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), first);
  return v;
}

/// Pseudo-random floats in [-4, 4), deterministic.
std::vector<float> noise(int64_t n, uint32_t seed = 1) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float &x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(seed >> 8) / static_cast<float>(1 << 24) * 8.0f - 4.0f;
  }
  return v;
}

std::vector<int64_t> rowStrides(const Shape &s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;)
    st[i - 1] = st[i] * s[i];
  return st;
}

/// Reference gather by per-dimension index lists: result index (o0, o1, ...) reads
/// in[idx[0][o0], idx[1][o1], ...]; an index of -1 in any dimension yields `fill`.
template <class T>
std::vector<T> refIndexMap(const std::vector<T> &in, const Shape &inShape,
                           const std::vector<std::vector<int64_t>> &idx, T fill = T(0)) {
  Shape outShape;
  for (const auto &l : idx)
    outShape.push_back(static_cast<int64_t>(l.size()));
  std::vector<int64_t> st = rowStrides(inShape);
  std::vector<T> out(static_cast<size_t>(numElements(outShape)));
  for (int64_t f = 0; f < static_cast<int64_t>(out.size()); ++f) {
    int64_t rem = f, off = 0;
    bool pad = false;
    for (size_t d = outShape.size(); d-- > 0;) {
      int64_t i = idx[d][rem % outShape[d]];
      rem /= outShape[d];
      if (i < 0)
        pad = true;
      else
        off += i * st[d];
    }
    out[f] = pad ? fill : in[off];
  }
  return out;
}

template <class T>
std::vector<T> refTranspose(const std::vector<T> &in, const Shape &inShape,
                            const std::vector<int64_t> &perm) {
  Shape outShape;
  for (int64_t p : perm)
    outShape.push_back(inShape[p]);
  std::vector<int64_t> st = rowStrides(inShape);
  std::vector<T> out(in.size());
  for (int64_t f = 0; f < static_cast<int64_t>(out.size()); ++f) {
    int64_t rem = f, off = 0;
    for (size_t d = outShape.size(); d-- > 0;) {
      off += (rem % outShape[d]) * st[perm[d]];
      rem /= outShape[d];
    }
    out[f] = in[off];
  }
  return out;
}

std::vector<int64_t> range(int64_t n) { return iota<int64_t>(n); }

template <class T> const unsigned char *bytes(const std::vector<T> &v) {
  return reinterpret_cast<const unsigned char *>(v.data());
}
template <class T> unsigned char *bytes(std::vector<T> &v) {
  return reinterpret_cast<unsigned char *>(v.data());
}

Value *i64Const(Graph &g, const std::string &name, const std::vector<int64_t> &v) {
  return g.addConstant(name, Tensor::fromInts(DType::I64, {static_cast<int64_t>(v.size())}, v));
}

// ---------------------------------------------------------------------------------------------
// Copies: Reshape and friends, Dropout

TEST(MovementKernel, ReshapeIsOneCopyAndDropoutFillsMask) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {2, 3, 4}));
  Node *r = g.addNode(OpKind::Reshape, "rs", {x, i64Const(g, "shape", {6, 4})},
                      {TensorType(DType::F32, {6, 4})}, {"y"});
  std::vector<float> in = noise(24), out(24, 0.f);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  KernelDecision k = selectOk(selectDataMovementKernel(*r));
  EXPECT_TRUE(k.bytePointers);
  EXPECT_STREQ(familyHeader(k.family()), "movement.h");
  KILN_EXPECT_RUN(k, kiln_mv_copy<96>(out0, in0););
  EXPECT_EQ(out, in);

  Node *d = g.addNode(OpKind::Dropout, "drop", {x},
                      {TensorType(DType::F32, {2, 3, 4}), TensorType(DType::Bool, {2, 3, 4})},
                      {"dy", "mask"});
  std::vector<uint8_t> mask(24, 0);
  std::fill(out.begin(), out.end(), 0.f);
  unsigned char *out1 = mask.data();
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*d)), kiln_mv_copy<96>(out0, in0);
                  kiln_mv_set<24>(out1, 1););
  EXPECT_EQ(out, in);
  EXPECT_EQ(mask, std::vector<uint8_t>(24, 1));

  Node *bad = g.addNode(OpKind::Reshape, "rs_bad", {x, i64Const(g, "shape2", {5, 5})},
                        {TensorType(DType::F32, {5, 5})}, {"z"});
  EXPECT_EQ(errorOf(selectDataMovementKernel(*bad)),
            "node 'rs_bad' (Reshape): expected a result with the operand's dtype and element "
            "count (f32[2,3,4]), found f32[5,5]");
}

// ---------------------------------------------------------------------------------------------
// Transpose

/// ONNX's definition of DepthToSpace: reshape to [N, b, b, C', H, W] (DCR) or [N, C', b, b, H, W]
/// (CRD), transpose to [N, C', H, b, W, b], reshape to [N, C', H b, W b].
std::vector<float> refDepthToSpace(const std::vector<float> &x, int64_t n, int64_t c, int64_t h,
                                   int64_t w, int64_t b, bool crd) {
  const int64_t oc = c / (b * b);
  std::vector<float> y;
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < oc; ++ic)
      for (int64_t ih = 0; ih < h; ++ih)
        for (int64_t i = 0; i < b; ++i)
          for (int64_t iw = 0; iw < w; ++iw)
            for (int64_t j = 0; j < b; ++j) {
              const int64_t lead =
                  crd ? ((in * oc + ic) * b + i) * b + j : ((in * b + i) * b + j) * oc + ic;
              y.push_back(x[static_cast<size_t>((lead * h + ih) * w + iw)]);
            }
  return y;
}

TEST(MovementKernel, DepthToSpaceOddSizesBothModes) {
  // b = 3, W = 5 and C' = 2: no dimension is a power of two, and nothing folds into the element.
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {1, 18, 3, 5}));
  std::vector<float> in = noise(270, 7);
  const unsigned char *in0 = bytes(in);
  Attributes dcr;
  dcr.set("blocksize", int64_t(3));
  dcr.set("mode", std::string("DCR"));
  Node *d = g.addNode(OpKind::DepthToSpace, "d2s", {x}, {TensorType(DType::F32, {1, 2, 9, 15})},
                      {"y"}, dcr);
  std::vector<float> out(270, 0.f);
  unsigned char *out0 = bytes(out);
  KILN_EXPECT_RUN(
      selectOk(selectDataMovementKernel(*d)),
      kiln_mv_view<4, kiln_mv_list<6, 3, 5, 3>, kiln_mv_list<20, 360, 4, 120>>(out0, in0););
  EXPECT_EQ(out, refDepthToSpace(in, 1, 18, 3, 5, 3, false));

  Attributes crd = dcr;
  crd.set("mode", std::string("CRD"));
  Node *c = g.addNode(OpKind::DepthToSpace, "d2s_crd", {x}, {TensorType(DType::F32, {1, 2, 9, 15})},
                      {"z"}, crd);
  std::vector<float> out2(270, 0.f);
  out0 = bytes(out2);
  KILN_EXPECT_RUN(
      selectOk(selectDataMovementKernel(*c)),
      kiln_mv_view<4, kiln_mv_list<2, 3, 3, 5, 3>, kiln_mv_list<540, 20, 180, 4, 60>>(out0, in0););
  EXPECT_EQ(out2, refDepthToSpace(in, 1, 18, 3, 5, 3, true));

  // The reference evaluation agrees with the definition too.
  auto ev = evaluateNode(
      *c, {Tensor(DType::F32, {1, 18, 3, 5}, std::vector<uint8_t>(in0, in0 + in.size() * 4))});
  ASSERT_TRUE(bool(ev)) << llvm::toString(ev.takeError());
  std::vector<float> got((*ev)[0].numElements());
  std::memcpy(got.data(), (*ev)[0].raw(), got.size() * 4);
  EXPECT_EQ(got, refDepthToSpace(in, 1, 18, 3, 5, 3, true));

  // A blocksize whose square does not divide the channels is shape inference's diagnostic.
  Attributes bad = dcr;
  bad.set("blocksize", int64_t(4));
  auto t = inferResultTypes(OpKind::DepthToSpace, {x}, bad);
  EXPECT_EQ(llvm::toString(t.takeError()),
            "DepthToSpace expects a blocksize b in [1, 32768] with b^2 dividing the 18 channels "
            "of f32[1,18,3,5], found blocksize 4");
}

TEST(MovementKernel, TransposeNchwToNhwcMergesAdjacentDims) {
  Graph g;
  Shape s = {2, 3, 4, 5};
  Value *x = g.addInput("x", TensorType(DType::F32, s));
  Attributes a;
  a.set("perm", std::vector<int64_t>{0, 2, 3, 1});
  Node *t =
      g.addNode(OpKind::Transpose, "tr", {x}, {TensorType(DType::F32, {2, 4, 5, 3})}, {"y"}, a);
  std::vector<float> in = noise(120), out(120, 0.f);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*t)),
                  kiln_mv_view<4, kiln_mv_list<2, 20, 3>, kiln_mv_list<240, 4, 80>>(out0, in0););
  EXPECT_EQ(out, refTranspose(in, s, {0, 2, 3, 1}));
}

TEST(MovementKernel, TransposeRank6Int64) {
  Graph g;
  Shape s = {2, 3, 1, 4, 2, 3};
  std::vector<int64_t> perm = {5, 3, 0, 2, 1, 4};
  Value *x = g.addInput("x", TensorType(DType::I64, s));
  Attributes a;
  a.set("perm", perm);
  Node *t = g.addNode(OpKind::Transpose, "tr6", {x}, {TensorType(DType::I64, {3, 4, 2, 1, 3, 2})},
                      {"y"}, a);
  std::vector<int64_t> in = iota<int64_t>(144, -70), out(144, 0);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  KILN_EXPECT_RUN(
      selectOk(selectDataMovementKernel(*t)),
      kiln_mv_view<8, kiln_mv_list<3, 4, 6, 2>, kiln_mv_list<8, 48, 192, 24>>(out0, in0););
  EXPECT_EQ(out, refTranspose(in, s, perm));
}

TEST(MovementKernel, TransposeRank1AndDefaultPerm) {
  Graph g;
  Value *v = g.addInput("v", TensorType(DType::F32, {7}));
  Attributes a;
  a.set("perm", std::vector<int64_t>{0});
  Node *t1 = g.addNode(OpKind::Transpose, "t1", {v}, {TensorType(DType::F32, {7})}, {"y"}, a);
  std::vector<float> in = noise(7), out(7, 0.f);
  {
    unsigned char *out0 = bytes(out);
    const unsigned char *in0 = bytes(in);
    KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*t1)),
                    kiln_mv_view<28, kiln_mv_list<>, kiln_mv_list<>>(out0, in0););
    EXPECT_EQ(out, in);
  }
  // No perm: reverse the dimensions. i8 elements: one byte each.
  Value *m = g.addInput("m", TensorType(DType::I8, {3, 5}));
  Node *t2 = g.addNode(OpKind::Transpose, "t2", {m}, {TensorType(DType::I8, {5, 3})}, {"z"});
  std::vector<int8_t> min = iota<int8_t>(15, -7), mout(15, 0);
  unsigned char *out0 = bytes(mout);
  const unsigned char *in0 = bytes(min);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*t2)),
                  kiln_mv_view<1, kiln_mv_list<5, 3>, kiln_mv_list<1, 5>>(out0, in0););
  EXPECT_EQ(mout, refTranspose(min, {3, 5}, {1, 0}));

  Attributes bad;
  bad.set("perm", std::vector<int64_t>{0, 0});
  Node *t3 = g.addNode(OpKind::Transpose, "t3", {m}, {TensorType(DType::I8, {3, 5})}, {"w"}, bad);
  // The verifier rejects such a perm (shape inference); a node that skipped it still fails
  // cleanly, on the result shape.
  EXPECT_EQ(errorOf(selectDataMovementKernel(*t3)),
            "node 't3' (Transpose): expected result shape 3x3, found 3x5");
}

// ---------------------------------------------------------------------------------------------
// Slice

TEST(MovementKernel, SliceNegativeStartsAndSteps) {
  Graph g;
  Shape s = {4, 7, 5};
  Value *x = g.addInput("x", TensorType(DType::F32, s));
  // axis 1: start -2 -> 5, end -100 clamps to -1, step -2: 5, 3, 1.
  // axis -1 (2): start 1, end 100 clamps to 5, step 2: 1, 3.
  Node *n = g.addNode(OpKind::Slice, "sl",
                      {x, i64Const(g, "starts", {-2, 1}), i64Const(g, "ends", {-100, 100}),
                       i64Const(g, "axes", {1, -1}), i64Const(g, "steps", {-2, 2})},
                      {TensorType(DType::F32, {4, 3, 2})}, {"y"});
  std::vector<float> in = noise(140), out(24, 0.f);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  KILN_EXPECT_RUN(
      selectOk(selectDataMovementKernel(*n)),
      kiln_mv_view<4, kiln_mv_list<4, 3, 2>, kiln_mv_list<140, -40, 8>>(out0, in0 + 104););
  EXPECT_EQ(out, refIndexMap(in, s, {{0, 1, 2, 3}, {5, 3, 1}, {1, 3}}));
}

TEST(MovementKernel, SliceRank5FullReverseWithExtremeBounds) {
  Graph g;
  Shape s = {2, 1, 3, 2, 4};
  Value *x = g.addInput("x", TensorType(DType::U8, s));
  Node *n = g.addNode(OpKind::Slice, "rev",
                      {x, i64Const(g, "starts", {INT64_MAX}), i64Const(g, "ends", {INT64_MIN}),
                       i64Const(g, "axes", {-3}), i64Const(g, "steps", {-1})},
                      {TensorType(DType::U8, s)}, {"y"});
  std::vector<uint8_t> in = iota<uint8_t>(48, 1), out(48, 0);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*n)),
                  kiln_mv_view<8, kiln_mv_list<2, 3>, kiln_mv_list<24, -8>>(out0, in0 + 16););
  EXPECT_EQ(out, refIndexMap(in, s, {{0, 1}, {0}, {2, 1, 0}, {0, 1}, {0, 1, 2, 3}}));
}

TEST(MovementKernel, SliceErrors) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {4, 4}));
  Value *starts = g.addInput("starts", TensorType(DType::I64, {1}));
  Node *n = g.addNode(OpKind::Slice, "sl_rt", {x, starts, i64Const(g, "ends", {2})},
                      {TensorType(DType::F32, {2, 4})}, {"y"});
  EXPECT_EQ(errorOf(selectDataMovementKernel(*n)),
            "node 'sl_rt' (Slice): Slice expects a constant starts operand, found a non-constant "
            "i64[1]");
  Node *z = g.addNode(OpKind::Slice, "sl_step0",
                      {x, i64Const(g, "s0", {0}), i64Const(g, "e0", {2}), i64Const(g, "a0", {0}),
                       i64Const(g, "k0", {0})},
                      {TensorType(DType::F32, {2, 4})}, {"z"});
  EXPECT_EQ(errorOf(selectDataMovementKernel(*z)),
            "node 'sl_step0' (Slice): Slice expects nonzero steps, found 0");
  // A declared result shape that disagrees with the bounds is the verifier's to reject (shape
  // inference), not the selector's.
  Graph h;
  Value *hx = h.addInput("x", TensorType(DType::F32, {4, 4}));
  Node *w =
      h.addNode(OpKind::Slice, "sl_shape", {hx, i64Const(h, "s1", {1}), i64Const(h, "e1", {3})},
                {TensorType(DType::F32, {3, 4})}, {"w"});
  h.setOutputs({w->result(0)});
  EXPECT_EQ(llvm::toString(verifyGraph(h)),
            "node 'sl_shape' (Slice): result 0 has type f32[3,4], expected f32[2,4] from the "
            "op's semantics");
}

// ---------------------------------------------------------------------------------------------
// Gather

TEST(MovementKernel, GatherRuntimeInt64IndicesWrapNegative) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {3, 5, 2}));
  Value *idx = g.addInput("idx", TensorType(DType::I64, {2, 2}));
  Attributes a;
  a.set("axis", int64_t(-2));
  Node *n =
      g.addNode(OpKind::Gather, "ga", {x, idx}, {TensorType(DType::F32, {3, 2, 2, 2})}, {"y"}, a);
  std::vector<float> in = noise(30), out(24, 0.f);
  std::vector<int64_t> ind = {-1, 0, 4, -5};
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  const unsigned char *in1 = bytes(ind);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*n)),
                  kiln_mv_gather<3, 5, 4, 8, int64_t>(out0, in0, in1););
  std::vector<float> ref;
  for (int o = 0; o < 3; ++o)
    for (int64_t i : {4, 0, 4, 0})
      for (int k = 0; k < 2; ++k)
        ref.push_back(in[(o * 5 + i) * 2 + k]);
  EXPECT_EQ(out, ref);
}

TEST(MovementKernel, GatherScalarInt32IndexAndErrors) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::I64, {4, 3}));
  Value *idx = g.addConstant("i", Tensor::fromVector<int32_t>(DType::I32, {}, {-2}));
  Attributes a;
  a.set("axis", int64_t(0));
  Node *n = g.addNode(OpKind::Gather, "gs", {x, idx}, {TensorType(DType::I64, {3})}, {"y"}, a);
  std::vector<int64_t> in = iota<int64_t>(12, 100), out(3, 0);
  std::vector<int32_t> ind = {-2};
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  const unsigned char *in1 = bytes(ind);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*n)),
                  kiln_mv_gather<1, 4, 1, 24, int32_t>(out0, in0, in1););
  EXPECT_EQ(out, (std::vector<int64_t>{106, 107, 108}));

  Value *far = g.addConstant("far", Tensor::fromInts(DType::I64, {1}, {4}));
  Node *oob =
      g.addNode(OpKind::Gather, "g_oob", {x, far}, {TensorType(DType::I64, {1, 3})}, {"z"}, a);
  EXPECT_EQ(errorOf(selectDataMovementKernel(*oob)),
            "node 'g_oob' (Gather): expected indices in [-4, 4), found 4");
  Value *fidx = g.addInput("fi", TensorType(DType::F32, {2}));
  Node *fl =
      g.addNode(OpKind::Gather, "g_f", {x, fidx}, {TensorType(DType::I64, {2, 3})}, {"w"}, a);
  EXPECT_EQ(errorOf(selectDataMovementKernel(*fl)),
            "node 'g_f' (Gather): expected int64 or int32 indices, found f32");
}

TEST(MovementKernel, GatherKernelClampsRuntimeIndicesOutOfRange) {
  std::vector<int16_t> data = {10, 11, 20, 21, 30, 31}; // 3 x 2
  std::vector<int64_t> ind = {7, -9, -3};
  std::vector<int16_t> out(6, 0);
  kiln_mv_gather<1, 3, 3, 4, int64_t>(bytes(out), bytes(data), bytes(ind));
  EXPECT_EQ(out, (std::vector<int16_t>{30, 31, 10, 11, 10, 11}));
}

// ---------------------------------------------------------------------------------------------
// Expand, Tile

TEST(MovementKernel, ExpandBroadcastsLeadingAndUnitDims) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {3, 1}));
  Node *n = g.addNode(OpKind::Expand, "ex", {x, i64Const(g, "shape", {2, 1, 4})},
                      {TensorType(DType::F32, {2, 3, 4})}, {"y"});
  std::vector<float> in = {1.5f, -2.f, 3.25f}, out(24, 0.f);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*n)),
                  kiln_mv_view<4, kiln_mv_list<2, 3, 4>, kiln_mv_list<0, 4, 0>>(out0, in0););
  EXPECT_EQ(out, refIndexMap(in, {1, 3, 1}, {{0, 0}, {0, 1, 2}, {0, 0, 0, 0}}));

  Value *y = g.addInput("y2", TensorType(DType::F32, {3, 2}));
  Node *bad = g.addNode(OpKind::Expand, "ex_bad", {y, i64Const(g, "shape2", {3, 4})},
                        {TensorType(DType::F32, {3, 4})}, {"z"});
  EXPECT_EQ(errorOf(selectDataMovementKernel(*bad)),
            "node 'ex_bad' (Expand): expected 3x2 to broadcast to 3x4, found dim 1 of size 2 vs 4");
}

TEST(MovementKernel, TileRepeatsEachDimension) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {2, 3}));
  Node *n = g.addNode(OpKind::Tile, "ti", {x, i64Const(g, "reps", {2, 3})},
                      {TensorType(DType::F32, {4, 9})}, {"y"});
  std::vector<float> in = noise(6), out(36, 0.f);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*n)),
                  kiln_mv_view<12, kiln_mv_list<2, 2, 3>, kiln_mv_list<0, 12, 0>>(out0, in0););
  EXPECT_EQ(out, refIndexMap(in, {2, 3}, {{0, 1, 0, 1}, {0, 1, 2, 0, 1, 2, 0, 1, 2}}));
}

// ---------------------------------------------------------------------------------------------
// Pad

TEST(MovementKernel, PadConstantWithValueAndCrop) {
  Graph g;
  Shape s = {2, 3, 4};
  Value *x = g.addInput("x", TensorType(DType::F32, s));
  Value *v = g.addConstant("v", Tensor::fromDoubles(DType::F32, {}, {1.5}));
  Attributes a;
  a.set("mode", std::string("constant"));
  // dim 1: 1 before, 2 after; dim 2: crop 1 before, pad 1 after.
  Node *n = g.addNode(OpKind::Pad, "pad", {x, i64Const(g, "pads", {0, 1, -1, 0, 2, 1}), v},
                      {TensorType(DType::F32, {2, 6, 4})}, {"y"}, a);
  std::vector<float> in = noise(24), out(48, 0.f);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  KILN_EXPECT_RUN(
      selectOk(selectDataMovementKernel(*n)),
      const unsigned char pad_value[4] = {0x00, 0x00, 0xc0, 0x3f};
      kiln_mv_pad_run<0, 4, kiln_mv_list<2, 6, 4>, kiln_mv_list<0, 1, -1>, kiln_mv_list<2, 3, 4>>(
          out0, in0, pad_value););
  EXPECT_EQ(out, refIndexMap(in, s, {{0, 1}, {-1, 0, 1, 2, -1, -1}, {1, 2, 3, -1}}, 1.5f));
}

TEST(MovementKernel, PadReflect) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {3, 4}));
  Attributes a;
  a.set("mode", std::string("reflect"));
  Node *n = g.addNode(OpKind::Pad, "pr", {x, i64Const(g, "pads", {2, 0, 1, 3})},
                      {TensorType(DType::F32, {6, 7})}, {"y"}, a);
  std::vector<float> in = noise(12), out(42, 0.f);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*n)),
                  kiln_mv_pad_run<1, 4, kiln_mv_list<6, 7>, kiln_mv_list<2, 0>, kiln_mv_list<3, 4>>(
                      out0, in0, nullptr););
  EXPECT_EQ(out, refIndexMap(in, {3, 4}, {{2, 1, 0, 1, 2, 1}, {0, 1, 2, 3, 2, 1, 0}}));
}

TEST(MovementKernel, PadEdgeRank5MergesUnpaddedDims) {
  Graph g;
  Shape s = {2, 3, 1, 2, 4};
  Value *x = g.addInput("x", TensorType(DType::I16, s));
  Attributes a;
  a.set("mode", std::string("edge"));
  Node *n = g.addNode(OpKind::Pad, "pe", {x, i64Const(g, "pads", {0, 0, 2, 0, 0, 0, 0, 1, 0, 0})},
                      {TensorType(DType::I16, {2, 3, 4, 2, 4})}, {"y"}, a);
  std::vector<int16_t> in = iota<int16_t>(48, -20), out(192, 0);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  KILN_EXPECT_RUN(
      selectOk(selectDataMovementKernel(*n)),
      kiln_mv_pad_run<2, 16, kiln_mv_list<6, 4>, kiln_mv_list<0, 2>, kiln_mv_list<6, 1>>(out0, in0,
                                                                                         nullptr););
  EXPECT_EQ(out, refIndexMap(in, s, {{0, 1}, {0, 1, 2}, {0, 0, 0, 0}, {0, 1}, {0, 1, 2, 3}}));
}

TEST(MovementKernel, PadKernelReflectWiderThanInputAndEdgeCrop) {
  // Reflect by more than the input is long folds back and forth: 0 1 2 1 0 1 2 ...
  std::vector<float> in = {10, 11, 12}, out(9, 0.f);
  kiln_mv_pad_run<1, 4, kiln_mv_list<9>, kiln_mv_list<4>, kiln_mv_list<3>>(bytes(out), bytes(in),
                                                                           nullptr);
  EXPECT_EQ(out, refIndexMap(in, {3}, {{0, 1, 2, 1, 0, 1, 2, 1, 0}}));
  // Edge with a cropped begin: -1 before, +3 after on 3 entries.
  std::vector<float> out2(5, 0.f);
  kiln_mv_pad_run<2, 4, kiln_mv_list<5>, kiln_mv_list<-1>, kiln_mv_list<3>>(bytes(out2), bytes(in),
                                                                            nullptr);
  EXPECT_EQ(out2, refIndexMap(in, {3}, {{1, 2, 2, 2, 2}}));
}

TEST(MovementKernel, PadErrors) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {3}));
  Attributes a;
  a.set("mode", std::string("wrap"));
  Node *n = g.addNode(OpKind::Pad, "pw", {x, i64Const(g, "pads", {1, 1})},
                      {TensorType(DType::F32, {5})}, {"y"}, a);
  EXPECT_EQ(errorOf(selectDataMovementKernel(*n)),
            "node 'pw' (Pad): Pad expects mode constant, reflect or edge, found 'wrap'");
  a.set("mode", std::string("edge"));
  Node *c = g.addNode(OpKind::Pad, "pc", {x, i64Const(g, "pads2", {-3, 1})},
                      {TensorType(DType::F32, {1})}, {"z"}, a);
  EXPECT_EQ(errorOf(selectDataMovementKernel(*c)),
            "node 'pc' (Pad): expected a non-empty dim 0 to edge from, found size 3");
}

// ---------------------------------------------------------------------------------------------
// Concat, Split

TEST(MovementKernel, ConcatMiddleAxisSkipsEmptyOperand) {
  Graph g;
  Value *a = g.addInput("a", TensorType(DType::F32, {2, 1, 3}));
  Value *b = g.addInput("b", TensorType(DType::F32, {2, 2, 3}));
  Value *e = g.addInput("e", TensorType(DType::F32, {2, 0, 3}));
  Attributes at;
  at.set("axis", int64_t(-2));
  Node *n =
      g.addNode(OpKind::Concat, "cat", {a, b, e}, {TensorType(DType::F32, {2, 3, 3})}, {"y"}, at);
  std::vector<float> va = noise(6, 3), vb = noise(12, 4), out(18, 0.f);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(va);
  const unsigned char *in1 = bytes(vb);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*n)), kiln_mv_rows<2, 12, 36, 12>(out0, in0);
                  kiln_mv_rows<2, 24, 36, 24>(out0 + 12, in1););
  std::vector<float> ref;
  for (int o = 0; o < 2; ++o) {
    ref.insert(ref.end(), va.begin() + o * 3, va.begin() + o * 3 + 3);
    ref.insert(ref.end(), vb.begin() + o * 6, vb.begin() + o * 6 + 6);
  }
  EXPECT_EQ(out, ref);

  Node *bad =
      g.addNode(OpKind::Concat, "cat_bad", {a, b}, {TensorType(DType::F32, {2, 4, 3})}, {"z"}, at);
  // Extents that do not add up are the verifier's to reject (shape inference).
  g.setOutputs({bad->result(0)});
  EXPECT_EQ(llvm::toString(verifyGraph(g)),
            "node 'cat_bad' (Concat): result 0 has type f32[2,4,3], expected "
            "f32[2,3,3] from the op's semantics");
}

TEST(MovementKernel, SplitBySplitOperand) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {4, 6}));
  Attributes at;
  at.set("axis", int64_t(1));
  Node *n = g.addNode(OpKind::Split, "sp", {x, i64Const(g, "split", {1, 3, 2})},
                      {TensorType(DType::F32, {4, 1}), TensorType(DType::F32, {4, 3}),
                       TensorType(DType::F32, {4, 2})},
                      {"y0", "y1", "y2"}, at);
  std::vector<float> in = noise(24), o0(4), o1(12), o2(8);
  unsigned char *out0 = bytes(o0), *out1 = bytes(o1), *out2 = bytes(o2);
  const unsigned char *in0 = bytes(in);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*n)), kiln_mv_rows<4, 4, 4, 24>(out0, in0);
                  kiln_mv_rows<4, 12, 12, 24>(out1, in0 + 4);
                  kiln_mv_rows<4, 8, 8, 24>(out2, in0 + 16););
  EXPECT_EQ(o0, refIndexMap(in, {4, 6}, {range(4), {0}}));
  EXPECT_EQ(o1, refIndexMap(in, {4, 6}, {range(4), {1, 2, 3}}));
  EXPECT_EQ(o2, refIndexMap(in, {4, 6}, {range(4), {4, 5}}));

  Node *bad =
      g.addNode(OpKind::Split, "sp_bad", {x, i64Const(g, "split2", {3, 3})},
                {TensorType(DType::F32, {4, 2}), TensorType(DType::F32, {4, 4})}, {"z0", "z1"}, at);
  g.setOutputs({bad->result(0), bad->result(1)});
  EXPECT_EQ(llvm::toString(verifyGraph(g)),
            "node 'sp_bad' (Split): result 0 has type f32[4,2], expected f32[4,3] "
            "from the op's semantics");
}

TEST(MovementKernel, SplitByNumOutputsOnOuterAxis) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::I64, {5, 2}));
  Attributes at;
  at.set("axis", int64_t(0));
  at.set("num_outputs", int64_t(2));
  // Uneven: ceil(5 / 2) = 3, then the remaining 2.
  Node *n =
      g.addNode(OpKind::Split, "sp2", {x},
                {TensorType(DType::I64, {3, 2}), TensorType(DType::I64, {2, 2})}, {"y0", "y1"}, at);
  std::vector<int64_t> in = iota<int64_t>(10, 1), o0(6), o1(4);
  unsigned char *out0 = bytes(o0), *out1 = bytes(o1);
  const unsigned char *in0 = bytes(in);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*n)), kiln_mv_rows<1, 48, 48, 80>(out0, in0);
                  kiln_mv_rows<1, 32, 32, 80>(out1, in0 + 48););
  EXPECT_EQ(o0, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(o1, (std::vector<int64_t>{7, 8, 9, 10}));

  at.set("num_outputs", int64_t(3));
  Node *bad =
      g.addNode(OpKind::Split, "sp3", {x},
                {TensorType(DType::I64, {3, 2}), TensorType(DType::I64, {2, 2})}, {"z0", "z1"}, at);
  g.setOutputs({bad->result(0), bad->result(1)});
  EXPECT_EQ(llvm::toString(verifyGraph(g)),
            "node 'sp3' (Split): has 2 results, expected 3 from the op's semantics");
}

// ---------------------------------------------------------------------------------------------
// Cast

TEST(MovementKernel, CastFloatToIntTruncatesTowardZero) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {2, 3}));
  Attributes a;
  a.set("to", int64_t(6));
  Node *n = g.addNode(OpKind::Cast, "c", {x}, {TensorType(DType::I32, {2, 3})}, {"y"}, a);
  std::vector<float> in = {-2.7f, -0.5f, 0.f, 1.9f, 3.5f, 100.2f};
  std::vector<int32_t> out(6, 7);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(in);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*n)),
                  kiln_mv_cast<float, int32_t, 6>(out0, in0););
  EXPECT_EQ(out, (std::vector<int32_t>{-2, 0, 0, 1, 3, 100}));
}

TEST(MovementKernel, CastBoolAndWideTypes) {
  std::vector<float> f = {0.f, -0.f, 0.25f, -3.f, NAN};
  std::vector<uint8_t> b(5, 9);
  kiln_mv_cast<float, kiln_mv_bool, 5>(bytes(b), bytes(f));
  EXPECT_EQ(b, (std::vector<uint8_t>{0, 0, 1, 1, 1}));
  std::vector<uint8_t> bin = {0, 1, 2};
  std::vector<float> fb(3, -1.f);
  kiln_mv_cast<kiln_mv_bool, float, 3>(bytes(fb), bytes(bin));
  EXPECT_EQ(fb, (std::vector<float>{0.f, 1.f, 1.f}));
  std::vector<int64_t> big = {int64_t(1) << 40, -5};
  std::vector<double> d(2, 0.0);
  kiln_mv_cast<int64_t, double, 2>(bytes(d), bytes(big));
  EXPECT_EQ(d, (std::vector<double>{1099511627776.0, -5.0}));
  std::vector<uint8_t> u(2, 0);
  std::vector<int16_t> s16 = {200, 255};
  kiln_mv_cast<int16_t, uint8_t, 2>(bytes(u), bytes(s16));
  EXPECT_EQ(u, (std::vector<uint8_t>{200, 255}));
}

TEST(MovementKernel, CastHalfMatchesIrConversion) {
  // ir/Tensor.cpp has its own f16 conversion; the kernel must agree with it bit for bit.
  std::vector<double> vals = {1.0, 0.1, -2.5, 65504.0, 70000.0, 1e-7, 6.1e-5, -0.0, 1.0 / 3.0, 0.5};
  std::vector<float> f(vals.begin(), vals.end());
  std::vector<uint16_t> h(vals.size(), 0);
  kiln_mv_cast<float, kiln_mv_f16, 10>(bytes(h), bytes(f));
  Tensor ref = Tensor::fromDoubles(DType::F16, {10}, vals);
  ASSERT_EQ(ref.byteSize(), h.size() * 2);
  EXPECT_EQ(std::memcmp(ref.raw(), h.data(), ref.byteSize()), 0);
  std::vector<float> back(vals.size(), 0.f);
  kiln_mv_cast<kiln_mv_f16, float, 10>(bytes(back), bytes(h));
  for (size_t i = 0; i < vals.size(); ++i)
    EXPECT_EQ(back[i], static_cast<float>(ref.getDouble(static_cast<int64_t>(i)))) << i;

  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F16, {10}));
  Node *n = g.addNode(OpKind::Cast, "c16", {x}, {TensorType(DType::F64, {10})}, {"y"});
  std::vector<double> out(10, 0.0);
  unsigned char *out0 = bytes(out);
  const unsigned char *in0 = bytes(h);
  KILN_EXPECT_RUN(selectOk(selectDataMovementKernel(*n)),
                  kiln_mv_cast<kiln_mv_f16, double, 10>(out0, in0););
  for (size_t i = 0; i < vals.size(); ++i)
    EXPECT_EQ(out[i], ref.getDouble(static_cast<int64_t>(i))) << i;
}

TEST(MovementKernel, UnsupportedLayoutAndFamily) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {1, 16, 2, 2}, Layout{{0, 1, 2, 3}, {{1, 8}}}));
  Node *n = g.addNode(OpKind::Identity, "idb", {x}, {x->type()}, {"y"});
  EXPECT_EQ(errorOf(selectDataMovementKernel(*n)),
            "node 'idb' (Identity): expected row-major layout for 'x', found " +
                typeString(x->type()));
  Node *r = g.addNode(OpKind::Relu, "relu", {x}, {x->type()}, {"z"});
  EXPECT_EQ(errorOf(selectDataMovementKernel(*r)).rfind("node 'relu' (Relu): ", 0), 0u);
}

// ---------------------------------------------------------------------------------------------
// Softmax, LogSoftmax

std::vector<float> refSoftmax(const std::vector<float> &in, int64_t outer, int64_t n, int64_t inner,
                              bool log) {
  std::vector<float> out(in.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double sum = 0;
      for (int64_t k = 0; k < n; ++k)
        sum += std::exp(static_cast<double>(in[(o * n + k) * inner + i]));
      for (int64_t k = 0; k < n; ++k) {
        double x = in[(o * n + k) * inner + i];
        out[(o * n + k) * inner + i] =
            static_cast<float>(log ? x - std::log(sum) : std::exp(x) / sum);
      }
    }
  return out;
}

void expectNear(const std::vector<float> &a, const std::vector<float> &b, float tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], b[i], tol) << "at " << i;
}

TEST(ReductionKernel, SoftmaxMiddleAxisUsesScratch) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {2, 3, 4}));
  Attributes a;
  a.set("axis", int64_t(1));
  Node *n = g.addNode(OpKind::Softmax, "sm", {x}, {x->type()}, {"y"}, a);
  std::vector<float> in = noise(24), out(24, 0.f);
  in[5] = 80.f; // large enough that exp without max subtraction loses precision in float
  alignas(64) unsigned char scratchBuf[32];
  KernelDecision k = selectOk(selectReductionKernel(*n));
  EXPECT_STREQ(familyHeader(k.family()), "reduce.h");
  EXPECT_EQ(k.scratchBytes, 32);
  EXPECT_FALSE(k.bytePointers);
  kiln_f32 *out0 = out.data();
  const kiln_f32 *in0 = in.data();
  unsigned char *scratch = scratchBuf;
  KILN_EXPECT_RUN(k, kiln_rd_softmax<float, false, 2, 3, 4>(out0, in0, scratch););
  expectNear(out, refSoftmax(in, 2, 3, 4, false), 1e-6f);
}

TEST(ReductionKernel, LogSoftmaxLastAxisInPlace) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {6, 4}));
  Attributes a;
  a.set("axis", int64_t(-1));
  Node *n = g.addNode(OpKind::LogSoftmax, "lsm", {x}, {x->type()}, {"y"}, a);
  std::vector<float> in = noise(24, 9);
  in[0] = 500.f;
  std::vector<float> buf = in;
  KernelDecision k = selectOk(selectReductionKernel(*n));
  EXPECT_EQ(k.scratchBytes, 0);
  kiln_f32 *out0 = buf.data();
  const kiln_f32 *in0 = buf.data(); // the planner may run it in place
  unsigned char *scratch = nullptr;
  KILN_EXPECT_RUN(k, kiln_rd_softmax<float, true, 6, 4, 1>(out0, in0, scratch););
  expectNear(buf, refSoftmax(in, 6, 4, 1, true), 1e-4f);
  EXPECT_TRUE(std::isfinite(buf[1]));
}

TEST(ReductionKernel, SoftmaxErrors) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::I32, {4}));
  Node *n = g.addNode(OpKind::Softmax, "smi", {x}, {x->type()}, {"y"});
  EXPECT_EQ(errorOf(selectReductionKernel(*n)),
            "node 'smi' (Softmax): expected f32 or f64, found i32");
  Value *f = g.addInput("f", TensorType(DType::F32, {4}));
  Attributes a;
  a.set("axis", int64_t(1));
  Node *m = g.addNode(OpKind::Softmax, "sma", {f}, {f->type()}, {"z"}, a);
  EXPECT_EQ(errorOf(selectReductionKernel(*m)),
            "node 'sma' (Softmax): Softmax expects axis in [-1, 0], found 1");
}

// ---------------------------------------------------------------------------------------------
// Reduce*

/// Reference reduction: op over the input dims flagged in `red`, result dense over the others.
template <class T, class F>
std::vector<T> refReduce(const std::vector<T> &in, const Shape &s, const std::vector<bool> &red,
                         T init, F f) {
  Shape kept;
  for (size_t d = 0; d < s.size(); ++d)
    if (!red[d])
      kept.push_back(s[d]);
  std::vector<int64_t> ks = rowStrides(kept);
  std::vector<T> out(static_cast<size_t>(numElements(kept)), init);
  for (int64_t i = 0; i < static_cast<int64_t>(in.size()); ++i) {
    int64_t rem = i, o = 0;
    size_t k = kept.size();
    for (size_t d = s.size(); d-- > 0;) {
      int64_t c = rem % s[d];
      rem /= s[d];
      if (!red[d])
        o += c * ks[--k];
    }
    out[o] = f(out[o], in[i]);
  }
  return out;
}

TEST(ReductionKernel, ReduceMeanOverTwoSeparatedAxes) {
  Graph g;
  Shape s = {2, 3, 4, 5};
  Value *x = g.addInput("x", TensorType(DType::F32, s));
  Attributes a;
  a.set("axes", std::vector<int64_t>{1, -1});
  a.set("keepdims", int64_t(0));
  Node *n = g.addNode(OpKind::ReduceMean, "rm", {x}, {TensorType(DType::F32, {2, 4})}, {"y"}, a);
  std::vector<float> in = noise(120), out(8, 0.f);
  kiln_f32 *out0 = out.data();
  const kiln_f32 *in0 = in.data();
  KILN_EXPECT_RUN(
      selectOk(selectReductionKernel(*n)),
      kiln_rd_reduce<float, kiln_rd_sum, 8, 15, kiln_rd_list<2, 3, 4, 5>, kiln_rd_list<4, 0, 1, 0>>(
          out0, in0););
  std::vector<float> ref =
      refReduce(in, s, {false, true, false, true}, 0.f, [](float p, float v) { return p + v; });
  for (float &r : ref)
    r /= 15.f;
  expectNear(out, ref, 1e-5f);
}

TEST(ReductionKernel, ReduceSumAxesOperandKeepDims) {
  Graph g;
  Shape s = {3, 1, 4};
  Value *x = g.addInput("x", TensorType(DType::F32, s));
  Attributes a;
  a.set("keepdims", int64_t(1));
  Node *n = g.addNode(OpKind::ReduceSum, "rs", {x, i64Const(g, "axes", {-1, -2})},
                      {TensorType(DType::F32, {3, 1, 1})}, {"y"}, a);
  std::vector<float> in = noise(12), out(3, 0.f);
  kiln_f32 *out0 = out.data();
  const kiln_f32 *in0 = in.data();
  KILN_EXPECT_RUN(
      selectOk(selectReductionKernel(*n)),
      kiln_rd_reduce<float, kiln_rd_sum, 3, 0, kiln_rd_list<3, 4>, kiln_rd_list<1, 0>>(out0, in0););
  expectNear(out,
             refReduce(in, s, {false, true, true}, 0.f, [](float p, float v) { return p + v; }),
             1e-5f);

  Value *axes = g.addInput("axes_rt", TensorType(DType::I64, {1}));
  Node *rt = g.addNode(OpKind::ReduceSum, "rs_rt", {x, axes}, {TensorType(DType::F32, {3, 1, 1})},
                       {"z"}, a);
  EXPECT_EQ(errorOf(selectReductionKernel(*rt)),
            "node 'rs_rt' (ReduceSum): ReduceSum expects a constant axes operand, found a "
            "non-constant i64[1]");
}

TEST(ReductionKernel, ReduceMaxAllInt64AndMinKeptInnermost) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::I64, {2, 3}));
  Attributes a;
  a.set("keepdims", int64_t(1));
  Node *n = g.addNode(OpKind::ReduceMax, "rmax", {x}, {TensorType(DType::I64, {1, 1})}, {"y"}, a);
  std::vector<int64_t> in = {-9, -3, -7, -100, -4, -8}, out(1, 0);
  {
    kiln_i64 *out0 = out.data();
    const kiln_i64 *in0 = in.data();
    KILN_EXPECT_RUN(
        selectOk(selectReductionKernel(*n)),
        kiln_rd_reduce<int64_t, kiln_rd_max, 1, 0, kiln_rd_list<6>, kiln_rd_list<0>>(out0, in0););
    EXPECT_EQ(out[0], -3);
  }
  Shape s = {5, 3};
  Value *f = g.addInput("f", TensorType(DType::F32, s));
  Attributes b;
  b.set("axes", std::vector<int64_t>{0});
  b.set("keepdims", int64_t(0));
  Node *m = g.addNode(OpKind::ReduceMin, "rmin", {f}, {TensorType(DType::F32, {3})}, {"z"}, b);
  std::vector<float> fin = noise(15, 5), fout(3, 0.f);
  kiln_f32 *out0 = fout.data();
  const kiln_f32 *in0 = fin.data();
  KILN_EXPECT_RUN(
      selectOk(selectReductionKernel(*m)),
      kiln_rd_reduce<float, kiln_rd_min, 3, 0, kiln_rd_list<5, 3>, kiln_rd_list<0, 1>>(out0, in0););
  EXPECT_EQ(fout, refReduce(fin, s, {true, false}, INFINITY,
                            [](float p, float v) { return std::min(p, v); }));
}

TEST(ReductionKernel, ReduceKernelRank5MixedRuns) {
  // Dims 2 x 3 x 2 x 4 x 3, reducing dims 1 and 3: kept runs {2}, {2}, {3}.
  Shape s = {2, 3, 2, 4, 3};
  std::vector<float> in = noise(144, 11), out(12, 0.f);
  kiln_rd_reduce<float, kiln_rd_max, 12, 0, kiln_rd_list<2, 3, 2, 4, 3>,
                 kiln_rd_list<6, 0, 3, 0, 1>>(out.data(), in.data());
  EXPECT_EQ(out, refReduce(in, s, {false, true, false, true, false}, -INFINITY,
                           [](float p, float v) { return std::max(p, v); }));
}

TEST(ReductionKernel, ReduceNoopWithEmptyAxesAndErrors) {
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {2, 3}));
  Attributes a;
  a.set("keepdims", int64_t(1));
  a.set("noop_with_empty_axes", int64_t(1));
  Node *n = g.addNode(OpKind::ReduceSum, "noop", {x}, {x->type()}, {"y"}, a);
  std::vector<float> in = noise(6), out(6, 0.f);
  kiln_f32 *out0 = out.data();
  const kiln_f32 *in0 = in.data();
  KILN_EXPECT_RUN(selectOk(selectReductionKernel(*n)),
                  if (out0 != in0) std::memcpy(out0, in0, 24););
  EXPECT_EQ(out, in);

  Value *i8 = g.addInput("q", TensorType(DType::I8, {4}));
  Node *bad = g.addNode(OpKind::ReduceSum, "r8", {i8}, {TensorType(DType::I8, {1})}, {"z"});
  EXPECT_EQ(errorOf(selectReductionKernel(*bad)),
            "node 'r8' (ReduceSum): expected f32, f64, i32 or i64, found i8");
  Attributes k0;
  k0.set("keepdims", int64_t(0));
  k0.set("axes", std::vector<int64_t>{1});
  // A declared result shape that disagrees with the axes is the verifier's to reject.
  Graph h;
  Value *hx = h.addInput("x", TensorType(DType::F32, {2, 3}));
  Node *shape =
      h.addNode(OpKind::ReduceMean, "rshape", {hx}, {TensorType(DType::F32, {2, 1})}, {"w"}, k0);
  h.setOutputs({shape->result(0)});
  EXPECT_EQ(llvm::toString(verifyGraph(h)),
            "node 'rshape' (ReduceMean): result 0 has type f32[2,1], expected f32[2] from the "
            "op's semantics");
}

} // namespace

/// LRN as ONNX states it, in double: each channel's window [c - floor((size-1)/2),
/// c + ceil((size-1)/2)] clipped to the channels.
std::vector<float> refLrn(const std::vector<float> &x, long n, long c, long s, long size,
                          double alpha, double beta, double bias) {
  std::vector<float> y(x.size());
  for (long b = 0; b < n; ++b)
    for (long ch = 0; ch < c; ++ch)
      for (long i = 0; i < s; ++i) {
        double sum = 0;
        for (long k = ch - (size - 1) / 2; k <= ch + size / 2; ++k)
          if (k >= 0 && k < c)
            sum += double(x[size_t((b * c + k) * s + i)]) * x[size_t((b * c + k) * s + i)];
        const size_t at = size_t((b * c + ch) * s + i);
        y[at] = float(x[at] / std::pow(bias + alpha / double(size) * sum, beta));
      }
  return y;
}

TEST(ReductionKernel, LrnEvenWindowAcrossFewChannels) {
  // size 4 (one channel before, two after) over 3 channels: every window is clipped; 2 x 7
  // positions leave a partial vector on every target.
  Graph g;
  Value *x = g.addInput("x", TensorType(DType::F32, {2, 3, 2, 7}));
  Attributes a;
  a.set("size", int64_t(4));
  a.set("alpha", 0.5);
  a.set("beta", 0.6);
  a.set("bias", 2.0);
  Node *n = g.addNode(OpKind::LRN, "lrn", {x}, {x->type()}, {"y"}, a);
  KernelDecision k = selectOk(selectReductionKernel(*n));
  ASSERT_EQ(k.calls.size(), 1u);
  EXPECT_EQ(k.calls[0].kernel, Kernel::RdLrn);
  std::vector<int64_t> targs;
  for (const TemplateArg &t : k.calls[0].templateArgs)
    targs.push_back(t.value);
  EXPECT_EQ(targs, (std::vector<int64_t>{2, 3, 14, 1, 2}));
  EXPECT_EQ(k.scratchBytes, 0);
  std::vector<float> in = noise(84, 4), out(84, 0.f);
  for (float &v : in)
    v *= 3.0f; // squares well away from the bias
  kiln_f32_lrn<2, 3, 14, 1, 2>(out.data(), in.data(), 0.5f / 4, 0.6f, 2.0f);
  const std::vector<float> want = refLrn(in, 2, 3, 14, 4, 0.5, 0.6, 2.0);
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(out[i], want[i], 1e-5f * std::max(1.0f, std::fabs(want[i]))) << "at " << i;
}

TEST(ReductionKernel, LrnOddWindowWideRows) {
  // size 5 (two each side) over 9 channels of 37 positions: full and clipped windows, vector
  // tails.
  std::vector<float> in = noise(9 * 37, 6), out(9 * 37, 0.f);
  kiln_f32_lrn<1, 9, 37, 2, 2>(out.data(), in.data(), 1e-4f / 5, 0.75f, 1.0f);
  const std::vector<float> want = refLrn(in, 1, 9, 37, 5, 1e-4, 0.75, 1.0);
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(out[i], want[i], 1e-6f * std::max(1.0f, std::fabs(want[i]))) << "at " << i;
}
