/**
 * The Driver conformance suite (SPEC D01): every driver runs it. A driver under test supplies a
 * task factory and three scenarios (task overrides that make its backend answer, fail, or run
 * until stopped); the suite checks the outcome and event contract the engine relies on.
 */
import { expect, test } from "vitest";
import { isGroupAlive } from "../../src/drivers/process.js";
import type { AgentOutcome, AgentTask, Driver, DriverEvent } from "../../src/drivers/types.js";

export interface ConformanceSetup {
  driver: Driver;
  makeTask: (overrides: Partial<AgentTask>) => AgentTask;
  scenario: {
    /** Completes with some text. */
    plain: Partial<AgentTask>;
    /** Fails (the backend reports an error or exits non-zero). */
    fail: Partial<AgentTask>;
    /** Runs far longer than the test, with descendants in its process group if it can. */
    slow: Partial<AgentTask>;
  };
  cleanup: () => Promise<void>;
}

export interface Turn {
  outcome: AgentOutcome;
  events: DriverEvent[];
  /** Wall time of the turn. */
  ms: number;
}

/** Runs one turn; `abortAfterStartMs` aborts that long after the "started" event. */
export async function turn(driver: Driver, task: AgentTask, abortAfterStartMs?: number): Promise<Turn> {
  const events: DriverEvent[] = [];
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const t0 = Date.now();
  const outcome = await driver.run(task, {
    signal: ac.signal,
    onEvent: (e) => {
      events.push(e);
      if (e.type === "started" && abortAfterStartMs !== undefined) {
        timer = setTimeout(() => ac.abort(), abortAfterStartMs);
      }
    },
  });
  clearTimeout(timer);
  return { outcome, events, ms: Date.now() - t0 };
}

function startedPgid(events: DriverEvent[]): number | undefined {
  const started = events.find((e) => e.type === "started");
  return started?.type === "started" ? started.pgid : undefined;
}

export function driverConformance(name: string, setup: () => Promise<ConformanceSetup>): void {
  const withSetup = (fn: (s: ConformanceSetup) => Promise<void>) => async () => {
    const s = await setup();
    try {
      await fn(s);
    } finally {
      await s.cleanup();
    }
  };

  test(
    `D01 ${name}: a plain turn completes with text and usage`,
    withSetup(async (s) => {
      const { outcome } = await turn(s.driver, s.makeTask(s.scenario.plain));
      expect(outcome.status).toBe("completed");
      expect(outcome.text).toMatch(/\S/);
      // Trailing white space is removed (D01 outcome).
      expect(outcome.text).toBe(outcome.text?.trimEnd());
      expect(outcome.usage).toMatchObject({
        input: expect.any(Number),
        output: expect.any(Number),
        cached: expect.any(Number),
        reasoning: expect.any(Number),
      });
    }),
  );

  test(
    `D01 ${name}: events start with "started", carrying the process group, and the group is gone after the turn`,
    withSetup(async (s) => {
      const { events } = await turn(s.driver, s.makeTask(s.scenario.plain));
      expect(events[0]?.type).toBe("started");
      const pgid = startedPgid(events);
      expect(pgid).toEqual(expect.any(Number));
      expect(isGroupAlive(pgid!)).toBe(false);
      const types = new Set(["started", "text", "tool_call", "tool_result", "usage", "error"]);
      for (const e of events) expect(types.has(e.type)).toBe(true);
    }),
  );

  test(
    `D01 ${name}: a failing turn fails with an error message`,
    withSetup(async (s) => {
      const { outcome } = await turn(s.driver, s.makeTask(s.scenario.fail));
      expect(outcome.status).toBe("failed");
      expect(outcome.error).toMatch(/\S/);
    }),
  );

  test(
    `D01 ${name}: a stop ends the turn as stopped and leaves no process of its group behind`,
    withSetup(async (s) => {
      const t0 = Date.now();
      const { outcome, events } = await turn(s.driver, s.makeTask(s.scenario.slow), 200);
      expect(outcome.status).toBe("stopped");
      const pgid = startedPgid(events);
      expect(pgid).toEqual(expect.any(Number));
      expect(isGroupAlive(pgid!)).toBe(false);
      // The slow scenario runs far longer: the stop, not the backend, ended it.
      expect(Date.now() - t0).toBeLessThan(15_000);
    }),
  );

  test(
    `D01 ${name}: a signal aborted before the start resolves stopped without starting anything`,
    withSetup(async (s) => {
      const events: DriverEvent[] = [];
      const outcome = await s.driver.run(s.makeTask(s.scenario.slow), {
        signal: AbortSignal.abort(),
        onEvent: (e) => events.push(e),
      });
      expect(outcome.status).toBe("stopped");
      expect(events.filter((e) => e.type === "started")).toEqual([]);
    }),
  );
}
