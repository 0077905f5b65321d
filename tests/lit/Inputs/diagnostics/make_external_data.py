"""A model whose weight is stored as external data (in a file next to the model)."""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import models

w = numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), "w")
w.ClearField("raw_data")
w.data_location = TensorProto.EXTERNAL
entry = w.external_data.add()
entry.key, entry.value = "location", os.path.basename(sys.argv[1]) + ".weights"
with open(sys.argv[1] + ".weights", "wb") as f:
    f.write(np.ones((4, 4), dtype=np.float32).tobytes())
node = helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul1")
models.save(models.single_node_model(node, [("x", TensorProto.FLOAT, [1, 4])],
                                     [("y", TensorProto.FLOAT, [1, 4])], [w]), check=False)
