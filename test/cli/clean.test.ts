/** `weft clean <run>` and `weft clean --all` (U01), and the summary of a run that kept worktrees (W02). */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { processStartTime } from "../../src/store/lock.js";
import { gitOut, gitProject, meta, project, runIdOf, runScript, weft } from "../helpers/cli.js";

const KEEPS = `${meta("keeps")}return await agent("write:x.txt:changed", { isolation: "worktree" })\n`;
const branches = (dir: string) =>
  gitOut(dir, "branch", "--list", "--format=%(refname:short)", "weft/*").trim();
const kept = (dir: string, id: string) => {
  const d = join(dir, ".weft", "worktrees", id);
  return existsSync(d) ? readdirSync(d) : [];
};

describe("weft clean", () => {
  test("W02 a run that kept worktrees says so in its summary, with the command that removes them", async () => {
    const dir = gitProject({ "wf.js": KEEPS });
    const r = await runScript(dir, "wf.js");
    expect(r.code, r.stderr).toBe(0);
    const id = runIdOf(r);
    expect(kept(dir, id)).toEqual(["1"]);
    expect(r.stderr).toContain(
      `kept 1 worktree with agents' changes in .weft/worktrees/${id}/: \`weft clean ${id}\` removes them and their branches`,
    );
    // A run whose worktrees were all removed (nothing changed) says nothing of the kind.
    const quiet = gitProject({
      "wf.js": `${meta()}return await agent("nothing", { isolation: "worktree" })\n`,
    });
    const q = await runScript(quiet, "wf.js");
    expect(q.code, q.stderr).toBe(0);
    expect(q.stderr).not.toContain("weft clean");
  });

  test("U01 weft clean --all removes every worktree and branch of the runs no process drives, and keeps a live run's", async () => {
    const dir = gitProject({ "wf.js": KEEPS });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(runIdOf(await runScript(dir, "wf.js")));
    for (const id of ids) expect(kept(dir, id)).toEqual(["1"]);
    expect(branches(dir).split("\n")).toHaveLength(3);
    // The third run is driven right now: its lock is held by a live process (this one).
    const live = ids[2]!;
    writeFileSync(
      join(dir, ".weft", "runs", live, "lock.json"),
      JSON.stringify({
        pid: process.pid,
        startTime: processStartTime(process.pid),
        hostname: hostname(),
        acquiredAt: Date.now(),
        heartbeatAt: Date.now(),
        token: "t",
      }),
    );
    // A leftover of a run whose directory is gone: a branch and an empty worktree folder.
    gitOut(dir, "branch", "weft/gone-abcdef/1");
    mkdirSync(join(dir, ".weft", "worktrees", "gone-abcdef"), { recursive: true });

    const r = await weft(["clean", "--all"], dir);
    expect(r.code, r.stderr).toBe(0);
    for (const id of ids.slice(0, 2)) {
      expect(kept(dir, id)).toEqual([]);
      expect(r.stdout).toContain(`removed 1 worktree and 1 branch of ${id}`);
    }
    expect(r.stdout).toContain("removed 0 worktrees and 1 branch of gone-abcdef");
    expect(r.stdout).toContain(`kept    ${live}: running (pid ${process.pid})`);
    expect(r.stdout).toContain("removed 2 worktrees and 3 branches in all");
    expect(kept(dir, live)).toEqual(["1"]);
    expect(branches(dir)).toBe(`weft/${live}/1`);
    expect(gitOut(dir, "worktree", "list").trim().split("\n")).toHaveLength(2);
    // Nothing left: it says so and succeeds.
    const again = await weft(["clean", "--all"], dir);
    expect(again.stdout).toContain("removed 0 worktrees and 0 branches in all");
  });

  test("U01 weft clean needs a run or --all, not both, and works outside git", async () => {
    const dir = project();
    expect((await weft(["clean"], dir)).code).toBe(2);
    expect((await weft(["clean", "x", "--all"], dir)).stderr).toContain("give a run or --all, not both");
    const r = await weft(["clean", "--all"], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("removed 0 worktrees and 0 branches in all");
  });
});
