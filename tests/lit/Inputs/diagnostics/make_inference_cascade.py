"""Add of [2,3] and [2,4] (incompatible) followed by two Relus that shape inference then cannot
type either: the first failure is the cause, the other two its consequences. With a node name of
200000 characters ("long" on the command line) the checker rejects a second input of the last Relu
instead, so the diagnostic quotes a very long name."""
import sys

from onnx import TensorProto, helper

import models

F = TensorProto.FLOAT
if len(sys.argv) > 2 and sys.argv[2] == "long":
    nodes = [helper.make_node("Relu", ["a", "a"], ["y"], name="n" * 200000)]
    inputs = [("a", F, [2, 3])]
else:
    nodes = [helper.make_node("Add", ["a", "b"], ["s"], name="add1"),
             helper.make_node("Relu", ["s"], ["r"], name="relu1"),
             helper.make_node("Relu", ["r"], ["y"], name="relu2")]
    inputs = [("a", F, [2, 3]), ("b", F, [2, 4])]
graph = helper.make_graph(nodes, "cascade",
                          [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
                          [helper.make_tensor_value_info("y", F, [2, 3])])
models.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), check=False)
