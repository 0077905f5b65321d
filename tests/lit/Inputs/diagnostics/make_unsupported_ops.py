"""A model with three nodes kiln has no operator for: TopK (named), Einsum (named) and an
unnamed TopK (the frontend names it <OpType>_<index>), between supported Relu nodes."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

import models

k = numpy_helper.from_array(np.array([2], dtype=np.int64), "k")
nodes = [
    helper.make_node("Relu", ["x"], ["r"], name="relu1"),
    helper.make_node("TopK", ["r", "k"], ["top", "idx"], name="my_topk", axis=1),
    helper.make_node("Einsum", ["top", "top"], ["e"], name="my_einsum", equation="ij,ij->i"),
    helper.make_node("TopK", ["r", "k"], ["top2", "idx2"], axis=1),
]
graph = helper.make_graph(
    nodes, "unsupported", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 5])],
    [helper.make_tensor_value_info("e", TensorProto.FLOAT, [3]),
     helper.make_tensor_value_info("top2", TensorProto.FLOAT, [3, 2])], initializer=[k])
models.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
