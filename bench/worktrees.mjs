// Worktree cost (issue 4): 32 agents in parallel, each in a git worktree of a 5,000-file
// repository, through weft (create, the agent's diff, remove) next to plain `git worktree add` and
// `git worktree remove` of the same repository in the same run. Prints one JSON line.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { runWorkflow } from "../dist/index.js";

const run = promisify(execFile);
// git itself races when worktrees are added side by side; retry as weft does (src/workspace/git.ts).
async function retrying(args) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run("git", args, { cwd: repo });
    } catch (e) {
      if (attempt >= 10 || !/failed to read|\.lock|cannot lock/.test(String(e.stderr))) throw e;
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * attempt));
    }
  }
}
const AGENTS = 32;
const FILES = 5000;

const repo = mkdtempSync(join(tmpdir(), "weft-bench-wt-"));
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

// Plain git: add and remove 32 worktrees, all at once.
const plainDir = join(repo, ".plain");
mkdirSync(plainDir);
let t0 = performance.now();
// git's worktree commands race when run side by side, so they take turns, as in weft.
let turn = Promise.resolve();
const inTurn = (f) => {
  const next = turn.then(f);
  turn = next.catch(() => {});
  return next;
};
await Promise.all(
  Array.from({ length: AGENTS }, async (_, i) => {
    const path = join(plainDir, String(i));
    await inTurn(() => retrying(["worktree", "add", "--quiet", "-b", `plain/${i}`, path, "HEAD"]));
    await inTurn(() => retrying(["worktree", "remove", "--force", path]));
  }),
);
const plainMs = performance.now() - t0;
git("worktree", "prune");

// weft: the same through a run; the agent changes nothing, so each worktree is removed at once.
const idle = {
  name: "idle",
  async run() {
    return { status: "completed", text: "ok" };
  },
};
const script = `export const meta = { name: "wt", description: "bench" }
await parallel(Array.from({ length: ${AGENTS} }, (_, i) => () => agent("task " + i, { isolation: "worktree" })))\n`;
t0 = performance.now();
const res = await runWorkflow({
  script: { source: script, path: "wt.js" },
  cwd: repo,
  settings: { concurrency: AGENTS },
  driver: idle,
});
const weftMs = performance.now() - t0;
if (res.status !== "completed") throw new Error(`${res.status} ${res.error}`);
rmSync(repo, { recursive: true, force: true });
console.log(JSON.stringify({ agents: AGENTS, files: FILES, plainMs, weftMs }));
