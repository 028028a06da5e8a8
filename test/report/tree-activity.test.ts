/** Last activity (U02): what a driver's events become, the per-agent throttle, and the plain lines. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, test, vi } from "vitest";
import { ActivityThrottle, activityOf, promptStart } from "../../dist/engine/activity.js";
import type { AgentTask, Driver, DriverRunContext, RunEvent } from "../../dist/index.js";
import { runWorkflow } from "../../dist/index.js";
import { ACTIVITY_EVERY_MS, PlainReporter } from "../../dist/report/plain.js";
import { meta, project } from "../helpers/cli.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("activity lines", () => {
  test("U02 a tool call shows its name and main argument, text its last line, an error its message", () => {
    expect(
      activityOf({ type: "tool_call", name: "Bash", input: { command: "npm  test\n -- --run", timeout: 5 } }),
    ).toBe("Bash npm test -- --run");
    expect(activityOf({ type: "tool_call", name: "Read", input: { file_path: "/src/a.ts" } })).toBe(
      "Read /src/a.ts",
    );
    expect(activityOf({ type: "tool_call", name: "custom", input: { a: 1 } })).toBe('custom {"a":1}');
    expect(activityOf({ type: "tool_call", name: "Think" })).toBe("Think");
    expect(activityOf({ type: "text", text: "First I will look.\n\nThen fix the bug.\n" })).toBe(
      "Then fix the bug.",
    );
    expect(activityOf({ type: "text", text: "  \n" })).toBeUndefined();
    expect(activityOf({ type: "error", message: "HTTP 429" })).toBe("error: HTTP 429");
    expect(activityOf({ type: "usage", usage: { input: 1 } })).toBeUndefined();
    const long = activityOf({ type: "text", text: "x".repeat(500) })!;
    expect(long).toHaveLength(120);
    expect(long.endsWith("…")).toBe(true);
    expect(promptStart("\n  Review   the file\nsecond line")).toBe("Review the file");
  });

  test("U02 the throttle sends the first line at once, the newest of a burst after 250 ms, and nothing after close", () => {
    vi.useFakeTimers();
    const sent: string[] = [];
    const t = new ActivityThrottle((a) => sent.push(a.text + (a.model ? `@${a.model}` : "")));
    t.push({ text: "started", model: "m1" });
    for (let i = 0; i < 20; i++) t.push({ text: `line ${i}` });
    expect(sent).toEqual(["started@m1"]);
    vi.advanceTimersByTime(249);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(["started@m1", "line 19"]);
    vi.advanceTimersByTime(1000);
    t.push({ text: "later" });
    expect(sent.at(-1)).toBe("later");
    t.push({ text: "pending" });
    t.close();
    vi.advanceTimersByTime(1000);
    expect(sent.at(-1)).toBe("later");
  });

  test("U02 agent.activity reaches the reporter throttled per agent, before agent.finished, and is not journaled", async () => {
    const chatty: Driver = {
      name: "chatty",
      async run(task: AgentTask, ctx: DriverRunContext) {
        ctx.onEvent({ type: "started", model: "model-x" });
        for (let i = 0; i < 50; i++)
          ctx.onEvent({ type: "tool_call", name: "Bash", input: { command: `step ${i}` } });
        await new Promise((r) => setTimeout(r, 300));
        ctx.onEvent({ type: "text", text: `done with ${task.userPrompt}` });
        for (let i = 0; i < 50; i++)
          ctx.onEvent({ type: "tool_call", name: "Bash", input: { command: `late ${i}` } });
        return { status: "completed", text: "ok", usage: { input: 1, output: 1, cached: 0, reasoning: 0 } };
      },
    };
    const dir = project();
    const events: RunEvent[] = [];
    const res = await runWorkflow({
      script: {
        source: `${meta("act")}phase("Work")\nreturn await parallel([() => agent("a", { label: "A" }), () => agent("b")])\n`,
        path: "act.js",
      },
      cwd: dir,
      driver: chatty,
      reporter: { event: (e) => events.push(e) },
    });
    expect(res.status).toBe("completed");
    const acts = events.filter((e) => e.type === "agent.activity");
    for (const n of [1, 2]) {
      const mine = acts.filter((e) => e.n === n);
      // 101 driver events: the first line, the newest of the first burst, then the text line.
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(mine.length).toBeLessThanOrEqual(4);
      expect(mine[0]).toMatchObject({ text: "started", model: "model-x", attempt: 1, phase: "Work" });
      expect(mine[1]!.text).toBe("Bash step 49");
      const finished = events.findIndex((e) => e.type === "agent.finished" && e.n === n);
      expect(events.findLastIndex((e) => e.type === "agent.activity" && e.n === n)).toBeLessThan(finished);
    }
    expect(acts.find((e) => e.n === 1)).toMatchObject({ label: "A" });
    const started = events.find((e) => e.type === "agent.started" && e.n === 2);
    expect(started).toMatchObject({ prompt: "b" });
    expect(events.find((e) => e.type === "run.started")).toMatchObject({
      limits: { budget: null, maxAgents: 1000, maxCostUsd: null },
    });
    const journal = readFileSync(join(res.runDir, "journal.jsonl"), "utf8");
    expect(journal).not.toContain("activity");
  });

  test("U02 plain lines show an agent's activity only after 30 s without a line about it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(0);
    let text = "";
    const out = new Writable({
      write(chunk, _enc, cb) {
        text += chunk;
        cb();
      },
    });
    const r = new PlainReporter(out);
    const act = (n: number, t: string): RunEvent => ({
      type: "agent.activity",
      n,
      label: n === 1 ? "slow" : undefined,
      attempt: 1,
      text: t,
    });
    r.event({ type: "agent.started", n: 1, label: "slow", attempt: 1, driver: "command" });
    r.event({ type: "agent.started", n: 2, attempt: 1, driver: "command" });
    r.event(act(1, "Read a.ts"));
    vi.setSystemTime(ACTIVITY_EVERY_MS - 1);
    r.event(act(1, "Read b.ts"));
    vi.setSystemTime(ACTIVITY_EVERY_MS);
    r.event(act(1, "Bash npm test"));
    r.event(act(1, "Bash npm test again"));
    r.event(act(2, "Edit c.ts"));
    vi.setSystemTime(2 * ACTIVITY_EVERY_MS);
    r.event(act(1, "Write d.ts"));
    await r.close();
    expect(text.split("\n").filter((l) => l.includes("doing"))).toEqual([
      "  doing  #1 slow: Bash npm test",
      "  doing  #2: Edit c.ts",
      "  doing  #1 slow: Write d.ts",
    ]);
  });
});
