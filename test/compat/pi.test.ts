/**
 * Compatibility with pi-dynamic-workflows (SPEC preamble: "a script written for either runs on
 * weft unchanged ... pi scripts get their `cwd` global and a `process` whose only member is
 * `cwd()`; where the two disagree, weft follows Claude Code: a schema that never validates
 * throws"). Each fixture in test/compat/pi/ is a script written as a pi-dynamic-workflows user
 * writes one; it runs in place, unchanged, with `weft run`.
 *
 * Source of the dialect: Michaelliv/pi-dynamic-workflows, src/workflow.ts (the runtime:
 * parseWorkflowScript, runWorkflow and the vm context it builds), src/workflow-tool.ts (the
 * `workflow` tool and the authoring guidelines it gives the model), src/agent.ts and
 * src/structured-output.ts (what an agent() call returns), tests/workflow-runtime.test.ts.
 *
 * The API, and how weft maps it:
 * - `export const meta = {name, description, whenToUse?, phases?: [{title, detail?, model?}]}`,
 *   the first statement, `export const`, a literal (no spreads, computed keys, interpolation);
 *   name and description non-empty -> S01, the same rules.
 * - The body is wrapped in an async function: top-level await and return; the result must be
 *   structured-cloneable, and an unawaited agent() promise in it is an error ("did you forget to
 *   await") -> S02: JSON; weft refuses a promise, Map or Set in the result by path too.
 * - No imports, require, fs; plain JavaScript (the tool guidelines) -> S03, S06.
 * - `Date.now()`, `Math.random()`, `new Date()` are refused (pi: by a regex on the source before
 *   the run) -> S05 (weft: a DeterminismError where the call is made; `new Date(x)` works).
 * - `agent(prompt, {label, phase, schema, model, isolation, agentType})`: the last assistant text,
 *   or with `schema` (a JSON Schema, TypeBox-compatible) the structured_output tool's arguments;
 *   a failed agent logs "agent <label> failed" and returns null -> A01, A02, A03. Differences:
 *   pi turns an agent that never gives structured output into null; weft follows Claude Code and
 *   throws (a null slot inside parallel/pipeline, as in pi). pi only mentions `model`,
 *   `agentType` and `isolation` in the agent's instructions; weft honours them: the model goes to
 *   the backend, an agent type needs a definition (`.weft/agents/<name>.md`) or a backend with
 *   named agents (else agent() throws, naming the option), and `isolation: "worktree"` needs a
 *   git repository (else the run is refused before it starts).
 * - `parallel(thunks)`: functions, concurrently, order kept, a throwing thunk is null -> A04.
 * - `pipeline(items, ...stages)`: stages get (previous, original, index), a throwing stage makes
 *   the item null -> A05. Difference: pi calls the next stage with a null value; weft follows
 *   Claude Code and skips the item's later stages.
 * - `phase(title)` (conditional and loop-built phases are recorded as they run) -> A07;
 *   `log(message)`; `console.log/info` are log lines, `console.warn/error` log "[warn]"/"[error]"
 *   lines -> A08 (weft shows them as warning lines).
 * - `args` -> A09; `cwd` and `process.cwd()` (a frozen `process` with only `cwd`) -> the
 *   directory weft was started in.
 * - `budget: {total, spent(), remaining()}`: total is the token budget or null; remaining() is
 *   Infinity without one; agent() throws once it is spent -> A10. pi counts the tokens a backend
 *   reports (input and output) or estimates them from the answers' length; weft counts generated
 *   tokens (output + reasoning), as Claude Code does. `phase(title, { budget })` -> a sub-budget.
 * - Concurrency min(16, max(1, cpus - 2)) -> A12 (weft's own default).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { journal, project, runIdOf, runJson } from "../helpers/cli.js";
import { compatProject, fixture, resultOf, runCompat } from "./run.js";

const finished = (dir: string, id: string) => journal(dir, id).filter((x) => x.type === "agent.finished");
const agentRecord = (dir: string, id: string, n: number) =>
  JSON.parse(readFileSync(join(dir, ".weft", "runs", id, "agents", `${n}.json`), "utf8"));

describe("pi-dynamic-workflows scripts run unchanged", () => {
  test("S01 S02 A07 A09 compat pi: loop-built phases, conditional phases, args, cwd and process.cwd()", async () => {
    const dir = compatProject("pi");
    const r = await runCompat(dir, "pi", "inventory.js", [
      "--args",
      JSON.stringify({ needsReview: false, areas: ["API", "UI"] }),
    ]);
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({
      ok: true,
      root: dir,
      sameRoot: true,
      inventory: [
        { area: "API", summary: "inspect API: one module, Inspect API" },
        { area: "UI", summary: "inspect UI: one module, Inspect UI" },
      ],
    });
    // Only the phases that ran: the conditional Review phase of meta.phases never started.
    const phases = journal(dir, runIdOf(r))
      .filter((x) => x.type === "phase")
      .map((x) => x.title);
    expect(phases).toEqual(["Inspect API", "Inspect UI"]);
    const prompt = agentRecord(dir, runIdOf(r), 1).prompt;
    expect(prompt).toBe(`Inspect the API code under ${dir} and summarize it in one line`);
  });

  test("A01 A02 A03 compat pi: a JSON Schema answer is the validated object; model reaches the backend; agentType from .weft/agents", async () => {
    const dir = compatProject("pi", { ".weft/agents/scout.md": "agents/scout.md" });
    const r = await runCompat(dir, "pi", "project-summary.js");
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({
      summary: "A workflow runtime",
      files: ["src/index.ts", "README.md"],
      notes:
        "scout (Explores the repository and reports what a newcomer should read first) (You are a scout. Read, then report briefly.): start with the README",
    });
    expect(agentRecord(dir, runIdOf(r), 1).options).toMatchObject({
      label: "project-summary",
      model: "anthropic/claude-sonnet-4-5",
    });
  });

  test("A02 E01 compat pi: an agentType with no definition is refused by name at the line of the call (pi only mentioned it to the agent)", async () => {
    const dir = compatProject("pi");
    const r = await runCompat(dir, "pi", "project-summary.js");
    expect(r.code).toBe(1);
    // E01: the refusal names the line of the agent() call.
    expect(r.stderr).toContain(
      'project-summary.js:20:21: OptionsError: agent() option "agentType": no definition of agent type "scout" (weft looked for .weft/agents/scout.md',
    );
  });

  test("A03 compat pi: output that never validates is null inside parallel, as in pi, and throws when awaited directly (weft follows Claude Code)", async () => {
    const dir = compatProject("pi");
    const r = await runCompat(dir, "pi", "strict-output.js");
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({
      plans: [{ steps: ["split the lexer", "add tests"] }, null],
      direct: "threw SchemaError",
    });
    expect(r.stderr).toContain("failed #2 chatty plan");
  });

  test("A01 A04 A05 compat pi: a failed review is a null to check; pipeline stages get (previous, original, index)", async () => {
    const dir = compatProject("pi");
    const r = await runCompat(dir, "pi", "module-fixes.js", [
      "--args",
      JSON.stringify({ modules: ["core", "legacy", "ui"] }),
    ]);
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({
      ok: false,
      reviewed: ["core", "ui"],
      failed: ["legacy"],
      fixes: [
        "verified (Verify the fix for module core (item 0): fixed fix core)",
        "verified (Verify the fix for module ui (item 1): fixed fix ui)",
      ],
      verdict: "ok",
    });
    expect(r.stderr).toContain("failed #2 review legacy");
    expect(r.stderr).toContain("  review failed for: legacy");
  });

  test("A08 compat pi: log and console.log/info are narrator lines, console.warn/error warning lines", async () => {
    const dir = compatProject("pi");
    const r = await runCompat(dir, "pi", "narrate.js");
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({ found: "2 TODOs" });
    expect(r.stderr).toContain(`  starting the scan of ${dir}\n`);
    expect(r.stderr).toContain("  console.log goes to the log too\n");
    expect(r.stderr).toContain("  so does console.info\n");
    expect(r.stderr).toContain("! a warning line\n");
    expect(r.stderr).toContain("! an error line\n");
  });

  test("A10 compat pi: without a budget total is null and remaining() Infinity; with one agent() throws once it is spent", async () => {
    const dir = compatProject("pi");
    let r = await runCompat(dir, "pi", "budgeted.js");
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({ limited: false, remaining: "Infinity", scans: 1 });

    r = await runCompat(dir, "pi", "budgeted.js", ["--budget", "120"]);
    expect(r.code).toBe(3);
    // Each scan reads 30 tokens and writes 20. weft counts what Claude Code counts, the 20 it
    // generated (pi counts all 50): six scans, not three (README "Differences").
    expect(resultOf(r)).toEqual({
      limited: true,
      total: 120,
      spent: 120,
      remaining: 0,
      scans: 6,
      error: "token budget reached: 120 of 120 tokens spent (setting budget, flag --budget)",
    });
  });

  test("S05 S06 compat pi: new Date(value), Map, Set, Promise.all and JSON work; process has only cwd; no Node globals", async () => {
    const dir = compatProject("pi");
    const r = await runCompat(dir, "pi", "sandbox.js", ["--args", JSON.stringify({ since: "2025-03-01" })]);
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({
      year: 2025,
      process: ["cwd"],
      cwdType: "string",
      // pi has no timers; weft gives every script Claude Code's setTimeout (README "Differences").
      missing: "undefined undefined function undefined",
      sizes: { api: 2, ui: 1 },
      unique: ["a", "b"],
      answers: ["Count the files in the api area: 3", "Count the files in the ui area: 3"],
      math: 2,
      json: { n: 3, s: "4", b: true },
      arrays: 1,
    });
  });

  test("S02 compat pi: returning an agent() promise without await fails the run and says why", async () => {
    const dir = compatProject("pi");
    const r = await runCompat(dir, "pi", "forgot-await.js");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "TypeError: result.scan is a promise, which JSON cannot carry: await it (a missing await before agent(), parallel() or pipeline()?)",
    );
  });

  test("A02 compat pi: isolation 'worktree' is a real worktree per agent in a git repository, and refused before the run outside one", async () => {
    const inGit = compatProject("pi", {}, true);
    const r = await runCompat(inGit, "pi", "parallel-edits.js");
    expect(r.code).toBe(0);
    expect(resultOf(r)).toEqual({ edits: ["wrote notes/alpha.md", "wrote notes/beta.md"] });
    const files = finished(inGit, runIdOf(r))
      .sort((a, b) => a.n - b.n)
      .map((a) => a.files);
    expect(files).toEqual([
      [{ status: "A", path: "notes/alpha.md" }],
      [{ status: "A", path: "notes/beta.md" }],
    ]);
    expect(existsSync(join(inGit, "notes"))).toBe(false);

    const plain = compatProject("pi");
    const refused = await runCompat(plain, "pi", "parallel-edits.js");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('isolation: "worktree" needs a git repository');
    const runs = join(plain, ".weft", "runs");
    expect(existsSync(runs) ? readdirSync(runs) : []).toEqual([]);
  });

  test("S02 compat pi: NaN and the infinities in the result become null with one warning naming the paths, as pi completes; --args 1e400 too", async () => {
    const dir = compatProject("pi");
    const r = await runCompat(dir, "pi", "budget-report.js", ["--args", '{"limit": 1e400}']);
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r)).toEqual({
      answer: "edit: plenty left",
      remaining: null,
      ratio: null,
      limits: [null, null],
    });
    const warnings = r.stderr.split("\n").filter((l) => l.includes("JSON cannot carry"));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain(
      "args.limit is Infinity: JSON cannot carry this number, so it is recorded as null",
    );
    expect(warnings[1]).toContain(
      "result.remaining is Infinity, result.ratio is NaN, result.limits[1] is -Infinity: JSON cannot carry these numbers",
    );
    const id = runIdOf(r);
    expect(journal(dir, id).find((x) => x.type === "run.started").args).toBe('{"limit":null}');
    expect(runJson(dir, id).status).toBe("completed");
  });

  test("D09 A02 compat pi: a read-only agent type from .pi/agents runs on the command driver, told WEFT_PERMISSIONS=read-only; in a worktree, its changes fail it", async () => {
    const dir = compatProject("pi", { ".pi/agents/auditor.md": "agents/auditor.md" }, true);
    const r = await runCompat(dir, "pi", "read-only-audit.js", [], { PI_CODING_AGENT_DIR: project() });
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r)).toEqual({
      auth: "read-only as auditor (Reads a module and reports problems, and never changes code) (You are an auditor. Read the code and report; do not edit anything.): auth looks fine",
      billing: null,
    });
    expect(r.stderr).toContain(
      "read-only agent changed files: src/billing.js; the patch is kept in patches/2.patch and not integrated",
    );
    expect(r.stderr.match(/the command driver does not enforce permissions/g)).toHaveLength(1);
    expect(existsSync(join(dir, "src", "billing.js"))).toBe(false);
    const billing = finished(dir, runIdOf(r)).find((a) => a.label === "audit billing");
    expect(billing.status).toBe("failed");
  });

  test("A02 compat pi: agent definitions in the user's pi folder (~/.pi/agent/agents, or $PI_CODING_AGENT_DIR/agents)", async () => {
    const dir = compatProject("pi", {}, true);
    const user = project({ "agents/auditor.md": readFileSync(fixture("pi", "agents/auditor.md"), "utf8") });
    const r = await runCompat(dir, "pi", "read-only-audit.js", [], { PI_CODING_AGENT_DIR: user });
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r).auth).toMatch(/^read-only as auditor \(Reads a module/);
  });

  test("A02 A10 S01 compat pi: phase(title, { budget }), meta.model and phase models, timeoutMs: null, isolation: false, readOnly: true", async () => {
    const dir = compatProject("pi");
    const r = await runCompat(dir, "pi", "port-options.js");
    // The phase's sub-budget refused a call: the run ends budget_exhausted with its result (A13).
    expect(r.code, r.stderr).toBe(3);
    const out = resultOf(r);
    // 40 generated tokens each: 0, 40, 80 start; at 120 of 100 the fourth is refused.
    expect(out.surveys.slice(0, 3)).toEqual(Array(3).fill("survey-model: surveyed"));
    expect(out.surveys[3]).toMatch(
      /^skipped: phase "Survey" token budget reached: 120 of 100 generated tokens/,
    );
    // The Report phase has no model of its own: meta.model.
    expect(out.report).toBe("pi-default-model wrote the report");
    // readOnly: true is permissions "read-only": the command driver's program is told so (D09).
    expect(out.reader).toBe("read-only: read the draft");
    expect(r.stderr).not.toMatch(/option "(timeoutMs|isolation|readOnly)" is unknown/);
  });

  test("CC PI compat pi: a script wrapped whole in a Markdown code fence runs, with a warning", async () => {
    const dir = compatProject("pi");
    const r = await runCompat(dir, "pi", "fenced.js");
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r)).toEqual({ summary: "a small TypeScript project" });
    expect(r.stderr).toMatch(/fenced\.js: the script is wrapped in a Markdown code fence \(```js\)/);
  });

  test("A02 compat pi: isolation { mode: 'worktree', ... } (a fork's object form) is a worktree; other keys warn", async () => {
    const inGit = compatProject("pi", {}, true);
    const r = await runCompat(inGit, "pi", "object-isolation.js");
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r)).toEqual({ wrote: "wrote notes/gamma.md" });
    expect(r.stderr).toContain('option "isolation": "branchPrefix" is not used by weft and ignored');
    expect(finished(inGit, runIdOf(r))[0].files).toEqual([{ status: "A", path: "notes/gamma.md" }]);
    expect(existsSync(join(inGit, "notes"))).toBe(false);
  });
});
