// Kernel selection ("decide"): for one node, which kernel templates it needs, how much arena
// scratch, and the C++ statement that runs it. The emitter ("print") binds these names before the
// statement, inside a block of its own:
//   in0, in1, ...   const pointers to the operands   (const kiln_f32*, const kiln_i64*, ... by dtype;
//                   const unsigned char* for data-movement kernels that ask for bytes)
//   out0, out1, ... pointers to the results          (kiln_f32*, ...)
//   scratch         unsigned char*, 64-byte aligned, scratchBytes long (nullptr when 0)
//   epi             the node's epilogue as a functor: float epi(float v, long i, long c), v the
//                   accumulated value, i the flat output index, c the output channel
//                   (Conv: dim 1, Gemm/MatMul: last dim); an empty epilogue is kiln_epi_none.
//                   On an elementwise op it is float epi(float v, float x...), x the binary
//                   steps' operands loaded by the kernel (see isMatrixEpilogueOp).
// Kernel templates live in codegen/kernels/*.h; trip counts are template arguments, so every loop
// of the emitted code has compile-time bounds.
#pragma once

#include "codegen/Target.h"
#include "ir/Graph.h"

#include <llvm/Support/Error.h>

#include <string>
#include <vector>

namespace kiln {

struct KernelCall {
  std::vector<std::string> kernelFiles; // file names under codegen/kernels/, e.g. "conv.h"
  int64_t scratchBytes = 0;
  std::string statement; // C++ statement(s), may span lines
  /// Operands the statement wants as raw bytes (const unsigned char*) rather than typed pointers.
  bool bytePointers = false;
  /// Result 0 holds operand 0's bytes unchanged (Reshape, Flatten, Squeeze, Unsqueeze, Identity,
  /// single-result Dropout): the memory plan (codegen/MemoryPlan.h) may make it a view of operand
  /// 0, and the emitter then drops the statement.
  bool resultIsOperandView = false;
  /// Operands whose buffer out0 may share (the memory plan decides) when the operand has out0's
  /// type and dies at this node: the statement reads element i of such an operand only right
  /// before writing element i of out0, and reads no other of its elements afterwards.
  std::vector<unsigned> inPlaceOperands;
};

/// Fails with "node 'NAME' (OP): <what is unsupported: expected vs found>" when no kernel fits.
/// The target's numbers (GEMM block, cache sizes) decide tiles and chunks; the pair's kernels
/// must be instantiated for the same target (its kiln_target struct).
llvm::Expected<KernelCall> selectKernel(const Node &n, const Target &t);

/// Shared by the selectors: "node 'NAME' (OP): what".
llvm::Error selectError(const Node &n, const std::string &what);

/// The elementwise kernel functor (codegen/kernels/elementwise.h) that computes activation step
/// `s`, e.g. kiln_ew_leaky_relu{0.01f}: unary nodes and epilogues print activations through it.
std::string activationFunctor(const EpilogueStep &s);

/// The float kernels read dense row-major f32 without quantization; `role` names the operand.
llvm::Error checkDenseF32(const Node &n, const Value *v, const char *role);

/// Columns (conv: output pixels) packed per chunk for gemm.h: K x NC floats within the target's
/// packing budget (its L2), in whole units of max(16, NR) columns (whole panels of the target's
/// NR), at least one unit, at most all columns.
int64_t packedChunkColumns(int64_t k, int64_t cols, const Target &t);

/// Per-family selectors (codegen/select*.cpp); selectKernel dispatches on the op.
llvm::Expected<KernelCall> selectConvKernel(const Node &n, const Target &t); // Conv, ConvTranspose
llvm::Expected<KernelCall> selectMatrixKernel(const Node &n, const Target &t); // Gemm, MatMul
llvm::Expected<KernelCall> selectPoolKernel(const Node &n);          // Max/AveragePool, Global*
llvm::Expected<KernelCall> selectElementwiseKernel(const Node &n);   // unary/binary/variadic, Clip, Where, BatchNormalization, PRelu
llvm::Expected<KernelCall> selectDataMovementKernel(const Node &n);  // Concat, Split, Reshape, Flatten, Transpose, (Un)Squeeze, Slice, Gather, Expand, Tile, Pad, Identity, Dropout, Cast
llvm::Expected<KernelCall> selectReductionKernel(const Node &n);     // Softmax, LogSoftmax, Reduce*

} // namespace kiln
