#!/usr/bin/python3
# Exports the microcontroller-sized models that the Cortex-M tests (cross_firmware.py) run, in the
# spirit of MLPerf Tiny: random weights under a fixed seed, BatchNorm statistics recalibrated on
# random data (as export_zoo.py does for torchvision, so activations and outputs are O(1) rather
# than the last layer's bias), then torch.onnx.export.
#   resnet8      MLPerf Tiny image classification: 32x32x3 input, conv 16, three stages of one
#                residual block each (16, 32, 64 channels; stages 2 and 3 stride 2 with a 1x1
#                stride-2 convolution on the shortcut), 8x8 average pool, FC 10 (logits; MLPerf's
#                final softmax is left out so that the comparison with torch sees the raw scores).
#   ad_autoencoder  MLPerf Tiny anomaly detection: input 640, four Dense 128 + BatchNorm + ReLU,
#                a Dense 8 + BatchNorm + ReLU bottleneck, four Dense 128 + BatchNorm + ReLU,
#                Dense 640.
#   ds_cnn       MLPerf Tiny keyword spotting (DS-CNN small): 49x10 MFCC input, conv 64 (10x4,
#                stride 2, Keras "same" padding: 4/5 rows, 1/1 columns), four depthwise-separable
#                blocks (3x3 depthwise + BatchNorm + ReLU, 1x1 conv 64 + BatchNorm + ReLU), 25x5
#                average pool, FC 12 (logits). It brings depthwise convolution to the chips.
# Each model gets the same files as a zoo entry (model.onnx, input.bin, expected.bin: raw f32,
# meta.json) in a cache directory OUTSIDE the clone (default ~/.cache/kiln/tiny/<key>/); the key
# hashes this script's bytes, export_zoo.py's (whose degeneracy check is reused) and the torch and
# onnx versions, so a re-run is instant and a changed exporter never reuses stale files.
#
#   /usr/bin/python3 tests/e2e/export_tiny.py [--models resnet8,ad_autoencoder] [--out DIR]
import argparse
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_zoo  # noqa: E402

MODELS = ["resnet8", "ad_autoencoder", "ds_cnn"]
INPUT_SHAPE = {"resnet8": [1, 3, 32, 32], "ad_autoencoder": [1, 640], "ds_cnn": [1, 1, 49, 10]}
OPSET = 13
SEED = 0
CALIBRATION_PASSES = 12
CALIBRATION_BATCH = 16


def default_cache_root():
    return os.path.join(os.path.expanduser("~"), ".cache", "kiln", "tiny")


def cache_key(name):
    h = hashlib.sha256()
    for script in (os.path.abspath(__file__), export_zoo.__file__):
        with open(script, "rb") as f:
            h.update(f.read())
    h.update(json.dumps({p: importlib.metadata.version(p) for p in ("torch", "onnx")},
                        sort_keys=True).encode())
    h.update(json.dumps([name, OPSET, INPUT_SHAPE[name]]).encode())
    return f"{name}-op{OPSET}-{h.hexdigest()[:16]}"


def build_model(name):
    import torch
    import torch.nn as nn

    class ResidualBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            # MLPerf Tiny's ResNet-8 projects the shortcut with a plain 1x1 convolution (no
            # BatchNorm) where the block changes width and resolution.
            self.shortcut = nn.Conv2d(cin, cout, 1, stride) if stride != 1 or cin != cout else None

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return torch.relu(y + (self.shortcut(x) if self.shortcut is not None else x))

    class ResNet8(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                      nn.ReLU())
            self.stages = nn.Sequential(ResidualBlock(16, 16, 1), ResidualBlock(16, 32, 2),
                                        ResidualBlock(32, 64, 2))
            self.pool = nn.AvgPool2d(8)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))

    def dense(cin, cout):
        return [nn.Linear(cin, cout), nn.BatchNorm1d(cout), nn.ReLU()]

    def conv_bn_relu(cin, cout, kernel, groups=1):
        return [nn.Conv2d(cin, cout, kernel, 1, kernel // 2, groups=groups, bias=False),
                nn.BatchNorm2d(cout), nn.ReLU()]

    torch.manual_seed(SEED)
    if name == "resnet8":
        model = ResNet8()
    elif name == "ad_autoencoder":
        widths = [640, 128, 128, 128, 128, 8, 128, 128, 128, 128]
        layers = [m for a, b in zip(widths, widths[1:]) for m in dense(a, b)]
        model = nn.Sequential(*layers, nn.Linear(128, 640))
    elif name == "ds_cnn":
        blocks = [m for _ in range(4)
                  for m in conv_bn_relu(64, 64, 3, groups=64) + conv_bn_relu(64, 64, 1)]
        model = nn.Sequential(nn.ZeroPad2d((1, 1, 4, 5)), nn.Conv2d(1, 64, (10, 4), 2, bias=False),
                              nn.BatchNorm2d(64), nn.ReLU(), *blocks, nn.AvgPool2d((25, 5)),
                              nn.Flatten(), nn.Linear(64, 12))
    else:
        raise ValueError(f"unknown tiny model {name!r} (known: {', '.join(MODELS)})")
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    model.train()
    for m in bns:
        m.momentum = None  # cumulative average over the calibration batches
        m.reset_running_stats()
    with torch.no_grad():
        for _ in range(CALIBRATION_PASSES):
            model(torch.randn(CALIBRATION_BATCH, *INPUT_SHAPE[name][1:]))
    model.eval()
    return model


def export_one(name, dest):
    import numpy as np
    import onnx
    import torch

    model = build_model(name)
    x = torch.randn(*INPUT_SHAPE[name], generator=torch.Generator().manual_seed(SEED + 1))
    with torch.no_grad():
        y = model(x)
    stats = export_zoo.check_not_degenerate(name, model, x, y)
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=os.path.dirname(dest))
    try:
        torch.onnx.export(model, x, os.path.join(tmp, "model.onnx"), opset_version=OPSET,
                          do_constant_folding=True, input_names=["input"],
                          output_names=["output"])
        onnx.checker.check_model(os.path.join(tmp, "model.onnx"))
        x.numpy().astype(np.float32).tofile(os.path.join(tmp, "input.bin"))
        y.numpy().astype(np.float32).tofile(os.path.join(tmp, "expected.bin"))
        meta = {
            "model": name,
            "opset": OPSET,
            "inputs": [{"name": "input", "shape": list(x.shape), "dtype": "float32"}],
            "outputs": [{"name": "output", "shape": list(y.shape), "dtype": "float32"}],
            "parameters": int(sum(p.numel() for p in model.parameters())),
            **stats,
            "seed": SEED,
        }
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f, indent=2, sort_keys=True)
        try:  # atomic publish, as in export_zoo.py
            os.rename(tmp, dest)
        except OSError:
            if not os.path.exists(os.path.join(dest, "meta.json")):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def ensure_exported(name, root=None, log=sys.stderr):
    """The cache directory holding model.onnx, input.bin, expected.bin and meta.json for `name`,
    exporting first if needed. Raises on export failure."""
    root = root or default_cache_root()
    os.makedirs(root, exist_ok=True)
    dest = os.path.join(root, cache_key(name))
    if not os.path.exists(os.path.join(dest, "meta.json")):
        if log:
            print(f"export_tiny: exporting {name} -> {dest}", file=log, flush=True)
        export_one(name, dest)
    return dest


def main():
    ap = argparse.ArgumentParser(description="export kiln's MLPerf-Tiny-style test models")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--out", default=None, help="cache root (default ~/.cache/kiln/tiny)")
    args = ap.parse_args()
    for name in [m for m in args.models.split(",") if m]:
        d = ensure_exported(name, args.out)
        with open(os.path.join(d, "meta.json")) as f:
            meta = json.load(f)
        print(f"{name:16} {d}  params {meta['parameters']}  out {meta['outputs'][0]['shape']} "
              f"std {meta['output_std']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
