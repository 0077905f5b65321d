#!/usr/bin/python3
# Benchmark (by hand, never pass/fail, not in CI): kiln against ONNX Runtime on one core. For each
# zoo model (tests/e2e/export_zoo.py) and each CNN of tests/e2e/sweep.py (up to its weight cap) it
# compiles the model with `kiln compile --target=T` (default native), builds the pair with -O2 plus
# only the flags its #error guard names, and times it side by side with ORT in the same run on the
# same input bytes: a persistent kiln host and a persistent node ORT process (tests/bench/
# ort_runner.js; graph optimization 'all', one intra-op and one inter-op thread, sequential) each
# time one call per command that perf.py sends them alternately, so both see the same machine
# load. 10 warm-up calls each, then --calls (>= 50) timed calls each; each side reports its own
# wall time per call (steady_clock / process.hrtime around the call only). Both outputs are
# cross-checked in the same run (max abs and max rel error; a mismatch is flagged loudly).
#
# Printed per model: median ms of each, kiln/ORT (and the fastest call of each, the figure least
# disturbed by other work on a shared machine), GFLOP/s of each, % of the machine's single-core
# FMA peak (tests/bench/fma_peak.cpp, built for the widest ISA the CPU has), the arena
# (NAME_ARENA_SIZE), the weight bytes the pair reports and the .rodata of its object file (`size
# -A`), and the error vs ORT. FLOPs = 2 x MACs of Conv (as direct convolution, whatever algorithm
# ran), Gemm and MatMul, from the ONNX model's shapes (onnx shape inference); nothing else is
# counted (pooling, elementwise, activations are free in this count). Then, from a second build
# with `kiln compile --profile`, the ten slowest layers of each model with their kernel.
#
#   /usr/bin/python3 tests/bench/perf.py --kiln build/compiler/kiln --work /tmp/perf \
#       [--models resnet18,mobilenet_v2] [--calls 50] [--target native] [--json out.json]
#
# ONNX Runtime comes from npm (onnxruntime-node 1.30.0, its CPU library inside the package),
# installed with --ignore-scripts into ~/.cache/kiln/ort/1.30.0 when missing, reused after.
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import export_zoo  # noqa: E402
import sweep  # noqa: E402

ORT_VERSION = "1.30.0"
WARMUP = 10
TOP_LAYERS = 10
# Not a CNN: the sweep's transformer is left out of "the CNNs of sweep.py".
NOT_CNN = {"swin_t"}
# A relative error above this vs ORT is a mismatch (the zoo's tolerance vs torch).
RTOL = 1e-3

HOST = r"""// Timing host of tests/bench/perf.py for @NAME@ (generated): reads the inputs once, then
// serves commands on stdin, one per line, so that perf.py can interleave its calls with ORT's:
//   run        one @NAME@_run; prints "t WALL_NS CPU_NS" (steady_clock and the thread's CPU
//              time around the call only)
//   dump DIR   writes output i's bytes to DIR/out<i>.bin; prints "ok"
//   profile N  (built with KILN_BENCH_PROFILE, a --profile pair) N profiled calls, then one
//              line per node: "n INDEX<TAB>MEDIAN_US<TAB>OP<TAB>KERNEL<TAB>EPILOGUE<TAB>NAME";
//              then "ok"; each profiled call's whole time comes first as "c NANOSECONDS"
#include "@NAME@.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <time.h>

static unsigned char in_[@UPPER@_NUM_INPUTS][@MAX_IN@] __attribute__((aligned(64)));
static unsigned char out_[@UPPER@_NUM_OUTPUTS][@MAX_OUT@] __attribute__((aligned(64)));
static const long inBytes[] = {@IN_BYTES@};
static const long outBytes[] = {@OUT_BYTES@};

// This thread's CPU time: the call's cost without the time slices the scheduler gives others.
static long long threadNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 1 + @UPPER@_NUM_INPUTS)
    return 2;
  const void *inputs[@UPPER@_NUM_INPUTS];
  void *outputs[@UPPER@_NUM_OUTPUTS];
  for (int i = 0; i < @UPPER@_NUM_INPUTS; ++i) {
    FILE *f = std::fopen(argv[1 + i], "rb");
    if (!f || std::fread(in_[i], 1, inBytes[i], f) != size_t(inBytes[i]))
      return 2;
    std::fclose(f);
    inputs[i] = in_[i];
  }
  for (int i = 0; i < @UPPER@_NUM_OUTPUTS; ++i)
    outputs[i] = out_[i];
  char line[4096];
  while (std::fgets(line, sizeof line, stdin)) {
    char arg[4000] = "";
    if (std::strncmp(line, "run", 3) == 0) {
      long long c0 = threadNs();
      auto t0 = std::chrono::steady_clock::now();
      int rc = @NAME@_run(inputs, outputs);
      auto t1 = std::chrono::steady_clock::now();
      long long c1 = threadNs();
      if (rc != 0) {
        std::printf("error @NAME@_run returned %d\n", rc);
        return 3;
      }
      std::printf("t %lld %lld\n",
                  (long long)std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count(),
                  c1 - c0);
    } else if (std::sscanf(line, "dump %3999s", arg) == 1) {
      for (int i = 0; i < @UPPER@_NUM_OUTPUTS; ++i) {
        char path[4100];
        std::snprintf(path, sizeof path, "%s/out%d.bin", arg, i);
        FILE *f = std::fopen(path, "wb");
        if (!f || std::fwrite(out_[i], 1, outBytes[i], f) != size_t(outBytes[i]))
          return 4;
        std::fclose(f);
      }
      std::printf("ok\n");
#ifdef KILN_BENCH_PROFILE
    } else if (std::sscanf(line, "profile %3999s", arg) == 1) {
      int calls = std::atoi(arg);
      @NAME@_profile_start();
      for (int c = 0; c < calls; ++c) {
        auto t0 = std::chrono::steady_clock::now();
        if (@NAME@_run(inputs, outputs) != 0)
          return 3;
        auto t1 = std::chrono::steady_clock::now();
        std::printf("c %lld\n", (long long)std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     t1 - t0).count());
      }
      @NAME@_profile_stop();
      for (int n = 0; n < @UPPER@_NUM_NODES; ++n) {
        kiln_profile_node p;
        if (@NAME@_profile_node(n, &p) == 0)
          std::printf("n %d\t%.3f\t%s\t%s\t%s\t%s\n", p.index, p.median_us, p.op, p.kernel,
                      p.epilogue, p.name);
      }
      std::printf("ok\n");
#endif
    } else if (std::strncmp(line, "quit", 4) == 0) {
      return 0;
    } else {
      std::printf("error unknown command\n");
    }
    std::fflush(stdout);
  }
  return 0;
}
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-3000:]}")
    return r.stdout


# --- ONNX Runtime -----------------------------------------------------------------------------

def ensure_ort(cache):
    """The node_modules directory holding onnxruntime-node, npm-installed into `cache` once."""
    modules = os.path.join(cache, "node_modules")
    if not os.path.exists(os.path.join(modules, "onnxruntime-node", "package.json")):
        os.makedirs(cache, exist_ok=True)
        log(f"perf: installing onnxruntime-node@{ORT_VERSION} into {cache}")
        run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", cache,
             f"onnxruntime-node@{ORT_VERSION}"])
    return modules


# --- machine peak -----------------------------------------------------------------------------

def cpu_info():
    model, flags = "unknown", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, val = line.partition(":")
            if key.strip() == "model name" and model == "unknown":
                model = val.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(val.split())
    return model, flags


def fma_peak(work, flags):
    """(ISA, single-core GFLOP/s) of tests/bench/fma_peak.cpp built for the widest ISA here."""
    if "avx512f" in flags:
        isa_flags = ["-mavx512f", "-mfma"]
    elif "avx2" in flags and "fma" in flags:
        isa_flags = ["-mavx2", "-mfma"]
    else:
        isa_flags = ["-msse2"]
    exe = os.path.join(work, "fma_peak")
    run(["g++", "-std=c++17", "-O2", *isa_flags, "-Wall", "-Wextra", "-Werror",
         os.path.join(HERE, "fma_peak.cpp"), "-o", exe])
    # Twice, the better run: other work on a shared machine only ever lowers the figure.
    best = None
    for _ in range(2):
        out = subprocess.run([exe], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             check=True).stdout
        isa, gflops = out.split()[:2]
        best = max(best or 0.0, float(gflops))
    return isa, best


# --- FLOPs ------------------------------------------------------------------------------------

def model_flops(path):
    """2 x MACs of Conv (direct: N*Cout*Hout*Wout*(Cin/group)*prod(kernel)), Gemm (M*N*K) and
    MatMul (batch*M*N*K), from ONNX shape inference; with per-op totals."""
    import onnx
    from onnx import numpy_helper, shape_inference  # noqa: F401

    m = shape_inference.infer_shapes(onnx.load(path))
    g = m.graph
    shapes = {}
    for vi in list(g.value_info) + list(g.input) + list(g.output):
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        shapes[vi.name] = dims
    for init in g.initializer:
        shapes[init.name] = list(init.dims)
    total, per_op = 0, {}

    def prod(xs):
        p = 1
        for x in xs:
            p *= x
        return p

    for n in g.node:
        macs = 0
        if n.op_type == "Conv":
            w, y = shapes.get(n.input[1]), shapes.get(n.output[0])
            if w and y and all(y):
                macs = prod(y) * prod(w[1:])  # y = N*Cout*spatial; w[1:] = Cin/group * kernel
        elif n.op_type == "Gemm":
            a, y = shapes.get(n.input[0]), shapes.get(n.output[0])
            trans_a = next((at.i for at in n.attribute if at.name == "transA"), 0)
            if a and y:
                macs = prod(y) * (a[0] if trans_a else a[1])
        elif n.op_type == "MatMul":
            a, y = shapes.get(n.input[0]), shapes.get(n.output[0])
            if a and y:
                macs = prod(y) * a[-1]
        if macs:
            total += 2 * macs
            per_op[n.op_type] = per_op.get(n.op_type, 0) + 2 * macs
    return total, per_op


# --- kiln side --------------------------------------------------------------------------------

# codegen/Target.cpp targetGuardCode: "... was generated for --target=T: build it with FLAGS (or
# ALTERNATIVE FLAGS)"; group 2 is FLAGS.
GUARD = re.compile(r'#error "[^"]* was generated for --target=(\S+): '
                   r'build it with ([^"(]+?)\s*(?:\(or [^"]*\))?"')


def guard_flags(cpp_path):
    """The flags the pair's #error guard names (the first form: -march=...); none for generic."""
    with open(cpp_path, encoding="utf-8", errors="replace") as f:
        head = f.read(8192)
    m = GUARD.search(head)
    return m.group(2).split() if m else []


def header_int(header, macro):
    m = re.search(rf"#define {macro} (\d+)", header)
    return int(m.group(1)) if m else None


def rodata_bytes(obj):
    """Sum of the .rodata* sections of `size -A obj`."""
    total = 0
    for line in run(["size", "-A", obj]).splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".rodata") and parts[1].isdigit():
            total += int(parts[1])
    return total


def build_pair(kiln, model, gen, name, target, profile, meta):
    """Compiles and builds one pair and its timing host; returns (host binary, info dict)."""
    shutil.rmtree(gen, ignore_errors=True)
    cmd = [kiln, "compile", model, "-o", gen, "--name", name, f"--target={target}"]
    if profile:
        cmd.append("--profile")
    t0 = time.time()
    run(cmd)
    compile_s = time.time() - t0
    cpp = os.path.join(gen, f"{name}.cpp")
    with open(os.path.join(gen, f"{name}.h")) as f:
        header = f.read()
    flags = guard_flags(cpp)
    up = name.upper()
    ins = [header_int(header, f"{up}_INPUT{i}_SIZE_BYTES") for i in range(len(meta["inputs"]))]
    outs = [header_int(header, f"{up}_OUTPUT{i}_SIZE_BYTES") for i in range(len(meta["outputs"]))]
    host = (HOST.replace("@NAME@", name).replace("@UPPER@", up)
            .replace("@MAX_IN@", str(max(ins))).replace("@MAX_OUT@", str(max(outs)))
            .replace("@IN_BYTES@", ", ".join(map(str, ins)))
            .replace("@OUT_BYTES@", ", ".join(map(str, outs))))
    with open(os.path.join(gen, "host.cpp"), "w") as f:
        f.write(host)
    base = ["g++", "-std=c++17", "-O2", *flags]
    obj = os.path.join(gen, f"{name}.o")
    t0 = time.time()
    run(base + ["-c", cpp, "-o", obj])
    build_s = time.time() - t0
    exe = os.path.join(gen, "host")
    run(base + (["-DKILN_BENCH_PROFILE"] if profile else []) +
        ["-I", gen, os.path.join(gen, "host.cpp"), obj, "-o", exe])
    banner = re.search(r"(\d+) weight bytes", open(cpp, encoding="utf-8", errors="replace")
                       .read(4096))
    info = {"flags": flags, "arena_bytes": header_int(header, f"{up}_ARENA_SIZE"),
            "weight_bytes": int(banner.group(1)) if banner else None,
            "rodata_bytes": rodata_bytes(obj), "compile_s": round(compile_s, 2),
            "build_s": round(build_s, 2),
            "target": re.search(rf'#define {up}_TARGET "([^"]*)"', header).group(1)
            if f"{up}_TARGET" in header else target}
    return exe, info


class Server:
    """A persistent process answering one line per command line (the kiln host or ort_runner)."""

    def __init__(self, cmd, what):
        self.what = what
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  bufsize=1)

    def ask(self, line, until=None):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        lines = []
        while True:
            out = self.p.stdout.readline()
            if not out:
                raise RuntimeError(f"{self.what} exited (rc {self.p.wait()}) on '{line}'")
            out = out.rstrip("\n")
            if out.startswith("error"):
                raise RuntimeError(f"{self.what}: {out}")
            lines.append(out)
            if until is None or out == until:
                return lines

    def time_call(self):
        """(wall ms, CPU ms) of one call."""
        (out,) = self.ask("run")
        _, wall, cpu = out.split()
        return int(wall) / 1e6, int(cpu) / 1e6

    def close(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.close()
        except OSError:
            pass
        self.p.wait(timeout=60)


def compare(kiln_out, ort_out, meta):
    import numpy as np

    worst_abs, worst_rel = 0.0, 0.0
    for i, t in enumerate(meta["outputs"]):
        dt = np.dtype(t.get("dtype", "float32"))
        a = np.fromfile(os.path.join(kiln_out, f"out{i}.bin"), dtype=dt).astype(np.float64)
        b = np.fromfile(os.path.join(ort_out, f"out{i}.bin"), dtype=dt).astype(np.float64)
        if a.shape != b.shape:
            return float("inf"), float("inf")
        err = np.abs(a - b)
        worst_abs = max(worst_abs, float(err.max()))
        worst_rel = max(worst_rel, float(err.max() / max(np.abs(b).max(), 1e-30)))
    return worst_abs, worst_rel


def bench_model(args, name, modules, peak):
    src = export_zoo.ensure_exported(name, log=sys.stderr)
    with open(os.path.join(src, "meta.json")) as f:
        meta = json.load(f)
    model = os.path.join(src, "model.onnx")
    work = os.path.join(args.work, name)
    os.makedirs(work, exist_ok=True)
    ident = re.sub(r"\W", "_", name)
    row = {"model": name}
    row["flops"], row["flops_by_op"] = model_flops(model)
    exe, info = build_pair(args.kiln, model, os.path.join(work, "gen"), ident, args.target, False,
                           meta)
    row.update(info)

    inputs = [os.path.join(src, "input.bin")]
    spec = {"inputs": [{"name": t["name"], "shape": t["shape"], "dtype": t.get("dtype", "float32"),
                        "file": inputs[i]} for i, t in enumerate(meta["inputs"])],
            "outputs": [t["name"] for t in meta["outputs"]]}
    spec_path = os.path.join(work, "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    kiln = Server([exe, *inputs], f"{name} kiln host")
    ort = Server(["node", os.path.join(HERE, "ort_runner.js"), modules, model, spec_path],
                 f"{name} ORT runner")
    try:
        k_ms, o_ms, k_cpu, o_cpu = [], [], [], []
        for i in range(WARMUP + args.calls):
            # Alternate who goes first, so neither side always runs right after the other.
            if i % 2 == 0:
                k, o = kiln.time_call(), ort.time_call()
            else:
                o, k = ort.time_call(), kiln.time_call()
            if i >= WARMUP:
                k_ms.append(k[0])
                o_ms.append(o[0])
                k_cpu.append(k[1])
                o_cpu.append(o[1])
        kd, od = os.path.join(work, "out-kiln"), os.path.join(work, "out-ort")
        os.makedirs(kd, exist_ok=True)
        os.makedirs(od, exist_ok=True)
        kiln.ask(f"dump {kd}")
        ort.ask(f"dump {od}")
    finally:
        kiln.close()
        ort.close()
    row["kiln_ms"] = statistics.median(k_ms)
    row["ort_ms"] = statistics.median(o_ms)
    # The fastest call of each: the one least disturbed by other work on a shared machine.
    row["kiln_min_ms"] = min(k_ms)
    row["ort_min_ms"] = min(o_ms)
    row["kiln_ms_all"] = [round(x, 4) for x in k_ms]
    row["ort_ms_all"] = [round(x, 4) for x in o_ms]
    row["ratio"] = row["kiln_ms"] / row["ort_ms"]
    row["kiln_cpu_ms"] = statistics.median(k_cpu)
    row["ort_cpu_ms"] = statistics.median(o_cpu)
    row["cpu_ratio"] = row["kiln_cpu_ms"] / row["ort_cpu_ms"]
    # On CPU time, as the peak is: on a loaded machine wall time also counts the time slices the
    # scheduler gives other processes, which is no property of either library.
    row["kiln_gflops"] = row["flops"] / (row["kiln_cpu_ms"] * 1e-3) / 1e9
    row["ort_gflops"] = row["flops"] / (row["ort_cpu_ms"] * 1e-3) / 1e9
    row["kiln_peak_pct"] = 100 * row["kiln_gflops"] / peak
    row["ort_peak_pct"] = 100 * row["ort_gflops"] / peak
    row["max_abs_err"], row["max_rel_err"] = compare(kd, od, meta)
    row["mismatch"] = not (row["max_rel_err"] <= RTOL)
    if row["mismatch"]:
        log(f"perf: *** MISMATCH *** {name}: kiln vs ORT max rel error {row['max_rel_err']:.3g} "
            f"> {RTOL} (max abs {row['max_abs_err']:.3g})")

    if args.profile:
        try:
            profile_model(args, name, model, work, ident, meta, inputs, row)
        except Exception as e:  # the timing row stands without its layer table
            row["profile_error"] = str(e).splitlines()[0][:200]
            log(f"perf: {name}: --profile build failed: {e}")
    return row


def profile_model(args, name, model, work, ident, meta, inputs, row):
    """The --profile build: the ten slowest layers with their kernel into row["slowest"]."""
    pexe, _ = build_pair(args.kiln, model, os.path.join(work, "prof"), ident, args.target, True,
                         meta)
    host = Server([pexe, *inputs], f"{name} profiled host")
    try:
        for _ in range(WARMUP):
            host.time_call()
        lines = host.ask(f"profile {args.calls}", until="ok")
    finally:
        host.close()
    layers, whole = [], []
    for line in lines[:-1]:
        if line.startswith("c "):
            whole.append(int(line[2:]) / 1e6)
            continue
        idx, us, op, kernel, epi, lname = line[2:].split("\t", 5)
        layers.append({"index": int(idx), "median_us": float(us), "op": op, "kernel": kernel,
                       "epilogue": epi, "name": lname})
    row["profiled_sum_ms"] = sum(l["median_us"] for l in layers) / 1e3
    # The same calls' whole time: the nodes' sum against it shows what lies between nodes (and
    # the hook's cost); against the interleaved median, how the load changed between the runs.
    row["profiled_call_ms"] = statistics.median(whole)
    row["slowest"] = sorted(layers, key=lambda l: -l["median_us"])[:TOP_LAYERS]


# --- report -----------------------------------------------------------------------------------

def print_header(cpu, peak, isa, target, calls, out=sys.stdout):
    print(f"CPU: {cpu}; single-core FMA peak {peak:.1f} GFLOP/s ({isa}); kiln --target="
          f"{target}; ORT {ORT_VERSION} (graph optimization all, 1 intra-op + 1 inter-op "
          f"thread); {WARMUP} warm-up + {calls} interleaved calls each, medians\n", file=out)


def print_table(rows, out=sys.stdout):
    print("| model | kiln ms | ORT ms | kiln/ORT | kiln CPU ms | ORT CPU ms | CPU ratio | GFLOP "
          "| kiln GFLOP/s | ORT GFLOP/s | kiln % peak | ORT % peak | arena B | weights B "
          "| .rodata B | max abs err | max rel err |", file=out)
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|", file=out)
    for r in rows:
        if "error" in r:
            print(f"| {r['model']} | failed: {r['error']} |" + " |" * 15, file=out)
            continue
        flag = " **MISMATCH**" if r["mismatch"] else ""
        print(f"| {r['model']} | {r['kiln_ms']:.2f} | {r['ort_ms']:.2f} | {r['ratio']:.2f} "
              f"| {r['kiln_cpu_ms']:.2f} | {r['ort_cpu_ms']:.2f} | {r['cpu_ratio']:.2f} "
              f"| {r['flops'] / 1e9:.3f} | {r['kiln_gflops']:.1f} | {r['ort_gflops']:.1f} "
              f"| {r['kiln_peak_pct']:.1f} | {r['ort_peak_pct']:.1f} | {r['arena_bytes']} "
              f"| {r['weight_bytes']} | {r['rodata_bytes']} | {r['max_abs_err']:.2g} "
              f"| {r['max_rel_err']:.2g}{flag} |", file=out)


def print_layers(rows, out=sys.stdout):
    for r in rows:
        if "slowest" not in r:
            continue
        print(f"\n{r['model']}: the {len(r['slowest'])} slowest layers (--profile, median over "
              f"{r['calls']} calls; the layers' medians sum to {r['profiled_sum_ms']:.2f} ms, the "
              f"profiled call's median is {r['profiled_call_ms']:.2f} ms)\n", file=out)
        print("| # | node | op | kernel | epilogue | median µs | % of sum |", file=out)
        print("|--:|---|---|---|---|--:|--:|", file=out)
        for l in r["slowest"]:
            pct = 100 * l["median_us"] / 1e3 / r["profiled_sum_ms"] if r["profiled_sum_ms"] else 0
            print(f"| {l['index']} | `{l['name']}` | {l['op']} | {l['kernel']} "
                  f"| {l['epilogue'] or '-'} | {l['median_us']:.1f} | {pct:.1f} |", file=out)


def default_models():
    return export_zoo.DEFAULT_MODELS + [m for m in sweep.EXTRA_MODELS if m not in NOT_CNN]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kiln", help="the kiln binary")
    ap.add_argument("--work", help="scratch directory")
    ap.add_argument("--models", default=None,
                    help="comma-separated torchvision names (default: the zoo and sweep.py's CNNs)")
    ap.add_argument("--calls", type=int, default=50, help="timed calls per side (>= 50)")
    ap.add_argument("--target", default="native", help="kiln compile --target")
    ap.add_argument("--json", help="save the rows (all samples included) to this file")
    ap.add_argument("--cap-mb", type=float, default=150.0,
                    help="skip models with more weights (sweep.py's cap)")
    ap.add_argument("--no-profile", dest="profile", action="store_false",
                    help="skip the --profile build and the slowest-layer tables")
    ap.add_argument("--ort-cache", default=os.path.join(os.path.expanduser("~"), ".cache", "kiln",
                                                        "ort", ORT_VERSION))
    ap.add_argument("--keep", action="store_true",
                    help="keep each model's pairs and hosts in --work (default: deleted once its "
                         "row is done)")
    ap.add_argument("--tables", metavar="JSON",
                    help="print the tables of a saved --json file and measure nothing")
    args = ap.parse_args()
    if args.tables:
        with open(args.tables) as f:
            saved = json.load(f)
        print_header(saved["cpu"], saved["peak_gflops"], saved["peak_isa"], saved["target"],
                     saved["calls"])
        print_table(saved["rows"])
        print_layers(saved["rows"])
        return
    if not args.kiln or not args.work:
        ap.error("--kiln and --work are required (unless --tables)")
    if args.calls < 50:
        ap.error("--calls: expected at least 50 (the median of fewer calls is too noisy)")
    args.kiln = os.path.abspath(args.kiln)
    args.work = os.path.abspath(args.work)
    os.makedirs(args.work, exist_ok=True)
    models = args.models.split(",") if args.models else default_models()

    modules = ensure_ort(args.ort_cache)
    cpu, flags = cpu_info()
    isa, peak = fma_peak(args.work, flags)
    log(f"perf: {cpu}; single-core FMA peak {peak:.1f} GFLOP/s ({isa})")
    rows = []
    for name in models:
        if name not in export_zoo.DEFAULT_MODELS and not os.path.exists(os.path.join(
                export_zoo.default_cache_root(),
                export_zoo.cache_key(name, 13, 1, export_zoo.image_size(name)), "meta.json")):
            mb = sweep.weight_megabytes(name)
            if mb > args.cap_mb:
                log(f"perf: skipping {name}: {mb:.0f} MB of weights > {args.cap_mb:.0f} MB cap")
                continue
        log(f"perf: {name}")
        try:
            row = bench_model(args, name, modules, peak)
            row["calls"] = args.calls
        except Exception as e:  # one model's failure is a row, not the end of the bench
            row = {"model": name, "error": str(e).splitlines()[0][:200]}
            log(f"perf: {name} failed: {e}")
        rows.append(row)
        if not args.keep:  # a pair's source is ~2.7x its weights: 8 GB for a full run's builds
            shutil.rmtree(os.path.join(args.work, name), ignore_errors=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"cpu": cpu, "peak_isa": isa, "peak_gflops": peak,
                           "target": args.target, "calls": args.calls, "warmup": WARMUP,
                           "ort": ORT_VERSION, "rows": rows}, f, indent=1)
    print_header(cpu, peak, isa, args.target, args.calls)
    print_table(rows)
    print_layers(rows)


if __name__ == "__main__":
    main()
