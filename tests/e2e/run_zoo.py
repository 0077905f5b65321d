#!/usr/bin/python3
# End-to-end model-zoo test (ctest e2e_zoo). For each torchvision model exported by export_zoo.py:
#   1. `kiln compile` (timed), emitting the C++ pair and the IR (.kir + sidecar);
#   2. determinism: a second `kiln compile` into another directory must give byte-identical files;
#   3. IR round-trip: `kiln opt NAME.kir` must re-print the .kir and its sidecar byte for byte;
#   4. one build.ninja for all models (each g++ of a pair wrapped in /usr/bin/time for build time
#      and peak RSS), run once with ninja -j2, plus a C99 host per model (host.c.in);
#   5. run each binary and compare with torch: max|kiln - torch| <= 1e-3 * max|torch|.
# Prints one table row per model and exits non-zero on any failure.
#
#   /usr/bin/python3 tests/e2e/run_zoo.py --kiln build/compiler/kiln --work /tmp/zoo
import argparse
import filecmp
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_zoo  # noqa: E402

CXXFLAGS = "-std=c++17 -O2 -Wall -Wextra -Werror -fno-exceptions -fno-rtti"
CFLAGS = "-std=c99 -O2 -Wall -Wextra -Werror"
RTOL = 1e-3
KILN_TIMEOUT = 600
RUN_TIMEOUT = 300


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd, timeout, cpu=None):
    """Runs cmd, returns (returncode, combined output, wall seconds); if `cpu` is a dict, stores
    the command's user+sys seconds in cpu["s"] (the machine may be shared, so wall time can
    include waiting for a core)."""
    c0 = children_cpu()
    t0 = time.time()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        out, rc = p.stdout.decode(errors="replace"), p.returncode
    except subprocess.TimeoutExpired:
        out, rc = f"timed out after {timeout} s", -1
    if cpu is not None:
        cpu["s"] = children_cpu() - c0
    return rc, out, time.time() - t0


def c_ident(name):
    return re.sub(r"[^0-9A-Za-z_]", "_", name)


def dtype_bytes(dtype):
    return np.dtype(dtype).itemsize


def tensor_bytes(t):
    return int(np.prod(t["shape"])) * dtype_bytes(t["dtype"])


def onnx_weight_bytes(model_path):
    """Bytes of the exported model's initializers (the weights before kiln folds or repacks them)."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(model_path)
    return sum(numpy_helper.to_array(t).nbytes for t in m.graph.initializer)


def kir_stats(kir_path):
    """(node count, constant bytes) of a .kir (syntax: ir/Printer.cpp). Every statement of the
    graph body (up to its closing brace) that is not an input, const or output line is a node. Constant bytes count each
    sidecar entry `sidecar<0xHASH, SIZE>` once per hash; inline `dense<...>` constants are small
    by construction and left out."""
    nodes = 0
    sizes = {}
    with open(kir_path, errors="replace") as f:
        for line in f:
            if line.startswith("}"):
                break  # the graph ends here; a `memory` block (the arena plan) may follow
            s = line.strip()
            if not s or s.startswith(("//", "graph ", "}", "input ", "output ")):
                continue
            if s.startswith("const "):
                m = re.search(r"sidecar<(0x[0-9a-fA-F]+),\s*(\d+)>", s)
                if m:
                    sizes[m.group(1)] = int(m.group(2))
                continue
            nodes += 1
    return nodes, sum(sizes.values())


def files_identical(a, b, names):
    """Names of the files among `names` that differ (or are missing) between dirs a and b."""
    bad = []
    for n in names:
        pa, pb = os.path.join(a, n), os.path.join(b, n)
        if not (os.path.exists(pa) and os.path.exists(pb) and filecmp.cmp(pa, pb, shallow=False)):
            bad.append(n)
    return bad


def write_host(path, name, meta):
    ins, outs = meta["inputs"], meta["outputs"]
    buf = [f"#define NUM_IN {len(ins)}", f"#define NUM_OUT {len(outs)}"]
    for i, t in enumerate(ins):
        buf.append(f"static unsigned char in{i}[{tensor_bytes(t)}] __attribute__((aligned(64)));")
    for i, t in enumerate(outs):
        buf.append(f"static unsigned char out{i}[{tensor_bytes(t)}] __attribute__((aligned(64)));")
        buf.append(f"static unsigned char first{i}[{tensor_bytes(t)}];")
    buf.append("static void *inputs[] = {%s};" % ", ".join(f"in{i}" for i in range(len(ins))))
    buf.append("static void *outputs[] = {%s};" % ", ".join(f"out{i}" for i in range(len(outs))))
    buf.append("static void *firstOutputs[] = {%s};"
               % ", ".join(f"first{i}" for i in range(len(outs))))
    buf.append("static const size_t inBytes[] = {%s};"
               % ", ".join(str(tensor_bytes(t)) for t in ins))
    buf.append("static const size_t outBytes[] = {%s};"
               % ", ".join(str(tensor_bytes(t)) for t in outs))
    usage = " ".join([f"in{i}.bin" for i in range(len(ins))] + [f"out{i}.bin" for i in range(len(outs))])
    with open(os.path.join(HERE, "host.c.in")) as f:
        text = f.read()
    text = (text.replace("@BUFFERS@", "\n".join(buf)).replace("@USAGE@", usage)
            .replace("@UPPER@", name.upper()).replace("@NAME@", name))
    with open(path, "w") as f:
        f.write(text)


class Case:
    """One model through the pipeline. Failures accumulate; a blocking failure (no pair, no binary)
    stops the later steps, a non-blocking one (determinism, IR round-trip) does not."""

    def __init__(self, model, opset, batch, name=None, key=None, level=2):
        self.model, self.opset, self.batch, self.level = model, opset, batch, level
        # The default level keeps the plain model name; other levels get an _O<n> suffix so that
        # several builds of one model live side by side in one ninja file.
        self.name = name or (c_ident(model) + ("" if level == 2 else f"_O{level}"))
        self.key = key or self.name  # the case's directory under the work dir
        self.failures = []  # (status, detail)
        self.blocked = False
        self.row = {"model": model, "opset": opset, "batch": batch, "level": level}
        self.kiln_args = []  # extra `kiln compile` arguments (the build matrix's --target)

    def fail(self, status, detail="", blocking=True):
        self.failures.append((status, detail))
        self.blocked = self.blocked or blocking

    @property
    def ok(self):
        return not self.failures

    @property
    def runnable(self):
        return not self.blocked

    @property
    def status(self):
        return self.failures[0][0] if self.failures else "ok"

    @property
    def detail(self):
        return "; ".join(f"{s}: {d}" if i else d for i, (s, d) in enumerate(self.failures))


def prepare(case, kiln, work, cache_root, check_determinism=True, check_roundtrip=True):
    """Export, kiln compile, determinism and IR round-trip. Leaves gen/NAME.{h,cpp} for the build."""
    d = os.path.join(work, case.key)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    case.dir = d
    try:
        case.src = export_zoo.ensure_exported(case.model, case.opset, case.batch, cache_root)
    except Exception as e:
        case.fail("export-failed", f"{type(e).__name__}: {first_line(str(e))}")
        return
    with open(os.path.join(case.src, "meta.json")) as f:
        case.meta = json.load(f)
    model = os.path.join(case.src, "model.onnx")
    case.row["weight_bytes_onnx"] = onnx_weight_bytes(model)

    gen = os.path.join(d, "gen")
    cmd = [kiln, "compile", model, "-o", gen, "--name", case.name, "--emit=cpp,ir",
           f"-O{case.level}", *case.kiln_args]
    cpu = {}
    rc, out, secs = run(cmd, KILN_TIMEOUT, cpu)
    case.row["kiln_s"] = secs
    case.row["kiln_cpu_s"] = cpu["s"]
    if rc != 0:
        case.fail("kiln-failed", first_line(out) or f"exit {rc}")
        case.log = "\n".join(out.splitlines()[:40])
        return
    produced = [f"{case.name}.h", f"{case.name}.cpp", f"{case.name}.kir"]
    missing = [n for n in produced if not os.path.exists(os.path.join(gen, n))]
    if missing:
        case.fail("kiln-output-missing", ", ".join(missing))
        return
    case.row["cpp_bytes"] = os.path.getsize(os.path.join(gen, f"{case.name}.cpp"))
    kir = os.path.join(gen, f"{case.name}.kir")
    sidecar = kir + ".bin"
    case.row["nodes"], case.row["weight_bytes"] = kir_stats(kir)
    gen_files = sorted(os.listdir(gen))
    if case.level >= 2:
        leftovers = unfused_nodes(kir)
        if leftovers:
            case.fail("not-optimized", "final IR keeps " + "; ".join(leftovers[:5]), False)

    if check_determinism:
        gen2 = os.path.join(d, "gen2")
        rc, out, _ = run([kiln, "compile", model, "-o", gen2, "--name", case.name,
                          "--emit=cpp,ir", f"-O{case.level}"], KILN_TIMEOUT)
        if rc != 0:
            case.fail("nondeterministic", "second compile failed: " + first_line(out), False)
        else:
            bad = files_identical(gen, gen2, sorted(set(gen_files) | set(os.listdir(gen2))))
            if bad:
                case.fail("nondeterministic", "differs between two compiles: " + ", ".join(bad),
                          False)
        case.row["deterministic"] = not bad if rc == 0 else False

    if check_roundtrip:
        re_dir = os.path.join(d, "roundtrip")
        os.makedirs(re_dir)
        re_kir = os.path.join(re_dir, f"{case.name}.kir")
        rc, out, _ = run([kiln, "opt", kir, "-o", re_kir], KILN_TIMEOUT)
        if rc != 0:
            case.fail("ir-roundtrip", "kiln opt failed: " + first_line(out), False)
        else:
            names = [f"{case.name}.kir"] + ([f"{case.name}.kir.bin"] if os.path.exists(sidecar)
                                             else [])
            bad = files_identical(gen, re_dir, names)
            if bad:
                case.fail("ir-roundtrip", "re-printed IR differs: " + ", ".join(bad), False)
        case.row["roundtrip"] = rc == 0 and not bad

    write_host(os.path.join(d, "host.c"), case.name, case.meta)


NODE_LINE = re.compile(r'^\s*(?P<results>%.*?) = (?P<op>[A-Za-z]+) "(?P<name>(?:[^"\\]|\\.)*)" \((?P<operands>[^)]*)\)')
VALUE_REF = re.compile(r'%(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9_.]+)')
ALWAYS_GONE = {"BatchNormalization", "Identity", "Dropout"}
FUSABLE_ACTIVATIONS = {"Relu", "Clip", "LeakyRelu", "HardSigmoid", "HardSwish", "Sigmoid", "Tanh",
                       "Gelu", "Elu", "Selu", "Softplus", "Sqrt", "Exp", "Log", "Abs", "Neg",
                       "Reciprocal", "Erf", "Floor", "Ceil"}
# Conv-like ops and the f32 elementwise ops that carry a fused chain (all values in the zoo are
# f32 once the shape computations are folded).
EPILOGUE_PRODUCERS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Pow",
                      "PRelu"} | FUSABLE_ACTIVATIONS


def unfused_nodes(kir_path):
    """What the -O2 pipeline should have removed but the final IR still has: BatchNormalization,
    Identity, Dropout, and activations whose operand comes from a Conv/Gemm/MatMul or an
    elementwise op that has no other user (those belong in the producer's epilogue)."""
    producers, uses, nodes = {}, {}, []
    outputs = set()
    with open(kir_path) as f:
        for line in f:
            if line.strip().startswith("output "):
                outputs.update(VALUE_REF.findall(line))
            m = NODE_LINE.match(line)
            if not m:
                continue
            results = VALUE_REF.findall(m.group("results"))
            operands = VALUE_REF.findall(m.group("operands"))
            nodes.append((m.group("op"), m.group("name"), operands))
            for r in results:
                producers[r] = m.group("op")
            for o in operands:
                uses[o] = uses.get(o, 0) + 1
    bad = []
    for op, name, operands in nodes:
        if op in ALWAYS_GONE:
            bad.append(f"{op} '{name}'")
        elif op in FUSABLE_ACTIVATIONS and operands:
            x = operands[0]
            if producers.get(x) in EPILOGUE_PRODUCERS and uses.get(x) == 1 and x not in outputs:
                bad.append(f"{op} '{name}' after a {producers[x]}")
    return bad


# The host's C compile and the link, shared with memory_proofs.py's build file.
NINJA_CC_LINK_RULES = [
    "rule cc",
    "  command = gcc $cflags -I$inc -c $in -o $out",
    "  description = gcc $in",
    "rule link",
    "  command = g++ $in -lm -o $out",
    "  description = link $out",
]


def write_ninja(cases, work, extra_cxxflags=""):
    lines = [
        "# Generated by run_zoo.py: every model's pair and host in one ninja invocation.",
        f"cxxflags = {CXXFLAGS} {extra_cxxflags}".rstrip(),
        f"cflags = {CFLAGS}",
        "rule cxx",
        "  command = /usr/bin/time -f '%e %U %S %M' -o $out.time g++ $cxxflags -c $in -o $out",
        "  description = g++ $in",
        *NINJA_CC_LINK_RULES,
    ]
    targets = []
    for c in cases:
        if not c.runnable:
            continue
        q = lambda p: p.replace("$", "$$").replace(" ", "$ ").replace(":", "$:")  # noqa: E731
        gen = os.path.join(c.dir, "gen")
        model_o = os.path.join(c.dir, f"{c.name}.o")
        host_o = os.path.join(c.dir, "host.o")
        c.binary = os.path.join(c.dir, f"{c.name}_host")
        lines += [
            f"build {q(model_o)}: cxx {q(os.path.join(gen, c.name + '.cpp'))}",
            f"build {q(host_o)}: cc {q(os.path.join(c.dir, 'host.c'))}",
            f"  inc = {q(gen)}",
            f"build {q(c.binary)}: link {q(host_o)} {q(model_o)}",
        ]
        targets.append(q(c.binary))
    lines.append("default " + " ".join(targets))
    path = os.path.join(work, "build.ninja")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, bool(targets)


def failed_sections(ninja_out):
    """Ninja's output split per failed edge: {output path: the lines ninja printed for it}."""
    sections, current = {}, None
    for line in ninja_out.splitlines():
        if line.startswith("FAILED: "):
            current = line[len("FAILED: "):].split()[0]
            sections[current] = []
        elif re.match(r"^\[\d+/\d+\] ", line) or line.startswith("ninja: "):
            current = None
        elif current is not None:
            sections[current].append(line)
    return sections


def first_error(lines, strip_dir):
    for line in lines:
        if re.search(r"\berror:", line):
            return line.replace(strip_dir + os.sep, "").strip()
    return ""


def build_all(cases, work, jobs, extra_cxxflags=""):
    path, any_target = write_ninja(cases, work, extra_cxxflags)
    if not any_target:
        return
    rc, out, secs = run(["ninja", "-f", path, "-C", work, f"-j{jobs}", "-k", "0"], 7200)
    sections = failed_sections(out)
    for c in cases:
        if not c.runnable:
            continue
        tfile = os.path.join(c.dir, f"{c.name}.o.time")
        if os.path.exists(tfile):
            parts = open(tfile).read().split()
            # /usr/bin/time writes "Command exited with non-zero status N" first on failure.
            if len(parts) >= 4:
                try:
                    c.row["gxx_s"] = float(parts[-4])
                    c.row["gxx_cpu_s"] = float(parts[-3]) + float(parts[-2])
                    c.row["gxx_rss_mb"] = int(parts[-1]) / 1024.0
                except ValueError:
                    pass
        if not os.path.exists(c.binary):
            mine = [lines for target, lines in sections.items() if target.startswith(c.dir + os.sep)]
            lines = [line for sec in mine for line in sec]
            c.fail("build-failed", first_error(lines, os.path.join(c.dir, "gen"))
                   or (f"ninja exit {rc}" if rc else "no binary"))
            # Skip the command line (first line of each section); cut template-heavy lines.
            c.log = "\n".join(line[:240] for line in lines[1:40])


def execute(case):
    d = case.dir
    ins = [os.path.join(case.src, "input.bin")]
    outs = [os.path.join(d, "output.bin")]
    rc, out, secs = run([case.binary] + ins + outs, RUN_TIMEOUT)
    case.row["run_s"] = secs
    if rc != 0:
        case.fail("run-failed", f"exit {rc}: {first_line(out)}")
        return
    m = re.search(r"arena (\d+)", out)
    if m:
        case.row["arena"] = int(m.group(1))
    got = np.fromfile(outs[0], dtype=np.float32)
    want = np.fromfile(os.path.join(case.src, "expected.bin"), dtype=np.float32)
    if got.shape != want.shape:
        case.fail("wrong-size", f"{got.size} values, expected {want.size}")
        return
    err = float(np.max(np.abs(got.astype(np.float64) - want)))
    scale = float(np.max(np.abs(want)))
    case.row["max_abs_err"] = err
    case.row["rel_err"] = err / scale if scale > 0 else float("inf")
    if not np.all(np.isfinite(got)):
        case.fail("mismatch", "non-finite outputs")
    elif not err <= RTOL * scale:
        case.fail("mismatch", f"max|kiln-torch| {err:.3g} > {RTOL:g}*max|torch| ({scale:.3g})")


def fmt(v, spec):
    width = int(re.match(r"\d*", spec).group() or 0)
    return "-".rjust(width) if v is None else format(v, spec)


def print_table(cases, file=sys.stdout):
    hdr = (f"{'model':20} {'-O':>2} {'nodes':>5} {'kiln s':>7} {'kiln cpu':>8} {'g++ s':>7} {'g++ cpu':>7} {'g++ MB':>7} "
           f"{'src B/wB':>8} "
           f"{'arena B':>10} {'max abs err':>11} {'rel err':>9}  status")
    print(hdr, file=file)
    print("-" * len(hdr), file=file)
    for c in cases:
        r = c.row
        wb = r.get("weight_bytes") or r.get("weight_bytes_onnx")
        ratio = r["cpp_bytes"] / wb if r.get("cpp_bytes") and wb else None
        status = c.status + (f": {c.detail}" if c.detail else "")
        print(f"{c.model:20} {c.level:2d} {fmt(r.get('nodes'), '5d')} {fmt(r.get('kiln_s'), '7.2f')} "
              f"{fmt(r.get('kiln_cpu_s'), '8.2f')} "
              f"{fmt(r.get('gxx_s'), '7.2f')} {fmt(r.get('gxx_cpu_s'), '7.2f')} "
              f"{fmt(r.get('gxx_rss_mb'), '7.0f')} "
              f"{fmt(ratio, '8.2f')} {fmt(r.get('arena'), '10d')} "
              f"{fmt(r.get('max_abs_err'), '11.3g')} {fmt(r.get('rel_err'), '9.2g')}  {status}",
              file=file)


def finish(cases, json_path):
    """Prints the failures' logs and the pass count, writes the JSON rows; the exit status."""
    failed = [c for c in cases if not c.ok]
    for c in failed:
        if getattr(c, "log", None):
            print(f"\n--- {c.model}: {c.status} (first lines)\n{c.log.rstrip()}")
    if json_path:
        with open(json_path, "w") as f:
            json.dump([dict(c.row, status=c.status, detail=c.detail) for c in cases], f, indent=1)
    print(f"\n{len(cases) - len(failed)}/{len(cases)} models passed")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description="kiln end-to-end model zoo")
    ap.add_argument("--kiln", required=True, help="path to the kiln binary")
    ap.add_argument("--work", required=True, help="scratch directory (wiped per model)")
    ap.add_argument("--models", default=",".join(export_zoo.DEFAULT_MODELS))
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--cache", default=None, help="export cache (default ~/.cache/kiln/zoo)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--levels", default="2",
                    help="optimization levels every model is compiled at (e.g. 2,0)")
    ap.add_argument("--small-levels", default="",
                    help="further levels, only for --small-models (e.g. 1,3)")
    ap.add_argument("--small-models", default="mobilenet_v3_small,squeezenet1_1")
    ap.add_argument("--extra-cxxflags", default="",
                    help="appended to the pair's g++ flags, for triage only (e.g. "
                         "-Wno-error=SOMETHING); the ctest uses the strict flags")
    args = ap.parse_args()

    kiln = os.path.abspath(args.kiln)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    levels = [int(x) for x in args.levels.split(",") if x]
    small_levels = [int(x) for x in args.small_levels.split(",") if x]
    models = [m for m in args.models.split(",") if m]
    cases = [Case(m, args.opset, args.batch, level=lv) for lv in levels for m in models]
    cases += [Case(m, args.opset, args.batch, level=lv) for lv in small_levels
              for m in args.small_models.split(",") if m in models]
    for c in cases:
        # Determinism and the IR round-trip are properties of kiln, checked once per model.
        first = c.level == levels[0]
        prepare(c, kiln, work, args.cache, check_determinism=first, check_roundtrip=first)
        print(f"run_zoo: {c.model} -O{c.level}: compiled ({c.status}{': ' + c.detail if c.detail else ''})",
              flush=True)
    build_all(cases, work, args.jobs, args.extra_cxxflags)
    for c in cases:
        if c.runnable:
            execute(c)
    print()
    print_table(cases)
    print(f"\nwall time {time.time() - t0:.0f} s; kiln s / kiln cpu: wall / user+sys seconds of "
          f"`kiln compile`;\ng++ s: wall seconds of the pair's .cpp under "
          f"ninja -j{args.jobs}, g++ cpu: its user+sys seconds, g++ MB: its peak RSS;\nsource bytes per weight byte = NAME.cpp size / "
          f"bytes of the large constants in the emitted .kir (ONNX initializer bytes if none)")
    return finish(cases, args.json)


if __name__ == "__main__":
    sys.exit(main())
