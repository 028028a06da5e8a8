// weft benchmarks (npm run bench). Prints figures; asserts nothing.
// Engine overhead per agent with an in-process zero-latency Driver, journal on (fdatasync'd)
// and a JSON reporter attached, timed from the runWorkflow/resumeRun call with modules loaded.
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { JsonReporter, resumeRun, runWorkflow } from "../dist/index.js";
import { JournalWriter } from "../dist/store/journal.js";

const instant = {
  name: "instant",
  async run(task) {
    return {
      status: "completed",
      text: `ok ${task.index}`,
      usage: { input: 1, output: 1, cached: 0, reasoning: 0 },
    };
  },
};

const settings = { concurrency: 64, maxAgents: 100_000, maxListItems: 100_000 };
const meta = 'export const meta = { name: "bench", description: "bench" }\n';
const SCRIPTS = {
  parallel: `${meta}const out = await parallel(Array.from({ length: args.n }, (_, i) => () => agent("task " + i)))\nreturn out.length\n`,
  pipeline: `${meta}const out = await pipeline(Array.from({ length: args.n / 2 }, (_, i) => i), (i) => agent("first " + i), (r, i) => agent("second " + i))\nreturn out.length\n`,
};

const devnull = createWriteStream("/dev/null");
const reporter = () => new JsonReporter(devnull);
const dirs = [];
const project = () => {
  const d = mkdtempSync(join(tmpdir(), "weft-bench-"));
  dirs.push(d);
  return d;
};

async function timeRun(kind, n) {
  const cwd = project();
  const t0 = performance.now();
  const res = await runWorkflow({
    script: { source: SCRIPTS[kind], path: `${kind}.js` },
    cwd,
    args: { n },
    settings,
    driver: instant,
    reporter: reporter(),
  });
  const ms = performance.now() - t0;
  if (res.status !== "completed" || res.result !== n / (kind === "pipeline" ? 2 : 1)) {
    throw new Error(`bench run failed: ${res.status} ${res.error ?? ""}`);
  }
  return { ms, cwd, runId: res.runId };
}

async function journalRate(records) {
  const dir = project();
  const j = await JournalWriter.open(join(dir, "journal.jsonl"));
  const rec = {
    type: "agent.finished",
    n: 1,
    key: "x".repeat(66),
    status: "completed",
    result: "ok",
    usage: { input: 1, output: 1, cached: 0, reasoning: 0 },
  };
  const t0 = performance.now();
  const all = [];
  for (let i = 0; i < records; i++) {
    all.push(j.append({ ...rec, n: i }));
    // Writers in a run append from many agents at once, not all in one tick.
    if (i % 64 === 63) await Promise.resolve();
  }
  await Promise.all(all);
  const ms = performance.now() - t0;
  await j.close();
  return records / (ms / 1000);
}

const rows = [];
const fmt = (x, d = 3) => x.toFixed(d);

// Warm up: load modules and JIT the hot paths once.
await timeRun("parallel", 200);

for (const kind of ["parallel", "pipeline"]) {
  for (const n of [1000, 10_000]) {
    const { ms, cwd, runId } = await timeRun(kind, n);
    rows.push({
      what: `${kind} ${n.toLocaleString("en-US")} agents`,
      total: `${fmt(ms, 0)} ms`,
      perAgent: `${fmt(ms / n)} ms/agent`,
    });
    if (kind === "parallel" && n === 10_000) {
      const t0 = performance.now();
      const res = await resumeRun(runId, { cwd, driver: instant, reporter: reporter(), settings });
      const resumeMs = performance.now() - t0;
      if (res.summary.agents.cached !== n)
        throw new Error(`resume did not reuse every agent: ${res.summary.agents.cached}`);
      rows.push({
        what: "resume 10,000 cached agents",
        total: `${fmt(resumeMs, 0)} ms`,
        perAgent: `${fmt(resumeMs / n, 4)} ms/agent`,
      });
    }
  }
}
const rate = await journalRate(100_000);
rows.push({
  what: "journal appends (fdatasync'd, grouped)",
  total: `${Math.round(rate).toLocaleString("en-US")} records/s`,
  perAgent: "",
});
const rssMb = process.resourceUsage().maxRSS / 1024;
rows.push({ what: "peak RSS of the whole bench process", total: `${fmt(rssMb, 0)} MB`, perAgent: "" });

console.log(
  `weft bench · node ${process.version} · ${cpus().length} × ${cpus()[0]?.model?.trim()} · ${Math.round(totalmem() / 2 ** 30)} GiB`,
);
console.log("concurrency 64, journal fsync'd, JSON reporter attached, in-process zero-latency driver\n");
const w = Math.max(...rows.map((r) => r.what.length));
for (const r of rows) console.log(`${r.what.padEnd(w)}  ${r.total.padStart(18)}  ${r.perAgent}`);
for (const d of dirs) rmSync(d, { recursive: true, force: true });
devnull.end();
