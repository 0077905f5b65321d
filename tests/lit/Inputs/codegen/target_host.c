/* C host for the target lit tests: runs one generated model (one float input, two float outputs)
 * once on zeros and prints the target its header names and the status NAME_run returned, so that
 * a test tells a refused CPU (NAME_STATUS_CPU_UNSUPPORTED) from a crash (killed by a signal:
 * nothing printed).
 * Build: gcc -std=c99 -DMODEL=cnn -DMODELU=CNN -DMODEL_HEADER='"cnn.h"' target_host.c cnn.o -lm */
#include MODEL_HEADER

#include <stdio.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define M(x) CAT(MODELU, x)

static float input[M(_INPUT0_NUM_ELEMENTS)];
static float out0[M(_OUTPUT0_NUM_ELEMENTS)];
static float out1[M(_OUTPUT1_NUM_ELEMENTS)];

int main(void) {
  const void *inputs[1];
  void *outputs[2];
  int status;
  inputs[0] = input;
  outputs[0] = out0;
  outputs[1] = out1;
  status = CAT(MODEL, _run)(inputs, outputs);
  printf("target %s: status %d (cpu unsupported: %d)\n", M(_TARGET), status,
         status == M(_STATUS_CPU_UNSUPPORTED));
  return 0;
}
