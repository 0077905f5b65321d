"""A model whose output shape depends on an input's data, and TensorProto files to bind to it.

x f32[2,3,4] is reshaped to Concat(d, [-1]) where d i64[1] is a graph input, then Relu -> y: the
Reshape's shape operand is computed from d, so kiln compiles the model only with d bound
(--bind d=FILE.pb). Writes into the directory given on the command line:
  model.onnx     the model
  d.pb           d = [6]: a valid binding (y is f32[6,4])
  d_i32.pb       d as INT32: wrong dtype
  d_2.pb         d = [6, 4]: wrong shape
  not_tensor.pb  bytes that are no TensorProto
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
nodes = [
    helper.make_node("Constant", [], ["minus1"], name="const1",
                     value=numpy_helper.from_array(np.array([-1], dtype=np.int64))),
    helper.make_node("Concat", ["d", "minus1"], ["newshape"], name="concat1", axis=0),
    helper.make_node("Reshape", ["x", "newshape"], ["r"], name="reshape1"),
    helper.make_node("Relu", ["r"], ["y"], name="relu1"),
]
graph = helper.make_graph(
    nodes, "shape_input",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4]),
     helper.make_tensor_value_info("d", TensorProto.INT64, [1])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [6, 4])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
with open(os.path.join(out, "model.onnx"), "wb") as f:
    f.write(model.SerializeToString())


def tensor(name, array):
    with open(os.path.join(out, name), "wb") as f:
        f.write(numpy_helper.from_array(array, "d").SerializeToString())


tensor("d.pb", np.array([6], dtype=np.int64))
tensor("d_i32.pb", np.array([6], dtype=np.int32))
tensor("d_2.pb", np.array([6, 4], dtype=np.int64))
with open(os.path.join(out, "not_tensor.pb"), "wb") as f:
    f.write(b"\xff\xff\xff\xff not a protobuf")
