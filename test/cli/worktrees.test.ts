import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  AGENT_CMD,
  collect,
  gitOut,
  gitProject,
  journal,
  meta,
  project,
  runIdOf,
  runScript,
  startWeft,
  until,
  weft,
} from "../helpers/cli.js";

const finished = (dir: string, id: string) => journal(dir, id).filter((x) => x.type === "agent.finished");

/** Run wf.js and kill -9 weft once agent `n` has been spawned; returns the run id. */
async function killWhenSpawned(dir: string, n: number): Promise<string> {
  const child = startWeft(["run", "wf.js", "--command", AGENT_CMD], dir);
  const done = collect(child);
  const id = await until(() => readdirSync(join(dir, ".weft", "runs"))[0]);
  await until(() => journal(dir, id).some((x) => x.type === "agent.spawned" && x.n === n) || undefined);
  child.kill("SIGKILL");
  await done;
  return id;
}

describe("worktrees", () => {
  test('A02 isolation: { mode: "worktree" } (a pi fork\'s object form) runs the agent in a worktree; other keys warn', async () => {
    const dir = gitProject({
      "wf.js": `${meta("objiso")}const a = await agent("write:src/o.txt:obj", { isolation: { mode: "worktree", branch: "mine", keep: true } })
return a\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/option "isolation": "branch", "keep" are not used by weft and ignored/);
    const f = finished(dir, runIdOf(r));
    expect(f[0]).toMatchObject({ status: "completed", patch: "patches/1.patch" });
    expect(f[0].worktree.branch).toMatch(/^weft\//);
    // The main tree is untouched until integrate().
    expect(existsSync(join(dir, "src", "o.txt"))).toBe(false);
  });

  test("W01 W02 W04 eight agents edit their own files in worktrees; integrate() applies all eight", async () => {
    const dir = gitProject({
      "wf.js": `${meta("eight")}const out = await parallel(Array.from({ length: 8 }, (_, i) => () => agent("write:src/f" + i + ".txt:from~" + i, { isolation: "worktree", label: "f" + i })))
const branches = log("before integrate")
const res = await integrate()
return { out: out.length, applied: res.applied.map((a) => a.n), conflicts: res.conflicts }\n`,
    });
    const r = await runScript(dir, "wf.js", ["--concurrency", "8"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({ out: 8, applied: [1, 2, 3, 4, 5, 6, 7, 8], conflicts: [] });
    const id = runIdOf(r);
    for (let i = 0; i < 8; i++)
      expect(readFileSync(join(dir, "src", `f${i}.txt`), "utf8")).toBe(`from ${i}\n`);
    const recs = finished(dir, id);
    expect(recs.map((x) => x.worktree.branch).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `weft/${id}/${i + 1}`).sort(),
    );
    for (const rec of recs) {
      expect(rec.files).toHaveLength(1);
      expect(readFileSync(join(dir, ".weft", "runs", id, rec.patch), "utf8")).toContain("+from ");
    }
    // Integrated worktrees and their branches are gone; the main tree's own files are untouched.
    expect(gitOut(dir, "branch", "--list", "weft/*").trim()).toBe("");
    expect(readdirSync(join(dir, ".weft", "worktrees", id))).toEqual([]);
    expect(gitOut(dir, "status", "--porcelain")).toBe("?? src/\n");
  });

  test("W02 an agent that changes nothing leaves no worktree, branch or patch", async () => {
    const dir = gitProject({ "wf.js": `${meta()}return await agent("hello", { isolation: "worktree" })\n` });
    const r = await runScript(dir, "wf.js");
    expect(r.code).toBe(0);
    const id = runIdOf(r);
    expect(finished(dir, id)[0]).toMatchObject({ status: "completed", files: [] });
    expect(finished(dir, id)[0].patch).toBeUndefined();
    expect(gitOut(dir, "worktree", "list").trim().split("\n")).toHaveLength(1);
    expect(gitOut(dir, "branch", "--list", "weft/*").trim()).toBe("");
  });

  test("W02 a same-size edit made at once after the checkout of a large tree is in the patch", async () => {
    // 1,200 files make an index large enough for weft to date it past the checkout when more
    // checkouts are to come (test/workspace/settle.test.ts): whether it did or not, an edit in
    // the checkout's own second that keeps the size must be seen.
    const files: Record<string, string> = {};
    for (let i = 0; i < 8; i++) files[`w${i}.txt`] = "old\n";
    for (let i = 0; i < 1200; i++) files[`many/f${i}.txt`] = `${i}\n`;
    const dir = gitProject({
      ...files,
      "wf.js": `${meta()}return await parallel([0, 1, 2, 3, 4, 5, 6, 7].map((i) => () => agent("write:w" + i + ".txt:new", { isolation: "worktree" })))\n`,
    });
    const r = await runScript(dir, "wf.js", ["--concurrency", "8"]);
    expect(r.code).toBe(0);
    const recs = finished(dir, runIdOf(r));
    expect(recs).toHaveLength(8);
    for (const rec of recs) {
      expect(rec.files).toHaveLength(1);
      expect(rec.files[0].status).toBe("M");
      expect(readFileSync(join(dir, ".weft", "runs", runIdOf(r), rec.patch), "utf8")).toContain("+new");
    }
  });

  test("W01 an agent's worktree starts from the base plus what was integrated before it", async () => {
    const dir = gitProject({
      "wf.js": `${meta()}await agent("write:a.txt:stage~one", { isolation: "worktree" })
await integrate()
return await agent("cat:a.txt", { isolation: "worktree" })\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.stdout.trim()).toBe("stage one");
  });

  test("W03 a change outside the write scope fails the agent; its patch is kept and never integrated", async () => {
    const dir = gitProject({
      "wf.js": `${meta()}const ok = await agent("write:src/api/x.ts:ok", { isolation: "worktree", writes: ["src/api/**"] })
const bad = await agent("write:src/api/y.ts:ok write:docs/z.md:no", { isolation: "worktree", writes: ["src/api/**"] })
const res = await integrate()
return { ok: ok !== null, bad, applied: res.applied.map((a) => a.n) }\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, bad: null, applied: [1] });
    expect(r.stderr).toContain("changed files outside its write scope (writes: src/api/**): docs/z.md");
    const id = runIdOf(r);
    expect(existsSync(join(dir, ".weft", "runs", id, "patches", "2.patch"))).toBe(true);
    expect(existsSync(join(dir, "docs", "z.md"))).toBe(false);
    expect(existsSync(join(dir, "src", "api", "y.ts"))).toBe(false);
  });

  test("W04 two agents editing the same lines: one applied, one reported as a conflict, nothing half-applied", async () => {
    const dir = gitProject({
      "shared.txt": "line\n",
      "wf.js": `${meta()}await parallel([() => agent("write:shared.txt:first write:one.txt:1", { isolation: "worktree" }), () => agent("write:shared.txt:second write:two.txt:2", { isolation: "worktree" })])
return await integrate()\n`,
    });
    const r = await runScript(dir, "wf.js");
    const res = JSON.parse(r.stdout);
    expect(res.applied.map((a: { n: number }) => a.n)).toEqual([1]);
    expect(res.conflicts).toHaveLength(1);
    expect(res.conflicts[0]).toMatchObject({ n: 2, files: ["shared.txt", "two.txt"] });
    expect(res.conflicts[0].error).toMatch(/shared\.txt/);
    expect(readFileSync(join(dir, "shared.txt"), "utf8")).toBe("first\n");
    // The conflicting patch changed nothing, not even its file without a conflict.
    expect(existsSync(join(dir, "two.txt"))).toBe(false);
  });

  test("W04 integrate() leaves the user's own changes to other files alone and applies the patches", async () => {
    const dir = gitProject({
      "wf.js": `${meta()}await agent("write:x.txt:1", { isolation: "worktree" })
return (await integrate()).applied.length\n`,
    });
    writeFileSync(join(dir, "README.md"), "edited by the user\n");
    writeFileSync(join(dir, "notes.log"), "untracked, the user's\n");
    const r = await runScript(dir, "wf.js");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toBe(1);
    expect(readFileSync(join(dir, "x.txt"), "utf8")).toBe("1\n");
    expect(readFileSync(join(dir, "README.md"), "utf8")).toBe("edited by the user\n");
    expect(readFileSync(join(dir, "notes.log"), "utf8")).toBe("untracked, the user's\n");
  });

  test("W04 integrate() refuses only when the user's changes touch files a patch changes, naming them; its hint is a call that works", async () => {
    const dir = gitProject({
      "shared.txt": "base\n",
      "wf.js": `${meta()}await agent("write:shared.txt:agent", { isolation: "worktree" })
let refused = null
try { await integrate() } catch (e) { refused = e.message }
const hint = /call (integrate\\(undefined, \\{ allowDirty: true \\}\\))/.exec(refused)
const forced = await integrate(undefined, { allowDirty: true })
return { refused, hint: hint && hint[1], applied: forced.applied.length, conflicts: forced.conflicts.length }\n`,
    });
    writeFileSync(join(dir, "shared.txt"), "the user's\n");
    writeFileSync(join(dir, "README.md"), "edited by the user\n");
    const r = await runScript(dir, "wf.js");
    const out = JSON.parse(r.stdout);
    expect(out.refused).toMatch(/uncommitted changes of your own in the working tree: shared\.txt;/);
    expect(out.refused).not.toMatch(/README/);
    expect(out.hint).toBe("integrate(undefined, { allowDirty: true })");
    // allowDirty applies over the user's change where git can; here the same line: a conflict.
    expect(out).toMatchObject({ applied: 0, conflicts: 1 });
    expect(readFileSync(join(dir, "shared.txt"), "utf8")).toBe("the user's\n");
  });

  test("W05 a failing verify goes back to the agent, which fixes it on the next try; a lasting failure fails it", async () => {
    const dir = gitProject({
      "wf.js": `${meta()}const fixed = await agent("write-from:2:ok.txt:yes", { isolation: "worktree", verify: "test -f ok.txt || (echo missing ok.txt; exit 3)" })
const never = await agent("write:nope.txt:x", { isolation: "worktree", verify: ["true", "echo still broken; exit 1"] })
return { fixed: fixed !== null, never }\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(JSON.parse(r.stdout)).toEqual({ fixed: true, never: null });
    const id = runIdOf(r);
    const [a, b] = finished(dir, id);
    expect(a.attempts).toBe(2);
    expect(b.attempts).toBe(3);
    expect(b.error).toMatch(
      /verify failed after 2 repairs: `echo still broken; exit 1` exited with 1:\nstill broken/,
    );
    const agent1 = JSON.parse(readFileSync(join(dir, ".weft", "runs", id, "agents", "1.json"), "utf8"));
    expect(agent1.verify.map((v: { ok: boolean }) => v.ok)).toEqual([false, true]);
    expect(agent1.verify[0].output).toContain("missing ok.txt");
    // The agent was told what failed.
    const t = readFileSync(join(dir, ".weft", "runs", id, "tasks", "1-2.prompt.txt"), "utf8");
    expect(t).toBe("write-from:2:ok.txt:yes");
  });

  test("W06 outside a git repository, worktree isolation fails before any agent starts", async () => {
    const dir = project({
      "wf.js": `${meta()}await agent("a")\nreturn await agent("b", { isolation: "worktree" })\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/isolation: "worktree" needs a git repository, and .* is not inside one/);
    expect(
      existsSync(join(dir, ".weft", "runs")) && readdirSync(join(dir, ".weft", "runs")).length,
    ).toBeFalsy();
  });

  test("R04 resume after kill -9 reuses finished worktree agents and their patches, applying nothing twice", async () => {
    const script = (stage2: string) =>
      `${meta()}await parallel([1, 2].map((i) => () => agent("log:" + cwd + "/starts.log write:s" + i + ".txt:one~" + i, { isolation: "worktree" })))
const first = await integrate()
const second = await agent("${stage2} log:" + cwd + "/starts.log cat:s1.txt", { isolation: "worktree" })
return { first: first.applied.map((a) => a.n), second }\n`;
    const dir = gitProject({ "wf.js": script("sleep:30000") });
    writeFileSync(join(dir, ".git", "info", "exclude"), "starts.log\n");
    const id = await killWhenSpawned(dir, 3);
    expect(readFileSync(join(dir, "s1.txt"), "utf8")).toBe("one 1\n");
    writeFileSync(join(dir, "wf.js"), script("sleep:10"));
    const r = await weft(["run", "wf.js", "--resume", id, "--command", AGENT_CMD], dir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ first: [1, 2], second: "one 1\n".trimEnd() });
    const starts = readFileSync(join(dir, "starts.log"), "utf8").trim().split("\n");
    // Agents 1 and 2 started once; only stage 2 started again (under its edited prompt).
    expect(starts.filter((l) => l.includes("write:s1.txt"))).toHaveLength(1);
    expect(starts.filter((l) => l.includes("write:s2.txt"))).toHaveLength(1);
    expect(readFileSync(join(dir, "s2.txt"), "utf8")).toBe("one 2\n");
  });

  test("R04 a resume forgets the unchanged worktrees a killed execution removed but had not yet forgotten", async () => {
    const script = (wait: string) =>
      `${meta()}await parallel([1, 2].map((i) => () => agent("nothing " + i, { isolation: "worktree" })))
await parallel([1, 2].map((i) => () => agent("write:kept" + i + ".txt:x", { isolation: "worktree" })))
return await agent("${wait}")\n`;
    const dir = gitProject({ "wf.js": script("sleep:30000") });
    const id = await killWhenSpawned(dir, 5);
    // Removed at once, forgotten at the run's end, which never came: their branches are left.
    const branches = () =>
      gitOut(dir, "branch", "--list", "--format=%(refname:short)", "weft/*").trim().split("\n");
    expect(branches()).toEqual([`weft/${id}/1`, `weft/${id}/2`, `weft/${id}/3`, `weft/${id}/4`]);
    writeFileSync(join(dir, "wf.js"), script("sleep:10"));
    const r = await weft(["run", "wf.js", "--resume", id, "--command", AGENT_CMD], dir);
    expect(r.code).toBe(0);
    // The changed worktrees (3 and 4) are kept until integrated or cleaned; 1 and 2 are gone.
    expect(branches()).toEqual([`weft/${id}/3`, `weft/${id}/4`]);
    expect(gitOut(dir, "worktree", "list").trim().split("\n")).toHaveLength(3);
  });

  test("W02 a changed worktree that was not integrated is kept until weft clean removes it", async () => {
    const dir = gitProject({
      "wf.js": `${meta()}return await agent("write:kept.txt:1", { isolation: "worktree" })\n`,
    });
    const r = await runScript(dir, "wf.js");
    const id = runIdOf(r);
    expect(existsSync(join(dir, ".weft", "worktrees", id, "1", "kept.txt"))).toBe(true);
    expect(gitOut(dir, "branch", "--list", "--format=%(refname:short)", "weft/*").trim()).toBe(
      `weft/${id}/1`,
    );
    const c = await weft(["clean", id], dir);
    expect(c.stdout).toContain("removed 1 worktree and 1 branch");
    expect(existsSync(join(dir, ".weft", "worktrees", id))).toBe(false);
    expect(gitOut(dir, "branch", "--list", "weft/*").trim()).toBe("");
    expect(gitOut(dir, "worktree", "list").trim().split("\n")).toHaveLength(1);
  });

  test("W02 a worktree left half-made by a crash in the middle of its creation is removed by weft clean", async () => {
    const dir = gitProject({ "wf.js": `${meta()}return await agent("hello", { isolation: "worktree" })\n` });
    const id = runIdOf(await runScript(dir, "wf.js"));
    // What a kill -9 during `git worktree add` leaves: a registration still locked as
    // "initializing" (git's guard against prune), its branch, and part of the files.
    const path = join(dir, ".weft", "worktrees", id, "2");
    execFileSync("git", ["worktree", "add", "-q", "--no-checkout", "-b", `weft/${id}/2`, path, "HEAD"], {
      cwd: dir,
    });
    writeFileSync(join(dir, ".git", "worktrees", "2", "locked"), "initializing");
    writeFileSync(join(path, "README.md"), "proj");
    const c = await weft(["clean", id], dir);
    expect(c.stdout).toContain("removed 1 worktree and 1 branch");
    expect(existsSync(join(dir, ".weft", "worktrees", id))).toBe(false);
    expect(gitOut(dir, "branch", "--list", "weft/*").trim()).toBe("");
    expect(gitOut(dir, "worktree", "list").trim().split("\n")).toHaveLength(1);
  });

  test("W04 meta.integrate or --integrate applies what is left when the run completes", async () => {
    const dir = gitProject({
      "wf.js": `export const meta = { name: "auto", description: "d", integrate: true }
await parallel([() => agent("write:a.txt:A", { isolation: "worktree" }), () => agent("write:b.txt:B", { isolation: "worktree" })])\n`,
      "flag.js": `${meta()}await agent("write:c.txt:C", { isolation: "worktree" })\n`,
    });
    let r = await runScript(dir, "wf.js");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("integrated #1 #2");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("A\n");
    expect(readFileSync(join(dir, "b.txt"), "utf8")).toBe("B\n");
    const s = JSON.parse(readFileSync(join(dir, ".weft", "runs", runIdOf(r), "run.json"), "utf8"));
    expect(s.integration.applied.map((a: { n: number }) => a.n)).toEqual([1, 2]);
    execFileSync("git", ["add", "-A"], { cwd: dir });
    execFileSync("git", ["commit", "-qm", "stage"], { cwd: dir });
    r = await runScript(dir, "flag.js", ["--integrate"]);
    expect(readFileSync(join(dir, "c.txt"), "utf8")).toBe("C\n");
  });
});
