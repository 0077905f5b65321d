"""Writes a small ONNX model plus its input and numpy-computed expected outputs for the codegen
lit tests. Usage: make_model.py KIND OUTDIR, KIND one of:
  cnn  Conv+Relu, residual Add, GlobalAveragePool, Flatten, Gemm; elementwise ops around them
       (Sigmoid, Mul broadcast per channel, Clip, Where, Max, BatchNormalization)
  ew   elementwise only (broadcast Add/Sub/Div, Relu, Tanh, Pow, Less, Where, Mean, PRelu)
  mem  memory reuse: Reshape/Flatten views of intermediates, unary and binary ops that can write
       over a dying operand, a Reshape that is a graph output and one of the graph input
  cat  Concat along channels (written in place by its producers) and along a later axis (copied)
  part Split and Slice along channels (views into their operand) and a Slice along a later axis
  resid convolutions with residual Adds: one whose residual dies there (the conv may write over
       it) and one whose residual is also its own input (it may not)
Writes OUTDIR/KIND.onnx, OUTDIR/KIND.input.bin (float32 input 0) and OUTDIR/KIND.expected.bin
(float32 output 0 then output 1, ...). The expected values are computed here with numpy, not by
kiln, so the tests compare kiln against an independent reference."""
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

rng = np.random.default_rng(1234)


def const(name, a):
    return nh.from_array(np.asarray(a), name)


def conv2d(x, w, b, pad):
    n, c, hh, ww = x.shape
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = hh + 2 * pad - k + 1, ww + 2 * pad - k + 1
    y = np.zeros((n, w.shape[0], oh, ow), np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i:i + k, j:j + k]
            y[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return y + b.reshape(1, -1, 1, 1)


def cnn():
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    w = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    scale = rng.uniform(0.5, 1.5, 4).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    mean = rng.standard_normal(4).astype(np.float32)
    var = rng.uniform(0.5, 2.0, 4).astype(np.float32)
    cw = rng.standard_normal((1, 4, 1, 1)).astype(np.float32)
    gw = rng.standard_normal((5, 4)).astype(np.float32)
    gb = rng.standard_normal(5).astype(np.float32)
    nodes = [
        h.make_node('Conv', ['x', 'w', 'b'], ['c'], name='conv', pads=[1, 1, 1, 1]),
        h.make_node('Relu', ['c'], ['r'], name='relu'),
        h.make_node('BatchNormalization', ['r', 'scale', 'bias', 'mean', 'var'], ['bn'],
                    name='bn', epsilon=1e-3),
        h.make_node('Sigmoid', ['bn'], ['s'], name='sigmoid'),
        h.make_node('Mul', ['s', 'cw'], ['m'], name='mul_channel'),
        h.make_node('Add', ['m', 'r'], ['a'], name='residual'),
        h.make_node('Clip', ['a', 'lo', 'hi'], ['cl'], name='clip'),
        h.make_node('Greater', ['cl', 'zero'], ['pos'], name='greater'),
        h.make_node('Where', ['pos', 'cl', 'bn'], ['wh'], name='where'),
        h.make_node('Max', ['wh', 'cl', 'zero'], ['mx'], name='max'),
        h.make_node('GlobalAveragePool', ['mx'], ['gap'], name='gap'),
        h.make_node('Flatten', ['gap'], ['f'], name='flatten'),
        h.make_node('Gemm', ['f', 'gw', 'gb'], ['y'], name='fc', transB=1),
    ]
    inits = [const('w', w), const('b', b), const('scale', scale), const('bias', bias),
             const('mean', mean), const('var', var), const('cw', cw), const('gw', gw),
             const('gb', gb), const('lo', np.float32(-0.5)), const('hi', np.float32(2.0)),
             const('zero', np.float32(0.25))]
    g = h.make_graph(nodes, 'cnn', [h.make_tensor_value_info('x', T.FLOAT, [1, 3, 8, 8])],
                     [h.make_tensor_value_info('y', T.FLOAT, [1, 5]),
                      h.make_tensor_value_info('mx', T.FLOAT, [1, 4, 8, 8])], inits)
    xd = x.astype(np.float64)
    r = np.maximum(conv2d(xd, w.astype(np.float64), b, 1), 0)
    c4 = lambda v: v.astype(np.float64).reshape(1, 4, 1, 1)
    bn = (r - c4(mean)) / np.sqrt(c4(var) + 1e-3) * c4(scale) + c4(bias)
    s = 1 / (1 + np.exp(-bn))
    a = s * cw + r
    cl = np.clip(a, -0.5, 2.0)
    wh = np.where(cl > 0.25, cl, bn)
    mx = np.maximum(np.maximum(wh, cl), 0.25)
    gap = mx.mean(axis=(2, 3)).reshape(1, 4)
    y = gap @ gw.T.astype(np.float64) + gb
    return g, x, [y, mx]


def ew():
    x = rng.uniform(0.5, 2.0, (2, 3, 4)).astype(np.float32)
    row = rng.standard_normal((4,)).astype(np.float32)
    col = rng.uniform(1.0, 2.0, (3, 1)).astype(np.float32)
    slope = rng.uniform(0.1, 0.3, (3, 1)).astype(np.float32)
    nodes = [
        h.make_node('Add', ['x', 'row'], ['a'], name='add_row'),
        h.make_node('Div', ['a', 'col'], ['d'], name='div_col'),
        h.make_node('Sub', ['d', 'x'], ['s'], name='sub'),
        h.make_node('Tanh', ['s'], ['t'], name='tanh'),
        h.make_node('Pow', ['x', 'two'], ['p'], name='pow'),
        h.make_node('Less', ['t', 'zero'], ['lt'], name='less'),
        h.make_node('Where', ['lt', 'p', 't'], ['w'], name='where'),
        h.make_node('PRelu', ['s', 'slope'], ['pr'], name='prelu'),
        h.make_node('Mean', ['w', 'pr', 'row'], ['y'], name='mean'),
        h.make_node('Relu', ['s'], ['z'], name='relu'),
    ]
    inits = [const('row', row), const('col', col), const('slope', slope),
             const('two', np.float32(2.0)), const('zero', np.float32(0.0))]
    g = h.make_graph(nodes, 'ew', [h.make_tensor_value_info('x', T.FLOAT, [2, 3, 4])],
                     [h.make_tensor_value_info('y', T.FLOAT, [2, 3, 4]),
                      h.make_tensor_value_info('z', T.FLOAT, [2, 3, 4])], inits)
    xd = x.astype(np.float64)
    s = (xd + row) / col - xd
    t = np.tanh(s)
    w = np.where(t < 0, xd ** 2, t)
    pr = np.where(s < 0, slope * s, s)
    y = (w + pr + row) / 3
    return g, x, [y, np.maximum(s, 0)]


def mem():
    x = rng.uniform(-1.0, 1.0, (2, 3, 4)).astype(np.float32)
    row = rng.standard_normal((4,)).astype(np.float32)
    nodes = [
        h.make_node('Add', ['x', 'row'], ['a'], name='add_row'),
        h.make_node('Tanh', ['a'], ['t'], name='tanh'),
        h.make_node('Reshape', ['t', 'shape64'], ['r'], name='reshape_t'),
        h.make_node('Sigmoid', ['r'], ['sg'], name='sigmoid'),
        h.make_node('Flatten', ['sg'], ['f'], name='flatten', axis=1),
        h.make_node('Mul', ['f', 'f'], ['sq'], name='square'),
        h.make_node('Reshape', ['sq', 'shape24'], ['y'], name='reshape_y'),
        h.make_node('Reshape', ['x', 'shape46'], ['r2'], name='reshape_x'),
        h.make_node('Neg', ['r2'], ['n2'], name='neg'),
        h.make_node('Add', ['n2', 'one'], ['z'], name='add_one'),
    ]
    inits = [const('row', row), const('one', np.float32(1.0)),
             const('shape64', np.array([6, 4], np.int64)),
             const('shape24', np.array([24], np.int64)),
             const('shape46', np.array([4, 6], np.int64))]
    g = h.make_graph(nodes, 'mem', [h.make_tensor_value_info('x', T.FLOAT, [2, 3, 4])],
                     [h.make_tensor_value_info('y', T.FLOAT, [24]),
                      h.make_tensor_value_info('z', T.FLOAT, [4, 6])], inits)
    xd = x.astype(np.float64)
    sg = 1 / (1 + np.exp(-np.tanh(xd + row)))
    return g, x, [(sg * sg).ravel(), 1 - xd.reshape(4, 6)]


def cat():
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    nodes = [
        h.make_node('Relu', ['x'], ['a'], name='relu'),
        h.make_node('Sigmoid', ['x'], ['b'], name='sigmoid'),
        h.make_node('Concat', ['a', 'b'], ['c'], name='cat_channels', axis=1),
        h.make_node('Tanh', ['c'], ['y'], name='tanh'),
        h.make_node('Exp', ['x'], ['e'], name='exp'),
        h.make_node('Abs', ['x'], ['m'], name='abs'),
        h.make_node('Concat', ['e', 'm'], ['cr'], name='cat_rows', axis=2),
        h.make_node('Neg', ['cr'], ['z'], name='neg'),
    ]
    g = h.make_graph(nodes, 'cat', [h.make_tensor_value_info('x', T.FLOAT, [1, 2, 4, 4])],
                     [h.make_tensor_value_info('y', T.FLOAT, [1, 4, 4, 4]),
                      h.make_tensor_value_info('z', T.FLOAT, [1, 2, 8, 4])])
    xd = x.astype(np.float64)
    y = np.tanh(np.concatenate([np.maximum(xd, 0), 1 / (1 + np.exp(-xd))], axis=1))
    z = -np.concatenate([np.exp(xd), np.abs(xd)], axis=2)
    return g, x, [y, z]


def part():
    x = rng.standard_normal((1, 6, 4, 4)).astype(np.float32)
    nodes = [
        h.make_node('Relu', ['x'], ['a'], name='relu'),
        h.make_node('Split', ['a', 'sizes'], ['s0', 's1'], name='split', axis=1),
        h.make_node('Tanh', ['s0'], ['t0'], name='tanh'),
        h.make_node('Slice', ['s1', 'st', 'en', 'ax'], ['sl'], name='slice_channels'),
        h.make_node('Slice', ['s1', 'st', 'en', 'ax3'], ['sr'], name='slice_cols'),
        h.make_node('Neg', ['sr'], ['y'], name='neg'),
        h.make_node('Mul', ['sl', 't0'], ['m'], name='mul'),
        h.make_node('Sigmoid', ['m'], ['z'], name='sigmoid'),
    ]
    inits = [const('sizes', np.array([2, 4], np.int64)), const('st', np.array([1], np.int64)),
             const('en', np.array([3], np.int64)), const('ax', np.array([1], np.int64)),
             const('ax3', np.array([3], np.int64))]
    g = h.make_graph(nodes, 'part', [h.make_tensor_value_info('x', T.FLOAT, [1, 6, 4, 4])],
                     [h.make_tensor_value_info('y', T.FLOAT, [1, 4, 4, 2]),
                      h.make_tensor_value_info('z', T.FLOAT, [1, 2, 4, 4])], inits)
    a = np.maximum(x.astype(np.float64), 0)
    s0, s1 = a[:, :2], a[:, 2:]
    z = 1 / (1 + np.exp(-(s1[:, 1:3] * np.tanh(s0))))
    return g, x, [-s1[:, :, :, 1:3], z]


def resid():
    x = rng.standard_normal((1, 3, 6, 6)).astype(np.float32)
    w = {k: (rng.standard_normal(s) * 0.3).astype(np.float32)
         for k, s in [('wa', (4, 3, 3, 3)), ('wc', (4, 3, 1, 1)), ('wb', (4, 4, 3, 3)),
                      ('wd', (4, 4, 3, 3))]}
    b = {k: rng.standard_normal(4).astype(np.float32) for k in ('ba', 'bc', 'bb', 'bd')}
    nodes = [
        h.make_node('Conv', ['x', 'wa', 'ba'], ['a'], name='conv_a', pads=[1, 1, 1, 1]),
        h.make_node('Conv', ['x', 'wc', 'bc'], ['c'], name='conv_c'),
        h.make_node('Conv', ['a', 'wb', 'bb'], ['b'], name='conv_b', pads=[1, 1, 1, 1]),
        h.make_node('Add', ['b', 'c'], ['s'], name='add_bc'),
        h.make_node('Relu', ['s'], ['r'], name='relu'),
        h.make_node('Conv', ['r', 'wd', 'bd'], ['d'], name='conv_d', pads=[1, 1, 1, 1]),
        h.make_node('Add', ['d', 'r'], ['e'], name='add_dr'),
        h.make_node('GlobalAveragePool', ['e'], ['y0'], name='gap'),
        h.make_node('Relu', ['a'], ['y1'], name='relu_a'),
    ]
    inits = [const(k, v) for k, v in {**w, **b}.items()]
    g = h.make_graph(nodes, 'resid', [h.make_tensor_value_info('x', T.FLOAT, [1, 3, 6, 6])],
                     [h.make_tensor_value_info('y0', T.FLOAT, [1, 4, 1, 1]),
                      h.make_tensor_value_info('y1', T.FLOAT, [1, 4, 6, 6])], inits)
    xd = x.astype(np.float64)
    a = conv2d(xd, w['wa'], b['ba'], 1)
    c = conv2d(xd, w['wc'], b['bc'], 0)
    r = np.maximum(conv2d(a, w['wb'], b['bb'], 1) + c, 0)
    e = conv2d(r, w['wd'], b['bd'], 1) + r
    return g, x, [e.mean(axis=(2, 3), keepdims=True), np.maximum(a, 0)]


def main():
    kind, out = sys.argv[1], sys.argv[2]
    g, x, expected = {'cnn': cnn, 'ew': ew, 'mem': mem, 'cat': cat, 'part': part,
                      'resid': resid}[kind]()
    m = h.make_model(g, opset_imports=[h.make_opsetid('', 17)])
    onnx.checker.check_model(m)
    os.makedirs(out, exist_ok=True)
    onnx.save(m, os.path.join(out, kind + '.onnx'))
    x.astype(np.float32).tofile(os.path.join(out, kind + '.input.bin'))
    np.concatenate([e.astype(np.float32).ravel() for e in expected]).tofile(
        os.path.join(out, kind + '.expected.bin'))


if __name__ == '__main__':
    main()
