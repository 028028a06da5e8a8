/** The library API (U10) with a Driver object passed in (D01), as a program embedding weft would. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { AgentTask, Driver, DriverRunContext, RunEvent } from "../../dist/index.js";
import { resumeRun, runWorkflow } from "../../dist/index.js";
import { meta, project } from "../helpers/cli.js";

class EchoDriver implements Driver {
  readonly name = "echo";
  readonly tasks: AgentTask[] = [];
  async run(task: AgentTask, ctx: DriverRunContext) {
    this.tasks.push(task);
    ctx.onEvent({ type: "text", text: task.userPrompt });
    if (task.userPrompt.startsWith("json")) return { status: "completed" as const, object: { n: 1 } };
    return {
      status: "completed" as const,
      text: `echo ${task.userPrompt}`,
      usage: { input: 2, output: 3, cached: 1, reasoning: 0 },
      model: "echo-1",
      sessionId: `s${task.index}`,
    };
  }
}

describe("library", () => {
  test("U10 runWorkflow takes a script source, args, settings, a reporter and a Driver object", async () => {
    const dir = project();
    const driver = new EchoDriver();
    const events: RunEvent[] = [];
    const res = await runWorkflow({
      script: {
        source: `${meta("lib")}return [args.x, await agent("hi"), await agent("json", { schema: { type: "object" } })]\n`,
        path: "inline.js",
      },
      cwd: dir,
      args: { x: 7 },
      settings: { concurrency: 2 },
      driver,
      reporter: { event: (e) => events.push(e) },
    });
    expect(res.status).toBe("completed");
    expect(res.result).toEqual([7, "echo hi", { n: 1 }]);
    expect(res.runId).toMatch(/^lib-[a-z0-9]{6}$/);
    expect(events[0]).toMatchObject({ type: "run.started", runId: res.runId, driver: "echo" });
    expect(events.at(-1)).toMatchObject({ type: "run.finished", status: "completed" });
    expect(res.summary.tokens).toEqual({ input: 2, output: 3, cached: 1, reasoning: 0 });
    expect(driver.tasks[0]).toMatchObject({
      index: 1,
      attempt: 1,
      userPrompt: "hi",
      cwd: dir,
      permissions: "edit",
    });
    const agent = JSON.parse(readFileSync(join(res.runDir, "agents", "1.json"), "utf8"));
    expect(agent).toMatchObject({ model: "echo-1", sessionId: "s1" });
  });

  test("U10 resumeRun replays a finished run from the journal with the same result", async () => {
    const dir = project({ "wf.js": `${meta("lib")}return await agent("a")\n` });
    const driver = new EchoDriver();
    const first = await runWorkflow({ script: "wf.js", cwd: dir, driver });
    const again = await resumeRun(first.runId, { cwd: dir, driver });
    expect(again.result).toBe(first.result);
    expect(driver.tasks).toHaveLength(1);
    expect(again.summary.agents.cached).toBe(1);
  });

  test("D01 a driver's thrown error fails the agent with its message, and the run goes on", async () => {
    const dir = project();
    const driver: Driver = {
      name: "broken",
      async run() {
        throw new Error("backend exploded");
      },
    };
    const events: RunEvent[] = [];
    const res = await runWorkflow({
      script: { source: `${meta()}return await agent("a")\n` },
      cwd: dir,
      driver,
      reporter: { event: (e) => events.push(e) },
    });
    expect(res.status).toBe("completed");
    expect(res.result).toBeNull();
    expect(events.find((e) => e.type === "agent.finished")).toMatchObject({
      status: "failed",
      error: "backend exploded",
    });
  });

  test("C03 a quota failure trips the breaker: nothing new starts, the run pauses, and a resume runs the rest", async () => {
    const dir = project({
      "wf.js": `${meta("brk")}const r = await parallel([() => agent("one"), () => agent("quota"), () => agent("three")])\nreturn r\n`,
    });
    let quotaLeft = true;
    const started: string[] = [];
    const driver: Driver = {
      name: "billing",
      async run(task) {
        started.push(task.userPrompt);
        if (task.userPrompt === "quota" && quotaLeft) {
          return {
            status: "failed",
            error: "You exceeded your current quota",
            fatal: true,
            transient: false,
          };
        }
        // "one" is still running when "quota" fails: it finishes and is recorded.
        if (task.userPrompt === "one") await new Promise((r) => setTimeout(r, 300));
        return { status: "completed", text: `did ${task.userPrompt}` };
      },
    };
    const events: RunEvent[] = [];
    const first = await runWorkflow({
      script: "wf.js",
      cwd: dir,
      driver,
      settings: { concurrency: 2, retries: 3 },
      reporter: { event: (e) => events.push(e) },
    });
    expect(first.status).toBe("paused");
    expect(first.summary.error).toContain("You exceeded your current quota");
    expect(first.summary.error).toContain(`weft resume ${first.runId}`);
    // Not retried, and "three" never started; "one" finished.
    expect(started.filter((p) => p === "quota")).toHaveLength(1);
    expect(started).not.toContain("three");
    expect(first.summary.agents.completed).toBe(1);
    expect(events.some((e) => e.type === "warning" && /breaker tripped/.test(e.message))).toBe(true);

    quotaLeft = false;
    started.length = 0;
    const again = await resumeRun(first.runId, { cwd: dir, driver, settings: { concurrency: 2 } });
    expect(again.status).toBe("completed");
    expect(again.result).toEqual(["did one", "did quota", "did three"]);
    expect(started.sort()).toEqual(["quota", "three"]);
  });
});

describe("limits count what running agents reported so far", () => {
  test("C06 a queued agent is refused when finished agents plus the usage running ones reported reach --budget", async () => {
    const dir = project();
    const started: string[] = [];
    // "long" reports 300 tokens at once and keeps running; "short" reports 150 and ends.
    const driver: Driver = {
      name: "usage",
      async run(task: AgentTask, ctx: DriverRunContext) {
        started.push(task.userPrompt);
        const long = task.userPrompt === "long";
        const usage = { input: 0, output: long ? 300 : 150, cached: 0, reasoning: 0 };
        // After the calls were made: "third" is queued by then, and its turn decides.
        await new Promise((r) => setTimeout(r, 20));
        ctx.onEvent({ type: "usage", usage });
        await new Promise((r) => setTimeout(r, long ? 800 : 50));
        return { status: "completed" as const, text: "done", usage };
      },
    };
    const res = await runWorkflow({
      script: {
        source: `${meta("lim")}return await parallel(["long", "short", "third"].map((p) => () => agent(p)))\n`,
        path: "inline.js",
      },
      cwd: dir,
      settings: { concurrency: 2, budget: 400 },
      driver,
    });
    // "third" waited for short's slot; by then 150 were spent and "long" had reported 300.
    expect(started).toEqual(["long", "short"]);
    expect(res.result).toEqual(["done", "done", null]);
    expect(res.status).toBe("budget_exhausted");
    expect(res.summary.refused).toEqual([
      { n: 3, reason: "token budget reached: 450 of 400 tokens spent (setting budget, flag --budget)" },
    ]);
  });
});

describe("the hosts' option shapes and defaults (A02, S01, A10)", () => {
  test("A02 readOnly: true is permissions read-only (same cache key); timeoutMs: null and isolation: false are not set; contradictions throw", async () => {
    const dir = project();
    const driver = new EchoDriver();
    const res = await runWorkflow({
      script: {
        source: `${meta("opts")}const out = []
out.push(await agent("ro", { readOnly: true }))
out.push(await agent("rw", { readOnly: false, timeoutMs: null, isolation: false }))
for (const o of [{ readOnly: true, permissions: "full" }, { readOnly: "yes" }, { isolation: { mode: "container" } }]) {
  try { await agent("x", o); out.push("ran") } catch (e) { out.push(e.name + ": " + e.message) }
}
return out\n`,
        path: "inline.js",
      },
      cwd: dir,
      driver,
    });
    expect(res.status).toBe("completed");
    const out = res.result as string[];
    expect(out.slice(0, 2)).toEqual(["echo ro", "echo rw"]);
    expect(out[2]).toMatch(/OptionsError: .*"readOnly": true and "permissions": "full" contradict/);
    expect(out[3]).toMatch(/OptionsError: .*"readOnly" must be true or false/);
    expect(out[4]).toMatch(/OptionsError: .*"isolation" must be "worktree" or \{ mode: "worktree" \}/);
    expect(driver.tasks.map((t) => [t.userPrompt, t.permissions, t.timeoutMs])).toEqual([
      ["ro", "read-only", undefined],
      ["rw", "edit", undefined],
    ]);
    expect(res.summary.refused).toEqual([]);
    // No "unknown option" warning for the Pi ports' keys.
    const events = readFileSync(join(res.runDir, "events.jsonl"), "utf8");
    expect(events).not.toMatch(/option \\"(readOnly|timeoutMs|isolation)\\" is unknown/);
    // R03: readOnly: true keys like permissions: "read-only".
    const same = await runWorkflow({
      script: {
        source: `${meta("opts")}return await agent("ro", { permissions: "read-only" })\n`,
        path: "inline.js",
      },
      cwd: dir,
      driver,
    });
    const keyOf = (runDir: string) =>
      readFileSync(join(runDir, "journal.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((r) => r.type === "agent.finished")?.key;
    expect(keyOf(same.runDir)).toBe(keyOf(res.runDir));
  });

  test("S01 meta.model is the run's default model and meta.phases[].model the default of that phase's agents; the call and its agent type win", async () => {
    const dir = project();
    const driver = new EchoDriver();
    const res = await runWorkflow({
      script: {
        source: `export const meta = { name: "models", description: "d", model: "run-model", phases: [{ title: "Scan", model: "scan-model" }, { title: "Write" }] }
await agent("plain")
phase("Scan")
await agent("scan")
await agent("own", { model: "call-model" })
await agent("other phase", { phase: "Write" })
phase("Write")
await agent("write")\n`,
        path: "inline.js",
      },
      cwd: dir,
      driver,
    });
    expect(res.status).toBe("completed");
    expect(driver.tasks.map((t) => [t.userPrompt, t.model])).toEqual([
      ["plain", "run-model"],
      ["scan", "scan-model"],
      ["own", "call-model"],
      ["other phase", "run-model"],
      ["write", "run-model"],
    ]);
  });

  test("A10 phase(title, { budget }) is a token sub-budget: that phase's agents are refused once it is spent, others go on", async () => {
    const dir = project();
    const driver = new EchoDriver();
    // Each EchoDriver agent generates 3 tokens (and reads 2, which the budget does not count).
    const res = await runWorkflow({
      script: {
        source: `${meta("pb")}phase("Cheap", { budget: 6 })
const cheap = []
for (let i = 0; i < 4; i++) cheap.push(await agent("c" + i).catch((e) => e.name + ": " + e.message))
phase("Other")
const other = await agent("o")
phase("Cheap", { budget: 3 })
const fresh = await agent("c-again")
let bad
try { phase("X", { budget: -1 }) } catch (e) { bad = e.message }
phase("Y", "a detail")
return { cheap, other, fresh, bad }\n`,
        path: "inline.js",
      },
      cwd: dir,
      driver,
    });
    const r = res.result as { cheap: string[]; other: string; fresh: string; bad: string };
    expect(r.cheap.slice(0, 2)).toEqual(["echo c0", "echo c1"]);
    expect(r.cheap[2]).toMatch(
      /^LimitError: phase "Cheap" token budget reached: 6 of 6 generated tokens spent/,
    );
    expect(r.cheap[3]).toMatch(/^LimitError/);
    expect(r.other).toBe("echo o");
    // Declared again, the phase gets a fresh allowance.
    expect(r.fresh).toBe("echo c-again");
    expect(r.bad).toMatch(/budget must be a positive whole number/);
    // A stray second argument (not an object) warns and does not fail the script.
    expect(readFileSync(join(res.runDir, "events.jsonl"), "utf8")).toContain(
      "the second argument is read only as { budget }; string ignored",
    );
    // As budget refusals are (A13): listed, and the run ends budget_exhausted.
    expect(res.status).toBe("budget_exhausted");
    expect(res.summary.refused).toHaveLength(2);
  });
});
