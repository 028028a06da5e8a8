/**
 * The run directory's human artifacts (U07): rendered from the journal and the agent records at
 * the end of every execution, state.json kept current while it runs, and `weft report <run>`
 * rendering them again for a run whose process died.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  AGENT_CMD,
  collect,
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

const runDir = (dir: string, id: string) => join(dir, ".weft", "runs", id);
const art = (dir: string, id: string, f: string) => readFileSync(join(runDir(dir, id), f), "utf8");
const ARTIFACTS = ["plan.md", "state.json", "packets", "results", "integration.md", "final-report.md"];

describe("human artifacts", () => {
  test("U07 a completed run holds every artifact, and each says what its journal says", async () => {
    const dir = project({
      "wf.js": `${meta("arts")}phase("Ask")
const SCHEMA = { type: "object", required: ["n"], properties: { n: { type: "number" } } }
const out = await parallel(["a", "b"].map((x) => () => agent("usage:100,20 json:{\\"n\\":1} " + x, { label: "ask " + x, schema: SCHEMA })))
phase("Break")
const bad = await agent("exit:3", { label: "breaks" })
return { out, bad }\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code, r.stderr).toBe(0);
    const id = runIdOf(r);
    for (const f of ARTIFACTS) expect(existsSync(join(runDir(dir, id), f)), f).toBe(true);
    const fin = journal(dir, id).filter((x) => x.type === "agent.finished");

    const state = JSON.parse(art(dir, id, "state.json"));
    expect(state).toMatchObject({
      runId: id,
      status: "completed",
      ended: true,
      phase: "Break",
      agents: { running: 0, completed: 2, failed: 1, stopped: 0 },
      tokens: { input: 200, output: 40 },
      gate: null,
    });

    // One packet and one result per agent, as the journal numbers them.
    expect(readdirSync(join(runDir(dir, id), "packets")).sort()).toEqual(["1.md", "2.md", "3.md"]);
    expect(readdirSync(join(runDir(dir, id), "results")).sort()).toEqual(["1.md", "2.md", "3.md"]);
    for (const rec of fin) {
      const res = art(dir, id, `results/${rec.n}.md`);
      expect(res).toContain(`# Agent ${rec.n}: ${rec.label}`);
      expect(res).toContain(`- status: ${rec.status}`);
      expect(res).toContain(`- attempts: ${rec.attempts}`);
      if (rec.status === "completed") expect(res).toContain(JSON.stringify(rec.result, null, 2));
      else expect(res).toContain(rec.error);
      const packet = art(dir, id, `packets/${rec.n}.md`);
      const agent = JSON.parse(art(dir, id, `agents/${rec.n}.json`));
      expect(packet).toContain(agent.prompt);
      expect(packet).toContain(`- phase: ${rec.phase}`);
    }
    expect(art(dir, id, "packets/1.md")).toContain('"required": [\n    "n"\n  ]');
    expect(art(dir, id, "packets/3.md")).toContain("Its final message, as text.");

    const report = art(dir, id, "final-report.md");
    expect(report).toContain(`# Final report: ${id}`);
    expect(report).toContain("- outcome: **completed**");
    expect(report).toContain("- agents: 3 (2 completed, 1 failed)");
    expect(report).toContain("- tokens: 200 in, 40 out");
    // Failures come before the result and the table.
    const failures = report.indexOf("## Failures (1)");
    expect(failures).toBeGreaterThan(0);
    expect(failures).toBeLessThan(report.indexOf("## Result"));
    expect(report).toMatch(/- agent 3 \(breaks\): .*boom/);
    expect(report).toMatch(/\| 3 \| breaks \| Break \| failed \|/);
    expect(report).toContain('"bad": null');

    const plan = art(dir, id, "plan.md");
    expect(plan).toContain("# Plan: arts");
    expect(plan).toContain("Script: wf.js (read, not run)");
    expect(plan).toContain("- agents: 3 (exact");
    expect(art(dir, id, "integration.md")).toContain("nothing to integrate");
  });

  test("U07 integration.md lists what integrate() applied, from the journal, and the patches it did not apply", async () => {
    const dir = gitProject({
      "wf.js": `${meta("integ")}await parallel([
  () => agent("write:a.txt:one", { label: "a", isolation: "worktree" }),
  () => agent("write:b.txt:two", { label: "b", isolation: "worktree", writes: ["c.txt"] }),
])
return await integrate()\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code, r.stderr).toBe(0);
    const id = runIdOf(r);
    const integrated = journal(dir, id).filter((x) => x.type === "integrated");
    expect(integrated).toEqual([{ type: "integrated", n: 1, writer: 1 }]);
    const text = art(dir, id, "integration.md");
    expect(text).toMatch(/## Applied to the working tree[\s\S]*- agent 1 \(a\): A a\.txt/);
    expect(text).toMatch(/## Patches not applied[\s\S]*- agent 2 \(b\), failed: patches\/2\.patch: b\.txt/);
    expect(art(dir, id, "results/2.md")).toMatch(
      /- patch: patches\/2\.patch \(1 file\(s\)\)\n {2}- A b\.txt/,
    );
    expect(art(dir, id, "packets/2.md")).toContain("- may change only: `c.txt`");
    expect(art(dir, id, "final-report.md")).toContain("1 patch(es) applied; see integration.md.");
  });

  test("U07 a run that a limit stopped lists its refused calls; a failed run still gets its report", async () => {
    const dir = project({
      "wf.js": `${meta("limited")}const out = await parallel([1, 2, 3].map((i) => () => agent("n " + i)))
return out\n`,
      "fail.js": `${meta("fails")}await agent("hello")\nthrow new Error("on purpose")\n`,
    });
    const r = await runScript(dir, "wf.js", ["--max-agents", "1", "--concurrency", "1"]);
    expect(r.code).toBe(3);
    const id = runIdOf(r);
    const report = art(dir, id, "final-report.md");
    expect(report).toContain("- outcome: **budget_exhausted**");
    expect(report).toMatch(/## Refused calls \(2\)\n\n- agent limit reached/);
    expect(JSON.parse(art(dir, id, "state.json"))).toMatchObject({ status: "budget_exhausted", refused: 2 });

    const f = await runScript(dir, "fail.js");
    expect(f.code).toBe(1);
    const failed = art(dir, runIdOf(f), "final-report.md");
    expect(failed).toContain("- outcome: **failed**");
    expect(failed).toMatch(/## Error\n\n```\nfail\.js:3:7: Error: on purpose\n```/);
  });

  test("U07 state.json is kept current while the run goes on", async () => {
    const dir = project({
      "wf.js": `${meta("live")}phase("Wait")\nreturn await agent("hang", { label: "hangs" })\n`,
    });
    const child = startWeft(["run", "wf.js", "--command", AGENT_CMD], dir);
    const done = collect(child);
    const runs = join(dir, ".weft", "runs");
    const id = await until(() => readdirSync(runs)[0]);
    const state = await until(() => {
      const s = JSON.parse(readFileSync(join(runs, id, "state.json"), "utf8"));
      return s.agents.running === 1 ? s : undefined;
    });
    expect(state).toMatchObject({ status: "running", ended: false, phase: "Wait" });
    // Not yet: the per-agent files are written once, at the end.
    expect(existsSync(join(runs, id, "final-report.md"))).toBe(false);
    child.kill("SIGINT");
    const r = await done;
    expect(r.code).toBe(130);
    expect(JSON.parse(art(dir, id, "state.json"))).toMatchObject({ status: "stopped", ended: true });
    expect(art(dir, id, "final-report.md")).toContain("- outcome: **stopped**");
  });

  test("U07 after kill -9, weft report renders the artifacts from the journal; resume renders them again", async () => {
    const dir = project({
      "wf.js": `${meta("crashy")}const a = await agent("first", { label: "first" })
const b = await agent("hang", { label: "hangs" })
return { a, b }\n`,
    });
    const child = startWeft(["run", "wf.js", "--command", AGENT_CMD], dir);
    const done = collect(child);
    const runs = join(dir, ".weft", "runs");
    const id = await until(() => readdirSync(runs)[0]);
    await until(() => journal(dir, id).some((x) => x.type === "agent.started" && x.n === 2));
    child.kill("SIGKILL");
    await done;
    // What the crash left: no end of run, no report.
    expect(existsSync(join(runs, id, "final-report.md"))).toBe(false);
    rmSync(join(runs, id, "state.json"), { force: true });

    const r = await weft(["report", id], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`for 2 agent(s) in .weft/runs/${id}`);
    for (const f of ARTIFACTS) expect(existsSync(join(runs, id, f)), f).toBe(true);
    const report = art(dir, id, "final-report.md");
    expect(report).toContain("- outcome: **no end recorded**");
    expect(report).toMatch(/\| 1 \| first \| {2}\| completed \|/);
    expect(report).toMatch(/\| 2 \| {2}\| {2}\| running \|/);
    expect(JSON.parse(art(dir, id, "state.json"))).toMatchObject({
      status: "running",
      ended: false,
      agents: { running: 1, completed: 1 },
    });
    expect(art(dir, id, "packets/1.md")).toContain("first");
    expect(existsSync(join(runs, id, "results", "2.md"))).toBe(false);

    // The resume (with an agent that answers) ends the run, and the artifacts say so.
    const resumed = await weft(["resume", id, "--command", "echo done"], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = art(dir, id, "final-report.md");
    expect(after).not.toContain("no end recorded");
    expect(after).toMatch(/- executions: started .*, resumed /);
    // The agent the crash interrupted is shown as such, not as running; its call ran again as 3.
    expect(after).toMatch(/\| 2 \| {2}\| {2}\| unfinished/);
    expect(after).toMatch(/\| 3 \| hangs \| {2}\| completed \|/);
    expect(JSON.parse(art(dir, id, "state.json"))).toMatchObject({ status: "completed", executions: 2 });
  });

  test("U07 state.json shows a waiting gate; the final report lists its answer", async () => {
    const dir = project({
      "wf.js": `${meta("gated")}const ok = await gate("Ship it?", { details: "v2" })\nreturn ok\n`,
    });
    const child = startWeft(["run", "wf.js", "--command", AGENT_CMD], dir);
    const done = collect(child);
    const runs = join(dir, ".weft", "runs");
    const id = await until(() => readdirSync(runs)[0]);
    const state = await until(() => {
      const s = JSON.parse(readFileSync(join(runs, id, "state.json"), "utf8"));
      return s.status === "waiting" ? s : undefined;
    });
    expect(state.gate).toMatchObject({ gate: 1, title: "Ship it?", details: "v2" });
    const a = await weft(["approve", id, "1"], dir);
    expect(a.code, a.stderr).toBe(0);
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(art(dir, id, "state.json"))).toMatchObject({ status: "completed", gate: null });
    expect(art(dir, id, "final-report.md")).toMatch(/## Gates\n\n- approved by .* at .*: Ship it\?/);
  });

  test("U07 weft report on an unknown run is a usage error", async () => {
    const dir = project();
    const r = await weft(["report", "nope-123456"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no run "nope-123456"');
  });
});
