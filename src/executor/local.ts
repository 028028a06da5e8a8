/**
 * The local side of the Executor seam: a task spec (plain JSON, from a queue) turned back into a
 * job with a live driver and a compiled schema, and run by the same attempt loop the engine uses
 * in-process, with its events handed to `onEvent`.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Driver } from "../drivers/types.js";
import { type AgentEnd, type AgentJob, type RunnerContext, runAgent } from "../engine/agent-runner.js";
import { compileSchema } from "../engine/schema.js";
import { runVerify } from "../workspace/verify.js";
import type { TaskEvent, TaskSpec } from "./task.js";

export interface LocalRunOptions {
  driverFor(name: string): Driver;
  /** Where this task's transcript and task files go (a run directory of the worker's own). */
  runDir: string;
  /** The tree the agent works in. */
  cwd: string;
  onEvent(e: TaskEvent): void;
  signal: AbortSignal;
  verifyTimeoutMs?: number;
  killGraceMs?: number;
}

export async function runSpec(spec: TaskSpec, o: LocalRunOptions): Promise<AgentEnd> {
  await mkdir(join(o.runDir, "transcripts"), { recursive: true });
  const job: AgentJob = {
    n: spec.n,
    key: spec.key,
    phase: spec.phase,
    prompt: spec.prompt,
    opts: spec.opts,
    schema: spec.schema ? compileSchema(spec.schema) : undefined,
    driver: o.driverFor(spec.driver),
    retries: spec.retries,
    repairs: spec.repairs,
    cwd: o.cwd,
    verify: spec.verify,
  };
  const ctx: RunnerContext = {
    runId: spec.runId,
    runDir: o.runDir,
    cwd: o.cwd,
    idleTimeoutMs: spec.idleTimeoutMs,
    verifyRepairs: spec.verifyRepairs,
    verify: (j, signal) =>
      runVerify(j.verify!, j.cwd!, {
        timeoutMs: o.verifyTimeoutMs ?? 10 * 60_000,
        killGraceMs: o.killGraceMs ?? 5_000,
        signal,
      }),
    onAttempt: (_j, attempt) => o.onEvent({ type: "attempt", attempt }),
    onDriverEvent: (_j, attempt, event) => o.onEvent({ type: "driver", attempt, event }),
    onRetry: (_j, attempt, error) => o.onEvent({ type: "retry", attempt, error }),
    onRepair: (_j, attempt, errors) => o.onEvent({ type: "repair", attempt, errors }),
    onActivity: (_j, attempt, activity) => o.onEvent({ type: "activity", attempt, activity }),
  };
  return runAgent(job, ctx, o.signal);
}
