#!/usr/bin/python3
# Cortex-M firmware test (ctest e2e_cross_firmware): kiln-generated models run on emulated
# microcontrollers and are compared with torch. For each model of export_tiny.py (ResNet-8, the
# anomaly-detection autoencoder and a DS-CNN, after MLPerf Tiny) and each target
#   cortex-m4  Cortex-M4F, QEMU machine mps2-an386, -mfpu=fpv4-sp-d16
#   cortex-m7  Cortex-M7,  QEMU machine mps2-an500, -mfpu=fpv5-d16
# it compiles the model with `kiln compile --name model` at -O2 and -O0 (--levels; -O0 runs
# activations, residual adds and the autoencoder's BatchNorm as kernels of their own: torch's export
# already folds BatchNorm into convolutions), writes model_input.h (torch's input as
# exact hexadecimal float literals), builds examples/firmware (startup.c, run_model.cpp, the
# machine's linker script) with arm-none-eabi-g++ -O2 (--opt) and the strict flags through one
# ninja file, links against newlib-nano with no system calls at all (so nothing that allocates or
# does I/O through the C library can link), runs the ELF under qemu-system-arm with semihosting,
# parses the printed output bits and compares them with torch's output at run_zoo.py's
# tolerance (max|kiln - torch| <= 1e-3 * max|torch|). It also reports, per model and target, the ELF's
# .text/.rodata/.data/.bss, the .text of everything outside the model's object (startup, the
# harness, C library members, from the linker map), the largest -fstack-usage frame of the model and
# the stack high-water mark measured on the emulated chip (startup.c's paint), and fails an image for
# the single-precision Cortex-M4F that links libgcc's software double-precision routines.
# Exits 77 with "SKIPPED: ..." when the ARM toolchain or qemu-system-arm is missing (ctest's
# SKIP_RETURN_CODE), non-zero on any failure.
#
#   /usr/bin/python3 tests/e2e/cross_firmware.py --kiln build/compiler/kiln --work /tmp/cross-fw
import argparse
import json
import os
import re
import shutil
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_tiny  # noqa: E402
import run_zoo  # noqa: E402

SKIP = 77
FIRMWARE = os.path.normpath(os.path.join(HERE, "..", "..", "examples", "firmware"))
# double_fpu: whether the FPU does double precision; where it does not, libgcc emulates it.
TARGETS = {
    "cortex-m4": {"machine": "mps2-an386", "cpu": "cortex-m4", "ld": "mps2-an386.ld",
                  "flags": "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16",
                  "double_fpu": False},
    "cortex-m7": {"machine": "mps2-an500", "cpu": "cortex-m7", "ld": "mps2-an500.ld",
                  "flags": "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16",
                  "double_fpu": True},
}
# libgcc's software double-precision routines (arithmetic, comparisons, conversions): an f32
# model that links one on a single-precision FPU promotes to double somewhere in a kernel, which
# costs tens of cycles per operation there.
SOFT_DOUBLE = re.compile(r"^__([a-z]+df[a-z0-9]*|"
                         r"aeabi_(d[a-z0-9]+|f2d|i2d|ui2d|l2d|ul2d|cdcmp[a-z]*|cdrcmp[a-z]*))$")
# The generated pair and the harness build under the same strict flags as on the host.
# The optimization level comes from --opt (default -O2).
CXXFLAGS = "-std=c++17 -Wall -Wextra -Werror -fno-exceptions -fno-rtti -ffunction-sections -fdata-sections"
CFLAGS = "-std=c11 -Wall -Wextra -Werror -ffunction-sections -fdata-sections"
# -nostartfiles: startup.c is the whole start-up; nano.specs without nosys/rdimon: newlib-nano's
# string and math functions but no system-call stubs, so malloc (which needs _sbrk) cannot link.
LDFLAGS = f"-nostartfiles --specs=nano.specs -L{FIRMWARE} -Wl,--gc-sections"
TOOLS = ["arm-none-eabi-g++", "arm-none-eabi-gcc", "arm-none-eabi-size", "arm-none-eabi-nm",
         "qemu-system-arm", "ninja"]
QEMU_TIMEOUT = 120


def qemu_command(target, elf):
    t = TARGETS[target]
    # -nographic with -serial/-monitor none: no window, nothing reads the terminal; semihosting
    # output goes to stdout and the program's exit (SYS_EXIT_EXTENDED) is QEMU's exit status.
    return ["qemu-system-arm", "-M", t["machine"], "-cpu", t["cpu"], "-nographic", "-serial",
            "none", "-monitor", "none", "-semihosting", "-kernel", elf]


class Build:
    """One model at one kiln level on one target, with run_zoo.Case's failure bookkeeping."""

    def __init__(self, model, level, target, kiln_target=False):
        suffix = "" if level == 2 else f"_O{level}"
        self.case = run_zoo.Case(model, export_tiny.OPSET, 1, name="model",
                                 key=f"{model}{suffix}-{target}", level=level)
        self.model, self.level, self.target = model, level, target
        # With --kiln-target each chip has its own pair (kiln --target=CHIP); else one generic
        # pair per model and level serves every chip.
        self.kiln_args = [f"--target={target}"] if kiln_target else []
        self.gen_key = model + suffix + (f"-gen-{target}" if kiln_target else "")
        self.row = self.case.row
        self.row["target"] = target


class KilnFailed(Exception):
    pass


def prepare_model(model, level, key, kiln, work, cache, kiln_args=()):
    """Export, kiln compile and model_input.h, once per model and level; returns (gen dir, export
    dir, kiln seconds). Raises KilnFailed when kiln does, anything else when the export does."""
    src = export_tiny.ensure_exported(model, cache)
    shutil.rmtree(os.path.join(work, key), ignore_errors=True)
    gen = os.path.join(work, key, "gen")
    rc, out, secs = run_zoo.run([kiln, "compile", os.path.join(src, "model.onnx"), "-o", gen,
                                 "--name", "model", f"-O{level}", *kiln_args],
                                run_zoo.KILN_TIMEOUT)
    if rc != 0:
        raise KilnFailed(run_zoo.first_line(out) or f"exit {rc}")
    x = np.fromfile(os.path.join(src, "input.bin"), dtype=np.float32)
    with open(os.path.join(gen, "model_input.h"), "w") as f:
        f.write(f"// Generated by cross_firmware.py: the input torch saw ({src}/input.bin).\n")
        f.write("static const float kModelInput[] = {\n")
        # float.hex of the float32 value (exact as a double) with an f suffix: an exact literal.
        f.write(",\n".join(float(v).hex() + "f" for v in x.tolist()))
        f.write("\n};\n")
    return gen, src, secs


def write_ninja(builds, work, opt):
    q = lambda p: p.replace("$", "$$").replace(" ", "$ ").replace(":", "$:")  # noqa: E731
    lines = ["# Generated by cross_firmware.py: every model on every Cortex-M target."]
    for name, t in TARGETS.items():
        v = name.replace("-", "_")
        lines += [
            f"rule cxx_{v}",
            f"  command = arm-none-eabi-g++ {t['flags']} {opt} {CXXFLAGS} -fstack-usage $incs -c $in "
            "-o $out",
            f"  description = arm-none-eabi-g++ ({name}) $in",
            f"rule cc_{v}",
            f"  command = arm-none-eabi-gcc {t['flags']} {opt} {CFLAGS} -c $in -o $out",
            f"  description = arm-none-eabi-gcc ({name}) $in",
            f"rule link_{v}",
            f"  command = arm-none-eabi-g++ {t['flags']} {LDFLAGS} -T {t['ld']} "
            f"-Wl,-Map=$out.map $in -lm -o $out",
            f"  description = link ({name}) $out",
        ]
        lines.append(f"build {q(os.path.join(work, 'startup-' + name + '.o'))}: cc_{v} "
                     f"{q(os.path.join(FIRMWARE, 'startup.c'))}")
    targets = []
    for b in builds:
        c = b.case
        if not c.runnable:
            continue
        v = b.target.replace("-", "_")
        c.dir = os.path.join(work, c.key)
        shutil.rmtree(c.dir, ignore_errors=True)
        os.makedirs(c.dir)
        b.model_o = os.path.join(c.dir, "model.o")
        b.su = os.path.join(c.dir, "model.su")
        b.harness_o = os.path.join(c.dir, "run_model.o")
        b.startup_o = os.path.join(work, f"startup-{b.target}.o")
        b.elf = os.path.join(c.dir, "app.elf")
        lines += [
            f"build {q(b.model_o)}: cxx_{v} {q(os.path.join(b.gen, 'model.cpp'))}",
            f"build {q(b.harness_o)}: cxx_{v} {q(os.path.join(FIRMWARE, 'run_model.cpp'))}",
            f"  incs = -I{q(b.gen)} -I{q(FIRMWARE)}",
            f"build {q(b.elf)}: link_{v} {q(b.startup_o)} {q(b.harness_o)} {q(b.model_o)}",
        ]
        targets.append(q(b.elf))
    lines.append("default " + " ".join(targets))
    path = os.path.join(work, "build.ninja")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, bool(targets)


def section_sizes(elf):
    out = run_zoo.run(["arm-none-eabi-size", "-A", elf], 60)[1]
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].startswith("."):
            sizes[parts[0]] = int(parts[1])
    return sizes


MAP_INPUT = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")


def sizes_by_origin(map_path):
    """{output section: {file: bytes}} of the linked image from the GNU ld map file, where a file
    is an object or `archive(member)`; .vectors is counted as .text."""
    sizes, out_section, pending = {}, None, None
    in_map = False
    with open(map_path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("Linker script and memory map"):
                in_map = True
                continue
            if not in_map:
                continue
            m = re.match(r"^(\.\S+)", line)
            if m:
                out_section = ".text" if m.group(1) == ".vectors" else m.group(1)
                continue
            # An input section whose name is too long has its address, size and file on the next line.
            m = re.match(r"^ (\.\S+)$", line)
            if m:
                pending = m.group(1)
                continue
            m = MAP_INPUT.match(line)
            name = m and (m.group(1) or pending)
            if name and name.startswith(".") and out_section:
                per = sizes.setdefault(out_section, {})
                per[m.group(4)] = per.get(m.group(4), 0) + int(m.group(3), 16)
            pending = None
    return sizes


def largest_frame(su_path):
    best = (0, "-")
    with open(su_path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            m = re.match(r"^.*?:\d+:\d+:(.*)$", parts[0])
            if len(parts) == 3 and m and int(parts[1]) > best[0]:
                best = (int(parts[1]), m.group(1).split("(")[0].split()[-1].split("::")[-1])
    return best


def measure(b):
    sizes = section_sizes(b.elf)
    r = b.row
    r["text"] = sizes.get(".vectors", 0) + sizes.get(".text", 0)
    for key in ("rodata", "data", "bss", "stack"):
        r[key] = sizes.get("." + key, 0)
    origins = sizes_by_origin(b.elf + ".map")
    for sec in ("text", "rodata", "data", "bss"):
        per = origins.get("." + sec, {})
        r[f"{sec}_model"] = per.get(b.model_o, 0)
        r[f"{sec}_startup"] = per.get(b.startup_o, 0)
        r[f"{sec}_harness"] = per.get(b.harness_o, 0)
        r[f"{sec}_lib"] = sum(v for k, v in per.items() if "(" in k)  # archive members
    r["text_other"] = r["text"] - r["text_model"]  # everything that is not kiln's model object
    r["frame"], r["frame_fn"] = largest_frame(b.su)
    defined = [ln.split()[-1] for ln in run_zoo.run(["arm-none-eabi-nm", "--defined-only",
                                                      b.elf], 60)[1].splitlines() if ln.strip()]
    soft = sorted(n for n in defined if SOFT_DOUBLE.match(n))
    if soft and not TARGETS[b.target]["double_fpu"]:
        b.case.fail("soft-double", "software double precision linked in: " + ", ".join(soft[:6]),
                    blocking=False)


def run_on_chip(b):
    c = b.case
    cmd = qemu_command(b.target, b.elf)
    rc, out, secs = run_zoo.run(cmd, QEMU_TIMEOUT)
    b.row["qemu_s"] = secs
    with open(os.path.join(c.dir, "qemu.log"), "w") as f:
        f.write(" ".join(cmd) + "\n" + out)
    if rc != 0 or "kiln-firmware: end" not in out:
        c.fail("run-failed", f"exit {rc}: " + "; ".join(
            ln.strip() for ln in out.splitlines() if ln.strip())[:200])
        return
    m = re.search(r"^stack (\d+) (\d+) (\d+)$", out, re.M)
    if m:
        b.row["stack_total"], b.row["stack_run"] = int(m.group(1)), int(m.group(2))
    body = out.split("kiln-firmware: end")[0]
    m = re.search(r"^output0 (\d+)$", body, re.M)
    if not m:
        c.fail("bad-output", "no output0 line")
        return
    words = re.findall(r"\b[0-9a-f]{8}\b", body[m.end():])
    got = np.array([int(w, 16) for w in words], dtype=np.uint32).view(np.float32)
    want = np.fromfile(os.path.join(b.src, "expected.bin"), dtype=np.float32)
    if got.size != int(m.group(1)) or got.size != want.size:
        c.fail("wrong-size", f"{got.size} values printed, {m.group(1)} announced, "
                             f"torch has {want.size}")
        return
    err = float(np.max(np.abs(got.astype(np.float64) - want)))
    scale = float(np.max(np.abs(want)))
    b.row["max_abs_err"], b.row["rel_err"] = err, err / scale if scale > 0 else float("inf")
    if not np.all(np.isfinite(got)):
        c.fail("mismatch", "non-finite outputs")
    elif not err <= run_zoo.RTOL * scale:
        c.fail("mismatch", f"max|kiln-torch| {err:.3g} > {run_zoo.RTOL:g}*max|torch| ({scale:.3g})")


def print_table(builds, file=sys.stdout):
    f = run_zoo.fmt
    hdr = (f"{'model':15} {'-O':>2} {'target':10} {'.text':>7} {'model':>7} {'other':>6} {'.rodata':>8} "
           f"{'.data':>5} {'.bss':>7} {'frame':>5} {'stack':>6} {'run':>5} {'qemu s':>6} "
           f"{'max abs err':>11} {'rel err':>8}  status")
    print(hdr, file=file)
    print("-" * len(hdr), file=file)
    for b in builds:
        r, c = b.row, b.case
        status = c.status + (f": {c.detail}" if c.detail else "")
        print(f"{b.model:15} {b.level:2d} {b.target:10} {f(r.get('text'), '7d')} {f(r.get('text_model'), '7d')} "
              f"{f(r.get('text_other'), '6d')} {f(r.get('rodata'), '8d')} {f(r.get('data'), '5d')} "
              f"{f(r.get('bss'), '7d')} {f(r.get('frame'), '5d')} {f(r.get('stack_total'), '6d')} "
              f"{f(r.get('stack_run'), '5d')} {f(r.get('qemu_s'), '6.2f')} "
              f"{f(r.get('max_abs_err'), '11.3g')} {f(r.get('rel_err'), '8.2g')}  {status}",
              file=file)
    print("\n.text/.rodata/.data/.bss: arm-none-eabi-size -A of the linked ELF (.text includes "
          ".vectors); model: .text from model.o, other: the rest (startup.o, run_model.o, library "
          "members; from the -Map file);\nframe: largest -fstack-usage frame of model.cpp; stack: "
          "high-water mark since reset measured on the emulated chip, run: its part below "
          "model_run's caller (bytes)", file=file)
    hdr = (f"\n{'model':15} {'-O':>2} {'target':10} {'text: model':>11} {'startup':>7} {'harness':>7} "
           f"{'libc':>5}   {'rodata: model':>13} {'harness':>7} {'other':>5}   "
           f"{'bss: model':>10} {'harness':>7}")
    print(hdr, file=file)
    print("-" * len(hdr.strip()), file=file)
    for b in builds:
        r = b.row
        if "text_model" not in r:
            continue
        rodata_other = r["rodata"] - r["rodata_model"] - r["rodata_harness"]
        print(f"{b.model:15} {b.level:2d} {b.target:10} {r['text_model']:11d} {r['text_startup']:7d} "
              f"{r['text_harness']:7d} {r['text_lib']:5d}   {r['rodata_model']:13d} "
              f"{r['rodata_harness']:7d} {rodata_other:5d}   {r['bss_model']:10d} "
              f"{r['bss_harness']:7d}", file=file)
    print("\nbytes per input object from the linker map: model = model.o (kernels, model_run, "
          "weights, arena), startup = startup.o (with the vector table), harness = run_model.o "
          "(with the embedded input and the output buffers), libc = newlib-nano members",
          file=file)


def main():
    ap = argparse.ArgumentParser(description="kiln models on emulated Cortex-M chips")
    ap.add_argument("--kiln", required=True, help="path to the kiln binary")
    ap.add_argument("--work", required=True, help="scratch directory (wiped per model)")
    ap.add_argument("--models", default=",".join(export_tiny.MODELS))
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--cache", default=None, help="export cache (default ~/.cache/kiln/tiny)")
    ap.add_argument("--levels", default="2,0",
                    help="kiln optimization levels (-O0 runs the unfused kernels: standalone "
                         "activations, adds, BatchNorm)")
    ap.add_argument("--opt", default="-O2", help="optimization flag of every compile (e.g. -Os)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--kiln-target", action="store_true",
                    help="compile each chip's pair with kiln's --target of that chip (cortex-m4, "
                         "cortex-m7) instead of the default generic")
    args = ap.parse_args()

    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        print(f"SKIPPED: e2e_cross_firmware ({', '.join(missing)} not found)")
        return SKIP
    kiln = os.path.abspath(args.kiln)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    models = [m for m in args.models.split(",") if m]
    targets = [t for t in args.targets.split(",") if t]
    levels = [int(x) for x in args.levels.split(",") if x]
    builds = [Build(m, lv, t, args.kiln_target) for lv in levels for m in models for t in targets]
    for key in dict.fromkeys(b.gen_key for b in builds):
        mine = [b for b in builds if b.gen_key == key]
        try:
            gen, src, secs = prepare_model(mine[0].model, mine[0].level, key, kiln, work,
                                           args.cache, mine[0].kiln_args)
        except KilnFailed as e:
            for b in mine:
                b.case.fail("kiln-failed", str(e))
            continue
        except Exception as e:
            for b in mine:
                b.case.fail("export-failed", f"{type(e).__name__}: {run_zoo.first_line(str(e))}")
            continue
        for b in mine:
            b.gen, b.src, b.row["kiln_s"] = gen, src, secs
        print(f"cross_firmware: {key}: compiled", flush=True)
    path, any_target = write_ninja(builds, work, args.opt)
    if any_target:
        rc, out, secs = run_zoo.run(["ninja", "-f", path, "-C", work, f"-j{args.jobs}", "-k", "0"],
                                    1800)
        print(f"cross_firmware: ninja -j{args.jobs}: {secs:.0f} s", flush=True)
        sections = run_zoo.failed_sections(out)
        for b in builds:
            c = b.case
            if c.runnable and not os.path.exists(b.elf):
                lines = [ln for t, sec in sections.items()
                         if t.startswith(c.dir + os.sep) or t.startswith(b.startup_o) for ln in sec]
                c.fail("build-failed", run_zoo.first_error(lines, b.gen) or f"ninja exit {rc}")
                c.log = "\n".join(line[:240] for line in lines[1:40])
    for b in builds:
        if b.case.runnable:
            measure(b)
            run_on_chip(b)
    print()
    print_table(builds)
    print(f"\nbuilt with {args.opt}; wall time {time.time() - t0:.0f} s")
    cases = [b.case for b in builds]
    for b in builds:
        b.case.model = f"{b.model} -O{b.level} on {b.target}"  # names in finish()'s logs
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dict(b.row, status=b.case.status, detail=b.case.detail) for b in builds], f,
                      indent=1)
    return run_zoo.finish(cases, None)


if __name__ == "__main__":
    sys.exit(main())
