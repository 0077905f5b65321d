#!/usr/bin/python3
# The build matrix (ctest e2e_build_matrix): generated code must be right under every compiler and
# flag set a user may pick, not only under the g++ -O2 of the zoo test. A cell is (compiler, C++
# flags): g++ and clang++-14 x -O2, -O3, -Os x no -march, -march=x86-64-v3, -march=native. In
# every cell one ninja run builds
#   - the kernel unit tests (tests/unit/*KernelTest.cpp: kernels instantiated on random data at
#     awkward shapes, compared with plain reference loops), compiled with the cell's compiler and
#     flags and linked with kiln's libraries from the CMake build (the selector tests in those
#     files need them), and
#   - the pairs of a few zoo models (mnasnet0_5, shufflenet_v2_x1_0, mobilenet_v3_small: depthwise,
#     grouped and 1x1 convolutions, channel shuffle, SE blocks, hardswish), each compiled once by
#     kiln at the default -O2 pipeline and built per cell with the strict flags of run_zoo.py,
#     then run and compared with torch (max|kiln - torch| <= 1e-3 * max|torch|).
# Target cells compile the pairs with `kiln compile --target=x86-64-v3|v4` and build them (and the
# kernel tests, with that target's kiln_target.h) with the matching -march, g++ and clang++-14 at
# -O2 and -O3: the ISA code kiln chose must be right, not only the portable default.
# Two more cells build with -ffast-math: the generated code must refuse them with its #error
# (kiln's kernels rely on IEEE NaN and infinity), so those cells pass when the build fails with it.
# A cell the machine cannot run (compiler missing, flags rejected, CPU without the ISA) prints
# `SKIPPED: <cell> (<reason>)` and is not counted as a pass: the script then exits 77, which ctest
# reports as skipped unless another cell failed (exit 1).
#
#   /usr/bin/python3 tests/e2e/build_matrix.py --kiln build/compiler/kiln --build build --work /tmp/bm
import argparse
import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_zoo  # noqa: E402

MODELS = ["mnasnet0_5", "shufflenet_v2_x1_0", "mobilenet_v3_small"]
COMPILERS = ["g++", "clang++-14"]
OPT_LEVELS = ["-O2", "-O3", "-Os"]
MARCHES = ["", "-march=x86-64-v3", "-march=native"]
# kiln targets given their own cells, each built with its -march at these levels.
TARGETS = ["x86-64-v3", "x86-64-v4"]
TARGET_OPT_LEVELS = ["-O2", "-O3"]
# The pair's flags without the optimization level (run_zoo.CXXFLAGS with its -O2 taken out).
PAIR_FLAGS = " ".join(f for f in run_zoo.CXXFLAGS.split() if not f.startswith("-O"))
FAST_MATH_ERROR = "kiln: generated code needs IEEE-754 floating point"
KERNEL_TESTS = ["ComputeKernelTest", "ElementwiseKernelTest", "MovementKernelTest"]
SKIP = 77

# Each named -march level (and ISA flag) and the CPU features (as /proc/cpuinfo spells them) that a binary built
# for it may use: x86-64-v3 is AVX2, FMA, BMI1/2, F16C, LZCNT (cpuinfo: abm) and MOVBE.
# -march=native is by definition what the host has.
X86_64_V3_FEATURES = ["avx2", "fma", "bmi1", "bmi2", "f16c", "abm", "movbe"]
MARCH_CPU_FEATURES = {"-march=x86-64-v3": X86_64_V3_FEATURES,
                      "-march=x86-64-v4": X86_64_V3_FEATURES + ["avx512f", "avx512bw", "avx512cd",
                                                                "avx512dq", "avx512vl"],
                      "-mavx2": ["avx2"], "-mfma": ["fma"]}


def cpu_flags():
    """The host CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


class Cell:
    def __init__(self, cxx, flags, fast_math=False, extra_models=(), target=None):
        self.cxx, self.flags, self.fast_math = cxx, flags, fast_math
        self.extra_models = list(extra_models)  # models built in this cell only
        self.target = target  # kiln --target of the cell's pairs and kernel tests; None: default
        self.name = f"{cxx} {flags}".strip() + (f" [--target={target}]" if target else "")
        self.key = re.sub(r"[^0-9A-Za-z]+", "_", self.name).strip("_")
        self.skip = None  # reason, when the machine cannot run this cell
        self.results = {}  # column -> (ok, text)

    @property
    def ok(self):
        return self.skip is None and all(ok for ok, _ in self.results.values())


def cells():
    out = [Cell(cxx, " ".join(f for f in (opt, march) if f))
           for cxx in COMPILERS for opt in OPT_LEVELS for march in MARCHES]
    out += [Cell(cxx, f"{opt} -march={t}", target=t)
            for t in TARGETS for cxx in COMPILERS for opt in TARGET_OPT_LEVELS]
    out += [Cell(cxx, "-O3 -ffast-math", fast_math=True) for cxx in COMPILERS]
    # The flags g++ 12.2 miscompiled mobilenet_v2 under (the depthwise row fill of conv.h).
    out.append(Cell("g++", "-O3 -mavx2 -mfma", extra_models=["mobilenet_v2"]))
    return out


def probe(cell, work, host_flags):
    """Why the machine cannot run the cell's binaries, or None: the compiler must exist and accept
    the flags, and for a named -march level the CPU must have that level's features."""
    if not shutil.which(cell.cxx):
        return f"{cell.cxx} not found"
    src = os.path.join(work, "probe.cpp")
    with open(src, "w") as f:
        f.write("int main() { return 0; }\n")
    exe = os.path.join(work, f"probe_{cell.key}")
    p = subprocess.run([cell.cxx, *cell.flags.split(), src, "-o", exe], capture_output=True,
                       text=True)
    if p.returncode != 0:
        return f"{cell.cxx} {cell.flags}: {run_zoo.first_line(p.stderr)}"
    feats = [f for flag in cell.flags.split() for f in MARCH_CPU_FEATURES.get(flag, [])]
    missing = [f for f in feats if f not in host_flags]
    if missing:
        return f"this CPU lacks {', '.join(missing)}"
    if subprocess.run([exe]).returncode != 0:
        return f"a {cell.flags} binary does not run on this machine"
    return None


def kernel_test_build_info(build):
    """(compile flags, link line) of kiln's unit-test binary from the CMake build: the defines and
    include paths from compile_commands.json, the libraries from the ninja file's link edge (the
    kernel test files also hold selector tests, which need kiln's libraries)."""
    with open(os.path.join(build, "compile_commands.json")) as f:
        commands = json.load(f)
    cmd = next(e["command"] for e in commands if e["file"].endswith("ComputeKernelTest.cpp"))
    args = shlex.split(cmd)
    keep, skip_next = [], False
    for i, a in enumerate(args[1:], 1):
        if skip_next:
            skip_next = False
            continue
        if a in ("-o", "-c"):
            skip_next = True
        elif a.startswith(("-D", "-I", "-std")) and a != "-DNDEBUG":
            keep.append(a)
        elif a == "-isystem":
            keep += [a, args[i + 1]]
            skip_next = True
    with open(os.path.join(build, "build.ninja")) as f:
        text = f.read()
    m = re.search(r"^build tests/unit/kiln_unit_tests: .*?\n((?:  .*\n)*)", text, re.M)
    libs = m and re.search(r"^  LINK_LIBRARIES = (.*)$", m.group(1), re.M)
    if not libs:
        raise RuntimeError(f"no link line for kiln_unit_tests in {build}/build.ninja")
    link = [a if os.path.isabs(a) or a.startswith("-") else os.path.join(build, a)
            for a in shlex.split(libs.group(1))]
    return keep, link + ["-lpthread"]


def q(p):
    return p.replace("$", "$$").replace(" ", "$ ").replace(":", "$:")


def cell_cases(cell, models, cases):
    """The prepared cases a cell builds: every matrix model plus the cell's own extras, compiled
    for the cell's target."""
    return [cases[(m, cell.target)] for m in models + [e for e in cell.extra_models if e not in models]]


def cell_test_flags(cell, test_flags):
    """The kernel tests' flags for a cell: a target cell includes its target's kiln_target.h
    (tests/unit/KernelTargetHeader.cpp wrote one per target) instead of the generic one."""
    if not cell.target:
        return test_flags
    return [f.replace(os.sep.join(["targets", "generic"]), os.sep.join(["targets", cell.target]))
            for f in test_flags]


def write_ninja(matrix, models, cases, work, src_root, test_flags, test_link):
    lines = [
        "# Generated by build_matrix.py: every cell's kernel tests and model pairs in one ninja run.",
        f"cflags = {run_zoo.CFLAGS}",
        "rule cxx",
        "  command = $cxx $flags -c $in -o $out",
        "  description = $cxx $flags $in",
        # A fast-math cell's pair must fail with the #error: the edge succeeds (and writes the
        # compiler's output) either way; the script checks the text.
        "rule cxx_expect_error",
        "  command = $cxx $flags -c $in -o $out.o > $out 2>&1; true",
        "  description = $cxx $flags $in (must be refused)",
        *run_zoo.NINJA_CC_LINK_RULES,
        "rule link_tests",
        "  command = g++ $in $libs -o $out",
        "  description = link $out",
    ]
    test_link_str = " ".join(test_link)
    for c in cases.values():
        lines += [f"build {q(os.path.join(c.dir, 'host.o'))}: cc {q(os.path.join(c.dir, 'host.c'))}",
                  f"  inc = {q(os.path.join(c.dir, 'gen'))}"]
    for cell in matrix:
        if cell.skip:
            continue
        d = os.path.join(work, cell.key)
        os.makedirs(d, exist_ok=True)
        if cell.fast_math:
            for c in cell_cases(cell, models, cases):
                lines += [f"build {q(os.path.join(d, c.name + '.log'))}: cxx_expect_error "
                          f"{q(os.path.join(c.dir, 'gen', c.name + '.cpp'))}",
                          f"  cxx = {cell.cxx}", f"  flags = {PAIR_FLAGS} {cell.flags}"]
            continue
        objs = []
        for t in KERNEL_TESTS:
            o = os.path.join(d, t + ".o")
            lines += [f"build {q(o)}: cxx {q(os.path.join(src_root, 'tests', 'unit', t + '.cpp'))}",
                      f"  cxx = {cell.cxx}",
                      f"  flags = {' '.join(cell_test_flags(cell, test_flags))} -Wall -Wextra "
                      f"-Werror {cell.flags}"]
            objs.append(q(o))
        lines += [f"build {q(os.path.join(d, 'kernel_tests'))}: link_tests {' '.join(objs)}",
                  f"  libs = {test_link_str}"]
        for c in cell_cases(cell, models, cases):
            o = os.path.join(d, c.name + ".o")
            lines += [f"build {q(o)}: cxx {q(os.path.join(c.dir, 'gen', c.name + '.cpp'))}",
                      f"  cxx = {cell.cxx}", f"  flags = {PAIR_FLAGS} {cell.flags}",
                      f"build {q(os.path.join(d, c.name + '_host'))}: link "
                      f"{q(os.path.join(c.dir, 'host.o'))} {q(o)}"]
    path = os.path.join(work, "build.ninja")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def check_kernel_tests(cell, d, ninja_sections):
    exe = os.path.join(d, "kernel_tests")
    if not os.path.exists(exe):
        mine = {os.path.join(d, t + ".o") for t in KERNEL_TESTS} | {exe}
        lines = [ln for t, sec in ninja_sections.items() if t in mine for ln in sec]
        return False, "build failed: " + (run_zoo.first_error(lines, d) or "no binary")
    rc, out, _ = run_zoo.run([exe, "--gtest_brief=1"], run_zoo.RUN_TIMEOUT)
    m = re.search(r"\[  PASSED  \] (\d+) tests?", out)
    if rc == 0 and m:
        return True, f"{m.group(1)} ok"
    failed = re.findall(r"\[  FAILED  \] (\S+)", out)
    return False, "failed: " + (", ".join(sorted(set(failed))[:3]) or f"exit {rc}")


def check_model(cell, d, case):
    if cell.fast_math:
        log = open(os.path.join(d, case.name + ".log"), errors="replace").read()
        if FAST_MATH_ERROR in log:
            return True, "refused"
        if os.path.exists(os.path.join(d, case.name + ".log.o")):
            return False, "built, but must stop with its #error"
        return False, "failed without the #error: " + run_zoo.first_error(log.splitlines(), d)
    c = copy.copy(case)
    c.failures, c.blocked, c.row = [], False, dict(case.row)
    c.dir, c.binary = d, os.path.join(d, case.name + "_host")
    if not os.path.exists(c.binary):
        return False, "build failed"
    run_zoo.execute(c)
    if c.ok:
        return True, f"{c.row['rel_err']:.1e}"
    return False, c.detail


def print_table(matrix, columns):
    width = max(len(c.name) for c in matrix)
    hdr = f"{'cell':{width}}  " + "  ".join(f"{col:>18}" for col in columns) + "  status"
    print(hdr)
    print("-" * len(hdr))
    for cell in matrix:
        if cell.skip:
            print(f"{cell.name:{width}}  " + "  ".join(f"{'-':>18}" for _ in columns) + "  SKIPPED")
            continue
        vals = []
        for col in columns:
            ok, text = cell.results.get(col, (True, "-"))
            vals.append(f"{text if ok else 'FAIL':>18}")
        print(f"{cell.name:{width}}  " + "  ".join(vals) + ("  ok" if cell.ok else "  FAIL"))


def main():
    ap = argparse.ArgumentParser(description="kiln's generated code under every compiler and flag set")
    ap.add_argument("--kiln", required=True, help="path to the kiln binary")
    ap.add_argument("--build", required=True, help="kiln's CMake build directory (kernel tests link "
                    "with its libraries)")
    ap.add_argument("--work", required=True, help="scratch directory")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--cells", default="", help="only cells whose name contains this text")
    ap.add_argument("--cache", default=None, help="export cache (default ~/.cache/kiln/zoo)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    t0 = time.time()
    kiln, work, build = (os.path.abspath(p) for p in (args.kiln, args.work, args.build))
    src_root = os.path.dirname(os.path.dirname(HERE))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    matrix = [c for c in cells() if args.cells in c.name]
    host_flags = cpu_flags()
    for cell in matrix:
        cell.skip = probe(cell, work, host_flags)
        if cell.skip:
            print(f"SKIPPED: {cell.name} ({cell.skip})", flush=True)

    models = [m for m in args.models.split(",") if m]
    every = models + sorted({e for c in matrix if not c.skip for e in c.extra_models} - set(models))
    # One kiln compilation per (model, target) that a runnable cell builds.
    cases = {}
    for cell in matrix:
        if cell.skip:
            continue
        for m in models + cell.extra_models:
            if (m, cell.target) not in cases:
                c = run_zoo.Case(m, 13, 1, key=f"{m}_{cell.target}" if cell.target else None)
                if cell.target:
                    c.kiln_args = [f"--target={cell.target}"]
                cases[(m, cell.target)] = c
    for c in cases.values():
        run_zoo.prepare(c, kiln, os.path.join(work, "models"), args.cache,
                        check_determinism=False, check_roundtrip=False)
        if not c.runnable:
            print(f"build_matrix: {c.model}: {c.status}: {c.detail}")
            return 1
    test_flags, test_link = kernel_test_build_info(build)
    path = write_ninja(matrix, models, cases, work, src_root, test_flags, test_link)
    t_build = time.time()
    rc, out, _ = run_zoo.run(["ninja", "-f", path, "-C", work, f"-j{args.jobs}", "-k", "0"], 7200)
    t_build = time.time() - t_build
    sections = run_zoo.failed_sections(out)

    columns = ["kernel tests"] + every
    for cell in matrix:
        if cell.skip:
            continue
        d = os.path.join(work, cell.key)
        if cell.fast_math:
            cell.results["kernel tests"] = (True, "n/a")
        else:
            cell.results["kernel tests"] = check_kernel_tests(cell, d, sections)
        for c in cell_cases(cell, models, cases):
            cell.results[c.model] = check_model(cell, d, c)

    print()
    print_table(matrix, columns)
    failed = [c for c in matrix if not c.skip and not c.ok]
    for cell in failed:
        for col, (ok, text) in cell.results.items():
            if not ok:
                print(f"FAIL: {cell.name}: {col}: {text}")
    skipped = [c for c in matrix if c.skip]
    passed = len(matrix) - len(failed) - len(skipped)
    print(f"\n{passed}/{len(matrix)} cells passed, {len(failed)} failed, {len(skipped)} skipped; "
          f"model columns: rel err vs torch; wall time {time.time() - t0:.0f} s "
          f"(ninja {t_build:.0f} s at -j{args.jobs})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"cell": c.name, "skipped": c.skip,
                        "results": {k: {"ok": ok, "text": t} for k, (ok, t) in c.results.items()}}
                       for c in matrix], f, indent=1)
    if failed:
        return 1
    return SKIP if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
