"""Writes a model whose graph structure is broken in one way, for the structural-check lit tests
(kiln checks these itself, before libonnx's converter or shape inference sees the graph).

Usage: make_broken_structure.py OUT.onnx KIND, KIND one of:
  output-undefined  a graph output no node produces (passes the ONNX checker; libonnx's version
                    converter crashes on it)
  input-undefined   a node input nothing produces
  out-of-order      a node input produced by a later node (nodes not in topological order)
  two-producers     two nodes producing the same value
  input-redefined   a node output that reuses a graph input's name
  negative-dim      a graph input with a negative dimension
  negative-init-dim an initializer with a negative dimension
  unknown-dtype     a graph input whose element type ONNX does not define (99)
  subgraph          an If node (its branches are subgraph attributes)
  hostile-names     input-undefined with names holding an escape sequence, a newline, invalid
                    UTF-8 and valid non-ASCII UTF-8
  conv-zero-stride  a Conv with strides [1,0] (libonnx's shape inference divides by it)
  conv-pads         a Conv whose pads do not match its input's rank
  convt-weight-rank a ConvTranspose whose weight's rank differs from its input's (libonnx's
                    shape inference indexes past the attribute lists)
  conv-computed-w   a Conv whose weight is computed by the graph (no shape before inference)
  reshape-overflow  a Reshape to dims whose product does not fit in int64
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import models

F = TensorProto.FLOAT


def chain(nodes, inputs=(("x", F, [1, 4]),), outputs=(("y", F, [1, 4]),), initializers=()):
    graph = helper.make_graph(
        nodes, "broken",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
        initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def relu(name, src, dst):
    return helper.make_node("Relu", [src], [dst], name=name)


kind = sys.argv[2]
if kind == "output-undefined":
    m = chain([relu("relu1", "x", "r"), relu("relu2", "r", "y")])
    m.graph.output[0].name = "nowhere"
elif kind == "input-undefined":
    m = chain([relu("relu1", "x", "r"), helper.make_node("Add", ["r", "ghost"], ["y"], name="add1")])
elif kind == "out-of-order":
    m = chain([relu("relu1", "x", "r"), relu("relu2", "t", "y"), relu("relu3", "r", "t")])
elif kind == "two-producers":
    m = chain([relu("relu1", "x", "r"), helper.make_node("Neg", ["x"], ["r"], name="neg1"),
               relu("relu2", "r", "y")])
elif kind == "input-redefined":
    m = chain([relu("relu1", "x", "r"), relu("relu2", "r", "x"), relu("relu3", "r", "y")])
elif kind == "negative-dim":
    m = chain([relu("relu1", "x", "y")], inputs=[("x", F, [1, -4])])
elif kind == "negative-init-dim":
    w = numpy_helper.from_array(np.zeros([4], dtype=np.float32), "w")
    del w.dims[:]
    w.dims.extend([-2, -2])
    m = chain([helper.make_node("Add", ["x", "w"], ["y"], name="add1")], initializers=[w])
elif kind == "unknown-dtype":
    m = chain([relu("relu1", "x", "y")])
    m.graph.input[0].type.tensor_type.elem_type = 99
elif kind == "subgraph":
    branch = helper.make_graph([relu("inner", "x", "z")], "branch", [],
                               [helper.make_tensor_value_info("z", F, [1, 4])])
    m = chain([helper.make_node("If", ["c"], ["y"], name="if1", then_branch=branch,
                                else_branch=branch)],
              inputs=[("x", F, [1, 4]), ("c", TensorProto.BOOL, [])])
elif kind == "hostile-names":
    # Python's protobuf only stores valid UTF-8 in string fields: placeholders of the same length
    # are swapped for the raw bytes in the serialized model.
    m = chain([relu("relu1", "x", "r"),
               helper.make_node("Add", ["r", "GHOST_PLACEHOLDER"], ["y"], name="NODE_PLACEHOLDER_größe")])
    data = m.SerializeToString()
    data = data.replace(b"NODE_PLACEHOLDER", b"add\x1b[31m\nred!\xff\xc0!")
    data = data.replace(b"GHOST_PLACEHOLDER", b"gh\x07ost\xe2\x82\x7f\x01\x7f\xc2\x85xyz!")
    with open(sys.argv[1], "wb") as f:
        f.write(data)
    sys.exit(0)
elif kind.startswith("conv") or kind == "reshape-overflow":
    x = ("x", F, [1, 2, 5, 5])
    w = numpy_helper.from_array(np.ones([3, 2, 3, 3], dtype=np.float32), "w")
    y = ("y", F, [1, 3, 3, 3])
    if kind == "conv-zero-stride":
        m = chain([helper.make_node("Conv", ["x", "w"], ["y"], name="conv1", strides=[1, 0])],
                  [x], [y], [w])
    elif kind == "conv-pads":
        m = chain([helper.make_node("Conv", ["x", "w"], ["y"], name="conv1", pads=[1, 1])],
                  [x], [y], [w])
    elif kind == "convt-weight-rank":
        wt = numpy_helper.from_array(np.ones([2, 3], dtype=np.float32), "w")
        m = chain([helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="deconv1")],
                  [x], [y], [wt])
    elif kind == "conv-computed-w":
        m = chain([helper.make_node("Neg", ["w"], ["nw"], name="neg1"),
                   helper.make_node("Conv", ["x", "nw"], ["y"], name="conv1")], [x], [y], [w])
    else:
        shape = numpy_helper.from_array(np.array([2**40, 2**40, 2**40, 0], dtype=np.int64), "shape")
        m = chain([helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape1")],
                  [x], [("y", F, ["a", "b", "c", "d"])], [shape])
else:
    sys.exit(f"unknown kind {kind}")
models.save(m, check=False)
