/* C host for the codegen lit tests, compiled as C (C99): runs one generated model with one float
 * input and two float outputs, checks the header's macros against each other, and compares the
 * outputs with numpy's expected values.
 * Build: gcc -std=c99 -DMODEL=cnn -DMODELU=CNN -DMODEL_HEADER='"cnn.h"' host.c cnn.o -lm
 * Usage: host INPUT.bin EXPECTED.bin */
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define M(x) CAT(MODELU, x)

static float input[M(_INPUT0_NUM_ELEMENTS)];
static float out0[M(_OUTPUT0_NUM_ELEMENTS)];
static float out1[M(_OUTPUT1_NUM_ELEMENTS)];
static float expected[M(_OUTPUT0_NUM_ELEMENTS) + M(_OUTPUT1_NUM_ELEMENTS)];
static const long shape0[] = M(_OUTPUT0_SHAPE);

static int readFile(const char *path, void *dst, size_t bytes) {
  FILE *f = fopen(path, "rb");
  size_t got;
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return 1;
  }
  got = fread(dst, 1, bytes, f);
  fclose(f);
  if (got != bytes) {
    fprintf(stderr, "%s: expected %lu bytes, found %lu\n", path, (unsigned long)bytes,
            (unsigned long)got);
    return 1;
  }
  return 0;
}

static int compare(const char *what, const float *got, const float *want, long n) {
  long i, bad = 0;
  for (i = 0; i < n; ++i)
    if (!(fabsf(got[i] - want[i]) <= 1e-4f + 1e-4f * fabsf(want[i]))) {
      if (bad++ < 5)
        printf("%s[%ld]: kiln %.7g, numpy %.7g\n", what, i, got[i], want[i]);
    }
  return bad != 0;
}

int main(int argc, char **argv) {
  const void *inputs[1];
  void *outputs[2];
  long i, elems = 1;
  if (argc != 3)
    return 2;
  /* The header's facts agree with each other. */
  if (M(_NUM_INPUTS) != 1 || M(_NUM_OUTPUTS) != 2 || M(_ARENA_ALIGN) != 64 ||
      M(_INPUT0_DTYPE) != M(_DTYPE_F32) || M(_INPUT0_SIZE_BYTES) != sizeof input ||
      M(_OUTPUT0_SIZE_BYTES) != sizeof out0 ||
      sizeof shape0 / sizeof shape0[0] != M(_OUTPUT0_RANK)) {
    printf("header macros disagree\n");
    return 1;
  }
  for (i = 0; i < M(_OUTPUT0_RANK); ++i)
    elems *= shape0[i];
  if (elems != M(_OUTPUT0_NUM_ELEMENTS))
    return 1;
  if (readFile(argv[1], input, sizeof input) || readFile(argv[2], expected, sizeof expected))
    return 1;
  inputs[0] = input;
  outputs[0] = out0;
  outputs[1] = out1;
  if (CAT(MODEL, _run)(inputs, outputs) != 0)
    return 1;
  if (compare(M(_OUTPUT0_NAME), out0, expected, M(_OUTPUT0_NUM_ELEMENTS)) |
      compare(M(_OUTPUT1_NAME), out1, expected + M(_OUTPUT0_NUM_ELEMENTS),
              M(_OUTPUT1_NUM_ELEMENTS)))
    return 1;
  printf("%s (input \"%s\"): %d + %d outputs match numpy (arena %ld bytes)\n", MODEL_HEADER,
         M(_INPUT0_NAME), (int)M(_OUTPUT0_NUM_ELEMENTS), (int)M(_OUTPUT1_NUM_ELEMENTS),
         (long)M(_ARENA_SIZE));
  return 0;
}
