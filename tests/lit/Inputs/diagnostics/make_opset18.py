"""A model declaring default-domain opset 18, newer than the opset-17 forms kiln imports."""
from onnx import TensorProto, helper

import models

node = helper.make_node("Relu", ["x"], ["y"], name="relu1")
models.save(models.single_node_model(node, [("x", TensorProto.FLOAT, [1, 4])],
                                     [("y", TensorProto.FLOAT, [1, 4])], opset=18), check=False)
