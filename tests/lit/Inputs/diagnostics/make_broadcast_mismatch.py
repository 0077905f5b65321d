"""An Add of f32[2,3] and f32[2,4], which do not broadcast: rejected by ONNX shape inference."""
from onnx import TensorProto, helper

import models

node = helper.make_node("Add", ["a", "b"], ["y"], name="add1")
models.save(models.single_node_model(
    node, [("a", TensorProto.FLOAT, [2, 3]), ("b", TensorProto.FLOAT, [2, 4])],
    [("y", TensorProto.FLOAT, [2, 3])]))
