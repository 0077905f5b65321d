#!/usr/bin/python3
# Exports kiln's end-to-end model zoo from torchvision: random weights under a fixed seed, BatchNorm
# statistics recalibrated on random data so activations (and the logits) are O(1) rather than
# degenerate, then torch.onnx.export. For each model it writes model.onnx, input.bin (raw f32),
# expected.bin (torch's output for that input, raw f32) and meta.json into a cache directory OUTSIDE
# the clone (default ~/.cache/kiln/zoo/<key>/). The key hashes this script's bytes, the torch and
# torchvision versions, the model, opset, batch and image size, so a re-run is instant and a changed
# exporter never reuses stale files. run_zoo.py and sweep.py import ensure_exported() from here.
#
#   /usr/bin/python3 tests/e2e/export_zoo.py [--models a,b] [--opset 13] [--batch 1] [--out DIR]
import argparse
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
import time

# The zoo ctest runs: small and medium classifiers covering depthwise/grouped conv, SE blocks,
# hardswish/hardsigmoid, channel shuffle, residual adds, concat (fire modules) and global pooling.
DEFAULT_MODELS = [
    "mobilenet_v2",
    "mobilenet_v3_small",
    "squeezenet1_1",
    "shufflenet_v2_x1_0",
    "resnet18",
    "efficientnet_b0",
    "mnasnet0_5",
]

# Models whose natural input is not 224x224.
IMAGE_SIZE = {"inception_v3": 299}

# Constructor arguments needed for a sensible random-weight model (no auxiliary heads in eval
# exports; the init_weights flag silences torchvision's warning and picks its own initialisation).
MODEL_KWARGS = {
    "inception_v3": {"aux_logits": False, "init_weights": True},
    "googlenet": {"aux_logits": False, "init_weights": True},
}

SEED = 0
CALIBRATION_PASSES = 12
CALIBRATION_BATCH = 4


def default_cache_root():
    return os.path.join(os.path.expanduser("~"), ".cache", "kiln", "zoo")


def versions():
    """Versions taken from package metadata so a cache hit does not need to import torch."""
    return {
        "torch": importlib.metadata.version("torch"),
        "torchvision": importlib.metadata.version("torchvision"),
        "onnx": importlib.metadata.version("onnx"),
    }


def cache_key(name, opset, batch, size):
    with open(os.path.abspath(__file__), "rb") as f:
        script = f.read()
    h = hashlib.sha256()
    h.update(script)
    h.update(json.dumps(versions(), sort_keys=True).encode())
    h.update(json.dumps([name, opset, batch, size]).encode())
    return f"{name}-op{opset}-b{batch}-{size}-{h.hexdigest()[:16]}"


def image_size(name):
    return IMAGE_SIZE.get(name, 224)


def build_model(name):
    import torch
    import torch.nn as nn
    import torchvision

    torch.manual_seed(SEED)
    model = torchvision.models.get_model(name, weights=None, **MODEL_KWARGS.get(name, {}))
    # Recalibrate BatchNorm on N(0,1) data: with random weights and the default running stats
    # (mean 0, var 1) activations grow or vanish layer after layer, and the logits end up being the
    # classifier bias. A cumulative average (momentum=None) over a few batches gives real statistics.
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if bns:
        model.train()
        for m in bns:
            m.momentum = None
            m.reset_running_stats()
        with torch.no_grad():
            for _ in range(CALIBRATION_PASSES):
                model(torch.randn(CALIBRATION_BATCH, 3, image_size(name), image_size(name)))
    model.eval()
    return model


def check_not_degenerate(name, model, x, y):
    """The output must not be dominated by the classifier bias and must vary with the input: a model
    whose logits are (nearly) a constant would compare equal to almost anything. Global average
    pooling of random features makes every model's logits mostly input-independent (squeezenet1_1:
    the input-dependent part is ~2% of the output std), hence the modest spread threshold."""
    import torch
    import torch.nn as nn

    with torch.no_grad():
        y2 = model(torch.randn_like(x))
    heads = [m for m in model.modules()
             if isinstance(m, (nn.Linear, nn.Conv2d)) and m.bias is not None]
    bias = heads[-1].bias.detach() if heads else torch.zeros(())
    if bias.numel() != y.shape[-1]:
        bias = torch.zeros(())
    std = float(y.std())
    unbiased = float((y - bias).std())
    spread = float((y - y2).std())
    if not (std > 1e-3 and unbiased > 0.5 * std and spread > 0.01 * std):
        raise RuntimeError(f"{name}: degenerate output (std {std:.3g}, std without classifier "
                           f"bias {unbiased:.3g}, input-dependent spread {spread:.3g})")
    return {"output_std": std, "output_std_without_bias": unbiased,
            "output_input_spread": spread}


def export_one(name, opset, batch, dest):
    import numpy as np
    import onnx
    import torch

    size = image_size(name)
    model = build_model(name)
    gen = torch.Generator().manual_seed(SEED + 1)
    x = torch.randn(batch, 3, size, size, generator=gen)
    with torch.no_grad():
        y = model(x)
    stats = check_not_degenerate(name, model, x, y)

    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=os.path.dirname(dest))
    try:
        t0 = time.time()
        torch.onnx.export(model, x, os.path.join(tmp, "model.onnx"), opset_version=opset,
                          do_constant_folding=True, input_names=["input"],
                          output_names=["output"])
        export_s = time.time() - t0
        onnx.checker.check_model(os.path.join(tmp, "model.onnx"))
        x.numpy().astype(np.float32).tofile(os.path.join(tmp, "input.bin"))
        y.numpy().astype(np.float32).tofile(os.path.join(tmp, "expected.bin"))
        meta = {
            "model": name,
            "opset": opset,
            "batch": batch,
            "inputs": [{"name": "input", "shape": list(x.shape), "dtype": "float32"}],
            "outputs": [{"name": "output", "shape": list(y.shape), "dtype": "float32"}],
            "parameters": int(sum(p.numel() for p in model.parameters())),
            **stats,
            "export_seconds": round(export_s, 2),
            "versions": versions(),
            "seed": SEED,
        }
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f, indent=2, sort_keys=True)
        # Atomic publish: a concurrent or interrupted run never sees a half-written entry.
        try:
            os.rename(tmp, dest)
        except OSError:
            if not os.path.exists(os.path.join(dest, "meta.json")):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def ensure_exported(name, opset=13, batch=1, root=None, log=sys.stderr):
    """Returns the cache directory holding model.onnx, input.bin, expected.bin and meta.json,
    exporting first if needed. Raises on export failure."""
    root = root or default_cache_root()
    os.makedirs(root, exist_ok=True)
    dest = os.path.join(root, cache_key(name, opset, batch, image_size(name)))
    if os.path.exists(os.path.join(dest, "meta.json")):
        return dest
    if log:
        print(f"export_zoo: exporting {name} (opset {opset}, batch {batch}) -> {dest}", file=log,
              flush=True)
    export_one(name, opset, batch, dest)
    return dest


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS),
                    help="comma-separated torchvision model names")
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--out", default=None, help="cache root (default ~/.cache/kiln/zoo)")
    args = ap.parse_args()
    failed = 0
    for name in [m for m in args.models.split(",") if m]:
        try:
            d = ensure_exported(name, args.opset, args.batch, args.out)
            with open(os.path.join(d, "meta.json")) as f:
                meta = json.load(f)
            print(f"{name:24} {d}  out {meta['outputs'][0]['shape']} std {meta['output_std']:.3f}")
        except Exception as e:  # report every model, then fail
            failed += 1
            print(f"{name:24} FAILED: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
