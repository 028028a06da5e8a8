/** weft fork (R08): a new run that reuses some of another run's finished agents. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { gitProject, journal, meta, project, runIdOf, runJson, runScript, weft } from "../helpers/cli.js";

/** Four agents in a row; each start is logged as "start <n> <prompt>". */
const script = `${meta("chain")}const names = ["one", "two", "three", "four"]
const out = []
for (const name of names) out.push(await agent("log:" + cwd + "/starts.log " + name, { label: name }))
return out.map((o) => o.split(" ").pop())\n`;

function starts(dir: string): string[] {
  const file = join(dir, "starts.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => `${l.split(" ")[1]} ${l.split(" ").pop()}`);
}

test("R08 fork --from <n> starts a new run that reuses the agents before n and runs n and later again", async () => {
  const dir = project({ "wf.js": script });
  const first = await runScript(dir, "wf.js");
  expect(first.code).toBe(0);
  const src = runIdOf(first);
  expect(starts(dir)).toEqual(["1 one", "2 two", "3 three", "4 four"]);

  const fork = await weft(["fork", src, "--from", "3"], dir);
  expect(fork.code, fork.stderr).toBe(0);
  const id = runIdOf(fork);
  expect(id).not.toBe(src);
  expect(fork.stderr.split("\n")[0]).toBe(`run ${id}`);
  expect(JSON.parse(fork.stdout)).toEqual(["one", "two", "three", "four"]);
  // Only three and four started again, numbered after the reused ones.
  expect(starts(dir).slice(4)).toEqual(["3 three", "4 four"]);
  const summary = runJson(dir, id);
  expect(summary.forkedFrom).toEqual({ run: src, from: 3 });
  expect(summary.agents).toMatchObject({ cached: 2, completed: 2 });
  // The source is untouched; the fork is a run of its own that resumes from its own journal.
  expect(runJson(dir, src).forkedFrom).toBeUndefined();
  const again = await weft(["resume", id], dir);
  expect(again.code).toBe(0);
  expect(starts(dir)).toHaveLength(6);
  expect(existsSync(join(dir, ".weft", "runs", id, "agents", "1.json"))).toBe(true);
});

test("R08 fork --from <label> and --rerun <agent> (repeatable) start exactly the expected agents", async () => {
  const dir = project({ "wf.js": script });
  const src = runIdOf(await runScript(dir, "wf.js"));

  const byLabel = await weft(["fork", src, "--from", "two"], dir);
  expect(byLabel.code, byLabel.stderr).toBe(0);
  expect(starts(dir).slice(4)).toEqual(["2 two", "3 three", "4 four"]);
  expect(runJson(dir, runIdOf(byLabel)).forkedFrom).toEqual({ run: src, from: 2 });

  const rerun = await weft(["fork", src, "--rerun", "two"], dir);
  expect(rerun.code, rerun.stderr).toBe(0);
  // One answers from the cache; two runs again with a new number, and so do three and four:
  // they were made after two had finished, and two is a writer (a command agent), so their
  // answers saw the tree two left (R03).
  expect(starts(dir).slice(7)).toEqual(["5 two", "6 three", "7 four"]);
  expect(runJson(dir, runIdOf(rerun)).forkedFrom).toEqual({ run: src, rerun: [2] });

  const two = await weft(["fork", src, "--rerun", "4", "--rerun", "one"], dir);
  expect(two.code, two.stderr).toBe(0);
  // Two and three would be reused, but they saw one, which runs again (R03); new calls are
  // numbered after the highest agent the fork took over.
  expect(starts(dir).slice(10)).toEqual(["4 one", "5 two", "6 three", "7 four"]);
  expect(runJson(dir, runIdOf(two)).forkedFrom).toEqual({ run: src, rerun: [1, 4] });
});

test("R08 fork refuses an unknown run, an unknown agent, and a missing or double choice", async () => {
  const dir = project({ "wf.js": script });
  const src = runIdOf(await runScript(dir, "wf.js"));
  const none = await weft(["fork", "nope-123456", "--from", "1"], dir);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('nothing to fork: no run "nope-123456"');
  const label = await weft(["fork", src, "--from", "five"], dir);
  expect(label.code).toBe(2);
  expect(label.stderr).toContain('has no agent labelled "five"');
  expect(label.stderr).toContain("one, two, three, four");
  const num = await weft(["fork", src, "--rerun", "9"], dir);
  expect(num.code).toBe(2);
  expect(num.stderr).toContain("has no finished agent #9");
  const neither = await weft(["fork", src], dir);
  expect(neither.code).toBe(2);
  expect(neither.stderr).toContain("give --from <agent> or --rerun <agent>");
  const both = await weft(["fork", src, "--from", "2", "--rerun", "3"], dir);
  expect(both.code).toBe(2);
  expect(starts(dir)).toHaveLength(4);
});

test("R08 R04 a fork keeps the reused worktree agents' patches: integrate() in the fork applies them without running them", async () => {
  const dir = gitProject({
    "wf.js": `${meta("trees")}const a = await agent("log:" + cwd + "/.weft/starts.log write:a.txt:from~a", { isolation: "worktree", label: "a" })
const b = await agent("log:" + cwd + "/.weft/starts.log write:b.txt:from~b", { isolation: "worktree", label: "b" })
if (args && args.integrate) return (await integrate()).applied.map((x) => x.n)
return "kept"\n`,
  });
  const first = await runScript(dir, "wf.js");
  expect(first.code, first.stderr).toBe(0);
  const src = runIdOf(first);
  expect(existsSync(join(dir, "a.txt"))).toBe(false);

  const fork = await weft(["fork", src, "--from", "b", "--args", '{"integrate":true}'], dir);
  expect(fork.code, fork.stderr).toBe(0);
  const id = runIdOf(fork);
  // a came from the cache (its patch copied along), b ran again in the fork.
  expect(starts(join(dir, ".weft")).map((s) => s.split(" ")[0])).toEqual(["1", "2", "2"]);
  expect(existsSync(join(dir, ".weft", "runs", id, "patches", "1.patch"))).toBe(true);
  expect(JSON.parse(fork.stdout)).toEqual([1, 2]);
  expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("from a\n");
  expect(readFileSync(join(dir, "b.txt"), "utf8")).toBe("from b\n");
  const fin = journal(dir, id).filter((r) => r.type === "agent.finished");
  expect(fin.map((r) => r.n)).toEqual([1, 2]);
  expect(fin[0].patch).toBe("patches/1.patch");
});
