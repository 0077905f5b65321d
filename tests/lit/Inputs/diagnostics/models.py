"""Small ONNX models shared by the diagnostics and driver lit tests.

Each make_*.py generator imports this module, builds one (often deliberately broken) model and
writes it to the path given on its command line. Weights are fixed, so outputs are deterministic.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_relu_model(batch="N", opset=13):
    """x[batch,3,8,8] -> Conv(4 filters, 3x3, SAME_UPPER) -> Relu -> Reshape(shape from Shape) -> y."""
    w = numpy_helper.from_array(np.arange(4 * 3 * 3 * 3, dtype=np.float32).reshape(4, 3, 3, 3) / 100, "w")
    b = numpy_helper.from_array(np.array([0.5, -0.5, 0.25, 0.0], dtype=np.float32), "b")
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv1", auto_pad="SAME_UPPER"),
        helper.make_node("Relu", ["c"], ["r"], name="relu1"),
        helper.make_node("Shape", ["r"], ["s"], name="shape1"),
        helper.make_node("Constant", [], ["zero"], name="const0",
                         value=numpy_helper.from_array(np.array([0], dtype=np.int64))),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather1", axis=0),
        helper.make_node("Constant", [], ["minus1"], name="const1",
                         value=numpy_helper.from_array(np.array([-1], dtype=np.int64))),
        helper.make_node("Concat", ["n", "minus1"], ["newshape"], name="concat1", axis=0),
        helper.make_node("Reshape", ["r", "newshape"], ["y"], name="reshape1"),
    ]
    graph = helper.make_graph(
        nodes, "conv_relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 256])],
        initializer=[w, b])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def save(model, check=True):
    """Writes the model to sys.argv[1]; check=False for models that are broken on purpose."""
    if check:
        onnx.checker.check_model(model)
    with open(sys.argv[1], "wb") as f:
        f.write(model.SerializeToString())


def single_node_model(node, inputs, outputs, initializers=(), opset=13):
    """A graph of one node; inputs/outputs are (name, elem_type, shape) triples."""
    graph = helper.make_graph(
        [node], "single",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
        initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
