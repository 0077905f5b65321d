"""Writes unsupported.onnx (into argv[1]): a valid model two of whose nodes the code generator has
no kernel for (Erf on float64, Pow of a float64 base), to check that both are reported in one diagnostic."""
import os
import sys

import onnx
from onnx import TensorProto as T
from onnx import helper as h

nodes = [h.make_node('Erf', ['d'], ['e'], name='erf_f64'),
         h.make_node('Pow', ['b', 'i'], ['m'], name='pow_f64')]
g = h.make_graph(nodes, 'unsupported',
                 [h.make_tensor_value_info('d', T.DOUBLE, [4]),
                  h.make_tensor_value_info('b', T.DOUBLE, [4]),
                  h.make_tensor_value_info('i', T.INT32, [4])],
                 [h.make_tensor_value_info('e', T.DOUBLE, [4]),
                  h.make_tensor_value_info('m', T.DOUBLE, [4])])
m = h.make_model(g, opset_imports=[h.make_opsetid('', 17)])
onnx.checker.check_model(m)
onnx.save(m, os.path.join(sys.argv[1], 'unsupported.onnx'))
