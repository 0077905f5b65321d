/* Host program for the bundled tiny_cnn model: a plain C caller of the kiln-generated pair.
 * Reads input.bin (the fixed 1x1x28x28 image), runs the model through tiny_cnn_run, prints the
 * class probabilities and compares them with torch's output (expected.bin).
 * Usage: tiny_cnn_demo input.bin expected.bin */
#include "tiny_cnn.h"

#include <math.h>
#include <stdio.h>

static float image[1 * 1 * 28 * 28];
static float probabilities[10];
static float expected[10];

static int readFile(const char *path, void *dst, size_t bytes) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return 1;
  }
  size_t got = fread(dst, 1, bytes, f);
  fclose(f);
  if (got != bytes) {
    fprintf(stderr, "%s: expected %zu bytes, found %zu\n", path, bytes, got);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s input.bin expected.bin\n", argv[0]);
    return 2;
  }
  if (readFile(argv[1], image, sizeof image) || readFile(argv[2], expected, sizeof expected))
    return 1;
  const void *inputs[] = {image};
  void *outputs[] = {probabilities};
  if (tiny_cnn_run(inputs, outputs) != 0) {
    fprintf(stderr, "tiny_cnn_run failed\n");
    return 1;
  }
  int best = 0;
  float maxErr = 0;
  for (int i = 0; i < 10; ++i) {
    printf("class %d: %.4f\n", i, probabilities[i]);
    if (probabilities[i] > probabilities[best])
      best = i;
    float e = fabsf(probabilities[i] - expected[i]);
    if (e > maxErr)
      maxErr = e;
  }
  printf("predicted class: %d\n", best);
  printf("max |kiln - torch| = %.3g (arena: %d bytes)\n", maxErr, (int)TINY_CNN_ARENA_SIZE);
  return maxErr <= 1e-4f ? 0 : 1;
}
