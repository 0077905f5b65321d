"""A Relu node with two inputs: rejected by the ONNX checker (Relu takes exactly one)."""
from onnx import TensorProto, helper

import models

node = helper.make_node("Relu", ["x", "x"], ["y"], name="relu_two_inputs")
models.save(models.single_node_model(node, [("x", TensorProto.FLOAT, [1, 4])],
                                     [("y", TensorProto.FLOAT, [1, 4])]), check=False)
