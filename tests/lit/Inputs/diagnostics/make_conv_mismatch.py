"""A Conv whose weight expects 2 input channels on a 3-channel input. ONNX's checker and shape
inference accept it; kiln's own type inference rejects it."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

import models

w = numpy_helper.from_array(np.zeros((4, 2, 3, 3), dtype=np.float32), "w")
node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv1")
models.save(models.single_node_model(node, [("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                                     [("y", TensorProto.FLOAT, [1, 4, 6, 6])], [w]))
