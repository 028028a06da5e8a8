/** `weft plan` (U06): a script's shape and an estimate, read without running anything. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { planWorkflow, renderPlan } from "../../src/index.js";
import { meta, project, weft } from "../helpers/cli.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const recipe = (name: string) => join(root, "recipes", `${name}.js`);
/** A plan shows the parts of a template it cannot know as `${...}`: written here as `#{...}`. */
const tpl = (s: string) => s.replaceAll("#{", "$" + "{");

async function plan(dir: string, script: string, flags: string[] = []) {
  const r = await weft(["plan", script, "--json", ...flags], dir);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}
const shape = (p: any) => ({
  phases: p.phases.map((x: any) => x.title),
  agents: p.agents.map((a: any) => [a.label ?? null, a.runs.n, a.runs.exact]),
  fanOuts: p.fanOuts.map((f: any) => [f.kind, f.origin.kind, f.count.n, f.count.exact]),
  estimate: [p.estimate.agents.n, p.estimate.agents.exact],
});

describe("weft plan on the bundled recipes", () => {
  test("U06 triangulated-review: two phases, a reviewer per lens over a literal list, a merge; exact with --args", async () => {
    const dir = project();
    const p = await plan(dir, recipe("triangulated-review"));
    expect(shape(p)).toEqual({
      phases: ["Review", "Merge"],
      agents: [
        [tpl("‹`review: #{lens}`›"), 4, true],
        ["merge", 1, true],
      ],
      fanOuts: [["map", "literal", 4, true]],
      estimate: [5, true],
    });
    // The lenses' default is read from the script, and it says so.
    expect(p.estimate.agents.assumptions.join("\n")).toMatch(/args\.lenses not given.*fallback/);
    const two = await plan(dir, recipe("triangulated-review"), ["--args", '{"lenses":["a","b"]}']);
    expect(two.estimate.agents).toMatchObject({ n: 3, exact: true });
    expect(two.agents[0].options.find((o: any) => o.name === "schema")).toMatchObject({
      source: "FINDINGS",
      known: true,
    });
    expect(two.agents[0].options.find((o: any) => o.name === "permissions")).toMatchObject({
      value: "read-only",
      when: "not args?.readOnly === false",
    });
  });

  test("U06 migration: the scout is skipped when args give the files; one agent per file with isolation, writes and verify", async () => {
    const dir = project();
    const unknown = await plan(dir, recipe("migration"));
    expect(shape(unknown)).toEqual({
      phases: ["Find", "Migrate", "Integrate"],
      agents: [
        ["find files", 1, false],
        ["‹file›", 8, false],
      ],
      fanOuts: [["map", "args", 8, false]],
      estimate: [9, false],
    });
    expect(unknown.estimate.agents.assumptions).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/args\.files \(not given: pass --args\): assumed 8 items/),
        expect.stringMatching(/under a condition/),
      ]),
    );
    const known = await plan(dir, recipe("migration"), [
      "--args",
      '{"instructions":"x","files":["a.ts","b.ts","c.ts"],"verify":"tsc {file}"}',
    ]);
    expect(shape(known).agents).toEqual([
      ["find files", 0, true],
      ["‹file›", 3, true],
    ]);
    expect(known.estimate).toMatchObject({ agents: { n: 3, exact: true }, tokens: 150_000 });
    const names = known.agents[1].options.map((o: any) => o.name);
    expect(names).toEqual(expect.arrayContaining(["isolation", "writes", "verify"]));
    expect(known.others.map((o: any) => o.call)).toEqual([
      "integrate(null, { allowDirty: args.allowDirty === true })",
    ]);
  });

  test("U06 every recipe plans: meta, phases in order, literal agent calls with lines, an estimate", async () => {
    const dir = project();
    const expected: Record<string, { phases: string[]; agents: number; fanOut: string[] }> = {
      "review-fix-verify": { phases: ["Review", "Fix", "Integrate"], agents: 2, fanOut: ["map"] },
      "scout-act-verify": { phases: ["Scout", "Act", "Verify"], agents: 3, fanOut: [] },
      "split-by-sections": { phases: ["Split", "Work", "Integrate"], agents: 2, fanOut: ["map"] },
      "research-synthesis": {
        phases: ["Research", "Synthesis", "Check", "Report"],
        agents: 4,
        fanOut: ["map", "map"],
      },
      "options-sprint": { phases: ["Draft", "Choose", "Refine"], agents: 3, fanOut: ["map"] },
    };
    for (const [name, want] of Object.entries(expected)) {
      const p = await plan(dir, recipe(name));
      expect(p.meta.name).toBe(name);
      expect(p.meta.args.type).toBe("object");
      expect(p.phases.map((x: any) => x.title)).toEqual(want.phases);
      expect(p.agents).toHaveLength(want.agents);
      for (const a of p.agents) expect(a.line).toBeGreaterThan(1);
      expect(p.fanOuts.map((f: any) => f.kind)).toEqual(want.fanOut);
      expect(p.estimate.agents.n).toBeGreaterThan(0);
    }
    // options-sprint: `count` decides the drafts; research-synthesis: the checkers fan out over an agent's result.
    const sprint = await plan(dir, recipe("options-sprint"), ["--args", '{"problem":"p","count":5}']);
    expect(sprint.estimate.agents).toMatchObject({ n: 7, exact: true });
    const research = await plan(dir, recipe("research-synthesis"), ["--args", '{"questions":["a","b"]}']);
    expect(research.fanOuts[1].origin).toMatchObject({ kind: "agent" });
    expect(research.estimate.agents).toMatchObject({ n: 2 + 1 + 8 + 1, exact: false });
  });

  test("U06 the text plan names phases, calls, fan-out sites and what the estimate assumes; by recipe name too", async () => {
    const dir = project();
    const r = await weft(["plan", "migration", "--fan-out", "20", "--tokens-per-agent", "1000"], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("# Plan: migration");
    expect(r.stdout).toMatch(/## Phases\n\n1\. Find — .*phase\(\) at line \d+/);
    expect(r.stdout).toMatch(/#2 line \d+, label "‹file›", phase "Migrate", runs ~20×/);
    expect(r.stdout).toMatch(/line \d+: map over `files`: args path `args\.files`; ~20 items \(assumed\)/);
    expect(r.stdout).toContain("- agents: ~21 (estimate)");
    expect(r.stdout).toContain("- tokens: ~21,000 (1,000 per agent: --tokens-per-agent)");
    expect(r.stdout).toContain("not counted: retries, schema repairs and verify repairs");
    // Nothing ran: no run directory.
    expect(
      existsSync(join(dir, ".weft", "runs")) && readdirSync(join(dir, ".weft", "runs")).length,
    ).toBeFalsy();
  });
});

describe("weft plan on scripts", () => {
  test("U06 named helpers are counted from their call sites; loops and agent results are assumed and said so", async () => {
    const dir = project({
      "wf.js": `${meta("helpers")}const review = (f) => agent("review " + f, { label: f })
const files = ["a", "b", "c"]
phase("One")
await parallel(files.map((f) => () => review(f)))
await review("extra")
const { items } = await agent("list items", { schema: { type: "object", properties: { items: { type: "array" } } } })
for (const it of items) await agent("do " + it)
let i = 0
while (i++ < 3) await agent("poll")
return 1
`,
    });
    const p = await plan(dir, "wf.js", ["--fan-out", "5"]);
    expect(p.agents.map((a: any) => [a.line, a.runs.n, a.runs.exact, a.inFunction ?? null])).toEqual([
      [2, 4, true, "review"],
      [7, 1, true, null],
      [8, 5, false, null],
      [10, 5, false, null],
    ]);
    expect(p.fanOuts.map((f: any) => [f.line, f.kind, f.origin.kind, f.parallel ?? null])).toEqual([
      [5, "map", "literal", 5],
      [8, "for-of", "agent", null],
      [10, "loop", "loop", null],
    ]);
    expect(p.estimate.agents).toMatchObject({ n: 15, exact: false });
    expect(p.estimate.agents.assumptions).toEqual([
      "line 8: the result of the agent() at line 7: assumed 5 items (--fan-out)",
      "the loop at line 10: assumed 5 iterations (--fan-out)",
    ]);
  });

  test("U06 Array.from({ length: 20 }, ...) counts 20, and parallel() over a fan-out lists that site once", async () => {
    const dir = project({
      "wf.js": `${meta("from")}const out = await parallel(Array.from({ length: 20 }, (_, i) => () => agent("task " + i)))
const n = 3
await parallel(Array.from({ length: n }).map((_, i) => () => agent("more " + i)))
await parallel([() => agent("a"), () => agent("b")])
return out
`,
    });
    const p = await plan(dir, "wf.js");
    expect(p.fanOuts.map((f: any) => [f.line, f.kind, f.count.n, f.count.exact, f.parallel ?? null])).toEqual(
      [
        [2, "Array.from", 20, true, 2],
        [4, "map", 3, true, 4],
        [5, "parallel", 2, true, null],
      ],
    );
    expect(p.agents.map((a: any) => [a.runs.n, a.runs.exact])).toEqual([
      [20, true],
      [3, true],
      [1, true],
      [1, true],
    ]);
    expect(p.estimate.agents).toMatchObject({ n: 25, exact: true });
    const text = (await weft(["plan", "wf.js"], dir)).stdout;
    expect(text.match(/^- line 2: /gm)).toHaveLength(1);
    expect(text).toMatch(
      /- line 2: Array\.from over `\{ length: 20 \}`: .*; 20 items; agent calls #1; run by parallel\(\) at line 2/,
    );
    expect(text).toContain("- agents: 25 (exact");
  });

  test("U06 a script error is reported as file:line and plans nothing", async () => {
    const dir = project({ "bad.js": `${meta()}import fs from "node:fs"\n` });
    const r = await weft(["plan", "bad.js"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bad\.js:2:1: ForbiddenSyntax: import/m);
    const args = await weft(["plan", recipe("migration"), "--args", "{nope"], dir);
    expect(args.code).toBe(2);
    expect(args.stderr).toContain("--args must be JSON");
  });

  test("U06 --packets: a pi-dynamic-workflows script becomes one packet per literal agent call", async () => {
    // Written as a pi user writes it: single quotes, `cwd`, process.cwd(), a loop building phases.
    const dir = project({
      "inventory.js": `export const meta = {
  name: 'repo_inventory',
  description: 'Inventory the repository area by area',
  phases: [{ title: 'Review' }],
}
const REPORT = { type: 'object', required: ['summary'], properties: { summary: { type: 'string' } } }
if (args.needsReview) {
  phase('Review')
  await agent('Review the open pull request', { label: 'review', model: 'anthropic/claude-sonnet-4-5' })
}
const inventory = []
for (const area of args.areas) {
  phase('Inspect ' + area)
  const summary = await agent('Inspect the ' + area + ' code under ' + cwd + ' and summarize it', {
    label: 'inspect ' + area,
    schema: REPORT,
  })
  inventory.push({ area, summary })
}
return { root: process.cwd(), inventory }
`,
    });
    const r = await weft(
      [
        "plan",
        "inventory.js",
        "--packets",
        "out/packets",
        "--args",
        '{"areas":["api","cli"],"needsReview":true}',
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("wrote 2 packet(s) to out/packets");
    expect(readdirSync(join(dir, "out", "packets")).sort()).toEqual(["1.md", "2.md"]);
    const one = readFileSync(join(dir, "out", "packets", "1.md"), "utf8");
    expect(one).toContain("# Packet 1: review");
    expect(one).toContain("From inventory.js:9.");
    expect(one).toMatch(/## Objective\n\n```\nReview the open pull request\n```/);
    expect(one).toContain("- model: anthropic/claude-sonnet-4-5");
    expect(one).toContain("- works in the shared working directory (no isolation)");
    expect(one).toContain("Its final message, as text.");
    expect(one).toContain("None declared");
    const two = readFileSync(join(dir, "out", "packets", "2.md"), "utf8");
    expect(two).toContain(tpl("Inspect the #{area} code under #{cwd} and summarize it"));
    expect(two).toContain("- runs: 2 time(s), fan-out at line 12");
    expect(two).toContain("A JSON object matching `REPORT`:");
    expect(two).toContain('"required": [\n    "summary"\n  ]');
  });

  test("U06 --packets: a Claude Code workflow with worktree writers: ownership and verification in the packets", async () => {
    const dir = project({
      "fix.js": `export const meta = {
  name: 'fix-each',
  description: 'Fix each failing test file in its own worktree',
  args: { type: 'object', properties: { files: { type: 'array', items: { type: 'string' } } } },
}
const files = args?.files ?? ['test/a.test.js', 'test/b.test.js']
const results = await parallel(files.map((f) => () =>
  agent(\`Make \${f} pass without changing the test\`, {
    agentType: 'code-reviewer',
    isolation: 'worktree',
    writes: ['src/**'],
    verify: 'npm test',
    effort: 'high',
  })))
return results
`,
    });
    const r = await weft(["plan", "fix.js", "--packets", "packets"], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(dir, "packets"))).toEqual(["1.md"]);
    const p = readFileSync(join(dir, "packets", "1.md"), "utf8");
    expect(p).toContain(tpl("Make #{f} pass without changing the test"));
    expect(p).toContain("- agentType: code-reviewer");
    expect(p).toContain("- effort: high");
    expect(p).toContain("- runs: 2 time(s), fan-out at line 7");
    expect(p).toContain("- works in its own git worktree");
    expect(p).toContain("- may change only: `src/**` (a change elsewhere fails the agent)");
    expect(p).toMatch(/## Verification\n\nRun in its worktree after it finishes[^\n]*\n\n- `npm test`/);
    // And the text plan counts the literal default list exactly.
    const text = await weft(["plan", "fix.js"], dir);
    expect(text.stdout).toContain("- agents: 2 (exact, if every call is reached)");
  });
});

test("U06 planWorkflow (library): a source string, args, and a stated fan-out default", async () => {
  const plan = await planWorkflow({
    script: {
      source: `${meta("lib")}const xs: string[] = args.xs\nawait parallel(xs.map((x) => () => agent(x)))\n`,
      path: "lib.ts",
    },
    defaultFanOut: 3,
    tokensPerAgent: 10,
  });
  expect(plan.estimate).toMatchObject({ agents: { n: 3, exact: false }, tokens: 30, defaultFanOut: 3 });
  expect(renderPlan(plan)).toContain("# Plan: lib");
  const given = await planWorkflow({
    script: { source: `${meta("lib")}await parallel(args.xs.map((x) => () => agent(x)))\n`, path: "lib.js" },
    args: { xs: [1, 2, 3, 4] },
  });
  expect(given.estimate.agents).toEqual({ n: 4, exact: true, assumptions: [] });
  await expect(planWorkflow({ script: { source: "nope()", path: "bad.js" } })).rejects.toThrow(
    /first statement/,
  );
});

test("A14 PI weft plan lists the Pi ports' helpers that start agents, and the count is no longer exact", async () => {
  const dir = project({
    "wf.js": `${meta("quality")}const draft = await agent("draft it")
const v = await verify(draft, { reviewers: 3 })
const best = await judgePanel([draft, "other"])
const gaps = await completenessCheck(args, [draft])
const ok = await checkpoint("Ship it?")
return { v, best, gaps, ok }
`,
  });
  const p = await plan(dir, "wf.js");
  expect(p.others.map((o: any) => [o.line, o.note])).toEqual([
    [3, "the Pi ports' verify(): starts `reviewers` agents (default 2), not counted here"],
    [4, "the Pi ports' judgePanel(): starts `judges` agents (default 3) per attempt, not counted here"],
    [5, "the Pi ports' completenessCheck(): starts one agent, not counted here"],
    [6, "asks a person (where nobody can answer, takes its default at once)"],
  ]);
  expect(p.estimate.agents).toMatchObject({ n: 1, exact: false });
  expect(p.estimate.notCounted).toContain("agents started by verify(), judgePanel() and completenessCheck()");
});
