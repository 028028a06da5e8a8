// Worktree cost (issue 4): 32 agents in parallel, each in a git worktree of a 5,000-file
// repository. Prints one JSON line with the wall time of each way of doing it, all on the same
// repository in the same process, one after the other:
// - plainSideMs: plain `git worktree add -b` + `git worktree remove --force`, 32 side by side,
//   a race git reports ("failed to read .../commondir", lock files) retried after a short pause;
// - plainTurnsMs: the same commands, one at a time (what weft did before);
// - plainSplitMs: plain git running weft's own commands: `git worktree add --no-checkout -b` one at
//   a time, `git read-tree -m -u HEAD` in the worktree side by side, `rm -rf` side by side, then
//   `git worktree prune` + `git branch -D` in turns, one turn for all the worktrees removed meanwhile;
// - weftWorktreesMs: weft's own create and remove (Workspace.create, .remove, .flush), 32 side by
//   side: what the plain figures do, the way weft does it;
// - weftMs: a weft run of 32 agents with isolation "worktree" whose agent changes nothing: create,
//   the agent's diff (one `git status`), removal, the journal (fdatasync'd), run directory and
//   worker thread included.
// Each figure also has its processor time (this process and the processes it waited for, from
// /proc/self/stat): wall time on this shared machine moves with its load, processor time much less.
// The baseline is the fastest plain-git figure. WT_ONLY=weft,plainSide picks some (for a quick look).
//
// The repository is made in /dev/shm where there is one (WT_DIR=<folder> to choose): on this
// machine's disk the same figure moved between 5 and 41 s from one run to the next, and its
// processor time with it (file creation in ext4 from 32 processes at once), which buries a
// difference of 10%; in memory the figures are processor time and repeat within a few percent.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const dist = process.env.WEFT_DIST ?? "../dist/index.js";
const { runWorkflow } = await import(dist);
const { Workspace } = await import(new URL("workspace/workspace.js", new URL(dist, import.meta.url)).href);
// WEFT_BEFORE=<path of another build's dist/index.js>: that build as an extra figure, weftBeforeMs.
const before = process.env.WEFT_BEFORE ? (await import(process.env.WEFT_BEFORE)).runWorkflow : undefined;
const run = promisify(execFile);
const AGENTS = 32;
const FILES = 5000;
const only = process.env.WT_ONLY?.split(",");

// 32 checkouts of 5,000 files take about 700 MB in memory (a page per file).
const shmFree = () => {
  const st = statfsSync("/dev/shm");
  return st.bavail * st.bsize;
};
const where = process.env.WT_DIR ?? (existsSync("/dev/shm") && shmFree() > 2 ** 31 ? "/dev/shm" : tmpdir());
const repo = mkdtempSync(join(where, "weft-bench-wt-"));
for (let d = 0; d < 50; d++) {
  mkdirSync(join(repo, `dir${d}`));
  for (let f = 0; f < FILES / 50; f++)
    writeFileSync(join(repo, `dir${d}`, `file${f}.txt`), `line ${d} ${f}\n`.repeat(20));
}
const git = (...args) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });
git("init", "-q");
git("config", "user.email", "bench@example.com");
git("config", "user.name", "bench");
git("add", "-A");
git("commit", "-qm", "base");
// Packed, as a cloned repository is: a checkout from 5,000 loose objects opens and inflates each
// one, which took 3.4 times as long here (WT_LOOSE=1 keeps them loose).
if (!process.env.WT_LOOSE) git("gc", "--quiet");
// Settle: the fixture's own files written back before anything is timed.
execFileSync("sync");

/**
 * Processor time of this process and of the children it waited for, in ms (Linux's
 * /proc/self/stat: utime, stime, cutime, cstime in clock ticks of 10 ms); NaN where there is no
 * /proc (the wall times stand alone there).
 */
function cpuMs() {
  if (!existsSync("/proc/self/stat")) return Number.NaN;
  const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i]) * 10, 0);
}

const RACE = /failed to read|\.lock|cannot lock|Invalid path/;
async function retrying(args, cwd = repo) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run("git", args, { cwd });
    } catch (e) {
      if (attempt >= 20 || !RACE.test(String(e.stderr))) throw e;
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * attempt));
    }
  }
}
let turn = Promise.resolve();
const inTurn = (f) => {
  const next = turn.then(f);
  turn = next.catch(() => {});
  return next;
};

// As weft does: one turn prunes and deletes the branches of every worktree removed meanwhile.
const waiting = new Set();
let batch;
function forget(branch) {
  waiting.add(branch);
  batch ??= inTurn(async () => {
    batch = undefined;
    const branches = [...waiting];
    waiting.clear();
    await run("git", ["worktree", "prune"], { cwd: repo });
    await run("git", ["branch", "-D", ...branches], { cwd: repo });
  });
  return batch;
}

async function plain(name, one) {
  const dir = join(repo, `.${name}`);
  mkdirSync(dir);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: AGENTS }, (_, i) => one(join(dir, String(i)), `${name}/${i}`)));
  const ms = performance.now() - t0;
  // Untimed: what a failed add of a race may have left behind.
  rmSync(dir, { recursive: true, force: true });
  git("worktree", "prune");
  const left = git("branch", "--list", "--format=%(refname:short)", `${name}/*`).toString().split("\n");
  if (left.some(Boolean)) git("branch", "-D", ...left.filter(Boolean));
  execFileSync("sync");
  return ms;
}

const figures = {
  plainSide: () =>
    plain("side", async (path, branch) => {
      const add = () => retrying(["worktree", "add", "--quiet", "-b", branch, path, "HEAD"]);
      // A race can fail an add after it made its branch: delete that branch and add again.
      await add().catch(async (e) => {
        if (!/already exists/.test(String(e.stderr))) throw e;
        await retrying(["branch", "-D", branch]);
        await add();
      });
      await retrying(["worktree", "remove", "--force", path]);
    }),
  plainTurns: () =>
    plain("turns", async (path, branch) => {
      await inTurn(() => retrying(["worktree", "add", "--quiet", "-b", branch, path, "HEAD"]));
      await inTurn(() => retrying(["worktree", "remove", "--force", path]));
    }),
  plainSplit: () =>
    plain("split", async (path, branch) => {
      await inTurn(() =>
        retrying(["worktree", "add", "--quiet", "--no-checkout", "-b", branch, path, "HEAD"]),
      );
      await run("git", ["read-tree", "-m", "-u", "HEAD"], { cwd: path });
      await run("rm", ["-rf", path]);
      await forget(branch);
    }),
  weftWorktrees: async () => {
    const ws = await Workspace.open(repo, join(repo, ".weft"), `bench${++benchRuns}`);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: AGENTS }, async (_, i) => ws.remove(await ws.create(i + 1))));
    await ws.flush();
    const ms = performance.now() - t0;
    execFileSync("sync");
    return ms;
  },
  weft: () => weftRun(runWorkflow),
  ...(before ? { weftBefore: () => weftRun(before) } : {}),
};

let benchRuns = 0;

async function weftRun(runWorkflow) {
  const idle = {
    name: "idle",
    async run() {
      return { status: "completed", text: "ok" };
    },
  };
  const script = `export const meta = { name: "wt", description: "bench" }
await parallel(Array.from({ length: ${AGENTS} }, (_, i) => () => agent("task " + i, { isolation: "worktree" })))\n`;
  const t0 = performance.now();
  const res = await runWorkflow({
    script: { source: script, path: "wt.js" },
    cwd: repo,
    settings: { concurrency: AGENTS },
    driver: idle,
  });
  const ms = performance.now() - t0;
  if (res.status !== "completed") throw new Error(`${res.status} ${res.error}`);
  execFileSync("sync");
  return ms;
}

// The machine's load changes from minute to minute: every figure runs WT_ROUNDS times (3), in a
// rotated order each round, and the median of each is reported.
const rounds = Number(process.env.WT_ROUNDS ?? 3);
const names = Object.keys(figures).filter((n) => !only || only.includes(n));
const samples = Object.fromEntries(names.map((n) => [n, []]));
const cpuSamples = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < rounds; r++)
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + r) % names.length];
    const c0 = cpuMs();
    samples[name].push(await figures[name]());
    cpuSamples[name].push(cpuMs() - c0);
    if (rounds > 1)
      console.error(
        `round ${r + 1}: ${name} ${Math.round(samples[name].at(-1))} ms, processor ${cpuSamples[name].at(-1)} ms`,
      );
  }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = { agents: AGENTS, files: FILES, rounds, dir: where };
for (const n of names) {
  out[`${n}Ms`] = median(samples[n]);
  out[`${n}CpuMs`] = median(cpuSamples[n]);
}
rmSync(repo, { recursive: true, force: true });
console.log(JSON.stringify(out));
