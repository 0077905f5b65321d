/* C host for the node-hook lit test (tests/lit/debug/node-hook.test), compiled as C99 and as C++:
 * installs a hook on the bundled tiny_cnn model, runs it on examples/tiny_cnn/input.bin, checks
 * that every node is announced (BEFORE) and then reported (AFTER) in order with data only after,
 * that every result is readable (also under ASan), that the last node's result is the output buffer's contents, and prints one line per node.
 * Usage: hook_host INPUT.bin */
#include "tiny_cnn.h"

#include <stdio.h>
#include <string.h>

static float image[TINY_CNN_INPUT0_NUM_ELEMENTS];
static float probabilities[TINY_CNN_OUTPUT0_NUM_ELEMENTS];
static float lastResult[TINY_CNN_OUTPUT0_NUM_ELEMENTS];

struct trace {
  int expect; /* the next event: 2 * node + phase */
  int errors;
  unsigned long checksum;
};

static void hook(const tiny_cnn_node_info *node, void *user) {
  struct trace *t = (struct trace *)user;
  int i;
  if (2 * node->index + node->phase != t->expect || node->num_nodes != TINY_CNN_NUM_NODES ||
      strcmp(node->model, "tiny_cnn") != 0) {
    printf("event out of order: node %d phase %d, expected event %d\n", node->index, node->phase,
           t->expect);
    ++t->errors;
  }
  ++t->expect;
  for (i = 0; i < node->num_results; ++i)
    if ((node->results[i].data != NULL) != (node->phase == KILN_NODE_AFTER)) {
      printf("node %d result %d: data only after the node\n", node->index, i);
      ++t->errors;
    }
  if (node->phase != KILN_NODE_AFTER)
    return;
  /* Read every byte of every result: under ASan a result the hook may not read is reported. */
  for (i = 0; i < node->num_results; ++i) {
    const unsigned char *p = (const unsigned char *)node->results[i].data;
    long long b;
    for (b = 0; b < node->results[i].size_bytes; ++b)
      t->checksum += p[b];
  }
  {
    const kiln_tensor_info *r = &node->results[0];
    const float *v = (const float *)r->data;
    printf("node %d '%s' %s kernel=%s epilogue=[%s] -> '%s' %s rank %d [%lld..] %lld bytes\n",
           node->index, node->name, node->op, node->kernel, node->epilogue, r->name,
           r->dtype_name, r->rank, r->rank ? r->shape[0] : 0LL, r->size_bytes);
    if (node->index == TINY_CNN_NUM_NODES - 1 && r->size_bytes == (long long)sizeof lastResult)
      memcpy(lastResult, v, sizeof lastResult);
  }
}

int main(int argc, char **argv) {
  const void *inputs[1];
  void *outputs[1];
  struct trace t = {0, 0, 0};
  FILE *f;
  if (argc != 2 || !(f = fopen(argv[1], "rb")) || fread(image, 1, sizeof image, f) != sizeof image)
    return 2;
  fclose(f);
  inputs[0] = image;
  outputs[0] = probabilities;
  tiny_cnn_set_node_hook(hook, &t);
  if (tiny_cnn_run(inputs, outputs) != 0)
    return 1;
  if (t.expect != 2 * TINY_CNN_NUM_NODES)
    printf("saw %d events, expected %d\n", t.expect, 2 * TINY_CNN_NUM_NODES);
  if (memcmp(lastResult, probabilities, sizeof probabilities) != 0)
    printf("the last node's reported result is not the output\n");
  /* Removing the hook: a second run reports nothing. */
  tiny_cnn_set_node_hook(NULL, NULL);
  if (tiny_cnn_run(inputs, outputs) != 0 || t.expect != 2 * TINY_CNN_NUM_NODES)
    printf("events after the hook was removed\n");
  printf("%d events, %d errors\n", t.expect, t.errors);
  return t.errors != 0;
}
