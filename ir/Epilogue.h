// The one generic epilogue carried by Conv, ConvTranspose, Gemm and MatMul: work applied to each
// output element before it is stored. Fused work is data, not new ops: a Conv+BiasAdd+Add+Relu is a
// Conv whose epilogue lists those steps in order.
#pragma once

#include <string>
#include <vector>

namespace kiln {

enum class ActKind : uint8_t {
  Relu,        // max(x, 0)
  Clip,        // min(max(x, alpha), beta)
  LeakyRelu,   // x >= 0 ? x : alpha * x
  Sigmoid,     // 1 / (1 + exp(-x))
  HardSigmoid, // max(0, min(1, alpha * x + beta))
  HardSwish,   // x * max(0, min(1, x / 6 + 1 / 2))
  Tanh,
  SiLU,        // x * sigmoid(x)
  Gelu,        // 0.5 x (1 + erf(x / sqrt 2))
};
const char *actName(ActKind k);
bool parseActKind(const std::string &s, ActKind &out);

struct EpilogueStep {
  enum class Kind : uint8_t {
    BiasAdd,     // + operand[operand] broadcast along the channel (Conv: dim 1; Gemm/MatMul: last dim)
    Activation,  // act(alpha, beta)
    ResidualAdd, // + operand[operand], same shape as the result
    Requantize,  // scale to the result's quantized element type (quantization issue)
  };
  Kind kind = Kind::Activation;
  ActKind act = ActKind::Relu;
  double alpha = 0, beta = 0;
  int operand = -1; // index into the node's operands (BiasAdd, ResidualAdd)
  bool operator==(const EpilogueStep &o) const {
    return kind == o.kind && act == o.act && alpha == o.alpha && beta == o.beta &&
           operand == o.operand;
  }
};

struct Epilogue {
  std::vector<EpilogueStep> steps;
  bool empty() const { return steps.empty(); }
  bool operator==(const Epilogue &o) const { return steps == o.steps; }
};

} // namespace kiln
