"""Element types kiln does not support: `input` (a STRING graph input) or `initializer` (a
UINT32 initializer feeding a Cast)."""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import models

if sys.argv[2] == "input":
    node = helper.make_node("Identity", ["text"], ["y"], name="id1")
    model = models.single_node_model(node, [("text", TensorProto.STRING, [2])],
                                     [("y", TensorProto.STRING, [2])])
else:
    c = numpy_helper.from_array(np.array([1, 2, 3], dtype=np.uint32), "counts")
    node = helper.make_node("Cast", ["counts"], ["y"], name="cast1", to=TensorProto.FLOAT)
    model = models.single_node_model(node, [], [("y", TensorProto.FLOAT, [3])], [c])
models.save(model)
