/* kiln's node hook: the C types through which a generated model reports each node it runs to a
 * function of the caller's. `kiln compile --debug-tensors` pastes this file into NAME.h and adds
 * NAME_set_node_hook(); without the flag neither the types nor any hook call exist in the pair.
 * The same types serve every model (the guard lets two models' headers share one translation
 * unit), so one hook function can watch several models: a tensor dump (kiln bisect), a profiler
 * (timing BEFORE to AFTER), a model report. Plain C89 types: usable from C and C++. */
#ifndef KILN_NODE_HOOK_V1_H
#define KILN_NODE_HOOK_V1_H

/* kiln_node_info.phase: the hook is called right before a node's kernel runs and right after. */
#define KILN_NODE_BEFORE 0
#define KILN_NODE_AFTER 1

/* One value a node produced, as the model's graph types it (the ONNX tensor's name where the
 * value survived optimization; a fused node reports its final value). */
typedef struct kiln_tensor_info {
  const char *name;       /* the value's name in kiln's IR */
  int dtype;              /* a NAME_DTYPE_* code */
  const char *dtype_name; /* "f32", "i64", ... */
  int rank;
  const long long *shape; /* rank dimensions; NULL when rank is 0 */
  long long num_elements;
  long long size_bytes;
  /* KILN_NODE_AFTER: the value, dense row-major, in the model's logical layout (a view, an
   * in-place result or a Concat slice points into the bytes it shares). Valid only until the
   * hook returns: later nodes reuse the memory. NULL in the BEFORE phase. */
  const void *data;
} kiln_tensor_info;

/* One node of the optimized graph, in execution order. Nodes that optimization removed or fused
 * into another are not reported; their values are not reported either. */
typedef struct kiln_node_info {
  int phase;             /* KILN_NODE_BEFORE or KILN_NODE_AFTER */
  int index;             /* position in execution order, 0 .. num_nodes - 1 */
  int num_nodes;         /* NAME_NUM_NODES */
  const char *model;     /* NAME, for a hook shared by several models */
  const char *name;      /* the node's name */
  const char *op;        /* its op type: "Conv", "Relu", ... */
  const char *kernel;    /* the kernel that runs it, or "view" / "concat-in-place" (no code) */
  const char *epilogue;  /* work fused into the node ("bias_add, relu"), "" when none */
  int num_results;
  const kiln_tensor_info *results; /* num_results entries */
} kiln_node_info;

/* The caller's function; `user` is the pointer given to NAME_set_node_hook. It runs on the
 * thread that called NAME_run and must not call NAME_run itself. */
typedef void (*kiln_node_hook)(const kiln_node_info *node, void *user);

#endif /* KILN_NODE_HOOK_V1_H */
