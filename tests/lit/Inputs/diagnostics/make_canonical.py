"""Nodes whose ONNX spelling differs from kiln's canonical opset-17 form (ir/Ops.def): auto_pad
SAME_LOWER on MaxPool, ConvTranspose with output_shape, Clip with an absent min but a present
max, Split without a split operand, Cast to int32, ConstantOfShape with an int64 value, and an
unnamed node. The model is opset 11, so it also goes through the version converter."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

import models

wt = numpy_helper.from_array(np.ones((2, 2, 3, 3), dtype=np.float32), "wt")
hi = numpy_helper.from_array(np.array(6.0, dtype=np.float32), "hi")
shape = numpy_helper.from_array(np.array([2, 3], dtype=np.int64), "shape")
nodes = [
    helper.make_node("MaxPool", ["x"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2],
                     auto_pad="SAME_LOWER"),
    helper.make_node("ConvTranspose", ["p", "wt"], ["t"], name="deconv", strides=[2, 2],
                     output_shape=[10, 10]),
    helper.make_node("Clip", ["t", "", "hi"], ["c"], name="clip"),
    helper.make_node("Split", ["c"], ["s0", "s1"], name="split", axis=1),
    helper.make_node("Cast", ["s0"], ["i"], name="cast", to=TensorProto.INT32),
    helper.make_node("ConstantOfShape", ["shape"], ["k"],
                     value=numpy_helper.from_array(np.array([7], dtype=np.int64))),
]
graph = helper.make_graph(
    nodes, "canonical", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 9, 9])],
    [helper.make_tensor_value_info("i", TensorProto.INT32, [1, 1, 10, 10]),
     helper.make_tensor_value_info("s1", TensorProto.FLOAT, [1, 1, 10, 10]),
     helper.make_tensor_value_info("k", TensorProto.INT64, [2, 3])],
    initializer=[wt, hi, shape])
models.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)]))
