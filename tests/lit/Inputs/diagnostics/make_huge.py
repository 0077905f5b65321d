"""Writes a model with tensors too large for generated code to address, for the lit tests of
kiln's size limits. None of them holds the large data itself: the sizes come from a graph input's
shape or from a small shape constant of Expand, so neither this script nor kiln allocates them.

Usage: make_huge.py OUT.onnx KIND [OPSET], KIND one of:
  input     a graph input f32[1,4000000000] (16 GB)
  expand    Expand of a one-element input to [1000,4000000000] from a shape initializer
  overflow  Expand to [2^40,2^40,2^40], whose element count does not fit in 64 bits
  arena     two intermediates of f32[300000000] (1.2 GB each) live at once: every tensor is
            addressable, their arena (2.4 GB) is not
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import models

F = TensorProto.FLOAT
kind = sys.argv[2]
opset = int(sys.argv[3]) if len(sys.argv) > 3 else 13


def model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(
        nodes, "huge",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
        initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def expand_to(dims):
    shape = numpy_helper.from_array(np.array(dims, dtype=np.int64), "shape")
    return model([helper.make_node("Expand", ["x", "shape"], ["big"], name="expand1"),
                  helper.make_node("ReduceSum", ["big"], ["y"], name="sum1", keepdims=0)],
                 [("x", F, [1, 1])], [("y", F, [])], [shape])


if kind == "input":
    m = model([helper.make_node("Relu", ["x"], ["y"], name="relu1")],
              [("x", F, [1, 4000000000])], [("y", F, [1, 4000000000])])
elif kind == "expand":
    m = expand_to([1000, 4000000000])
elif kind == "overflow":
    m = expand_to([2**40, 2**40, 2**40])
elif kind == "arena":
    n = 300000000
    m = model([helper.make_node("Relu", ["x"], ["r"], name="relu1"),
               helper.make_node("Neg", ["x"], ["s"], name="neg1"),
               helper.make_node("Add", ["r", "s"], ["y"], name="add1")],
              [("x", F, [n])], [("y", F, [n])])
else:
    sys.exit(f"unknown kind {kind}")
models.save(m, check=False)
