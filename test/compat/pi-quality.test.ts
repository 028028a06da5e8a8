/**
 * The Pi ports' quality helpers, gate(producer, validator) and checkpoint() (issue 17 items
 * 12-14; SPEC A14), with scripts written as a user of QuintinShaw/pi-dynamic-workflows 2.x/3.x
 * writes them, from the port's documented behaviour: skills/workflow-authoring/references/
 * capability-details.md, quality-helpers.md and retry-helper.md, and its src/workflow.ts:
 * - verify(item, {reviewers = 2, threshold = 0.5, lens}): reviewers in parallel, labelled
 *   "verify <i>", lenses cycled; failed reviewers left out; real = votes > 0 and
 *   realCount / votes >= threshold; resolves {real, realCount, total, votes}.
 * - judgePanel(attempts, {judges = 3, rubric = "overall quality and correctness"}): judges per
 *   candidate ("judge <i>.<j>"), failed judgments left out, a candidate without any scores 0,
 *   highest mean wins with the lower index on a tie; [] gives undefined.
 * - loopUntilDry({round, key = JSON.stringify, consecutiveEmpty = 2, maxRounds = 50}): rounds from
 *   0, new items by key, stops after consecutiveEmpty rounds with nothing new; a limit that
 *   refuses a call ends it with what it has.
 * - completenessCheck(taskArgs, results): one critic ("completeness critic") with
 *   {complete, missing?}; only the first 4,000 characters of the results' JSON are sent.
 * - retry(thunk, {attempts = 3, until}): thunk(attempt from 0) until until(result); exhausted,
 *   the last result.
 * - gate(producer, validator, {attempts = 3}): producer(feedback, attempt), feedback undefined at
 *   first; {ok: true} accepts (a bare true does not); resolves {ok, value, attempts}.
 * - checkpoint(prompt, {default, headless, kind, choices, timeoutMs}): journaled; headless runs
 *   take default ?? true, or fail with headless: "abort".
 * Each helper's agents are ordinary agent() calls: journaled, and reused by a resume.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { journal, project, runIdOf, runJson, weft } from "../helpers/cli.js";
import { resultOf } from "./run.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (f: string) => resolve(here, "pi", "quality", f);
const agentCmd = `node "${resolve(here, "agent.mjs")}" "${fixture("answers.json")}"`;
const run = (dir: string, script: string, flags: string[] = []) =>
  weft(["run", fixture(script), "--command", agentCmd, ...flags], dir);
const agentFile = (dir: string, id: string, n: number) =>
  JSON.parse(readFileSync(join(dir, ".weft", "runs", id, "agents", `${n}.json`), "utf8"));
const agentFiles = (dir: string, id: string) => {
  const out = [];
  for (let n = 1; ; n++) {
    try {
      out.push(agentFile(dir, id, n));
    } catch {
      return out;
    }
  }
};

describe("the Pi ports' quality helpers run unchanged", () => {
  test("PI compat pi: verify() counts the reviewers that answered, cycles lenses, and judgePanel() picks the best mean with ties to the first", async () => {
    const dir = project();
    const r = await run(dir, "verify-and-judge.js");
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r)).toEqual({
      solid: {
        real: true,
        realCount: 2,
        total: 3,
        votes: [
          { real: true, reason: "the source guards it" },
          { real: false, reason: "the loop reads past the end" },
          { real: true, reason: "the source guards it" },
        ],
      },
      shaky: { real: false, realCount: 0, total: 0, votes: [] },
      strict: { real: true, realCount: 2, total: 2 },
      best: { index: 1, attempt: "draft B: thorough", score: 0.9, judged: 2 },
      partial: { index: 1, score: 0.1, judged: 1 },
      none: true,
    });
    const agents = agentFiles(dir, runIdOf(r));
    // 3 + 2 + 2 reviewers, 3 x 2 + 2 x 1 judges: each an ordinary agent with the port's label.
    expect(agents).toHaveLength(15);
    expect(agents.slice(0, 3).map((a) => a.options.label)).toEqual(["verify 1", "verify 2", "verify 3"]);
    expect(agents[1].prompt).toBe(
      "Adversarially review whether the following is REAL/correct. Try to refute it; default to real=false if unsure. Focus lens: logic.\n\nThe parser handles empty input",
    );
    // An object is reviewed as its JSON; without lenses there is no focus line.
    expect(agents[3].prompt).toMatch(/if unsure\.\n\n\{"claim":"The cache never expires"\}$/);
    expect(agents[7].options.label).toBe("judge 1.1");
    expect(agents[7].prompt).toBe(
      "Score this candidate from 0 to 1 on: clarity. Reply with the score.\n\nCandidate:\ndraft A: terse",
    );
    expect(agents[13].prompt).toContain("on: overall quality and correctness.");
  });

  test("PI compat pi: loopUntilDry() gathers new items until two rounds find none, and returns what it has when a limit refuses a round", async () => {
    const dir = project();
    let r = await run(dir, "loop-until-dry.js");
    expect(r.code, r.stderr).toBe(0);
    // Round 1 repeats db.ts:3 and names ui.ts:40 twice: each item once. Rounds 2 and 3 are dry.
    expect(resultOf(r)).toEqual({ found: ["auth.ts:12", "db.ts:3", "ui.ts:40"], rounds: [0, 1, 2, 3] });

    r = await run(dir, "loop-until-dry.js", ["--max-agents", "2"]);
    // The refusal is weft's (the run ends budget_exhausted), the partial result the port's.
    expect(r.code).toBe(3);
    expect(resultOf(r)).toEqual({ found: ["auth.ts:12", "db.ts:3", "ui.ts:40"], rounds: [0, 1, 2] });
    expect(runJson(dir, runIdOf(r)).status).toBe("budget_exhausted");
  });

  test("PI compat pi: completenessCheck() asks one critic for {complete, missing} with the first 4,000 characters of the results", async () => {
    const dir = project();
    let r = await run(dir, "completeness.js");
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r)).toEqual({ complete: false, missing: ["token refresh", "logout"] });
    const a = agentFile(dir, runIdOf(r), 1);
    expect(a.options.label).toBe("completeness critic");
    expect(a.schema.required).toEqual(["complete"]);

    const big = [{ notes: "x".repeat(5000), tail: "TAIL-MARKER" }];
    r = await run(dir, "completeness.js", ["--args", JSON.stringify({ results: big })]);
    expect(r.code, r.stderr).toBe(0);
    const prompt: string = agentFile(dir, runIdOf(r), 1).prompt;
    const evidence = prompt.slice(prompt.indexOf("Results so far:\n") + "Results so far:\n".length);
    expect(evidence).toBe(JSON.stringify(big).slice(0, 4000));
    expect(prompt).not.toContain("TAIL-MARKER");
  });

  test("A14 PI compat pi: retry() stops when until() accepts and gives the last result when exhausted; gate(producer, validator) feeds the feedback back", async () => {
    const dir = project();
    const r = await run(dir, "retry-and-gate.js");
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r)).toEqual({
      haiku: "5-7-5 morning light",
      seen: [0, 1],
      name: "not a version",
      changelog: { ok: true, value: "## Changes\n- retries are bounded", attempts: 2 },
      bare: { ok: false, value: 2, attempts: 2 },
      calls: 2,
    });
    const prompts = agentFiles(dir, runIdOf(r)).map((a) => a.prompt);
    expect(prompts.slice(4)).toEqual([
      "Draft the changelog (attempt 0)",
      "Draft the changelog, fixing: add a ## Changes heading (attempt 1)",
    ]);
  });

  test("PI compat pi: a resume reuses every agent the helpers started (they are journaled like any agent call)", async () => {
    const dir = project();
    const first = await run(dir, "retry-and-gate.js");
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first);
    const again = await weft(
      ["run", fixture("retry-and-gate.js"), "--resume", id, "--command", agentCmd],
      dir,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(resultOf(again)).toEqual(resultOf(first));
    expect(runJson(dir, id).agents).toMatchObject({ cached: 6, completed: 0 });
  });

  test("A14 compat pi: checkpoint() where nobody can answer resolves its default (true without one) at once and journals it; headless: 'abort' fails the run", async () => {
    const dir = project();
    let r = await run(dir, "checkpoint.js");
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r)).toEqual({ go: true, branch: "release/next", channel: "beta" });
    const answers = journal(dir, runIdOf(r)).filter((x) => x.type === "gate.answered");
    expect(answers.map((a) => [a.title, a.by, a.value])).toEqual([
      ["Release the new version?", "headless", true],
      ["Name the release branch", "headless", "release/next"],
      ["Which channel?", "headless", "beta"],
    ]);
    expect(r.stderr).toContain('checkpoint #2 "Name the release branch" answered "release/next" by headless');

    r = await run(dir, "checkpoint.js", ["--args", JSON.stringify({ mustAsk: true })]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `checkpoint "Really publish?" needs a person's answer and nobody can answer this run (stdin is not a terminal, or --json, --detach, MCP; headless: "abort"): resume it in a terminal with weft resume ${runIdOf(r)}`,
    );
    expect(runJson(dir, runIdOf(r)).status).toBe("failed");
  });
});
