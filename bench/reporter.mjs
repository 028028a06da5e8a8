// The live tree's cost (U02): a run of 1,000 zero-latency agents (each reports one tool call, so
// activity events flow too) with the tree drawing onto a fake 120x40 terminal, against the same
// run with no reporter. Runs in a fresh process; prints one JSON line.
// Usage: node bench/reporter.mjs <cwd>
import { mkdirSync } from "node:fs";
import { join } from "node:path";

// Ink draws no live frames when it believes it runs in CI: measure the frames a person gets.
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
const { runWorkflow } = await import("../dist/index.js");
const { createTreeReporter } = await import("../dist/report/tree/reporter.js");

const instant = {
  name: "instant",
  async run(task, ctx) {
    ctx.onEvent({ type: "tool_call", name: "Read", input: { file_path: `src/f${task.index}.ts` } });
    return {
      status: "completed",
      text: `ok ${task.index}`,
      usage: { input: 10, output: 5, cached: 0, reasoning: 0 },
    };
  },
};

const settings = { concurrency: 64, maxAgents: 100_000, maxListItems: 100_000 };
const source = `export const meta = { name: "bench-tree", description: "bench" }
phase("Map")
const out = await parallel(Array.from({ length: args.n }, (_, i) => () => agent("task " + i, { label: "f" + i + ".ts" })))
phase("Reduce")
await agent("reduce")
return out.length
`;

function fakeTty() {
  const tty = {
    isTTY: true,
    columns: 120,
    rows: 40,
    bytes: 0,
    write(s) {
      tty.bytes += s.length;
      return true;
    },
  };
  return tty;
}

const [base] = process.argv.slice(2);
let k = 0;
async function once(n, reporter) {
  const cwd = join(base, `r${k++}`);
  mkdirSync(cwd, { recursive: true });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await runWorkflow({
    script: { source, path: "bench-tree.js" },
    cwd,
    args: { n },
    settings,
    driver: instant,
    reporter,
  });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  if (res.status !== "completed") throw new Error(`${res.status}: ${res.error}`);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

// Warm up the engine and ink (its import alone is a few hundred ms of CPU, paid once per process).
const tImport = performance.now();
await import("../dist/report/tree/view.js");
const importMs = performance.now() - tImport;
await once(200, { event() {} });
await once(200, createTreeReporter(fakeTty()));

const N = 1000;
const plain = [];
const tree = [];
for (let i = 0; i < 3; i++) {
  plain.push(await once(N, { event() {} }));
  const tty = fakeTty();
  const r = createTreeReporter(tty, { measure: true });
  const m = await once(N, r);
  tree.push({ ...m, ...r.stats, bytes: tty.bytes });
}
const median = (xs, f) => xs.map(f).sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const t = tree.toSorted((a, b) => a.ms - b.ms)[1];
console.log(
  JSON.stringify({
    agents: N,
    importMs,
    plainMs: median(plain, (x) => x.ms),
    plainCpuMs: median(plain, (x) => x.cpuMs),
    treeMs: t.ms,
    treeCpuMs: t.cpuMs,
    frames: t.frames,
    renders: t.renders,
    renderMs: t.renderMs,
    reporterCpuMs: t.cpuMicros / 1000,
    bytes: t.bytes,
  }),
);
