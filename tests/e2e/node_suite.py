#!/usr/bin/python3
# The ONNX backend node suite through generated code (ctest e2e_node_suite). Every case of
# Debian's libonnx-testdata (DATA/<case>/model.onnx, test_data_set_N/{input,output}_K.pb) is
#   1. classified: excluded by the rule of `exclusion()` below, or run;
#   2. compiled with `kiln compile`: the inputs kiln lists as shape-deciding
#      (`kiln compile --list-shape-inputs`) are bound to the data set's values with --bind, as a
#      user of a static-shape model would; a refusal is `unsupported` (kiln's first line);
#   3. built: every pair under run_zoo's strict g++ flags, BATCH pairs linked into one host
#      (node_host.cpp.in, a table of NAME_run functions), all through one ninja file;
#   4. run on every data set (inputs converted from .pb to raw files with onnx.numpy_helper) and
#      compared with ONNX's reference outputs: exact shape and dtype, floats within
#      |got - want| <= ATOL + RTOL * |want| (NaN where the reference has NaN), integers and bools
#      exactly. A pass whose final IR has no node (the whole graph folded) is `folded`.
# The statuses are checked against node_suite_expected.txt: a regression (expected pass or folded,
# now not), an unexpected pass (--update rewrites the file), a wrong answer and any crash (kiln
# crash, a pair kiln accepted that does not build, a host that crashes) fail the run.
# --write-docs regenerates docs/ops.md (each ONNX op, its status and passing cases; the figures).
#
#   /usr/bin/python3 tests/e2e/node_suite.py --kiln build/compiler/kiln --work /tmp/nodes
import argparse
import collections
import concurrent.futures
import os
import re
import resource
import shutil
import subprocess
import sys
import time

import numpy as np
import onnx
import onnx.defs
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from run_zoo import (CXXFLAGS, c_ident, children_cpu, failed_sections, first_error,  # noqa: E402
                     first_line, kir_stats, run)

DEFAULT_DATA = "/usr/share/libonnx-testdata/data/node"
EXPECTED = os.path.join(HERE, "node_suite_expected.txt")
OPS_DOC = os.path.join(ROOT, "docs", "ops.md")
RTOL, ATOL = 1e-3, 1e-5
KILN_TIMEOUT = 120
HOST_TIMEOUT = 300
# Pairs per host binary: large enough that linking is rare, small enough that a crash costs little.
BATCH = 48

# kiln dtype names (the header's *_DTYPE_NAME) as numpy dtypes.
NP_DTYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "i8": np.int8,
             "u8": np.uint8, "i16": np.int16, "i32": np.int32, "i64": np.int64, "bool": np.bool_}

TRAINING_OPS = {"Adagrad", "Adam", "Momentum", "Gradient"}
RANDOM_OPS = {"Bernoulli", "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike"}
PASSING = ("pass", "folded")

# Cases that pass through kiln's reference semantics (every input bound, the graph folded at
# import: tests/unit/OnnxReferenceTest.cpp, and this runner's --bind-all) but not through generated
# code, each with the reason. A --bind-all run fails on any other such case.
REFERENCE_ONLY = {
    "test_averagepool_3d_default": "no 3-D pool kernel (1-D and 2-D only)",
    "test_maxpool_3d_default": "no 3-D pool kernel (1-D and 2-D only)",
    "test_convtranspose_3d": "no 3-D convolution kernel (1-D and 2-D only)",
    "test_maxpool_2d_uint8": "the pool kernels are f32 only",
    "test_maxpool_with_argmax_2d_precomputed_pads": "no pool kernel with the Indices output",
    "test_maxpool_with_argmax_2d_precomputed_strides": "no pool kernel with the Indices output",
    "test_cast_FLOAT16_to_DOUBLE": "generated code has no f16 inputs or outputs",
    "test_cast_FLOAT16_to_FLOAT": "generated code has no f16 inputs or outputs",
    "test_castlike_FLOAT16_to_DOUBLE_expanded": "generated code has no f16 inputs or outputs",
    "test_castlike_FLOAT16_to_FLOAT_expanded": "generated code has no f16 inputs or outputs",
    "test_reshape_allowzero_reordered": "an input with a 0 dimension is refused at import "
                                        "(static positive shapes); bound, it folds",
    "test_split_zero_size_splits": "an input with a 0 dimension is refused at import (static "
                                   "positive shapes); bound, it folds",
}


# ------------------------------------------------------------------------------------------------
# Reading a case


def value_kind(vi):
    """'' for a tensor of a non-string type, else what kind of value it is."""
    t = vi.type
    kind = t.WhichOneof("value")
    if kind == "tensor_type":
        return "string" if t.tensor_type.elem_type == onnx.TensorProto.STRING else ""
    return {"sequence_type": "sequence", "optional_type": "optional", "map_type": "map",
            "sparse_tensor_type": "sparse tensor"}.get(kind, kind or "untyped")


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


class Case:
    def __init__(self, name, data_root):
        self.name = name
        self.dir = os.path.join(data_root, name)
        self.model_path = os.path.join(self.dir, "model.onnx")
        self.expanded = "_expanded" in name
        self.status, self.detail = None, ""
        self.builds = []  # Build objects (one per distinct binding of shape inputs)
        m = onnx.load(self.model_path, load_external_data=False)
        self.model = m
        inits = {t.name for t in m.graph.initializer}
        self.inputs = [vi for vi in m.graph.input if vi.name not in inits]
        self.outputs = list(m.graph.output)
        self.ops = []  # distinct (domain, op_type) in graph order, Constant left out
        for n in m.graph.node:
            key = (n.domain if n.domain not in ("", "ai.onnx") else "", n.op_type)
            if n.op_type != "Constant" and key not in self.ops:
                self.ops.append(key)
        if not self.ops:
            self.ops = [("", "Constant")]
        self.datasets = sorted(
            (d for d in os.listdir(self.dir) if d.startswith("test_data_set_")),
            key=lambda d: int(d.rsplit("_", 1)[1]))

    def dataset_inputs(self, ds):
        """{input name: TensorProto path} of one data set, by graph order of the real inputs."""
        d = os.path.join(self.dir, ds)
        return {vi.name: os.path.join(d, f"input_{k}.pb") for k, vi in enumerate(self.inputs)
                if os.path.exists(os.path.join(d, f"input_{k}.pb"))}

    def dataset_outputs(self, ds):
        d = os.path.join(self.dir, ds)
        return [os.path.join(d, f"output_{k}.pb") for k in range(len(self.outputs))]


def exclusion(case):
    """The one rule for cases that do not count: what kiln does not set out to compile (training
    ops, training mode, random ops, and sequence-, optional-, map- or string-typed graph inputs
    and outputs). Returns the reason, or '' when the case counts."""
    for domain, op in case.ops:
        if op in TRAINING_OPS:
            return f"training op {op}"
        if op in RANDOM_OPS:
            return f"random op {op}"
    for vi in case.inputs + case.outputs:
        kind = value_kind(vi)
        if kind:
            return f"{kind}-typed {'input' if vi in case.inputs else 'output'} '{vi.name}'"
    for n in case.model.graph.node:
        for a in n.attribute:
            if a.name == "training_mode" and a.i == 1:
                return f"{n.op_type} training_mode=1"
        # Dropout's training_mode is an input (opset 12+): training when the data says true.
        if n.op_type == "Dropout" and len(n.input) > 2 and n.input[2]:
            for ds in case.datasets:
                path = case.dataset_inputs(ds).get(n.input[2])
                if path and bool(numpy_helper.to_array(load_pb(path)).reshape(-1)[0]):
                    return "Dropout training_mode=1"
    return ""


# ------------------------------------------------------------------------------------------------
# Compiling


def strip_paths(text, case):
    return text.replace(case.model_path, "model.onnx").replace(case.dir + os.sep, "")


def diagnostic(out, case):
    """kiln's diagnostic in one line: its first line, and the first problem when the first line
    only counts them ("cannot generate code for 'X': N problem(s)")."""
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    if not lines:
        return ""
    text = lines[0]
    if text.endswith("problem(s)") and len(lines) > 1:
        text += ": " + lines[1]
    return strip_paths(text, case)


def kiln_failed(rc):
    """True when kiln's exit is not one of its answers (0, or 1 with a diagnostic)."""
    return rc not in (0, 1)


HEADER_IO = re.compile(r'#define (?P<p>[A-Z0-9_]+)_(?P<kind>INPUT|OUTPUT)(?P<i>\d+)_(?P<f>NAME|SHAPE|'
                       r'DTYPE_NAME|SIZE_BYTES) (?P<v>.*)$')


def read_header(path):
    """The pair's inputs and outputs from NAME.h: lists of {name, shape, dtype, bytes}."""
    io = {"INPUT": {}, "OUTPUT": {}}
    with open(path) as f:
        for line in f:
            m = HEADER_IO.match(line.strip())
            if not m:
                continue
            # A scalar (rank 0) has no SHAPE line.
            e = io[m.group("kind")].setdefault(int(m.group("i")), {"shape": ()})
            v = m.group("v").strip()
            if m.group("f") == "NAME":
                e["name"] = v[1:-1]
            elif m.group("f") == "SHAPE":
                e["shape"] = tuple(int(x) for x in v.strip("{}").split(",") if x.strip())
            elif m.group("f") == "DTYPE_NAME":
                e["dtype"] = v[1:-1]
            else:
                e["bytes"] = int(v)
    return ([io["INPUT"][i] for i in sorted(io["INPUT"])],
            [io["OUTPUT"][i] for i in sorted(io["OUTPUT"])])


class Build:
    """One kiln compile of a case (one per distinct value of its bound inputs) and the data sets
    it runs."""

    def __init__(self, case, index, datasets, bind):
        self.case, self.datasets, self.bind = case, datasets, bind
        self.name = c_ident(case.name) + (f"_b{index}" if index else "")
        self.dir = None
        self.ok = False

    def compile(self, kiln, work):
        c = self.case
        self.dir = os.path.join(work, "cases", self.name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        gen = os.path.join(self.dir, "gen")
        cmd = [kiln, "compile", c.model_path, "-o", gen, "--name", self.name, "--emit=cpp,ir"]
        for name, path in sorted(self.bind.items()):
            cmd += ["--bind", f"{name}={path}"]
        rc, out, _ = run(cmd, KILN_TIMEOUT)
        if rc != 0:
            return ("crash" if kiln_failed(rc) else "unsupported",
                    diagnostic(out, c) or f"exit {rc}")
        header = os.path.join(gen, self.name + ".h")
        if not os.path.exists(header) or not os.path.exists(os.path.join(gen, self.name + ".cpp")):
            return "crash", "kiln exited 0 without writing the pair"
        self.inputs, self.outputs = read_header(header)
        self.nodes, _ = kir_stats(os.path.join(gen, self.name + ".kir"))
        if len(self.outputs) != len(c.outputs):
            return "wrong", (f"the pair has {len(self.outputs)} outputs, the model "
                             f"{len(c.outputs)}")
        # Raw inputs per data set, in the pair's input order (bound inputs are not among them).
        for ds in self.datasets:
            d = os.path.join(self.dir, ds)
            os.makedirs(d)
            given = c.dataset_inputs(ds)
            for k, t in enumerate(self.inputs):
                if t["name"] not in given:
                    return "wrong", f"{ds}: no data for the pair's input '{t['name']}'"
                a = numpy_helper.to_array(load_pb(given[t["name"]]))
                if np.dtype(NP_DTYPES[t["dtype"]]) != a.dtype or tuple(a.shape) != t["shape"]:
                    return "wrong", (f"input '{t['name']}': the pair takes {t['dtype']}"
                                     f"{list(t['shape'])}, the data is {a.dtype}{list(a.shape)}")
                np.ascontiguousarray(a).tofile(os.path.join(d, f"in{k}.bin"))
        self.ok = True
        return None


def plan_builds(case, kiln, bind_all=False):
    """The shape-deciding inputs kiln lists (every input with bind_all), and one Build per
    distinct value of them over the data sets. Returns (builds, None) or (None, (status,
    detail))."""
    names = []
    if bind_all:
        names = [vi.name for vi in case.inputs]
    else:
        rc, out, _ = run([kiln, "compile", case.model_path, "--list-shape-inputs"], KILN_TIMEOUT)
        if rc != 0:
            return None, ("crash" if kiln_failed(rc) else "unsupported",
                          diagnostic(out, case) or f"exit {rc}")
        for line in out.splitlines():
            # INPUT<TAB>NODE<TAB>OP<TAB>OPERAND<TAB>NAME (compiler/driver/CompileCommand.cpp)
            parts = line.split("\t")
            if len(parts) >= 4 and parts[0] not in names:
                names.append(parts[0])
    groups = collections.OrderedDict()
    for ds in case.datasets:
        given = case.dataset_inputs(ds)
        missing = [n for n in names if n not in given]
        if missing:
            return None, ("wrong", f"{ds} has no data for shape input '{missing[0]}'")
        key = tuple(open(given[n], "rb").read() for n in names)
        groups.setdefault(key, (ds, []))[1].append(ds)
    builds = []
    for i, (first_ds, dss) in enumerate(groups.values()):
        given = case.dataset_inputs(first_ds)
        builds.append(Build(case, i, dss, {n: given[n] for n in names}))
    return builds, None


def compile_case(case, kiln, work, bind_all=False):
    try:
        if bind_all:
            compile_bound(case, kiln, work)
        else:
            compile_steps(case, kiln, work)
    except Exception as e:  # a bug of this runner, reported with the case rather than lost
        case.status, case.detail = "error", f"node_suite.py: {type(e).__name__}: {e}"


def compile_bound(case, kiln, work):
    """--bind-all: every input bound, so the whole graph folds at import through kiln's reference
    semantics (what tests/unit/OnnxReferenceTest.cpp checks), and the pair copies constants."""
    builds, err = plan_builds(case, kiln, bind_all=True)
    for b in builds or []:
        err = err or b.compile(kiln, work)
    if err:
        case.status, case.detail = err
    else:
        case.builds = builds


def compile_steps(case, kiln, work):
    # Most cases have no shape-deciding input: compile them as they are, and ask kiln for the
    # list only when that fails (its first diagnostic need not be the one about a shape input).
    first = Build(case, 0, case.datasets, {})
    err = first.compile(kiln, work)
    if err and err[0] == "unsupported":
        builds, list_err = plan_builds(case, kiln)
        if list_err and list_err[0] != "unsupported":
            err = list_err
        elif builds and any(b.bind for b in builds):
            for b in builds:
                err = b.compile(kiln, work)
                if err:
                    break
    else:
        builds = [first]
    if err:
        case.status, case.detail = err
        return
    case.builds = builds


# ------------------------------------------------------------------------------------------------
# Building: every pair and every batch host in one ninja file


def q(p):
    return p.replace("$", "$$").replace(" ", "$ ").replace(":", "$:")


def write_host(path, builds):
    includes = [f'#include "{b.name}.h"' for b in builds]
    table = []
    for i, b in enumerate(builds):
        up = b.name.upper()
        ins = ", ".join(f"{up}_INPUT{k}_SIZE_BYTES" for k in range(len(b.inputs))) or "0"
        outs = ", ".join(f"{up}_OUTPUT{k}_SIZE_BYTES" for k in range(len(b.outputs))) or "0"
        table.append(f"const unsigned long long kIn{i}[] = {{{ins}}};")
        table.append(f"const unsigned long long kOut{i}[] = {{{outs}}};")
    table.append("const Entry kEntries[] = {")
    for i, b in enumerate(builds):
        up = b.name.upper()
        table.append(f'    {{"{b.name}", {b.name}_run, {up}_NUM_INPUTS, {up}_NUM_OUTPUTS, kIn{i}, '
                     f"kOut{i}}},")
    table.append("};")
    table.append(f"const int kNumEntries = {len(builds)};")
    with open(os.path.join(HERE, "node_host.cpp.in")) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("@INCLUDES@", "\n".join(includes)).replace("@TABLE@", "\n".join(table)))


def write_ninja(work, builds, batches):
    lines = ["# Generated by node_suite.py: every pair and every batch host in one ninja file.",
             f"cxxflags = {CXXFLAGS}",
             "rule cxx",
             "  command = g++ $cxxflags $incs -c $in -o $out",
             "  description = g++ $in",
             "rule link",
             "  command = g++ $in -lm -o $out",
             "  description = link $out"]
    for b in builds:
        b.obj = os.path.join(b.dir, b.name + ".o")
        lines.append(f"build {q(b.obj)}: cxx {q(os.path.join(b.dir, 'gen', b.name + '.cpp'))}")
    targets = []
    for i, batch in enumerate(batches):
        bdir = os.path.join(work, "hosts")
        os.makedirs(bdir, exist_ok=True)
        src = os.path.join(bdir, f"host{i}.cpp")
        write_host(src, batch)
        hobj = os.path.join(bdir, f"host{i}.o")
        binary = os.path.join(bdir, f"host{i}")
        incs = " ".join("-I" + q(os.path.join(b.dir, "gen")) for b in batch)
        lines += [f"build {q(hobj)}: cxx {q(src)}", f"  incs = {incs}",
                  f"build {q(binary)}: link {q(hobj)} " + " ".join(q(b.obj) for b in batch)]
        targets.append(q(binary))
    lines.append("default " + " ".join(targets) if targets else "default")
    path = os.path.join(work, "build.ninja")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def make_batches(builds):
    return [builds[i:i + BATCH] for i in range(0, len(builds), BATCH)]


def build_all(work, builds, jobs):
    """Builds every pair; a pair that does not build is a crash of its case and leaves its batch,
    which is then linked again without it. Returns the batches that linked."""
    batches = make_batches(builds)
    while batches:
        path = write_ninja(work, [b for batch in batches for b in batch], batches)
        rc, out, _ = run(["ninja", "-f", path, "-C", work, f"-j{jobs}", "-k", "0"], 7200)
        if rc == 0:
            return batches
        sections = failed_sections(out)
        broken = [b for batch in batches for b in batch if not os.path.exists(b.obj)]
        for b in broken:
            lines = [line for t, sec in sections.items() if t.startswith(b.dir + os.sep)
                     for line in sec]
            b.case.status = "crash"
            b.case.detail = "pair does not build: " + (
                first_error(lines, os.path.join(b.dir, "gen")) or "no object")
        if not broken:
            raise RuntimeError("ninja failed without a broken pair:\n" + out[-3000:])
        builds = [b for batch in batches for b in batch if b not in broken]
        batches = make_batches(builds)
    return []


# ------------------------------------------------------------------------------------------------
# Running and comparing


def run_batch(work, index, batch):
    """Runs every (build, data set) of a batch; returns {(build name, ds): error or ''}."""
    hdir = os.path.join(work, "hosts")
    manifest = os.path.join(hdir, f"host{index}.manifest")
    entries = [(i, b, ds) for i, b in enumerate(batch) for ds in b.datasets]
    with open(manifest, "w") as f:
        for i, b, ds in entries:
            f.write(f"{i} {os.path.join(b.dir, ds)}\n")
    result, first = {}, 0
    while first < len(entries):
        rc, out, _ = run([os.path.join(hdir, f"host{index}"), manifest, str(first)], HOST_TIMEOUT)
        started, done, last_error = None, set(), {}
        for line in out.splitlines():
            p = line.split()
            if p[:1] == ["begin"]:
                started = int(p[1])
            elif p[:1] == ["end"]:
                n = int(p[1])
                done.add(n)
                _, b, ds = entries[n]
                result[(b.name, ds)] = "" if p[2] == "0" else last_error.get(n, f"status {p[2]}")
            elif p[:1] == ["error"] and started is not None:
                last_error[started] = "host: " + line[len("error "):]
        if rc == 0 and len(done) == len(entries) - first:
            break
        if started is None or started in done:
            raise RuntimeError(f"host{index} failed outside a case (exit {rc}): {first_line(out)}")
        _, b, ds = entries[started]
        result[(b.name, ds)] = f"crash: host died (exit {rc}) running {ds}"
        first = started + 1
    return result


def compare(got, want):
    """'' when got matches want (an ndarray from the reference), else the first difference."""
    if got.dtype != want.dtype:
        return f"dtype {got.dtype} versus expected {want.dtype}"
    if got.shape != want.shape:
        return f"shape {list(got.shape)} versus expected {list(want.shape)}"
    if want.dtype.kind in "f":
        g, w = got.astype(np.float64), want.astype(np.float64)
        nan_w, nan_g = np.isnan(w), np.isnan(g)
        bad = nan_w != nan_g
        fin = ~nan_w & ~nan_g
        with np.errstate(invalid="ignore"):
            inf = fin & (np.isinf(w) | np.isinf(g))
            bad |= inf & (g != w)
            close = np.abs(g - w) <= ATOL + RTOL * np.abs(w)
        bad |= fin & ~inf & ~close
    else:
        bad = got != want
    if np.any(bad):
        i = int(np.flatnonzero(bad.reshape(-1))[0])
        return (f"element {i} of {want.size}: {got.reshape(-1)[i]!r} versus expected "
                f"{want.reshape(-1)[i]!r} ({int(np.count_nonzero(bad))} differ)")
    return ""


def check_outputs(b, ds):
    c = b.case
    d = os.path.join(b.dir, ds)
    for k, (t, ref) in enumerate(zip(b.outputs, c.dataset_outputs(ds))):
        want = numpy_helper.to_array(load_pb(ref))
        got = np.fromfile(os.path.join(d, f"out{k}.bin"), dtype=NP_DTYPES[t["dtype"]])
        if got.size != int(np.prod(t["shape"], dtype=np.int64)):
            return f"output {k}: {got.size} values for shape {list(t['shape'])}"
        diff = compare(got.reshape(t["shape"]), want)
        if diff:
            return f"{ds} output {k} '{c.outputs[k].name}': {diff}"
    return ""


# ------------------------------------------------------------------------------------------------
# Expectations and reports


def read_expected(path):
    """{case: (status, detail)} from the expectations file (`CASE STATUS[: DETAIL]` lines)."""
    exp = {}
    if not os.path.exists(path):
        return exp
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            name, _, rest = line.partition(" ")
            status, _, detail = rest.partition(": ")
            exp[name] = (status.strip(), detail)
    return exp


def write_expected(path, cases):
    with open(path, "w") as f:
        f.write("# The ONNX node suite through generated code: one line per case of libonnx-testdata,\n"
                "# `CASE STATUS[: DETAIL]`. STATUS is pass, folded (passes; the whole graph folded\n"
                "# to constants), unsupported (kiln's diagnostic, first line) or excluded (the rule\n"
                "# of node_suite.py's exclusion()). Written by\n"
                "#   /usr/bin/python3 tests/e2e/node_suite.py --kiln KILN --work DIR --update\n")
        for c in sorted(cases, key=lambda c: c.name):
            f.write(f"{c.name} {c.status}" + (f": {c.detail}" if c.status in
                                               ("unsupported", "excluded") else "") + "\n")


def op_category(domain, op):
    if domain and domain != "ai.onnx.ml":
        return domain.split(".")[-1]
    try:
        s = onnx.defs.get_schema(op, domain)
    except Exception:
        return "other"
    parts = s.file.replace("\\", "/").split("/")
    return parts[parts.index("defs") + 1] if "defs" in parts and parts.index("defs") + 1 < len(
        parts) - 1 else "other"


STATUSES = ("pass", "folded", "unsupported", "excluded", "fail")


def figure_status(c):
    """The status a case counts as in the figures: anything but pass, folded, unsupported and
    excluded is a fail."""
    return c.status if c.status in STATUSES[:4] else "fail"


def figures(cases):
    n = collections.Counter(figure_status(c) for c in cases)
    applicable = len(cases) - n["excluded"]
    return n, applicable


def summary_lines(cases, title):
    rows = collections.defaultdict(list)
    for c in cases:
        rows[op_category(*c.ops[0])].append(c)
    out = [f"| {title} | cases | pass | folded | unsupported | excluded | fail | passing / applicable |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for cat in sorted(rows) + ["**all**"]:
        cs = cases if cat == "**all**" else rows[cat]
        n, appl = figures(cs)
        out.append(f"| {cat} | {len(cs)} | {n['pass']} | {n['folded']} | {n['unsupported']} | "
                   f"{n['excluded']} | {n['fail']} | "
                   f"{n['pass'] + n['folded']} / {appl} |")
    return out


def headline(cases):
    n, appl = figures(cases)
    return (f"{n['pass'] + n['folded']} of {appl} applicable cases pass "
            f"({n['pass']} pass, {n['folded']} folded to constants; {len(cases) - appl} excluded)")


def write_docs(path, cases):
    plain = [c for c in cases if not c.expanded]
    expanded = [c for c in cases if c.expanded]
    by_op = collections.defaultdict(list)
    for c in plain:
        for key in c.ops:
            by_op[key].append(c)
    all_ops = {(s.domain, s.name) for s in onnx.defs.get_all_schemas() if s.domain in ("",)}
    all_ops |= set(by_op)
    lines = [
        "# ONNX operator coverage",
        "",
        "Generated by `tests/e2e/node_suite.py --write-docs` from the ONNX backend node suite",
        "(Debian's libonnx-testdata) compiled by kiln, built and run as generated C++ and compared",
        "with ONNX's reference outputs (ctest `e2e_node_suite`). Do not edit by hand.",
        "",
        "A case *passes* when every output of every data set matches (exact shape and dtype; floats",
        f"within {ATOL:g} + {RTOL:g}·|expected|, NaN where expected; integers and bools exactly);",
        "*folded* cases pass with a graph that folded to constants at import (every input that",
        "decides a shape is bound to its data, as a static-shape model's user would with `--bind`).",
        "*Excluded* cases are outside what kiln compiles: training ops (Adagrad, Adam, Momentum,",
        "Gradient), training_mode=1, Bernoulli and Random*, sequence-, optional- or string-typed",
        "inputs and outputs. Every other case that does not pass counts as a failure, including",
        "*unsupported* ones (kiln refuses them with a diagnostic, listed in",
        "`tests/e2e/node_suite_expected.txt`).",
        "",
        f"**Headline: {headline(plain)}.**",
        f"The `_expanded` cases (the same tests with a function op expanded into its body) are",
        f"counted apart: {headline(expanded)}.",
        "",
        "## By category (the ONNX source folder of the op's schema)",
        "",
        *summary_lines(plain, "category"),
        "",
        "`_expanded` cases:",
        "",
        *summary_lines(expanded, "category"),
        "",
        "## Through the reference semantics only",
        "",
        "These cases pass when every input is bound and the graph folds at import through kiln's",
        "reference semantics (`tests/unit/OnnxReferenceTest.cpp`; `node_suite.py --bind-all`),",
        "but not through generated code:",
        "",
        *[f"- `{name}`: {why}" for name, why in sorted(REFERENCE_ONLY.items())],
        "",
        "## By operator",
        "",
        "An op's status: *supported* when all its applicable cases pass, *partial* when some do,",
        "*unsupported* when none does, *excluded* when all its cases are, *no case* when the suite",
        "has none. A case with several ops counts for each.",
        "",
        "| op | category | status | pass/applicable | passing cases |",
        "|---|---|---|---:|---|",
    ]
    for domain, op in sorted(all_ops, key=lambda k: (op_category(*k), k[1])):
        cs = by_op.get((domain, op), [])
        n, appl = figures(cs)
        good = n["pass"] + n["folded"]
        status = ("no case" if not cs else "excluded" if appl == 0 else
                  "supported" if good == appl else "partial" if good else "unsupported")
        names = ", ".join(c.name[len("test_"):] + (" (folded)" if c.status == "folded" else "")
                          for c in sorted(cs, key=lambda c: c.name) if c.status in PASSING)
        label = op if not domain else f"{domain}.{op}"
        lines.append(f"| {label} | {op_category(domain, op)} | {status} | "
                     f"{good}/{appl if cs else 0} | {names} |")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# ------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description="the ONNX node suite through kiln's generated code")
    ap.add_argument("--kiln", required=True, help="path to the kiln binary")
    ap.add_argument("--work", required=True, help="scratch directory (wiped)")
    ap.add_argument("--data", default=DEFAULT_DATA, help="the node test folders")
    ap.add_argument("--cases", default="", help="regular expression: run only matching cases "
                    "(expectations of the others are not checked)")
    ap.add_argument("--expected", default=EXPECTED)
    ap.add_argument("--update", action="store_true", help="rewrite the expectations file")
    ap.add_argument("--write-docs", nargs="?", const=OPS_DOC, default=None,
                    help=f"write the op coverage page (default {OPS_DOC})")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--bind-all", action="store_true",
                    help="bind every input (the graph folds through kiln's reference semantics, "
                    "as in OnnxReferenceTest); prints figures only, checks no expectations")
    ap.add_argument("--list-passing", help="write the names of the passing cases to this file")
    args = ap.parse_args()

    t0, cpu0 = time.time(), children_cpu()
    kiln = os.path.abspath(args.kiln)
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if not os.path.isdir(args.data):
        print(f"SKIPPED: no ONNX node test data at {args.data}")
        return 77
    names = sorted(d for d in os.listdir(args.data)
                   if os.path.exists(os.path.join(args.data, d, "model.onnx"))
                   and re.search(args.cases, d))
    cases = [Case(n, args.data) for n in names]
    todo = []
    for c in cases:
        why = exclusion(c)
        if why:
            c.status, c.detail = "excluded", why
        else:
            todo.append(c)

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(lambda c: compile_case(c, kiln, work, args.bind_all), todo))
    t_compile = time.time() - t0
    builds = [b for c in todo if c.status is None for b in c.builds]
    batches = build_all(work, builds, args.jobs)
    t_build = time.time() - t0 - t_compile
    results = {}
    for i, batch in enumerate(batches):
        results.update(run_batch(work, i, batch))
    for c in todo:
        if c.status is not None:
            continue
        errors = []
        for b in c.builds:
            for ds in b.datasets:
                r = results.get((b.name, ds))
                if r is None:
                    errors.append(("crash", f"{ds} did not run"))
                elif r.startswith("crash:"):
                    errors.append(("crash", r[len("crash: "):]))
                elif r:
                    errors.append(("wrong", f"{ds}: {r}"))
                else:
                    diff = check_outputs(b, ds)
                    if diff:
                        errors.append(("wrong", diff))
        if errors:
            c.status, c.detail = errors[0]
        else:
            c.status = "folded" if all(b.nodes == 0 for b in c.builds) else "pass"

    if args.list_passing:
        with open(args.list_passing, "w") as f:
            f.write("".join(f"{c.name}\n" for c in cases if c.status in PASSING))
    # Against the expectations.
    expected = read_expected(args.expected)
    problems = []
    for c in cases:
        exp = expected.get(c.name)
        if c.status in ("wrong", "crash", "error"):
            problems.append(f"{c.name}: {c.status.upper()}: {c.detail}")
        elif args.bind_all:
            # Every case the reference semantics pass must pass through generated code too, or
            # be listed with its reason.
            normal = expected.get(c.name, ("?", ""))[0]
            if c.status in PASSING and normal not in PASSING and c.name not in REFERENCE_ONLY:
                problems.append(f"{c.name}: passes with every input bound, but is {normal} "
                                "through generated code and not in REFERENCE_ONLY")
            continue
        elif exp is None:
            problems.append(f"{c.name}: new case ({c.status}); run with --update")
        elif exp[0] != c.status:
            kind = ("regression" if exp[0] in PASSING else
                    "unexpected pass" if c.status in PASSING else "status changed")
            problems.append(f"{c.name}: {kind}: expected {exp[0]}, got {c.status}"
                            + (f" ({c.detail})" if c.detail else "")
                            + ("; run with --update" if kind != "regression" else ""))
    if not args.cases and not args.bind_all:
        for name in sorted(set(expected) - {c.name for c in cases}):
            problems.append(f"{name}: expected {expected[name][0]}, but the suite has no such case")

    plain = [c for c in cases if not c.expanded]
    expanded = [c for c in cases if c.expanded]
    for title, cs in (("cases", plain), ("_expanded cases", expanded)):
        n, appl = figures(cs)
        print(f"{title}: {len(cs)}: " + ", ".join(f"{s} {n[s]}" for s in STATUSES)
              + f"; {headline(cs)}")
    by_status = collections.Counter(c.status for c in cases)
    print("statuses: " + ", ".join(f"{s} {k}" for s, k in sorted(by_status.items())))
    if args.update and args.bind_all:
        print("not updating the expectations from a --bind-all run")
    elif args.update:
        if any(c.status in ("wrong", "crash", "error") for c in cases):
            print("not updating the expectations: wrong answers or crashes remain")
        elif args.cases:
            print("not updating the expectations from a subset (--cases)")
        else:
            write_expected(args.expected, cases)
            print(f"wrote {args.expected}")
            problems = []
    if args.write_docs and not args.bind_all:
        write_docs(args.write_docs, cases)
        print(f"wrote {args.write_docs}")
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu = children_cpu() - cpu0 + own.ru_utime + own.ru_stime
    print(f"{len(builds)} pairs in {len(batches)} hosts; wall {time.time() - t0:.0f} s "
          f"(kiln {t_compile:.0f} s, build {t_build:.0f} s), CPU {cpu:.0f} s (user+sys, children "
          f"included) with -j{args.jobs}")
    for p in problems:
        print("FAIL " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
