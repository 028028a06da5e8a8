/**
 * `weft clean --all`: the worktrees and branches of every run no process is driving. A worktree
 * is only for looking at an agent's change: integration and resume work from the saved patches
 * (`patches/<n>.patch`), so removing them is safe for stopped and paused runs too. A run whose
 * owner is alive keeps everything. Leftovers of runs whose directory is gone (a deleted run, a
 * crash before its first write) go as well: their folders under `.weft/worktrees/` and their
 * `weft/<run>/<n>` branches.
 */
import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { liveOwner } from "../store/lock.js";
import { Workspace } from "../workspace/workspace.js";

const names = (dir: string) =>
  readdir(dir, { withFileTypes: true }).then(
    (es) => es.filter((e) => e.isDirectory()).map((e) => e.name),
    () => [] as string[],
  );

/** Run ids that have `weft/<id>/<n>` branches in the repository of `cwd` (none outside git). */
function branchRuns(cwd: string): Promise<string[]> {
  return new Promise((done) =>
    execFile("git", ["branch", "--list", "--format=%(refname:short)", "weft/*"], { cwd }, (err, out) => {
      if (err) return done([]);
      const ids = `${out}`
        .split("\n")
        .map((b) => /^weft\/(.+)\/\d+$/.exec(b.trim())?.[1])
        .filter((id): id is string => id !== undefined);
      done([...new Set(ids)]);
    }),
  );
}

export async function cleanAllCommand(cwd: string, weftDir: string): Promise<number> {
  const runs = new Set(await names(join(weftDir, "runs")));
  const ids = new Set([...(await names(join(weftDir, "worktrees"))), ...(await branchRuns(cwd))]);
  let worktrees = 0;
  let branches = 0;
  const say = (l: string) => process.stdout.write(`${l}\n`);
  for (const id of [...ids].sort()) {
    const owner = runs.has(id) ? liveOwner(join(weftDir, "runs", id)) : undefined;
    if (owner) {
      say(`kept    ${id}: running (pid ${owner.pid}); \`weft stop ${id}\` first`);
      continue;
    }
    const r = await Workspace.clean(cwd, weftDir, id);
    if (r.worktrees + r.branches === 0) continue;
    worktrees += r.worktrees;
    branches += r.branches;
    say(`removed ${plural(r.worktrees, "worktree")} and ${plural(r.branches, "branch")} of ${id}`);
  }
  say(`removed ${plural(worktrees, "worktree")} and ${plural(branches, "branch")} in all`);
  return 0;
}

export const plural = (n: number, word: string) =>
  `${n} ${word}${n === 1 ? "" : word.endsWith("h") ? "es" : "s"}`;
