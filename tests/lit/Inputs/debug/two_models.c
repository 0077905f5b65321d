/* Two models compiled with --debug-tensors in one C99 program and one hook function for both:
 * their headers share the hook types (runtime_stub/kiln_node_hook.h's guard), and node->model
 * tells the models apart (tests/lit/debug/node-hook.test). Inputs are zeros: only the events are
 * counted. */
#include "cnn.h"
#include "tiny_cnn.h"

#include <stdio.h>
#include <string.h>

static float tinyIn[TINY_CNN_INPUT0_NUM_ELEMENTS], tinyOut[TINY_CNN_OUTPUT0_NUM_ELEMENTS];
static float cnnIn[CNN_INPUT0_NUM_ELEMENTS], cnnOut0[CNN_OUTPUT0_NUM_ELEMENTS],
    cnnOut1[CNN_OUTPUT1_NUM_ELEMENTS];

static void count(const kiln_node_info *node, void *user) {
  int *events = (int *)user;
  if (node->phase == KILN_NODE_AFTER)
    ++events[strcmp(node->model, "cnn") == 0];
}

int main(void) {
  int events[2] = {0, 0};
  const void *ti[1], *ci[1];
  void *to[1], *co[2];
  ti[0] = tinyIn;
  to[0] = tinyOut;
  ci[0] = cnnIn;
  co[0] = cnnOut0;
  co[1] = cnnOut1;
  tiny_cnn_set_node_hook(count, events);
  cnn_set_node_hook(count, events);
  if (tiny_cnn_run(ti, to) != 0 || cnn_run(ci, co) != 0)
    return 1;
  printf("tiny_cnn: %d of %d nodes, cnn: %d of %d nodes\n", events[0], TINY_CNN_NUM_NODES,
         events[1], CNN_NUM_NODES);
  return events[0] != TINY_CNN_NUM_NODES || events[1] != CNN_NUM_NODES;
}
