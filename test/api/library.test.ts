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
