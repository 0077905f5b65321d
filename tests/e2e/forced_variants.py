#!/usr/bin/python3
# Every kernel variant forced through generated code (ctest e2e_forced_variants): small torch conv
# and matrix layers at awkward shapes (odd channels, tails, padding, dilation, groups, strides,
# 1-D, transposed, broadcast batches) are exported to ONNX, and each one is compiled by kiln once
# per variant of its family in codegen/Kernels.def, forced with `kiln compile --decisions=FILE`
# (plus the im2col and packed-GEMM chunk forced down to one panel, so every chunk loop has a
# tail). A variant kiln reports as not applying is skipped with its reason; every other pair is
# built in one ninja run, run, and compared with torch (rtol 1e-4, atol 1e-5). Fails on any
# mismatch, on a forced pair that does not build or run, or when a variant of the table ran on
# no layer at all.
#
#   /usr/bin/python3 tests/e2e/forced_variants.py --kiln build/compiler/kiln --work /tmp/forced \
#       [--target generic] [--extra-cxxflags=-march=x86-64-v4] [-j 2]
import argparse
import os
import re
import shutil
import subprocess
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_zoo  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5
KERNELS_DEF = os.path.join(HERE, "..", "..", "codegen", "Kernels.def")


def layers():
    """(name, module, input shape): each a single Conv / ConvTranspose / Gemm / MatMul node."""
    import torch
    from torch import nn

    class MatMul(nn.Module):
        def __init__(self, shape):
            super().__init__()
            self.w = nn.Parameter(torch.randn(*shape))

        def forward(self, x):
            return torch.matmul(x, self.w)

    return [
        ("conv3_pad", nn.Conv2d(3, 5, 3, padding=1), (1, 3, 9, 7)),
        ("conv5_s2", nn.Conv2d(7, 6, 5, stride=2, padding=2), (1, 7, 13, 11)),
        ("conv3_dil2", nn.Conv2d(4, 3, 3, padding=2, dilation=2), (1, 4, 10, 9)),
        ("conv3_groups3_batch2", nn.Conv2d(6, 9, 3, padding=1, groups=3), (2, 6, 8, 5)),
        ("conv_asym_s2x1", nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0)), (1, 3, 10, 7)),
        ("conv3_nobias", nn.Conv2d(3, 8, 3, bias=False), (1, 3, 6, 6)),
        ("conv2_s3", nn.Conv2d(5, 7, 2, stride=3), (1, 5, 11, 10)),
        ("dw3", nn.Conv2d(10, 10, 3, padding=1, groups=10), (1, 10, 11, 13)),
        ("dw5_s2_mult2", nn.Conv2d(6, 12, 5, stride=2, padding=2, groups=6), (1, 6, 15, 14)),
        ("dw3_dil2_s2", nn.Conv2d(5, 5, 3, stride=2, padding=2, dilation=2, groups=5),
         (1, 5, 12, 9)),
        ("pw_tail", nn.Conv2d(5, 11, 1), (1, 5, 7, 9)),
        ("pw_groups", nn.Conv2d(6, 4, 1, groups=2), (1, 6, 5, 3)),
        ("pw_s2", nn.Conv2d(8, 4, 1, stride=2), (1, 8, 9, 9)),
        ("conv1d_s2", nn.Conv1d(3, 5, 4, stride=2, padding=1), (1, 3, 17)),
        ("convT_s2", nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
         (1, 4, 5, 6)),
        ("convT_groups", nn.ConvTranspose2d(4, 6, 2, stride=1, groups=2), (1, 4, 3, 5)),
        ("linear_5x17", nn.Linear(17, 13), (5, 17)),
        ("linear_9x33", nn.Linear(33, 19), (9, 33)),
        ("matmul_batch_folded", MatMul((9, 5)), (2, 7, 9)),
        ("matmul_batched", MatMul((3, 6, 5)), (3, 4, 6)),
        ("matmul_broadcast", MatMul((3, 6, 5)), (2, 1, 4, 6)),
    ]


def family_variants():
    """{"conv": [...], "matrix": [...]}: the variants of the families with a choice, as
    codegen/Kernels.def lists them."""
    out = {}
    with open(KERNELS_DEF) as f:
        for m in re.finditer(r'^KILN_VARIANT\(\w+, "(\w+)", (Conv|Matrix)\)', f.read(), re.M):
            out.setdefault(m.group(2).lower(), []).append(m.group(1))
    return out


def decision_rows(kir_path):
    """[(node, variant)] of the .kir's decisions block."""
    rows, inside = [], False
    with open(kir_path) as f:
        for line in f:
            if line.startswith("decisions @"):
                inside = True
            elif inside:
                m = re.match(r'^  "((?:[^"\\]|\\.)*)" : (\w+)', line)
                if m:
                    rows.append((m.group(1), m.group(2)))
    return rows


def export(work, name, module, shape):
    import torch

    torch.manual_seed(zlib.crc32(name.encode()))
    d = os.path.join(work, name)
    os.makedirs(d)
    x = torch.randn(*shape)
    module.eval()
    with torch.no_grad():
        y = module(x)
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(module, x, path, opset_version=13, input_names=["x"], output_names=["y"])
    x.numpy().astype(np.float32).tofile(os.path.join(d, "input.bin"))
    y.numpy().astype(np.float32).tofile(os.path.join(d, "expected.bin"))
    return d, list(x.shape), list(y.shape)


class Pair:
    def __init__(self, layer, node, variant, tunables, d):
        self.layer, self.node, self.variant, self.tunables, self.dir = (layer, node, variant,
                                                                        tunables, d)
        self.src = self.binary = ""

    @property
    def label(self):
        t = " {%s}" % ", ".join(f"{k} = {v}" for k, v in self.tunables) if self.tunables else ""
        return f"{self.layer}: {self.variant}{t}"


def main():
    ap = argparse.ArgumentParser(description="every kernel variant forced through generated code")
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--work", required=True, help="scratch directory (wiped)")
    ap.add_argument("--target", default="generic")
    ap.add_argument("--extra-cxxflags", default="",
                    help="appended to g++'s flags (the flags a target's pair asks for)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    args = ap.parse_args()
    kiln = os.path.abspath(args.kiln)
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    variants = family_variants()

    def compile_pair(src, out, decisions=None):
        cmd = [kiln, "compile", os.path.join(src, "model.onnx"), "-o", out, "--name", "m",
               "--emit=cpp,ir", f"--target={args.target}"]
        if decisions:
            cmd.append(f"--decisions={decisions}")
        rc, text, _ = run_zoo.run(cmd, run_zoo.KILN_TIMEOUT)
        return rc, text

    import torch

    torch.manual_seed(0)  # the layers' weights
    pairs, skipped, failed = [], [], []
    nr = None
    for name, module, shape in layers():
        src, in_shape, out_shape = export(work, name, module, shape)
        meta = {"inputs": [{"shape": in_shape, "dtype": "float32"}],
                "outputs": [{"shape": out_shape, "dtype": "float32"}]}
        rc, text = compile_pair(src, os.path.join(src, "default"))
        if rc != 0:
            failed.append(f"{name}: default compile: {run_zoo.first_line(text)}")
            continue
        rows = [(n, v) for n, v in decision_rows(os.path.join(src, "default", "m.kir"))
                if v.startswith(("conv_", "gemm_"))]
        if len(rows) != 1:
            failed.append(f"{name}: expected one conv or matrix node, found {rows}")
            continue
        node, default = rows[0]
        family = "conv" if default.startswith("conv_") else "matrix"
        if nr is None:
            # The target's GEMM NR, from kiln's own diagnostic for a chunk that is not whole panels.
            probe = os.path.join(src, "probe.txt")
            with open(probe, "w") as f:
                f.write('decisions @torch_jit {\n  "%s" : %s {nc = 1}, scratch = 0, cost = 0\n}\n'
                        % (node, "conv_im2col" if family == "conv" else "gemm_packed"))
            rc, text = compile_pair(src, os.path.join(src, "probe"), probe)
            m = re.search(r"GEMM NR \((\d+)\), found 1", text)
            if rc == 0 or not m:
                failed.append(f"{name}: expected nc = 1 to be refused naming the NR, found "
                              f"{run_zoo.first_line(text)}")
                continue
            nr = int(m.group(1))
        # Each variant, then the chunked ones again with a chunk of one panel.
        choices = [(v, []) for v in variants[family]]
        choices += [(v, [("nc", nr)]) for v in ("conv_im2col", "gemm_packed")
                    if v in variants[family]]
        for variant, tunables in choices:
            tag = variant + "".join(f"_{k}{v}" for k, v in tunables)
            d = os.path.join(src, tag)
            os.makedirs(d)
            table = os.path.join(d, "decisions.txt")
            t = " {%s}" % ", ".join(f"{k} = {v}" for k, v in tunables) if tunables else ""
            with open(table, "w") as f:
                f.write('decisions @torch_jit {\n  "%s" : %s%s, scratch = 0, cost = 0\n}\n'
                        % (node.replace("\\", "\\\\").replace('"', '\\"'), variant, t))
            p = Pair(name, node, variant, tunables, d)
            rc, text = compile_pair(src, os.path.join(d, "gen"), table)
            if rc != 0:
                if "does not apply: " in text:
                    skipped.append((p, text.strip().split("does not apply: ")[-1]))
                else:
                    failed.append(f"{p.label}: kiln: {text.strip()}")
                continue
            forced = [v for n, v in decision_rows(os.path.join(d, "gen", "m.kir")) if n == node]
            if forced != [variant]:
                failed.append(f"{p.label}: expected the decisions block to show {variant}, "
                              f"found {forced}")
                continue
            run_zoo.write_host(os.path.join(d, "host.c"), "m", meta)
            p.src = src
            pairs.append(p)

    # One ninja file for every pair.
    lines = [f"cxxflags = {run_zoo.CXXFLAGS} {args.extra_cxxflags}".rstrip(),
             f"cflags = {run_zoo.CFLAGS}",
             "rule cxx", "  command = g++ $cxxflags -c $in -o $out", "  description = g++ $in",
             *run_zoo.NINJA_CC_LINK_RULES]
    for p in pairs:
        p.binary = os.path.join(p.dir, "host")
        lines += [f"build {p.dir}/m.o: cxx {p.dir}/gen/m.cpp",
                  f"build {p.dir}/host.o: cc {p.dir}/host.c", f"  inc = {p.dir}/gen",
                  f"build {p.binary}: link {p.dir}/host.o {p.dir}/m.o"]
    with open(os.path.join(work, "build.ninja"), "w") as f:
        f.write("\n".join(lines) + "\n")
    rc, out, secs = run_zoo.run(["ninja", "-C", work, f"-j{args.jobs}", "-k", "0"], 1800)
    sections = run_zoo.failed_sections(out)

    ran = {}
    for p in pairs:
        if not os.path.exists(p.binary):
            mine = [ln for t, sec in sections.items() if t.startswith(p.dir + os.sep) for ln in sec]
            failed.append(f"{p.label}: build failed: "
                          f"{run_zoo.first_error(mine, os.path.join(p.dir, 'gen')) or out[-300:]}")
            continue
        got_path = os.path.join(p.dir, "output.bin")
        rc, text, _ = run_zoo.run([p.binary, os.path.join(p.src, "input.bin"), got_path],
                                  run_zoo.RUN_TIMEOUT)
        if rc != 0:
            failed.append(f"{p.label}: run failed (exit {rc}): {run_zoo.first_line(text)}")
            continue
        got = np.fromfile(got_path, dtype=np.float32)
        want = np.fromfile(os.path.join(p.src, "expected.bin"), dtype=np.float32)
        err = float(np.max(np.abs(got.astype(np.float64) - want))) if got.size == want.size else -1
        if got.size != want.size or not np.allclose(got, want, rtol=RTOL, atol=ATOL):
            failed.append(f"{p.label}: mismatch (max |kiln - torch| {err:.3g}, "
                          f"{got.size} vs {want.size} values)")
            continue
        ran.setdefault(p.variant, []).append(p.layer)
        print(f"ok    {p.label:55s} max |kiln - torch| {err:.2e}")
    for p, why in skipped:
        print(f"n/a   {p.label:55s} {why}")
    for family, names in sorted(variants.items()):
        for v in names:
            if v not in ran:
                failed.append(f"variant {v} ({family}) ran on no layer")
    print(f"\n{sum(len(v) for v in ran.values())} forced pairs matched torch, {len(skipped)} "
          f"variants did not apply, {len(failed)} failure(s); build {secs:.0f} s "
          f"(target {args.target}, GEMM NR {nr})")
    for f in failed:
        print("FAIL  " + f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
