"""Writes a model made of elementwise chains, with numpy's outputs for it (float64, written from the
ONNX definitions), so that lit tests can check fused chains against an independent reference.
Output y0: Mul(x, scale[C,1,1]) -> Add(shift[C,1,1]) -> Relu      (a decomposed BatchNormalization)
Output y1: layer normalization over the last axis spelled with Sub/Pow/ReduceMean/Add/Sqrt/Div/
           Mul(gamma)/Add(beta)
Output y2: Add(x, z) -> Abs -> Sqrt -> Neg -> Exp -> Softplus -> Elu -> Selu -> Erf -> Tanh ->
           Sigmoid -> Reciprocal -> Log -> Max(c) -> Min(c, .) -> Sub(c, .) -> Div(c, .) ->
           Pow(., c) -> LeakyRelu -> HardSigmoid
Output y3: Conv -> Mul(sigmoid(GAP(x)), a per-channel gate computed at run time) -> Sub(one-element
           constant, .) -> Max(., z) -> Elu
Output y4: p = Sub(x, z); p * Sigmoid(p)                          (SiLU on an elementwise producer)
Usage: make_chain_model.py OUTDIR -> OUTDIR/chain.onnx, chain.input.bin, chain.expected.bin"""
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

rng = np.random.default_rng(7)
erf = np.vectorize(math.erf)
SELU_ALPHA = 1.67326319217681884765625
SELU_GAMMA = 1.05070102214813232421875


def f32(a):
    return np.asarray(a, np.float32)


def main(out):
    shape = (1, 4, 5, 5)
    x = f32(rng.standard_normal(shape))
    z = f32(rng.standard_normal(shape))
    scale = f32(rng.uniform(0.5, 1.5, (4, 1, 1)))
    shift = f32(rng.standard_normal((4, 1, 1)))
    gamma = f32(rng.uniform(0.5, 1.5, 5))
    beta = f32(rng.standard_normal(5))
    w = f32(rng.standard_normal((4, 4, 1, 1)) * 0.5)
    consts = {
        "scale": scale, "shift": shift, "gamma": gamma, "beta": beta, "w": w,
        "two": f32(2.0), "eps": f32(1e-5), "cmax": f32(0.6), "cmin": f32(0.9),
        "csub": f32(1.5), "cdiv": f32(2.0), "cpow": f32(1.5), "one1": f32([1.0]),
    }
    inits = [nh.from_array(v, k) for k, v in consts.items()]
    N = h.make_node
    nodes = [
        # y0
        N("Mul", ["x", "scale"], ["bn_s"], name="bn_scale"),
        N("Add", ["bn_s", "shift"], ["bn_t"], name="bn_shift"),
        N("Relu", ["bn_t"], ["y0"], name="bn_relu"),
        # y1
        N("ReduceMean", ["z"], ["mu"], name="ln_mean", axes=[3], keepdims=1),
        N("Sub", ["z", "mu"], ["d"], name="ln_sub"),
        N("Pow", ["d", "two"], ["d2"], name="ln_pow"),
        N("ReduceMean", ["d2"], ["var"], name="ln_var", axes=[3], keepdims=1),
        N("Add", ["var", "eps"], ["ve"], name="ln_eps"),
        N("Sqrt", ["ve"], ["sd"], name="ln_sqrt"),
        N("Div", ["d", "sd"], ["nrm"], name="ln_div"),
        N("Mul", ["nrm", "gamma"], ["ng"], name="ln_gamma"),
        N("Add", ["ng", "beta"], ["y1"], name="ln_beta"),
        # y2
        N("Add", ["x", "z"], ["u0"], name="u_add"),
        N("Abs", ["u0"], ["u1"], name="u_abs"),
        N("Sqrt", ["u1"], ["u2"], name="u_sqrt"),
        N("Neg", ["u2"], ["u3"], name="u_neg"),
        N("Exp", ["u3"], ["u4"], name="u_exp"),
        N("Softplus", ["u4"], ["u5"], name="u_softplus"),
        N("Elu", ["u5"], ["u6"], name="u_elu", alpha=0.7),
        N("Selu", ["u6"], ["u7"], name="u_selu"),
        N("Erf", ["u7"], ["u8"], name="u_erf"),
        N("Tanh", ["u8"], ["u9"], name="u_tanh"),
        N("Sigmoid", ["u9"], ["u10"], name="u_sigmoid"),
        N("Reciprocal", ["u10"], ["u11"], name="u_reciprocal"),
        N("Log", ["u11"], ["u12"], name="u_log"),
        N("Max", ["u12", "cmax"], ["u13"], name="u_max"),
        N("Min", ["cmin", "u13"], ["u14"], name="u_min"),
        N("Sub", ["csub", "u14"], ["u15"], name="u_rsub"),
        N("Div", ["cdiv", "u15"], ["u16"], name="u_rdiv"),
        N("Pow", ["u16", "cpow"], ["u17"], name="u_pow"),
        N("LeakyRelu", ["u17"], ["u18"], name="u_leaky", alpha=0.2),
        N("HardSigmoid", ["u18"], ["y2"], name="u_hsig", alpha=0.3, beta=0.1),
        # y3
        N("GlobalAveragePool", ["x"], ["gap"], name="gate_pool"),
        N("Sigmoid", ["gap"], ["gate"], name="gate_sigmoid"),
        N("Conv", ["x", "w"], ["c"], name="conv"),
        N("Mul", ["c", "gate"], ["cg"], name="conv_gate"),
        N("Sub", ["one1", "cg"], ["cs"], name="conv_rsub"),
        N("Max", ["cs", "z"], ["cm"], name="conv_max"),
        N("Elu", ["cm"], ["y3"], name="conv_elu", alpha=1.0),
        # y4
        N("Sub", ["x", "z"], ["p"], name="silu_sub"),
        N("Sigmoid", ["p"], ["ps"], name="silu_sigmoid"),
        N("Mul", ["p", "ps"], ["y4"], name="silu_mul"),
    ]
    vi = lambda n: h.make_tensor_value_info(n, T.FLOAT, list(shape))
    graph = h.make_graph(nodes, "chain", [vi("x"), vi("z")], [vi(f"y{i}") for i in range(5)],
                         inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "chain.onnx"))

    X, Z = x.astype(np.float64), z.astype(np.float64)
    C = {k: v.astype(np.float64) for k, v in consts.items()}
    sig = lambda v: 1 / (1 + np.exp(-v))
    elu = lambda v, a: np.where(v < 0, a * (np.exp(v) - 1), v)
    y0 = np.maximum(X * C["scale"] + C["shift"], 0)
    d = Z - Z.mean(axis=3, keepdims=True)
    y1 = d / np.sqrt((d ** 2).mean(axis=3, keepdims=True) + C["eps"]) * C["gamma"] + C["beta"]
    u = np.exp(-np.sqrt(np.abs(X + Z)))
    u = elu(np.log1p(np.exp(u)), 0.7)
    u = SELU_GAMMA * np.where(u <= 0, SELU_ALPHA * (np.exp(u) - 1), u)
    u = np.log(1 / sig(np.tanh(erf(u))))
    u = np.minimum(C["cmin"], np.maximum(u, C["cmax"]))
    u = (C["cdiv"] / (C["csub"] - u)) ** C["cpow"]
    u = np.where(u < 0, 0.2 * u, u)
    y2 = np.clip(0.3 * u + 0.1, 0, 1)
    c = np.einsum("oi,nihw->nohw", C["w"][:, :, 0, 0], X)
    gate = sig(X.mean(axis=(2, 3), keepdims=True))
    y3 = elu(np.maximum(1.0 - c * gate, Z), 1.0)
    p = X - Z
    y4 = p * sig(p)
    np.concatenate([x.ravel(), z.ravel()]).tofile(os.path.join(out, "chain.input.bin"))
    np.concatenate([y.ravel() for y in (y0, y1, y2, y3, y4)]).astype(np.float32).tofile(
        os.path.join(out, "chain.expected.bin"))


if __name__ == "__main__":
    main(sys.argv[1])
