#!/usr/bin/python3
# Benchmark (by hand, never pass/fail, not in CI): how weight emission scales. Compiles torchvision
# models of growing size (default resnet18 ~47 MB and resnet50 ~102 MB of f32 weights, random
# weights from tests/e2e/export_zoo.py) with kiln and reports, per model: weight bytes, NAME.cpp
# bytes, source bytes per weight byte, kiln compile time and peak RSS, and g++ -O2 build time and
# peak RSS of the .cpp (each measured alone with /usr/bin/time, one compile at a time so the
# numbers are not disturbed by a parallel job). The design's target: weights as string-literal
# byte data build in seconds and well under 1 GB, versus ~39 s / 4.7 GB for a 45 MB float
# brace-initializer.
#
#   /usr/bin/python3 tests/bench/weights_build.py --kiln build/compiler/kiln --work /tmp/wbench
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import export_zoo  # noqa: E402
import run_zoo  # noqa: E402

CXXFLAGS = ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Werror", "-fno-exceptions", "-fno-rtti"]


def timed(cmd, cwd=None):
    """Runs cmd under /usr/bin/time; returns (returncode, wall s, CPU s, peak RSS MB, output).
    CPU time (user + sys) is reported next to wall time because the machine may be shared: wall
    time then includes waiting for a core, CPU time does not."""
    tfile = os.path.join(cwd or ".", ".time")
    p = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", tfile] + cmd, cwd=cwd,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    parts = open(tfile).read().split()
    os.remove(tfile)
    wall, user, sys_, rss = parts[-4:]
    return (p.returncode, float(wall), float(user) + float(sys_), int(rss) / 1024.0,
            p.stdout.decode(errors="replace"))


def section_bytes(obj):
    """Bytes of the object's read-only data sections (where the weights should land)."""
    out = subprocess.run(["size", "-A", obj], stdout=subprocess.PIPE).stdout.decode()
    total = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".rodata") and parts[1].isdigit():
            total += int(parts[1])
    return total


def main():
    ap = argparse.ArgumentParser(description="kiln weight-emission build benchmark")
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--models", default="resnet18,resnet50")
    ap.add_argument("--cache", default=None)
    ap.add_argument("--keep", action="store_true", help="keep the generated pairs")
    args = ap.parse_args()
    kiln = os.path.abspath(args.kiln)

    rows = []
    for model in args.models.split(","):
        src = export_zoo.ensure_exported(model, 13, 1, args.cache)
        d = os.path.join(os.path.abspath(args.work), model)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        name = run_zoo.c_ident(model)
        onnx_w = run_zoo.onnx_weight_bytes(os.path.join(src, "model.onnx"))
        rc, k_s, k_cpu, k_mb, out = timed([kiln, "compile", os.path.join(src, "model.onnx"), "-o", d,
                                    "--name", name, "--emit=cpp,ir"])
        if rc != 0:
            print(f"{model}: kiln failed: {run_zoo.first_line(out)}")
            rows.append((model, onnx_w, None, None, k_s, k_cpu, k_mb, None, None, None, None))
            continue
        cpp = os.path.join(d, f"{name}.cpp")
        emitted_w = run_zoo.kir_stats(os.path.join(d, f"{name}.kir"))[1] or onnx_w
        cpp_b = os.path.getsize(cpp)
        obj = os.path.join(d, f"{name}.o")
        rc, g_s, g_cpu, g_mb, out = timed(["g++"] + CXXFLAGS + ["-c", cpp, "-o", obj])
        if rc != 0:
            print(f"{model}: g++ failed: {run_zoo.first_line(out)}")
            g_s = g_cpu = g_mb = None
        rodata = section_bytes(obj) if rc == 0 else None
        rows.append((model, onnx_w, emitted_w, cpp_b, k_s, k_cpu, k_mb, g_s, g_cpu, g_mb, rodata))
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)

    f = run_zoo.fmt
    print(f"\n{'model':12} {'onnx wMB':>8} {'kir wMB':>8} {'cpp MB':>8} {'src B/wB':>8} "
          f"{'kiln s':>7} {'kiln cpu':>8} {'kiln MB':>7} {'g++ s':>7} {'g++ cpu':>7} {'g++ MB':>7} "
          f"{'rodata MB':>9}")
    for model, onnx_w, w, cpp_b, k_s, k_cpu, k_mb, g_s, g_cpu, g_mb, rodata in rows:
        ratio = cpp_b / w if cpp_b and w else None
        mb = lambda v: None if v is None else v / 1e6  # noqa: E731
        print(f"{model:12} {f(mb(onnx_w), '8.1f')} {f(mb(w), '8.1f')} {f(mb(cpp_b), '8.1f')} "
              f"{f(ratio, '8.2f')} {f(k_s, '7.2f')} {f(k_cpu, '8.2f')} {f(k_mb, '7.0f')} "
              f"{f(g_s, '7.2f')} {f(g_cpu, '7.2f')} {f(g_mb, '7.0f')} {f(mb(rodata), '9.1f')}")
    print("\nwMB: weight megabytes (ONNX initializers; kiln's emitted .kir, large constants after folding); "
          "src B/wB: NAME.cpp bytes per .kir weight byte;\n"
          "s: wall-clock seconds, cpu: user+sys seconds, MB: peak RSS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
