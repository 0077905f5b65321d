# lit configuration for kiln's text tests (.kir, .test, .onnx-producing scripts).
import os
import lit.formats

config.name = "kiln"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".kir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(os.path.dirname(config.kiln_bin_dir), "tests", "lit")
config.excludes = ["Inputs", "lit.cfg.py"]
config.environment["PATH"] = os.pathsep.join(
    [config.kiln_bin_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%kiln", os.path.join(config.kiln_bin_dir, "kiln")))
config.substitutions.append(("%python", config.python))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
config.substitutions.append(("%srcroot", config.kiln_src_dir))
# Features of this machine that some tests need: the host CPU's AVX-512 (to run an x86-64-v4 pair
# natively) and qemu-x86_64 (to run it on an emulated CPU without that ISA).
import shutil
try:
    with open("/proc/cpuinfo") as f:
        _cpu_flags = next((ln.split(":", 1)[1].split() for ln in f if ln.startswith("flags")), [])
except OSError:
    _cpu_flags = []
for _feature in ("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"):
    if _feature in _cpu_flags:
        config.available_features.add(_feature)
if shutil.which("qemu-x86_64"):
    config.available_features.add("qemu-x86_64")
