import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { isGroupAlive } from "../../dist/drivers/process.js";
import {
  AGENT_CMD,
  collect,
  journal,
  meta,
  project,
  reaperOf,
  runIdOf,
  runJson,
  runScript,
  startWeft,
  until,
  weft,
} from "../helpers/cli.js";

const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];

describe("runs and the journal", () => {
  test("R01 run id, first stderr line, first --json event and the run directory's files", async () => {
    const dir = project({ "wf.js": `${meta("My Flow!")}return await agent("hello", { label: "greet" })\n` });
    const r = await runScript(dir, "wf.js");
    expect(r.stderr.split("\n")[0]).toMatch(/^run my-flow--[a-z0-9]{6}$/);
    const id = runIdOf(r);
    const runDir = join(dir, ".weft", "runs", id);
    expect(readdirSync(runDir).sort()).toEqual(
      expect.arrayContaining(["agents", "journal.jsonl", "run.json", "script.js", "transcripts"]),
    );
    const s = runJson(dir, id);
    expect(s).toMatchObject({
      id,
      name: "My Flow!",
      status: "completed",
      result: "echo: hello",
      refused: [],
    });
    expect(s.agents.completed).toBe(1);
    expect(s.tokens).toEqual({ input: 0, output: 0, cached: 0, reasoning: 0 });
    expect(typeof s.startedAt).toBe("string");
    expect(typeof s.endedAt).toBe("string");
    const agent = JSON.parse(readFileSync(join(runDir, "agents", "1.json"), "utf8"));
    expect(agent).toMatchObject({
      n: 1,
      prompt: "hello",
      status: "completed",
      result: "echo: hello",
      driver: "command",
    });
    expect(agent.options).toMatchObject({ label: "greet" });
    expect(readFileSync(join(runDir, "transcripts", "1.jsonl"), "utf8")).toContain("echo: hello");
    const j = await runScript(dir, "wf.js", ["--json"]);
    expect(JSON.parse(j.stdout.split("\n")[0]!)).toMatchObject({ type: "run.started", runId: runIdOf(j) });
  });

  test("R02 a finished agent is journaled before the script sees it; a torn last line is skipped", async () => {
    const dir = project({ "wf.js": `${meta()}const a = await agent("a")\nlog("got " + a)\nreturn a\n` });
    const r = await runScript(dir, "wf.js");
    const id = runIdOf(r);
    const types = journal(dir, id).map((x) => x.type);
    expect(types.indexOf("agent.finished")).toBeLessThan(types.indexOf("log"));
    // Simulate kill -9 in the middle of a write, then resume: the torn line is ignored.
    writeFileSync(
      join(dir, ".weft", "runs", id, "journal.jsonl"),
      `${readFileSync(join(dir, ".weft", "runs", id, "journal.jsonl"), "utf8")}{"type":"agent.fini`,
    );
    const again = await weft(["resume", id], dir);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe("echo: a");
  });

  test("R02 process groups left by a killed weft are killed on resume before anything starts", async () => {
    const dir = project({ "wf.js": `${meta()}return await agent("hang log:" + cwd + "/starts.log")\n` });
    const child = startWeft(["run", "wf.js", "--command", AGENT_CMD], dir);
    const done = collect(child);
    await until(() => lines(join(dir, "starts.log")).length === 1 || undefined);
    const id = (await until(() => readdirSync(join(dir, ".weft", "runs"))[0]))!;
    const spawned = await until(() => journal(dir, id).find((x) => x.type === "agent.spawned"));
    // The watcher that kills a dead weft's agents goes first, as if it had died with weft.
    if (process.platform === "linux") process.kill(await until(() => reaperOf(child.pid!)), "SIGKILL");
    child.kill("SIGKILL");
    await done;
    expect(isGroupAlive(spawned.pgid)).toBe(true);
    const again = startWeft(["resume", id], dir);
    const againDone = collect(again);
    await until(() => lines(join(dir, "starts.log")).length === 2 || undefined);
    expect(isGroupAlive(spawned.pgid)).toBe(false);
    again.kill("SIGINT");
    await againDone;
  });

  test("R03 resume reuses agents finished out of order; an edited prompt reruns that agent and the calls that saw it", async () => {
    const log = "starts.log";
    const script = (changed: string) =>
      `${meta()}const names = "ABCDEFGHIJ".split("")
const out = await parallel(names.map((n) => () => agent("sleep:" + (n === "C" || n === "H" ? 20000 : "rand:400") + " log:" + cwd + "/${log} " + (n === "E" ? "${changed}" : n), { label: n })))
const summary = await agent("log:" + cwd + "/${log} summary of " + out.filter(Boolean).length)
return { out, summary }\n`;
    const dir = project({ "wf.js": script("E") });
    const child = startWeft(["run", "wf.js", "--command", AGENT_CMD, "--concurrency", "10"], dir);
    const done = collect(child);
    // Stop once the eight quick ones have finished (C and H are still running).
    const id = (await until(() => readdirSync(join(dir, ".weft", "runs"))[0]))!;
    await until(() => journal(dir, id).filter((x) => x.type === "agent.finished").length === 8 || undefined);
    child.kill("SIGINT");
    const first = await done;
    expect(first.code).toBe(130);
    const finished = journal(dir, id).filter((x) => x.type === "agent.finished" && x.status === "completed");
    expect(finished.map((x: { label: string }) => x.label).sort()).toEqual([
      "A",
      "B",
      "D",
      "E",
      "F",
      "G",
      "I",
      "J",
    ]);
    // Finish order was random; resume starts only C and H (made quick now) and the summary.
    writeFileSync(join(dir, "wf.js"), script("E").replace('n === "C" || n === "H" ? 20000 : ', ""));
    writeFileSync(join(dir, log), "");
    let r = await weft(["run", "wf.js", "--resume", id, "--command", AGENT_CMD], dir);
    expect(r.code).toBe(0);
    // The edited script replaced the stored one; the old copy is kept, numbered.
    expect(existsSync(join(dir, ".weft", "runs", id, "script.1.js"))).toBe(true);
    let starts = lines(join(dir, log)).map((l) => l.slice(l.indexOf("starts.log ") + 11));
    expect(starts.sort()).toEqual(["C", "H", "summary of 10"]);
    expect(r.stderr.match(/cached #/g)).toHaveLength(8);
    // Edit the prompt of E: E runs again, and so do the calls that were made after E had
    // finished (its answer came from the cache in the last execution, so it had) and that are
    // writers' readers (R03): H (made again in that execution, after D to G were served) and the
    // summary. C was made before E was served, so it stays cached, as do the other siblings.
    writeFileSync(join(dir, log), "");
    writeFileSync(join(dir, "wf.js"), script("E, edited").replace('n === "C" || n === "H" ? 20000 : ', ""));
    r = await weft(["run", "wf.js", "--resume", id, "--command", AGENT_CMD], dir);
    expect(r.code).toBe(0);
    starts = lines(join(dir, log)).map((l) => l.slice(l.indexOf("starts.log ") + 11));
    expect(starts.sort()).toEqual(["E, edited", "H", "summary of 10"]);
    const result = JSON.parse(r.stdout);
    expect(result.out[4]).toMatch(/E, edited$/);
    expect(result.summary).toMatch(/summary of 10$/);
  });

  test("R03 resume reuses the run's own settings and args; flags given again override them", async () => {
    const dir = project({ "wf.js": `${meta()}return [args, await agent("env")]\n` });
    const r = await runScript(dir, "wf.js", ["--args", '{"x":1}', "--concurrency", "3"]);
    const id = runIdOf(r);
    const again = await weft(["resume", id], dir);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)[0]).toEqual({ x: 1 });
    const started = journal(dir, id).find((x) => x.type === "run.started");
    expect(started.settings).toMatchObject({ command: AGENT_CMD, concurrency: 3 });
  });

  test("R05 a live run cannot be resumed; a stale lock is taken over at once", async () => {
    const dir = project({ "wf.js": `${meta()}return await agent("sleep:1500 x")\n` });
    const child = startWeft(["run", "wf.js", "--command", AGENT_CMD], dir);
    const done = collect(child);
    const id = (await until(() => readdirSync(join(dir, ".weft", "runs"))[0]))!;
    await until(() => existsSync(join(dir, ".weft", "runs", id, "lock.json")) || undefined);
    const refused = await weft(["resume", id], dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/locked by pid \d+/);
    expect((await done).code).toBe(0);
    // A lock left by a dead process is stale.
    writeFileSync(
      join(dir, ".weft", "runs", id, "lock.json"),
      JSON.stringify({
        pid: 999999,
        startTime: "1",
        hostname: hostname(),
        acquiredAt: 0,
        heartbeatAt: Date.now(),
      }),
    );
    const again = await weft(["resume", id], dir);
    expect(again.code).toBe(0);
  });

  test("R06 stopping a run does not fail its running agents: they run again on resume", async () => {
    const dir = project({
      "wf.js": `${meta()}return await parallel([() => agent("a"), () => agent("sleep:30000 b")])\n`,
    });
    const child = startWeft(["run", "wf.js", "--command", AGENT_CMD], dir);
    const done = collect(child);
    const id = (await until(() => readdirSync(join(dir, ".weft", "runs"))[0]))!;
    await until(() => journal(dir, id).find((x) => x.type === "agent.finished"));
    await until(() => journal(dir, id).find((x) => x.type === "agent.spawned" && x.n === 2));
    child.kill("SIGINT");
    expect((await done).code).toBe(130);
    const s = runJson(dir, id);
    expect(s.status).toBe("stopped");
    expect(s.agents.failed).toBe(0);
    expect(s.agents.stopped).toBe(1);
    writeFileSync(
      join(dir, "wf.js"),
      `${meta()}return await parallel([() => agent("a"), () => agent("b")])\n`,
    );
    const again = await weft(["run", "wf.js", "--resume", id, "--command", AGENT_CMD], dir);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(["echo: a", "echo: b"]);
  });

  test("R07 nothing to resume; a completed run replays without starting anything", async () => {
    const dir = project({ "wf.js": `${meta()}return await agent("log:" + cwd + "/s.log a")\n` });
    let r = await weft(["resume", "nope-123456"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nothing to resume");
    r = await runScript(dir, "wf.js");
    const id = runIdOf(r);
    const again = await weft(["resume", id], dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(r.stdout);
    expect(lines(join(dir, "s.log"))).toHaveLength(1);
    // A run directory without a run-start record has nothing to resume either.
    writeFileSync(join(dir, ".weft", "runs", id, "journal.jsonl"), "");
    r = await weft(["resume", id], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nothing to resume");
  });

  test("R09 run.json states and summary: completed, failed, budget_exhausted, stopped", async () => {
    const dir = project({
      "ok.js": `${meta()}return await agent("usage:3,4")\n`,
      "bad.js": `${meta()}throw new Error("no")\n`,
    });
    const ok = await runScript(dir, "ok.js");
    const s = runJson(dir, runIdOf(ok));
    expect(s.status).toBe("completed");
    expect(s.tokens).toEqual({ input: 3, output: 4, cached: 0, reasoning: 0 });
    expect(s.agents).toMatchObject({ completed: 1, failed: 0 });
    const bad = await runScript(dir, "bad.js");
    expect(runJson(dir, runIdOf(bad))).toMatchObject({
      status: "failed",
      error: expect.stringContaining("bad.js:2:7: Error: no"),
    });
  });
});
