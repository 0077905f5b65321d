/* C99 host for the --profile lit test (tests/lit/debug/profile.test): runs the bundled tiny_cnn
 * model, profiled, CALLS times on examples/tiny_cnn/input.bin and prints tiny_cnn_profile_node()'s
 * statistics as a table, one row per node in execution order, then checks what the profiler must
 * guarantee whatever the timings: every node counted once per call, min <= median, no negative
 * time, an out-of-range index refused, stop() ends the counting, start() starts it over, and the
 * output unchanged by profiling (it prints the first probability of both runs).
 * Usage: profile_host INPUT.bin CALLS */
#include "tiny_cnn.h"

#include <stdio.h>
#include <stdlib.h>

static float image[TINY_CNN_INPUT0_NUM_ELEMENTS];
static float plain[TINY_CNN_OUTPUT0_NUM_ELEMENTS];
static float profiled[TINY_CNN_OUTPUT0_NUM_ELEMENTS];

static int run(float *out) {
  const void *inputs[] = {image};
  void *outputs[] = {out};
  return tiny_cnn_run(inputs, outputs);
}

int main(int argc, char **argv) {
  FILE *f;
  int calls, i, errors = 0;
  kiln_profile_node p;
  if (argc != 3)
    return 2;
  f = fopen(argv[1], "rb");
  if (!f || fread(image, sizeof image, 1, f) != 1)
    return 2;
  fclose(f);
  calls = atoi(argv[2]);
  if (run(plain) != 0)
    return 3;
  tiny_cnn_profile_start();
  for (i = 0; i < calls; ++i)
    if (run(profiled) != 0)
      return 3;
  tiny_cnn_profile_stop();
  if (run(profiled) != 0) /* not counted */
    return 3;
  printf("index\top\tkernel\tcalls\tsamples\tmedian_us\tname\n");
  for (i = 0; i < TINY_CNN_NUM_NODES; ++i) {
    if (tiny_cnn_profile_node(i, &p) != 0 || p.index != i) {
      printf("node %d: no statistics\n", i);
      ++errors;
      continue;
    }
    printf("%d\t%s\t%s\t%lld\t%d\t%.3f\t%s\n", p.index, p.op, p.kernel, p.calls, p.samples,
           p.median_us, p.name);
    if (p.calls != calls || p.min_us > p.median_us || p.min_us < 0 || p.mean_us < p.min_us) {
      printf("node %d: inconsistent statistics\n", i);
      ++errors;
    }
  }
  if (tiny_cnn_profile_node(TINY_CNN_NUM_NODES, &p) != -1 || tiny_cnn_profile_node(-1, &p) != -1) {
    printf("an index outside 0..%d was accepted\n", TINY_CNN_NUM_NODES - 1);
    ++errors;
  }
  tiny_cnn_profile_start();
  if (run(profiled) != 0)
    return 3;
  if (tiny_cnn_profile_node(0, &p) != 0 || p.calls != 1) {
    printf("profile_start did not start the counts over\n");
    ++errors;
  }
  printf("output %g %g\n", plain[0], profiled[0]);
  printf("%d errors\n", errors);
  return errors != 0;
}
