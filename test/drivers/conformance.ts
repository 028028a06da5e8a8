/**
 * The Driver conformance suite (SPEC D01): every driver runs it. A driver under test supplies
 * tasks for three scenarios; the suite checks the outcome and event contract.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { isGroupAlive } from "../../dist/drivers/process.js";
import type { AgentTask, Driver, DriverEvent } from "../../dist/index.js";

export interface ConformanceSetup {
  driver: Driver;
  /** Prompts (userPrompt) that make the backend answer "pong", fail, or run for a long time. */
  prompts: { plain: string; fail: string; slow: string };
  /** Extra task fields the driver needs (e.g. a command). */
  extra?: Partial<AgentTask>;
}

export function makeTask(userPrompt: string, extra: Partial<AgentTask> = {}): AgentTask {
  const runDir = mkdtempSync(join(tmpdir(), "weft-conf-"));
  for (const d of ["tasks", "transcripts"]) mkdirSync(join(runDir, d));
  return {
    runId: "conformance-abc123",
    index: 1,
    attempt: 1,
    prompt: `preamble\n\n${userPrompt}`,
    userPrompt,
    permissions: "edit",
    cwd: runDir,
    runDir,
    transcriptPath: join(runDir, "transcripts", "1.jsonl"),
    ...extra,
  };
}

async function run(driver: Driver, task: AgentTask, abortAfterMs?: number) {
  const events: DriverEvent[] = [];
  const ac = new AbortController();
  const timer = abortAfterMs === undefined ? undefined : setTimeout(() => ac.abort(), abortAfterMs);
  const outcome = await driver.run(task, { signal: ac.signal, onEvent: (e) => events.push(e) });
  clearTimeout(timer);
  return { outcome, events };
}

export function driverConformance(name: string, setup: () => ConformanceSetup): void {
  test(`D01 ${name}: a plain turn completes with the final text and usage`, async () => {
    const s = setup();
    const { outcome, events } = await run(s.driver, makeTask(s.prompts.plain, s.extra));
    expect(outcome.status).toBe("completed");
    expect(outcome.text).toBe("pong");
    expect(outcome.usage).toMatchObject({ input: expect.any(Number), output: expect.any(Number) });
    expect(events[0]?.type).toBe("started");
  });

  test(`D01 ${name}: a failing turn fails with a message`, async () => {
    const s = setup();
    const { outcome } = await run(s.driver, makeTask(s.prompts.fail, s.extra));
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/\S/);
  });

  test(`D01 ${name}: a stop ends the turn as stopped and leaves no process behind`, async () => {
    const s = setup();
    const { outcome, events } = await run(s.driver, makeTask(s.prompts.slow, s.extra), 300);
    expect(outcome.status).toBe("stopped");
    const started = events.find((e) => e.type === "started");
    expect(started && "pgid" in started ? started.pgid : undefined).toEqual(expect.any(Number));
    if (started?.type === "started" && started.pgid) expect(isGroupAlive(started.pgid)).toBe(false);
  });
}
