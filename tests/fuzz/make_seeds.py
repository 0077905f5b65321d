"""Collects the seed inputs of kiln's fuzz targets into two directories (nothing here is checked in;
the seeds are rebuilt from what the machine already has).

Usage: make_seeds.py SRCROOT ONNX_DIR KIR_DIR

ONNX_DIR receives: the example models (examples/**/*.onnx); the lit tests' models, written by their
generator scripts (tests/lit/Inputs/**/make_*.py); the ONNX node-suite models of Debian's
libonnx-testdata; and, for every cached zoo model (~/.cache/kiln/zoo/*/model.onnx), a weightless
copy whose initializers became graph inputs of the same type and shape — the zoo files themselves
are megabytes of weights that libFuzzer would cut at its 1 MiB input limit, while the copy keeps
every op and attribute in a few kilobytes. KIR_DIR receives every .kir file under tests/lit.
"""
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

import onnx
from onnx import helper


def put(dst_dir, data, stem):
    """Stores `data` once under a content-named file (duplicates across sources collapse)."""
    digest = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(dst_dir, f"{stem}-{digest}"), "wb") as f:
        f.write(data)


def weightless(model):
    """The model with each initializer replaced by a graph input of the same dtype and shape."""
    g = model.graph
    listed = {i.name for i in g.input}
    for t in g.initializer:
        if t.name not in listed:
            g.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    del g.initializer[:]
    return model


def lit_models(src, out_dir):
    """Runs the lit tests' model generators into out_dir (their CLIs differ; see each script)."""
    py = sys.executable
    inputs = os.path.join(src, "tests", "lit", "Inputs")
    jobs = []
    for script in sorted(glob.glob(os.path.join(inputs, "diagnostics", "make_*.py"))):
        stem = os.path.splitext(os.path.basename(script))[0]
        if stem == "make_bad_dtype":
            jobs += [[script, os.path.join(out_dir, f"{stem}_{k}.onnx"), k]
                     for k in ("input", "initializer")]
        elif stem == "make_not_onnx":
            jobs += [[script, os.path.join(out_dir, f"{stem}_{k}.onnx"), k]
                     for k in ("empty", "random")]
        else:
            jobs.append([script, os.path.join(out_dir, stem + ".onnx")])
    codegen = os.path.join(inputs, "codegen", "make_model.py")
    jobs += [[codegen, kind, out_dir] for kind in ("cnn", "ew", "mem", "cat", "part", "resid")]
    jobs += [[os.path.join(inputs, "codegen", "make_unsupported.py"), out_dir]]
    for script in ("make_chain_model.py", "make_fusion_model.py"):
        jobs.append([os.path.join(inputs, "passes", script), out_dir])
    for job in jobs:
        # A generator that fails only costs a seed; the fuzz run goes on with the others.
        subprocess.run([py] + job, cwd=out_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    src, onnx_dir, kir_dir = sys.argv[1:4]
    os.makedirs(onnx_dir, exist_ok=True)
    os.makedirs(kir_dir, exist_ok=True)
    sources = glob.glob(os.path.join(src, "examples", "**", "*.onnx"), recursive=True)
    with tempfile.TemporaryDirectory() as tmp:
        lit_models(src, tmp)
        sources += glob.glob(os.path.join(tmp, "**", "*.onnx"), recursive=True)
        testdata = subprocess.run(["dpkg", "-L", "libonnx-testdata"], capture_output=True,
                                  text=True).stdout.split()
        sources += [p for p in testdata if p.endswith("model.onnx")]
        for p in sources:
            with open(p, "rb") as f:
                put(onnx_dir, f.read(), "seed")
    for p in sorted(glob.glob(os.path.expanduser("~/.cache/kiln/zoo/*/model.onnx"))):
        m = onnx.load(p)
        put(onnx_dir, weightless(m).SerializeToString(), "zoo")
    for p in glob.glob(os.path.join(src, "tests", "lit", "**", "*.kir"), recursive=True):
        with open(p, "rb") as f:
            put(kir_dir, f.read(), "kir")
    print(f"{len(os.listdir(onnx_dir))} ONNX seeds in {onnx_dir}, "
          f"{len(os.listdir(kir_dir))} .kir seeds in {kir_dir}")


if __name__ == "__main__":
    main()
