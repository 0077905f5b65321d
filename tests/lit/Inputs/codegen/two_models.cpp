// C++ host for the codegen lit tests: links the generated cnn and ew models into one program
// (their kernels, weights and arenas must not clash) and checks both against numpy's outputs.
// Usage: two_models cnn.input.bin cnn.expected.bin ew.input.bin ew.expected.bin
#include "cnn.h"
#include "ew.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <vector>

namespace {

bool readFile(const char *path, void *dst, size_t bytes) {
  std::ifstream f(path, std::ios::binary);
  f.read(static_cast<char *>(dst), static_cast<std::streamsize>(bytes));
  if (static_cast<size_t>(f.gcount()) != bytes) {
    std::fprintf(stderr, "%s: expected %zu bytes\n", path, bytes);
    return false;
  }
  return true;
}

template <size_t In, size_t Out0, size_t Out1, class Run>
bool check(const char *name, Run run, const char *inPath, const char *expPath) {
  std::array<float, In> input{};
  std::array<float, Out0> out0{};
  std::array<float, Out1> out1{};
  std::vector<float> expected(Out0 + Out1);
  if (!readFile(inPath, input.data(), sizeof input) ||
      !readFile(expPath, expected.data(), expected.size() * sizeof(float)))
    return false;
  const void *inputs[] = {input.data()};
  void *outputs[] = {out0.data(), out1.data()};
  if (run(inputs, outputs) != 0)
    return false;
  int bad = 0;
  for (size_t i = 0; i < Out0 + Out1; ++i) {
    float got = i < Out0 ? out0[i] : out1[i - Out0];
    if (!(std::fabs(got - expected[i]) <= 1e-4f + 1e-4f * std::fabs(expected[i])) && bad++ < 5)
      std::printf("%s: element %zu: kiln %.7g, numpy %.7g\n", name, i, got, expected[i]);
  }
  if (bad == 0)
    std::printf("%s: matches numpy\n", name);
  return bad == 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 5)
    return 2;
  bool ok = check<CNN_INPUT0_NUM_ELEMENTS, CNN_OUTPUT0_NUM_ELEMENTS, CNN_OUTPUT1_NUM_ELEMENTS>(
      "cnn", cnn_run, argv[1], argv[2]);
  ok &= check<EW_INPUT0_NUM_ELEMENTS, EW_OUTPUT0_NUM_ELEMENTS, EW_OUTPUT1_NUM_ELEMENTS>(
      "ew", ew_run, argv[3], argv[4]);
  // Run the first model again: its arena is its own, so a second model's run changed nothing.
  ok &= check<CNN_INPUT0_NUM_ELEMENTS, CNN_OUTPUT0_NUM_ELEMENTS, CNN_OUTPUT1_NUM_ELEMENTS>(
      "cnn again", cnn_run, argv[1], argv[2]);
  return ok ? 0 : 1;
}
