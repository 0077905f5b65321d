// ONNX Runtime side of tests/bench/perf.py: loads one model into an onnxruntime-node session
// (graph optimization 'all', one intra-op and one inter-op thread, sequential execution, the
// options the bench compares kiln against) and then serves commands read on stdin, one per line,
// so that perf.py can interleave its calls with the kiln host's:
//   run        one session.run on the fixed feeds; prints "t WALL_NS CPU_NS": process.hrtime
//              and the process's CPU time (user + system, all threads: ORT's one compute
//              thread and node's, idle while it waits) around the call only; building the
//              feeds is done once, up front
//   dump DIR   writes output i's raw bytes to DIR/out<i>.bin; prints "ok"
//   quit       exits
// Usage: node ort_runner.js ORT_NODE_MODULES MODEL.onnx SPEC.json
// SPEC.json: {"inputs": [{"name", "shape", "dtype", "file"}], "outputs": [names]}; the input
// files hold the same raw bytes the kiln host reads.
"use strict";
const fs = require("fs");
const path = require("path");
const readline = require("readline");

const [modules, modelPath, specPath] = process.argv.slice(2);
const ort = require(path.join(modules, "onnxruntime-node"));
const spec = JSON.parse(fs.readFileSync(specPath, "utf8"));

const ARRAYS = {float32: Float32Array, int64: BigInt64Array, int32: Int32Array, uint8: Uint8Array,
                int8: Int8Array, float64: Float64Array};

async function main() {
  const session = await ort.InferenceSession.create(modelPath, {
    graphOptimizationLevel: "all",
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
  });
  const feeds = {};
  for (const inp of spec.inputs) {
    const bytes = fs.readFileSync(inp.file);
    const Ctor = ARRAYS[inp.dtype];
    // Copy into a fresh, aligned buffer: a Buffer's slice of the pool may be misaligned.
    const data = new Ctor(bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
    new Uint8Array(data.buffer).set(bytes);
    feeds[inp.name] = new ort.Tensor(inp.dtype, data, inp.shape);
  }
  let last = null;
  const rl = readline.createInterface({input: process.stdin});
  for await (const line of rl) {
    const [cmd, arg] = line.trim().split(/\s+/, 2);
    if (cmd === "run") {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      last = await session.run(feeds);
      const t1 = process.hrtime.bigint();
      const c = process.cpuUsage(c0);
      process.stdout.write(`t ${t1 - t0} ${(c.user + c.system) * 1000}\n`);
    } else if (cmd === "dump") {
      if (!last)
        last = await session.run(feeds);
      spec.outputs.forEach((name, i) => {
        const d = last[name].data;
        fs.writeFileSync(path.join(arg, `out${i}.bin`),
                         Buffer.from(d.buffer, d.byteOffset, d.byteLength));
      });
      process.stdout.write("ok\n");
    } else if (cmd === "quit") {
      break;
    } else {
      process.stdout.write(`error unknown command '${cmd}'\n`);
    }
  }
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`ort_runner: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
