// A C++ caller of a kiln-generated model: the shapes and sizes come from the generated header's
// macros, so the program does not repeat them. Reads the 1x1x28x28 image from the file given on
// the command line and prints the most likely class.
#include "tiny_cnn.h"

#include <array>
#include <cstdio>

int main(int argc, char **argv) {
  std::array<float, TINY_CNN_INPUT0_NUM_ELEMENTS> image{};
  std::array<float, TINY_CNN_OUTPUT0_NUM_ELEMENTS> probabilities{};
  if (argc != 2)
    return 2;
  std::FILE *f = std::fopen(argv[1], "rb");
  if (!f || std::fread(image.data(), 1, TINY_CNN_INPUT0_SIZE_BYTES, f) != TINY_CNN_INPUT0_SIZE_BYTES)
    return 1;
  std::fclose(f);
  const void *inputs[] = {image.data()};
  void *outputs[] = {probabilities.data()};
  if (tiny_cnn_run(inputs, outputs) != 0)
    return 1;
  size_t best = 0;
  for (size_t i = 1; i < probabilities.size(); ++i)
    if (probabilities[i] > probabilities[best])
      best = i;
  std::printf("%s: class %zu (p = %.4f)\n", TINY_CNN_OUTPUT0_NAME, best, probabilities[best]);
  return 0;
}
