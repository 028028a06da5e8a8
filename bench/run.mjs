// weft benchmarks (npm run bench). Prints figures; asserts nothing.
// Engine overhead per agent with an in-process zero-latency Driver, concurrency 64, the journal
// on (fdatasync'd) and a JSON reporter attached, timed in-process from the runWorkflow/resumeRun
// call with modules loaded. Each scenario runs in a fresh process so its peak RSS is its own.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { JournalWriter } from "../dist/store/journal.js";

const here = dirname(fileURLToPath(import.meta.url));
const dirs = [];
const project = () => {
  const d = mkdtempSync(join(tmpdir(), "weft-bench-"));
  mkdirSync(join(d, "warm"));
  dirs.push(d);
  return d;
};
const scenario = (...args) => scenarioWith("process", ...args);
/** `sandbox`: where the script runs, "process" (the default, S06's second wall) or "thread". */
const scenarioWith = (sandbox, ...args) =>
  JSON.parse(
    execFileSync(process.execPath, [join(here, "scenario.mjs"), ...args], {
      encoding: "utf8",
      env: { ...process.env, WEFT_SANDBOX: sandbox },
    }).trim(),
  );

async function journalRate(records) {
  const j = await JournalWriter.open(join(project(), "journal.jsonl"));
  const rec = { type: "agent.finished", n: 1, key: "x".repeat(66), status: "completed", result: "ok" };
  const t0 = performance.now();
  const all = [];
  for (let i = 0; i < records; i++) {
    all.push(j.append({ ...rec, n: i }));
    // Agents finish a few at a time, not all in one tick.
    if (i % 64 === 63) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(all);
  const ms = performance.now() - t0;
  await j.close();
  return records / (ms / 1000);
}

const rows = [];
const fmt = (x, d = 3) => x.toFixed(d);
let peak = 0;
const fixed = {};
for (const kind of ["parallel", "pipeline"]) {
  for (const n of [1000, 10_000]) {
    const cwd = project();
    const r = scenario("run", kind, String(n), cwd);
    peak = Math.max(peak, r.rssMb);
    fixed[`${kind}${n}`] = r.ms;
    rows.push([
      `${kind} ${n.toLocaleString("en-US")} agents`,
      `${fmt(r.ms, 0)} ms`,
      `${fmt(r.ms / n)} ms/agent`,
      `${fmt(r.rssMb, 0)} MB`,
    ]);
    if (n === 10_000) {
      const marginal = (r.ms - fixed[`${kind}1000`]) / 9000;
      rows.push([`  ${kind}: marginal cost 1,000 -> 10,000`, "", `${fmt(marginal)} ms/agent`, ""]);
    }
    if (kind === "parallel" && n === 10_000) {
      const res = scenario("resume", r.runId, cwd);
      if (res.cached !== n) throw new Error(`resume reused ${res.cached} of ${n} agents`);
      peak = Math.max(peak, res.rssMb);
      rows.push([
        "resume 10,000 cached agents",
        `${fmt(res.ms, 0)} ms`,
        `${fmt(res.ms / n, 4)} ms/agent`,
        `${fmt(res.rssMb, 0)} MB`,
      ]);
    }
  }
}
const rate = await journalRate(100_000);
rows.push([
  "journal appends (fdatasync'd, grouped)",
  `${Math.round(rate).toLocaleString("en-US")} rec/s`,
  "",
  "",
]);
rows.push(["peak RSS of any scenario", `${fmt(peak, 0)} MB`, "", ""]);

// The second wall (S06): the script in a sandbox process (the default, every row above) or in
// a worker thread of the engine, taken in turns so both see the same machine. A run's fixed
// cost in a process that has run before (library, weft mcp), and through the CLI (a fresh
// process: weft run of one agent, wall time); the 10,000-agent run for the cost per call.
const sandboxes = { thread: { cli: [], big: [] }, process: { cli: [], big: [] } };
const cliDir = project();
writeFileSync(
  join(cliDir, "one.js"),
  'export const meta = { name: "one", description: "one" }\nreturn await agent("one")\n',
);
for (let round = 0; round < 2; round++) {
  for (const kind of ["thread", "process"]) {
    const s = sandboxes[kind];
    if (round === 0) s.start = scenarioWith(kind, "start", project());
    s.big.push(scenarioWith(kind, "run", "parallel", "10000", project()));
  }
}
for (let round = 0; round < 10; round++) {
  for (const kind of ["thread", "process"]) {
    const t0 = performance.now();
    execFileSync(
      process.execPath,
      [join(here, "..", "dist", "cli", "main.js"), "run", "one.js", "--command", "echo ok"],
      {
        cwd: cliDir,
        env: { ...process.env, WEFT_SANDBOX: kind },
        stdio: "ignore",
      },
    );
    sandboxes[kind].cli.push(performance.now() - t0);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const best = (runs) => runs.reduce((a, b) => (b.ms < a.ms ? b : a));

// Worktrees (issue 4): a fresh process of its own; slow on purpose (32 checkouts of 5,000 files).
const wt = JSON.parse(
  execFileSync(process.execPath, [join(here, "worktrees.mjs")], { encoding: "utf8" }).trim(),
);

// The dashboard (U08): a fresh process with Chromium; skipped where there is none.
const ui = JSON.parse(execFileSync(process.execPath, [join(here, "ui.mjs")], { encoding: "utf8" }).trim());

// The live tree (U02): a fresh process of its own, as each scenario.
const tree = JSON.parse(
  execFileSync(process.execPath, [join(here, "reporter.mjs"), project()], { encoding: "utf8" }).trim(),
);

console.log(
  `weft bench · node ${process.version} · ${cpus().length} × ${cpus()[0]?.model?.trim()} · ${Math.round(totalmem() / 2 ** 30)} GiB`,
);
console.log("concurrency 64, journal fdatasync'd, JSON reporter attached, in-process zero-latency driver\n");
const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
console.log(
  [
    "scenario".padEnd(w[0]),
    "time".padStart(w[1]),
    "per agent".padStart(w[2]),
    "peak RSS".padStart(w[3]),
  ].join("  "),
);
for (const r of rows)
  console.log([r[0].padEnd(w[0]), r[1].padStart(w[1]), r[2].padStart(w[2]), r[3].padStart(w[3])].join("  "));
{
  const t = sandboxes.thread;
  const p = sandboxes.process;
  const plus = (a, b) => `${b >= a ? "+" : ""}${fmt(b - a, 1)} ms`;
  const pct = (a, b) => `${b >= a ? "+" : ""}${fmt(((b - a) / a) * 100, 1)}%`;
  const [tb, pb] = [best(t.big), best(p.big)];
  console.log(
    `\nsandbox (S06 second wall), worker thread -> sandbox process (the default):
  run start, one agent, in a process that has run before (median of 20): ${fmt(t.start.ms, 1)} -> ${fmt(p.start.ms, 1)} ms (${plus(t.start.ms, p.start.ms)}; best ${fmt(t.start.minMs, 1)} -> ${fmt(p.start.minMs, 1)} ms); processor time per run, the sandbox process's included: ${fmt(t.start.cpuMs, 0)} -> ${fmt(p.start.cpuMs, 0)} ms
  weft run of one agent, a fresh CLI process, wall time (median of 10): ${fmt(median(t.cli), 0)} -> ${fmt(median(p.cli), 0)} ms (${plus(median(t.cli), median(p.cli))}; best ${fmt(Math.min(...t.cli), 0)} -> ${fmt(Math.min(...p.cli), 0)} ms)
  parallel 10,000 agents (best of 2): ${fmt(tb.ms, 0)} -> ${fmt(pb.ms, 0)} ms (${pct(tb.ms, pb.ms)}), ${fmt(tb.ms / 10_000)} -> ${fmt(pb.ms / 10_000)} ms/agent; processor time ${fmt(tb.cpuMs, 0)} -> ${fmt(pb.cpuMs, 0)} ms; peak RSS of the engine ${fmt(tb.rssMb, 0)} -> ${fmt(pb.rssMb, 0)} MB (the sandbox process's own memory is not in it)`,
  );
}
const perWt = (ms) => `${fmt(ms / wt.agents, 0)} ms`;
const gitBest = Math.min(wt.plainSideMs, wt.plainTurnsMs, wt.plainSplitMs);
const over = (ms) => `${fmt(((ms - gitBest) / gitBest) * 100, 0)}%`;
// JSON has no NaN: a machine without /proc/self/stat gives null processor times.
const cpuOf = (name) => (wt[`${name}CpuMs`] == null ? "n/a" : `${fmt(wt[`${name}CpuMs`] / wt.agents, 0)} ms`);
console.log(
  `\nworktrees: ${wt.agents} agents in parallel on a repository of ${wt.files} files in ${wt.dir}, median of ${wt.rounds} rounds; wall time / agents (processor time / agents):
  plain git worktree add + remove --force, side by side ${perWt(wt.plainSideMs)} (${cpuOf("plainSide")}); one at a time ${perWt(wt.plainTurnsMs)} (${cpuOf("plainTurns")})
  plain git, weft's commands (add --no-checkout in turn, read-tree -m -u and rm side by side, prune + branch -D in turn) ${perWt(wt.plainSplitMs)} (${cpuOf("plainSplit")})
  weft's create + remove (Workspace) ${perWt(wt.weftWorktreesMs)} (${cpuOf("weftWorktrees")}); above the fastest plain git: ${over(wt.weftWorktreesMs)} (target under 10%)
  weft run (create, the agent's diff, remove, journal) ${perWt(wt.weftMs)} (${cpuOf("weft")}); above the fastest plain git: ${over(wt.weftMs)}`,
);
const pct = (ms) => `${fmt((ms / tree.treeMs) * 100, 1)}% of one core`;
console.log(
  `\ntree reporter: ${tree.agents.toLocaleString("en-US")} zero-latency agents with the live tree on a fake 120x40 terminal in ${fmt(tree.treeMs, 0)} ms (${fmt(tree.plainMs, 0)} ms with no reporter): ${tree.frames} frames, ${fmt(tree.frames / (tree.treeMs / 1000), 1)} redraws/s (limit 10), ink rendering ${fmt(tree.renderMs, 0)} ms, ${tree.bytes.toLocaleString("en-US")} bytes written; CPU in the reporter ${fmt(tree.reporterCpuMs, 0)} ms = ${pct(tree.reporterCpuMs)} (target under 10%); the run's CPU with the tree minus without: ${pct(tree.treeCpuMs - tree.plainCpuMs)}; loading ink (once per process) ${fmt(tree.importMs, 0)} ms`,
);
console.log(
  ui.skipped
    ? `\ndashboard: skipped (${ui.skipped})`
    : `\ndashboard (weft ui, Chromium): a finished 10,000-agent run's page shows its first screen in ${fmt(ui.firstScreenMs, 0)} ms (median of 3, best ${fmt(ui.firstScreenBestMs, 0)} ms; target under 1 s); while a 1,000-agent run streams to one open page the server (and the browser driver in its process) uses ${fmt(ui.serverCpuMs, 0)} ms of processor time in ${fmt(ui.streamWallMs, 0)} ms = ${fmt(ui.serverCpuPct, 1)}% of one core (target under 10%)`,
);
for (const d of dirs) rmSync(d, { recursive: true, force: true });
