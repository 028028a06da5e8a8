// One bench scenario in a fresh process, so its peak RSS is its own. Prints one JSON line.
// Usage: node bench/scenario.mjs run <parallel|pipeline> <n> <cwd>
//        node bench/scenario.mjs resume <runId> <cwd>
//        node bench/scenario.mjs start <cwd>      (a run's fixed cost: runs of one agent)
// WEFT_SANDBOX=thread runs the script in a worker thread instead of the sandbox process.
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { JsonReporter, resumeRun, runWorkflow } from "../dist/index.js";

export const instant = {
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

const [mode, a, b, cwd] = process.argv.slice(2);
/** Processor time of this process and the children it reaped (the sandbox processes), in ms. */
function cpuMs() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}
const devnull = createWriteStream("/dev/null");
const reporter = new JsonReporter(devnull);
// Warm the engine's code once in a throwaway folder so the timing is the steady state.
if (mode === "run") {
  const n = Number(b);
  await runWorkflow({
    script: { source: SCRIPTS[a], path: `${a}.js` },
    cwd: `${cwd}/warm`,
    args: { n: 100 },
    settings,
    driver: instant,
  });
  const c0 = cpuMs();
  const t0 = performance.now();
  const res = await runWorkflow({
    script: { source: SCRIPTS[a], path: `${a}.js` },
    cwd,
    args: { n },
    settings,
    driver: instant,
    reporter,
  });
  const ms = performance.now() - t0;
  if (res.status !== "completed") throw new Error(`${res.status}: ${res.error}`);
  // Let the sandbox process be reaped so its processor time counts.
  await new Promise((r) => setTimeout(r, 100));
  const cpu = cpuMs() - c0;
  console.log(
    JSON.stringify({ ms, cpuMs: cpu, runId: res.runId, rssMb: process.resourceUsage().maxRSS / 1024 }),
  );
} else if (mode === "start") {
  const one = { source: `${meta}return await agent("one")\n`, path: "one.js" };
  const times = [];
  let cpu = 0;
  for (let i = 0; i < 25; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    const res = await runWorkflow({ script: one, cwd: a, settings, driver: instant, reporter });
    const ms = performance.now() - t0;
    if (res.status !== "completed") throw new Error(`${res.status}: ${res.error}`);
    await new Promise((r) => setTimeout(r, 100));
    // The first five warm the engine's code.
    if (i >= 5) {
      times.push(ms);
      cpu += cpuMs() - c0;
    }
  }
  times.sort((x, y) => x - y);
  console.log(JSON.stringify({ ms: times[times.length >> 1], minMs: times[0], cpuMs: cpu / times.length }));
} else {
  // Warm up on the small run made next to this one, as the run scenario does.
  const warm = `${b}/warm`;
  for (const id of readdirSync(`${warm}/.weft/runs`))
    await resumeRun(id, { cwd: warm, driver: instant, settings });
  const t0 = performance.now();
  const res = await resumeRun(a, { cwd: b, driver: instant, settings, reporter });
  const ms = performance.now() - t0;
  if (res.status !== "completed") throw new Error(`${res.status}: ${res.error}`);
  console.log(
    JSON.stringify({ ms, cached: res.summary.agents.cached, rssMb: process.resourceUsage().maxRSS / 1024 }),
  );
}
devnull.end();
