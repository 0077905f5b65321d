"""Writes a model whose every rewrite of the -O2 pipeline fires, with numpy's outputs for it, so
that lit tests can check the optimized code against an independent reference.
Output 0: Conv -> BatchNormalization -> Add(residual from a second Conv) -> Relu
          (fuse-conv-bn, fuse-epilogue: residual_add + relu)
Output 1: GlobalAveragePool -> Flatten -> MatMul -> Add(bias) -> Gelu spelled with Erf ->
          x * HardSigmoid(x) -> Div by a constant
          (matmul-add-to-gemm, replace-ops: gelu, hardswish, div-to-mul)
Usage: make_fusion_model.py OUTDIR -> OUTDIR/fusion.onnx, fusion.input.bin, fusion.expected.bin"""
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

rng = np.random.default_rng(99)


def conv(x, w):
    """3x3 convolution, stride 1, pad 1, no bias (float64)."""
    n, c, hh, ww = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    y = np.zeros((n, w.shape[0], hh, ww))
    for i in range(hh):
        for j in range(ww):
            y[:, :, i, j] = np.tensordot(xp[:, :, i:i + 3, j:j + 3], w, axes=([1, 2, 3], [1, 2, 3]))
    return y


def main(out):
    x = rng.standard_normal((1, 4, 6, 6)).astype(np.float32)
    w1 = (rng.standard_normal((4, 4, 3, 3)) * 0.3).astype(np.float32)
    w2 = (rng.standard_normal((4, 4, 3, 3)) * 0.3).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, 4).astype(np.float32)
    beta = rng.standard_normal(4).astype(np.float32)
    mean = rng.standard_normal(4).astype(np.float32)
    var = rng.uniform(0.5, 2.0, 4).astype(np.float32)
    wm = rng.standard_normal((4, 3)).astype(np.float32)
    bm = rng.standard_normal(3).astype(np.float32)
    eps = 1e-5
    inits = [nh.from_array(a, n) for a, n in [
        (w1, "w1"), (w2, "w2"), (gamma, "gamma"), (beta, "beta"), (mean, "mean"), (var, "var"),
        (wm, "wm"), (bm, "bm"), (np.array(math.sqrt(2.0), np.float32), "sqrt2"),
        (np.array(1.0, np.float32), "one"), (np.array(0.5, np.float32), "half"),
        (np.array(2.0, np.float32), "two")]]
    nodes = [
        h.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        h.make_node("BatchNormalization", ["c1", "gamma", "beta", "mean", "var"], ["bn"],
                    name="bn", epsilon=eps),
        h.make_node("Conv", ["x", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        h.make_node("Add", ["bn", "c2"], ["sum"], name="residual"),
        h.make_node("Relu", ["sum"], ["y0"], name="relu"),
        h.make_node("GlobalAveragePool", ["x"], ["gap"], name="gap"),
        h.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
        h.make_node("MatMul", ["flat", "wm"], ["mm"], name="matmul"),
        h.make_node("Add", ["mm", "bm"], ["lin"], name="bias"),
        h.make_node("Div", ["lin", "sqrt2"], ["scaled"], name="gelu_div"),
        h.make_node("Erf", ["scaled"], ["erf"], name="gelu_erf"),
        h.make_node("Add", ["erf", "one"], ["erf1"], name="gelu_add"),
        h.make_node("Mul", ["lin", "erf1"], ["gx"], name="gelu_mul"),
        h.make_node("Mul", ["gx", "half"], ["gelu"], name="gelu_half"),
        h.make_node("HardSigmoid", ["gelu"], ["hs"], name="hsig", alpha=1.0 / 6, beta=0.5),
        h.make_node("Mul", ["gelu", "hs"], ["hsw"], name="hswish"),
        h.make_node("Div", ["hsw", "two"], ["y1"], name="halve"),
    ]
    graph = h.make_graph(nodes, "fusion", [h.make_tensor_value_info("x", T.FLOAT, [1, 4, 6, 6])],
                         [h.make_tensor_value_info("y0", T.FLOAT, [1, 4, 6, 6]),
                          h.make_tensor_value_info("y1", T.FLOAT, [1, 3])], inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "fusion.onnx"))

    xd = x.astype(np.float64)
    s = gamma / np.sqrt(var.astype(np.float64) + np.float32(eps))
    bn = (conv(xd, w1) - mean.reshape(1, 4, 1, 1)) * s.reshape(1, 4, 1, 1) + beta.reshape(1, 4, 1, 1)
    y0 = np.maximum(bn + conv(xd, w2), 0)
    lin = xd.mean(axis=(2, 3)) @ wm + bm
    gelu = 0.5 * lin * (1 + np.vectorize(math.erf)(lin / math.sqrt(2)))
    hsw = gelu * np.clip(gelu / 6 + 0.5, 0, 1)
    y1 = hsw / 2
    x.tofile(os.path.join(out, "fusion.input.bin"))
    np.concatenate([y0.ravel(), y1.ravel()]).astype(np.float32).tofile(
        os.path.join(out, "fusion.expected.bin"))


if __name__ == "__main__":
    main(sys.argv[1])
