/**
 * Compatibility with Claude Code's dynamic workflows (SPEC preamble: "a script written for
 * either runs on weft unchanged"). Each fixture in test/compat/claude-code/ is a script written
 * as a Claude Code user writes one; it runs in place, unchanged, with `weft run`.
 *
 * Source of the dialect: the Workflow tool's own description, which is the script API reference
 * Claude Code gives its model ("Script body hooks"), as published in
 * Piebald-AI/claude-code-system-prompts, system-prompts/tool-description-workflow.md
 * (ccVersion 2.1.198); and the documentation page https://code.claude.com/docs/en/workflows.
 *
 * The API, and how weft maps it:
 * - `export const meta = {name, description, whenToUse?, phases?: [{title, detail?, model?}]}`,
 *   first statement, a pure literal (no variables, calls, spreads, interpolation)
 *   -> S01, the same rules; meta.phases[].model is the default model of that phase's agents.
 * - Plain JavaScript in an async body: top-level await and return (the run's result) -> S02.
 * - No imports, require, filesystem or Node API -> S03, S06 (refused before the run starts).
 * - `Date.now()`, `Math.random()`, argless `new Date()` throw; `new Date(x)` works -> S05.
 * - `agent(prompt, {label, phase, schema, model, effort, isolation: 'worktree', agentType})`:
 *   text, or with `schema` (a JSON Schema) the validated object; null when the agent is skipped
 *   or dies after retries -> A01, A02 (same option names; `effort` warns on a driver without
 *   effort, D04), A03 (validated with repairs; output that never validates throws, as Claude
 *   Code's StructuredOutput layer does; an unsatisfiable schema throws before any agent).
 *   `isolation: 'worktree'` -> a git worktree per agent, kept on branch weft/<run>/<n> when it
 *   changed something (W01, W02). `agentType` -> `.claude/agents/<name>.md`, the same registry,
 *   its front matter read as leniently as Claude Code reads it (an unquoted `: ` in
 *   `description:` loads, with a warning); Claude Code's built-in types `general-purpose`,
 *   `Explore` (read-only) and `Plan` (read-only) need no file, on any backend (A02).
 * - `pipeline(items, ...stages)`: no barrier, stages get (prevResult, originalItem, index), a
 *   throwing stage, or one that returns null (a failed agent), drops its item to null and skips
 *   its later stages -> A05.
 * - `parallel(thunks)`: barrier, never rejects, a throwing thunk is null -> A04.
 * - `log(message)` narrator line -> A08; `phase(title)` groups the agents after it -> A07.
 * - `args`: the input verbatim, undefined when none -> A09 (`--args`).
 * - `budget: {total|null, spent(), remaining()}`: remaining() is max(0, total - spent()) or
 *   Infinity without a target; a hard ceiling: agent() throws once spent() reaches total -> A10
 *   (`--budget`). Both count generated tokens (output + reasoning); Claude Code's spent() counts
 *   those of the whole turn (main loop and every workflow), weft those of this run's agents.
 * - `workflow(nameOrRef, args?)`: a saved workflow by name or `{scriptPath}` inline, one level
 *   of nesting, throws on an unknown name -> A11 (`.claude/workflows/` is searched, U03).
 * - Caps: at most 4096 items per parallel()/pipeline() call (an explicit error) -> A06; 1000
 *   agents per run, the next agent() throws -> A13 (`--max-agents`); concurrency
 *   min(16, cpus - 2) -> A12 is min(16, max(4, cpus)) by design (agents wait on the network).
 * - Resume (`resumeFromRunId`): "same script + same args -> 100% cache hit" -> R03
 *   (`weft run <script> --resume <run>`); weft keys each call, not the longest unchanged prefix.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { journal, project, runIdOf, weft } from "../helpers/cli.js";
import { compatProject, fixture, resultOf, runCompat } from "./run.js";

const finished = (dir: string, id: string) => journal(dir, id).filter((x) => x.type === "agent.finished");

describe("Claude Code scripts run unchanged", () => {
  // Checked in both dialects' sources: Claude Code's `schema` is "a JSON Schema" and scripts get
  // no zod; pi-dynamic-workflows takes TypeBox in its library API but tells script authors to
  // pass plain JSON Schema, and its sandbox has no zod or TypeBox either. So no unchanged script
  // can hand weft a zod schema, and weft does not invent a `z` global for one.
  test.todo(
    "A03 a zod schema as schema: neither dialect gives scripts zod (JSON Schema objects work in both); open until weft gives scripts a way to build one",
  );

  test("S01 S02 A01 A02 A03 A04 A05 A07 A08 compat claude-code: the canonical review pipeline (schema findings, verifiers per finding, .then, filter(Boolean))", async () => {
    const dir = compatProject("claude-code");
    const r = await runCompat(dir, "claude-code", "review-changes.js");
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({
      confirmed: [
        "high: off-by-one in the pager (src/pager.js)",
        "low: quadratic loop in the indexer (src/index.js)",
      ],
      rejected: ["unchecked null in the parser"],
    });
    expect(r.stderr).toContain("  2 of 3 findings confirmed");
    // effort is Claude Code's option name; a driver that cannot set it warns (D04).
    expect(r.stderr).toContain('option "effort" is ignored');
    const done = finished(dir, runIdOf(r));
    expect(done.map((a) => [a.label, a.phase]).sort()).toEqual([
      ["review:bugs", "Review"],
      ["review:perf", "Review"],
      ["verify:src/index.js", "Verify"],
      ["verify:src/pager.js", "Verify"],
      ["verify:src/parse.js", "Verify"],
    ]);
  });

  test("R03 compat claude-code: the same script resumed with the same args answers every agent from the journal", async () => {
    const dir = compatProject("claude-code");
    const first = await runCompat(dir, "claude-code", "review-changes.js");
    const id = runIdOf(first);
    const again = await runCompat(dir, "claude-code", "review-changes.js", ["--resume", id]);
    expect(again.code).toBe(0);
    expect(resultOf(again)).toEqual(resultOf(first));
    expect(again.stderr).toContain("5 cached");
    expect(again.stderr).not.toContain("start  #");
  });

  test("A03 compat claude-code: schema agents return validated objects; output that never validates throws (a null slot in parallel); an unsatisfiable schema throws first", async () => {
    const dir = compatProject("claude-code");
    const r = await runCompat(dir, "claude-code", "triage.js", [
      "--args",
      JSON.stringify({ issues: ["login fails on Safari", "typo in README", "crash on empty config"] }),
    ]);
    expect(r.code).toBe(0);
    const out = resultOf(r);
    expect(out.byPriority).toEqual({ p1: ["login fails on Safari [auth]"], p2: ["typo in README [docs]"] });
    expect(out.untriaged).toEqual(["crash on empty config"]);
    expect(out.rambling).toMatch(
      /did not match the schema after 4 repairs: the answer holds no parseable JSON/,
    );
    expect(out.impossible).toMatch(/schema can never be satisfied: \(root\) requires "priority"/);
    // The repairs told the agent what was wrong; the impossible schema started nothing.
    expect(r.stderr).toContain(
      'repair #3 triage:crash on empty config: /priority: must be one of ["p0","p1","p2"]',
    );
    expect(finished(dir, runIdOf(r))).toHaveLength(4);
  });

  test("A01 A04 A05 A07 compat claude-code: a crashed agent and a throwing thunk are null slots; a throwing pipeline stage drops only its item", async () => {
    const dir = compatProject("claude-code");
    const r = await runCompat(dir, "claude-code", "resilient-fanout.js");
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({
      passed: ["core", "cli", "docs"],
      failed: ["web"],
      mixed: ["all checks passed", null, "computed without an agent"],
      lines: [
        "1. CORE: SUMMARY:CORE IS HEALTHY",
        "2. CLI: SUMMARY:CLI IS HEALTHY",
        "3. WEB: SUMMARY:WEB IS HEALTHY",
        null,
      ],
    });
    expect(r.stderr).toMatch(/> Check[\s\S]*failed #3 check:web[\s\S]*> Summarize/);
    expect(r.stderr).toContain("pipeline(): item 3 stage 2 threw Error: docs has no changelog");
  });

  test("A08 A09 A07 compat claude-code: args verbatim or undefined, log lines, phases from meta and phase()", async () => {
    const dir = compatProject("claude-code");
    let r = await runCompat(dir, "claude-code", "deep-dive.js", [
      "--args",
      JSON.stringify({ question: "how does resume work", depth: 2 }),
    ]);
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({
      question: "how does resume work",
      searched: ["entry points", "configuration"],
      report: "It orchestrates agents.",
      argsGiven: "object",
    });
    expect(r.stderr).toContain("  Scoped 3 angles; searching 2");
    expect(r.stderr).toContain("  Dropped 1 angles: tests");
    expect(r.stderr).toMatch(/> Scope[\s\S]*> Search[\s\S]*search:configuration[\s\S]*> Synthesize/);

    r = await runCompat(dir, "claude-code", "deep-dive.js");
    expect(r.code).toBe(0);
    expect(resultOf(r)).toMatchObject({ question: "what this repository is for", argsGiven: "undefined" });
  });

  test("A10 compat claude-code: without a target budget.total is null and remaining() Infinity; with --budget the loop scales and the ceiling throws", async () => {
    const dir = compatProject("claude-code");
    let r = await runCompat(dir, "claude-code", "bug-hunt.js");
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({
      total: null,
      unlimited: true,
      spent: 0,
      fleet: 2,
      bugs: 0,
      sweeps: 2,
      ceiling: null,
    });

    r = await runCompat(dir, "claude-code", "bug-hunt.js", ["--budget", "500"]);
    // A limit refused a call: the run ends budget_exhausted with its result recorded (A13).
    expect(r.code).toBe(3);
    // A10: each hunt reads 60 tokens and generates 40; the budget counts the 40, as Claude Code's
    // spent() counts output tokens. The ceiling is checked before each start, so the last agent
    // may end past it (480 < 500 starts one more).
    expect(resultOf(r)).toEqual({
      total: 500,
      unlimited: false,
      spent: 520,
      fleet: 2,
      bugs: 9,
      sweeps: 2,
      ceiling: "token budget reached: 520 of 500 tokens spent (setting budget, flag --budget)",
    });
    expect(r.stderr).toContain("  9 found, 140 tokens remaining");
  });

  test("A06 A13 compat claude-code: more than 4096 items is an explicit error; a loop without end stops at the agent cap", async () => {
    const dir = compatProject("claude-code");
    const r = await runCompat(dir, "claude-code", "caps.js", ["--max-agents", "3"]);
    expect(r.code).toBe(3);
    expect(resultOf(r)).toEqual({
      tooMany: "parallel() got 4097 items, more than the limit of 4096 (setting maxListItems)",
      rounds: 3,
      stopped:
        "agent limit reached: 3 agents already started in this execution (setting maxAgents, flag --max-agents)",
    });
  });

  test("S05 S06 compat claude-code: timestamps through args, the clock and randomness throw, no Node globals, standard built-ins work", async () => {
    const dir = compatProject("claude-code");
    const r = await runCompat(dir, "claude-code", "release-notes.js", [
      "--args",
      JSON.stringify({ since: "2026-05-01T00:00:00Z" }),
    ]);
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({
      since: "2026-05-01T00:00:00.000Z",
      refused: [
        "Date.now(): DeterminismError",
        "new Date(): DeterminismError",
        "Math.random(): DeterminismError",
      ],
      // require, fetch, setTimeout, Buffer, module: scripts wait with setTimeout, as in Claude Code (S06).
      globals: "undefined undefined function undefined undefined",
      builtins: ["[1,3]", 7, "a+b", 1],
      notes: "Release notes: faster start-up.",
    });
  });

  test("S03 compat claude-code: an import is refused before the run starts, with file:line", async () => {
    const dir = compatProject("claude-code");
    const r = await runCompat(dir, "claude-code", "refused-import.js");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "refused-import.js:6:1: ForbiddenSyntax: import is not allowed in a workflow script",
    );
    expect(r.stdout).toBe("");
  });

  test("A02 compat claude-code: isolation 'worktree' gives each writer its own tree; agentType reads .claude/agents/; model overrides it", async () => {
    const dir = compatProject(
      "claude-code",
      { ".claude/agents/code-reviewer.md": "agents/code-reviewer.md" },
      true,
    );
    const r = await runCompat(dir, "claude-code", "migrate.js");
    expect(r.code).toBe(0);
    const out = resultOf(r);
    expect(out.migrated).toEqual(["alpha migrated", "beta migrated"]);
    expect(out.review).toBe(
      "sonnet as code-reviewer (Reviews code changes for correctness and style) (You are a meticulous code reviewer. Point at the exact file and line of every problem.): looks good",
    );
    const id = runIdOf(r);
    const writers = finished(dir, id)
      .filter((a) => a.worktree)
      .sort((a, b) => a.n - b.n);
    expect(writers.map((a) => a.files)).toEqual([
      [{ status: "A", path: "src/alpha.js" }],
      [{ status: "A", path: "src/beta.js" }],
    ]);
    // The changes stay on the agents' branches; the main tree is untouched until integrated.
    for (const w of writers) {
      expect(readFileSync(join(dir, ".weft", "runs", id, w.patch), "utf8")).toContain("+export const log");
    }
    expect(existsSync(join(dir, "src", "alpha.js"))).toBe(false);
  });

  test("A11 U03 compat claude-code: workflow() by name from .claude/workflows and by {scriptPath}; one level of nesting; unknown names throw", async () => {
    const dir = compatProject("claude-code", {
      ".claude/workflows/summarize-dir.js": "workflows/summarize-dir.js",
    });
    const r = await runCompat(dir, "claude-code", "compose.js");
    expect(r.code).toBe(0);
    const out = resultOf(r);
    expect(out.summary).toEqual({
      dir: "src",
      summary: "Summarize the directory src: three modules",
      nested: expect.stringMatching(
        /^\.claude\/workflows\/summarize-dir\.js:11:9: workflow\(\) inside a nested workflow: nesting is one level/,
      ),
    });
    expect(out.counted).toEqual({ files: 3, ok: 3 });
    expect(out.missing).toMatch(/^workflow\("no-such-workflow"\): no workflow named "no-such-workflow"/);

    // The saved Claude Code workflow also runs by name on its own.
    const agent = `node "${fixture("claude-code", "../agent.mjs")}" "${fixture("claude-code", "answers.json")}"`;
    const byName = await weft(
      ["run", "summarize-dir", "--command", agent, "--args", JSON.stringify({ dir: "lib" })],
      dir,
    );
    expect(byName.code).toBe(0);
    expect(resultOf(byName)).toMatchObject({
      dir: "lib",
      summary: "Summarize the directory lib: three modules",
    });
  });

  // The machine's own ~/.pi/agent/agents must not stand in for weft's built-ins.
  const noUserAgents = () => ({ PI_CODING_AGENT_DIR: project() });

  test("A02 compat claude-code: the built-in types Explore, Plan and general-purpose need no definition; Explore and Plan run read-only, general-purpose edit", async () => {
    const dir = compatProject("claude-code");
    const r = await runCompat(dir, "claude-code", "explore-plan-build.js", [], noUserAgents());
    expect(r.code, r.stderr).toBe(0);
    const out = resultOf(r);
    // {permissions} is WEFT_PERMISSIONS; {role} the role section weft's definition put in the prompt.
    expect(out.found).toMatch(
      /^read-only as Explore \(fast, read-only search and analysis of a codebase\) \(You are a read-only exploration agent\..*\): src\/retry\.js$/,
    );
    expect(out.plan).toMatch(
      /^read-only as Plan \(read-only research of the codebase for an implementation plan\) \(You are a read-only planning agent/,
    );
    expect(out.done).toMatch(
      /^edit as general-purpose \(complex research, multi-step tasks and code changes\)/,
    );
    // D09: the command driver is told, cannot enforce, and says so once.
    expect(r.stderr.match(/the command driver does not enforce permissions/g)).toHaveLength(1);
    expect(r.stderr).not.toContain("no definition of agent type");
  });

  test("A02 compat claude-code: a user's .claude/agents/Explore.md wins over weft's built-in Explore", async () => {
    const dir = compatProject("claude-code", { ".claude/agents/Explore.md": "agents/Explore.md" });
    const r = await runCompat(dir, "claude-code", "explore-plan-build.js", [], noUserAgents());
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r).found).toBe(
      "edit as Explore (The team's own explorer, which may also fix typos) (You are our explorer. Read widely and fix typos on the way.): src/retry.js",
    );
    // Plan has no user definition: weft's still applies.
    expect(resultOf(r).plan).toMatch(/^read-only as Plan /);
  });

  test("A02 compat claude-code: a published agent file whose description strict YAML rejects still loads, with one warning naming the file", async () => {
    const dir = compatProject("claude-code", {
      ".claude/agents/pr-test-analyzer.md": "agents/pr-test-analyzer.md",
    });
    const r = await runCompat(dir, "claude-code", "test-coverage.js");
    expect(r.code, r.stderr).toBe(0);
    const out = resultOf(r);
    for (const answer of [out.first, out.second]) {
      expect(answer).toMatch(
        /^read-only as pr-test-analyzer \(Use this agent when you need to review a pull request for test coverage quality and completeness\. Examples:\\n<example>\\nContext: .*\) \(You are an expert test coverage analyst\..*\): two gaps$/,
      );
    }
    // Two agents of that type, one file: one warning.
    const lenient = r.stderr.split("\n").filter((l) => l.includes("read line by line"));
    expect(lenient).toHaveLength(1);
    expect(lenient[0]).toContain(".claude/agents/pr-test-analyzer.md: front matter is not valid YAML");
  });

  test("A05 compat claude-code: an item whose stage returned null or whose agent failed skips its later stages", async () => {
    const dir = compatProject("claude-code");
    const r = await runCompat(dir, "claude-code", "stop-at-null.js");
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r)).toEqual({
      verified: ["parser handles empty input"],
      dropped: ["pager stops at the last page", "cache survives restart"],
      results: ["verified", null, null],
    });
    // Only the item that had a fix was verified: no verifier started on a null.
    const labels = finished(dir, runIdOf(r))
      .map((a) => a.label)
      .sort();
    expect(labels).toEqual([
      "fix:pager stops at the last page",
      "fix:parser handles empty input",
      "verify:parser handles empty input",
    ]);
  });

  test("A10 compat claude-code: while (budget.remaining() > 50_000) runs while generated tokens are left, not input read", async () => {
    const dir = compatProject("claude-code");
    // Each agent reads 40,000 tokens and writes 2,500: 60,000 - 50,000 leaves room for 4.
    const r = await runCompat(dir, "claude-code", "research-loop.js", ["--budget", "60000"]);
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r)).toEqual({ angles: 4, spent: 10000, remaining: 50000 });
    expect(
      JSON.parse(readFileSync(join(dir, ".weft", "runs", runIdOf(r), "run.json"), "utf8")).tokens,
    ).toMatchObject({
      input: 160000,
      output: 10000,
    });
  });

  test("C01 compat claude-code: stallMs restarts a silent agent, then agent() throws after 6 attempts", async () => {
    const dir = compatProject("claude-code");
    const r = await runCompat(dir, "claude-code", "watch-deploy.js");
    expect(r.code, r.stderr).toBe(0);
    const out = resultOf(r);
    expect(out.watched).toMatch(/^gave up: agent stalled on all 6 attempts/);
    expect(out.summary).toBe("the deploy status is unknown");
    expect(r.stderr).not.toContain('option "stallMs" is unknown');
    const starts = journal(dir, runIdOf(r)).filter((x) => x.type === "agent.started" && x.n === 1);
    expect(starts).toHaveLength(6);
  });

  test("S06 compat claude-code: scripts wait between rounds with setTimeout; clearTimeout cancels", async () => {
    const dir = compatProject("claude-code");
    const t0 = Date.now();
    const r = await runCompat(dir, "claude-code", "poll-ci.js");
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r)).toEqual({
      rounds: ["still running", "still running", "finished: all green"],
      fired: false,
    });
    expect(r.stderr).toContain("  round 2: still running; waiting before the next check");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
  });
});
