/**
 * Claude Code's shared-prefix stagger (issue 17 item 8): agents that send the same long prompt
 * prefix wait for the first to warm the backend's prompt cache. A driver that behaves like a
 * prompt cache counts the cache writes: a request that arrives before the cache entry exists
 * writes it (and pays for it), one that arrives after reads it.
 */
import { describe, expect, test } from "vitest";
import type { AgentTask, Driver, DriverRunContext } from "../../dist/index.js";
import { runWorkflow } from "../../dist/index.js";
import { meta, project } from "../helpers/cli.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class PromptCacheDriver implements Driver {
  readonly name = "cachey";
  writes = 0;
  reads = 0;
  readonly log: string[] = [];
  private readonly cache = new Set<string>();
  async run(task: AgentTask, ctx: DriverRunContext) {
    const prefix = `${task.model ?? ""}|${task.userPrompt.slice(0, 4096)}`;
    this.log.push(`start ${task.index}`);
    await sleep(10);
    if (this.cache.has(prefix)) this.reads++;
    else {
      // Reading a long prompt the first time and writing its cache entry takes a while.
      await sleep(150);
      this.writes++;
      this.cache.add(prefix);
    }
    this.log.push(`event ${task.index}`);
    ctx.onEvent({ type: "text", text: "working" });
    await sleep(20);
    return {
      status: "completed" as const,
      text: `ok ${task.index}`,
      usage: { input: 1, output: 1, cached: 0, reasoning: 0 },
    };
  }
}

const fanOut = (n: number, prompt: string, opts = "{}") =>
  `${meta("fan")}const shared = ${JSON.stringify(prompt)}
return await parallel(Array.from({ length: ${n} }, (_, i) => () => agent(shared + " task " + i, ${opts})))\n`;

async function run(source: string, settings: Record<string, unknown> = {}) {
  const driver = new PromptCacheDriver();
  const res = await runWorkflow({
    script: { source, path: "fan.js" },
    cwd: project(),
    driver,
    settings: { concurrency: 8, ...settings },
  });
  expect(res.status).toBe("completed");
  return driver;
}

describe("shared-prefix stagger", () => {
  test("CC siblings with the same long prompt prefix wait for the first to warm the cache: 1 cache write instead of 8", async () => {
    const long = "context ".repeat(700);
    const staggered = await run(fanOut(8, long));
    expect(staggered.writes).toBe(1);
    expect(staggered.reads).toBe(7);
    // Only the leader started before the first event.
    const firstEvent = staggered.log.indexOf("event 1");
    expect(staggered.log.slice(0, firstEvent)).toEqual(["start 1"]);

    const off = await run(fanOut(8, long), { prefixStaggerMs: 0 });
    expect(off.writes).toBe(8);
  });

  test("CC short prompts and other models are not held", async () => {
    const short = await run(fanOut(4, "a short prompt"));
    expect(short.log.slice(0, 4).sort()).toEqual(["start 1", "start 2", "start 3", "start 4"]);
    // Same long prefix, but each agent on its own model: nothing is shared, nothing waits.
    const long = "context ".repeat(700);
    const models = await run(
      `${meta("fan")}const shared = ${JSON.stringify(long)}
return await parallel([1, 2, 3].map((i) => () => agent(shared, { model: "m" + i })))\n`,
    );
    expect(models.log.slice(0, 3).sort()).toEqual(["start 1", "start 2", "start 3"]);
    expect(models.writes).toBe(3);
  });

  test("CC a leader that fails before its first event does not hold its siblings for the whole wait", async () => {
    const long = "context ".repeat(700);
    const driver: Driver & { log: string[] } = {
      name: "flaky",
      log: [],
      async run(task: AgentTask) {
        this.log.push(`start ${task.index}`);
        if (task.index === 1) return { status: "failed" as const, error: "boom", transient: false };
        return {
          status: "completed" as const,
          text: "ok",
          usage: { input: 1, output: 1, cached: 0, reasoning: 0 },
        };
      },
    } as Driver & { log: string[] };
    const t0 = Date.now();
    const res = await runWorkflow({
      script: { source: fanOut(3, long), path: "fan.js" },
      cwd: project(),
      driver,
      settings: { concurrency: 3, prefixStaggerMs: 60_000 },
    });
    expect(res.status).toBe("completed");
    expect(driver.log).toHaveLength(3);
    // The siblings went when the leader ended, not after the minute the setting allows.
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
