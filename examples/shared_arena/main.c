/* Two kiln models sharing one caller-owned arena. Both pairs are compiled with --arena=external,
 * so neither has a static arena: each exposes NAME_run_with_arena(inputs, outputs, arena) and
 * publishes the bytes it needs as NAME_ARENA_SIZE. Models that run one after the other can then
 * share a single buffer of the larger size, instead of each carrying its own static arena.
 *
 * The two models here classify the same 28x28 image: the bundled tiny CNN (examples/tiny_cnn) and
 * a small fully connected network (tiny_mlp.onnx, made by make_model.py). The CNN needs far more
 * arena than the MLP; the program owns one buffer of the larger size and runs both on it, each
 * checked against torch.
 *
 *   kiln compile ../tiny_cnn/tiny_cnn.onnx -o gen --arena=external
 *   kiln compile tiny_mlp.onnx -o gen --arena=external
 *   g++ -std=c++17 -O2 -c gen/tiny_cnn.cpp gen/tiny_mlp.cpp
 *   gcc -std=c11 -O2 -Igen main.c tiny_cnn.o tiny_mlp.o -lm -o shared_arena
 *   ./shared_arena ../tiny_cnn/input.bin ../tiny_cnn/expected.bin expected_mlp.bin
 *
 * Not reentrant on a shared arena: the two models must not run at the same time (threads,
 * interrupts); give concurrent callers distinct arenas. */
#include "tiny_cnn.h"
#include "tiny_mlp.h"

#include <math.h>
#include <stdio.h>

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define SHARED_ARENA_SIZE MAX(TINY_CNN_ARENA_SIZE, TINY_MLP_ARENA_SIZE)
#define SHARED_ARENA_ALIGN MAX(TINY_CNN_ARENA_ALIGN, TINY_MLP_ARENA_ALIGN)

/* The one arena of the program. */
static _Alignas(SHARED_ARENA_ALIGN) unsigned char arena[SHARED_ARENA_SIZE];

static float image[TINY_CNN_INPUT0_NUM_ELEMENTS];
static float expectedCnn[TINY_CNN_OUTPUT0_NUM_ELEMENTS];
static float expectedMlp[TINY_MLP_OUTPUT0_NUM_ELEMENTS];

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

/* Largest |got - expected| over the 10 class probabilities. */
static float maxError(const float *got, const float *expected) {
  float worst = 0;
  int i;
  for (i = 0; i < 10; ++i) {
    float e = fabsf(got[i] - expected[i]);
    if (e > worst)
      worst = e;
  }
  return worst;
}

typedef int (*RunWithArena)(const void *const *, void *const *, void *);

static int runAndCheck(const char *what, RunWithArena run, const float *expected) {
  float probabilities[10];
  const void *inputs[1];
  void *outputs[1];
  float err;
  inputs[0] = image;
  outputs[0] = probabilities;
  if (run(inputs, outputs, arena) != 0) {
    printf("%s: run failed\n", what);
    return 1;
  }
  err = maxError(probabilities, expected);
  printf("%s: max |kiln - torch| = %.3g%s\n", what, err, err <= 1e-4f ? " (ok)" : " (MISMATCH)");
  return err <= 1e-4f ? 0 : 1;
}

int main(int argc, char **argv) {
  int failures = 0;
  if (argc != 4) {
    fprintf(stderr, "usage: %s input.bin expected_cnn.bin expected_mlp.bin\n", argv[0]);
    return 2;
  }
  if (readFile(argv[1], image, sizeof image) ||
      readFile(argv[2], expectedCnn, sizeof expectedCnn) ||
      readFile(argv[3], expectedMlp, sizeof expectedMlp))
    return 1;
  printf("arena sizes: tiny_cnn %ld, tiny_mlp %ld, shared %ld bytes\n", (long)TINY_CNN_ARENA_SIZE,
         (long)TINY_MLP_ARENA_SIZE, (long)SHARED_ARENA_SIZE);
  /* One after the other on the same bytes: each run overwrites what the other left behind. */
  failures += runAndCheck("tiny_cnn", tiny_cnn_run_with_arena, expectedCnn);
  failures += runAndCheck("tiny_mlp", tiny_mlp_run_with_arena, expectedMlp);
  failures += runAndCheck("tiny_cnn again", tiny_cnn_run_with_arena, expectedCnn);
  /* A misaligned arena is refused rather than used. */
  {
    float probabilities[10];
    const void *inputs[1];
    void *outputs[1];
    inputs[0] = image;
    outputs[0] = probabilities;
    if (tiny_mlp_run_with_arena(inputs, outputs, arena + 1) == 0) {
      printf("misaligned arena accepted\n");
      ++failures;
    } else {
      printf("misaligned arena refused\n");
    }
  }
  return failures ? 1 : 0;
}
