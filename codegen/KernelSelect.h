// Kernel selection ("decide"): for one node, the kernel decision (codegen/KernelDecision.h) that
// runs it: its variant and tunables, the kernel calls with typed template arguments and (role,
// index) call arguments, the arena scratch, and what the memory plan may share. The emitter
// ("print") binds exactly the pointers a decision references, inside a block of its own, under
// the names printDecision gives them:
//   in0, in1, ...   const pointers to the operands   (const kiln_f32*, const kiln_i64*, ... by
//   dtype;
//                   const unsigned char* when the decision asks for bytePointers)
//   out0, out1, ... pointers to the results          (kiln_f32*, ...)
//   scratch         unsigned char*, 64-byte aligned, scratchBytes long (nullptr when 0)
//   epi             the node's epilogue as a functor: float epi(float v, long i, long c), v the
//                   accumulated value, i the flat output index, c the output channel
//                   (Conv: dim 1, Gemm/MatMul: last dim); an empty epilogue is kiln_epi_none.
//                   On an elementwise op it is float epi(float v, float x...), x the binary
//                   steps' operands loaded by the kernel (see isMatrixEpilogueOp).
// Kernel templates live in codegen/kernels/*.h; trip counts are template arguments, so every loop
// of the emitted code has compile-time bounds.
//
// Families with several variants (Conv, the matrix products) list them in codegen/Kernels.def;
// each variant has an applicability check and a builder, and the default rule picks one. A
// forced variant (ForcedVariant, from `kiln compile --decisions=FILE`) replaces the rule; one that
// does not apply to the node is an error naming the node, the variant and why.
#pragma once

#include "codegen/KernelDecision.h"
#include "codegen/Target.h"
#include "ir/Graph.h"

#include <llvm/Support/Error.h>

#include <string>
#include <vector>

namespace kiln {

/// A variant to take instead of the default rule, with the tunables to set (the others keep the
/// values the builder computes).
struct ForcedVariant {
  Variant variant = Variant::Elementwise;
  std::vector<Tunable> tunables;
};

/// Fails with "node 'NAME' (OP): <what is unsupported: expected vs found>" when no kernel fits,
/// or when `forced` names a variant of another family, one that does not apply, or a tunable the
/// variant does not have or cannot take. The target's numbers (GEMM block, cache sizes) decide
/// tiles and chunks; the pair's kernels must be instantiated for the same target (its
/// kiln_target struct).
llvm::Expected<KernelDecision> selectKernel(const Node &n, const Target &t,
                                            const ForcedVariant *forced = nullptr);

/// Shared by the selectors: "node 'NAME' (OP): what".
llvm::Error selectError(const Node &n, const std::string &what);

/// The float kernels read dense row-major f32 without quantization; `role` names the operand.
llvm::Error checkDenseF32(const Node &n, const Value *v, const char *role);

/// Columns (conv: output pixels) packed per chunk for gemm.h: K x NC floats within the target's
/// packing budget (its L2), in whole units of max(16, NR) columns (whole panels of the target's
/// NR), at least one unit, at most all columns.
int64_t packedChunkColumns(int64_t k, int64_t cols, const Target &t);

/// A forced chunk of packed columns (tunable `nc`): positive and whole panels of the target's NR.
/// Returns the chunk to use: the forced one, else `computed`.
llvm::Expected<int64_t> chunkTunable(const Node &n, const ForcedVariant *forced, int64_t computed,
                                     const Target &t);

/// Per-family selectors (codegen/select*.cpp); selectKernel dispatches on the op. Families with a
/// single variant take no forced variant (selectKernel checks its family).
llvm::Expected<KernelDecision> selectConvKernel(const Node &n, const Target &t,
                                                const ForcedVariant *forced); // Conv, ConvTranspose
llvm::Expected<KernelDecision> selectMatrixKernel(const Node &n, const Target &t,
                                                  const ForcedVariant *forced); // Gemm, MatMul
llvm::Expected<KernelDecision> selectPoolKernel(const Node &n); // Max/AveragePool, Global*
llvm::Expected<KernelDecision> selectElementwiseKernel(
    const Node &n); // unary/binary/variadic, Clip, Where, BatchNormalization, PRelu
llvm::Expected<KernelDecision> selectDataMovementKernel(
    const Node &n); // Concat, Split, Reshape, Flatten, Transpose, (Un)Squeeze, Slice, Gather,
                    // Expand, Tile, Pad, Identity, Dropout, Cast
llvm::Expected<KernelDecision> selectReductionKernel(const Node &n); // Softmax, LogSoftmax, Reduce*

} // namespace kiln
