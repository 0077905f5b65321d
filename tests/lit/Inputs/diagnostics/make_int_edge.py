"""Constants whose folding overflows: INT64_MAX * 2 and -INT64_MIN in int64 (they wrap, as ONNX
runtimes compute them), and Cast of 1e30 to int32 (saturates). kiln folds them at import; the
results are graph outputs so `kiln opt` prints them."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

import models

I64 = TensorProto.INT64
c = lambda name, v, dt=np.int64: numpy_helper.from_array(np.array(v, dtype=dt), name)
nodes = [helper.make_node("Mul", ["big", "two"], ["wrapped"], name="mul1"),
         helper.make_node("Neg", ["min"], ["negated"], name="neg1"),
         helper.make_node("Cast", ["huge"], ["saturated"], name="cast1", to=TensorProto.INT32)]
graph = helper.make_graph(
    nodes, "int_edge", [],
    [helper.make_tensor_value_info("wrapped", I64, [1]),
     helper.make_tensor_value_info("negated", I64, [1]),
     helper.make_tensor_value_info("saturated", TensorProto.INT32, [1])],
    initializer=[c("big", [2**63 - 1]), c("two", [2]), c("min", [-2**63]),
                 c("huge", [1e30], np.float32)])
models.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
