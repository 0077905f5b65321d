/* C host for tests/lit/passes/elementwise-chains.test: runs the chain model of make_chain_model.py
 * (two float inputs, five float outputs) and compares every output with numpy's values.
 * Build: gcc -std=c99 -I OUTDIR chain_host.c chain.o -lm
 * Usage: chain_host INPUT.bin EXPECTED.bin */
#include "chain.h"

#include <math.h>
#include <stdio.h>

#define ELEMS CHAIN_OUTPUT0_NUM_ELEMENTS

static float in[2][CHAIN_INPUT0_NUM_ELEMENTS];
static float out[5][ELEMS];
static float expected[5][ELEMS];

static int readFile(const char *path, void *dst, size_t bytes) {
  FILE *f = fopen(path, "rb");
  size_t got;
  if (!f)
    return 1;
  got = fread(dst, 1, bytes, f);
  fclose(f);
  return got != bytes;
}

int main(int argc, char **argv) {
  const void *inputs[2];
  void *outputs[5];
  int k, bad = 0;
  long i;
  if (argc != 3 || CHAIN_NUM_INPUTS != 2 || CHAIN_NUM_OUTPUTS != 5 ||
      CHAIN_INPUT1_NUM_ELEMENTS != CHAIN_INPUT0_NUM_ELEMENTS ||
      CHAIN_OUTPUT4_NUM_ELEMENTS != ELEMS)
    return 2;
  if (readFile(argv[1], in, sizeof in) || readFile(argv[2], expected, sizeof expected)) {
    printf("cannot read the input or expected file\n");
    return 1;
  }
  for (k = 0; k < 2; ++k)
    inputs[k] = in[k];
  for (k = 0; k < 5; ++k)
    outputs[k] = out[k];
  if (chain_run(inputs, outputs) != 0)
    return 1;
  for (k = 0; k < 5; ++k)
    for (i = 0; i < ELEMS; ++i)
      if (!(fabsf(out[k][i] - expected[k][i]) <= 1e-4f + 1e-4f * fabsf(expected[k][i])) &&
          bad++ < 10)
        printf("mismatch y%d[%ld]: kiln %.7g, numpy %.7g\n", k, i, out[k][i], expected[k][i]);
  if (bad)
    return 1;
  printf("5 x %d outputs match numpy\n", (int)ELEMS);
  return 0;
}
