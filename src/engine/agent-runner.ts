/**
 * One agent call from first start to final outcome: retries (C02, D09), the schema repair loop
 * (A03), usage summed over attempts. Knows nothing of the journal's format: it reports through
 * callbacks, and the Run records.
 */
import { costOf, type ModelPrice } from "../drivers/prices.js";
import type { AgentTask, Driver, DriverEvent, Usage } from "../drivers/types.js";
import type { AgentTrace } from "../trace/agent-trace.js";
import type { VerifyResult } from "../workspace/verify.js";
import { type Activity, ActivityThrottle, activityOf } from "./activity.js";
import { extractJsonObject } from "./extract-json.js";
import type { AgentOptions } from "./options.js";
import { fullPrompt } from "./preamble.js";
import { type CompiledSchema, repairInstructions, schemaInstructions } from "./schema.js";
import type { Ranges } from "./writers.js";

export interface AgentJob {
  n: number;
  key: string;
  /** The phase the agent belongs to (opts.phase, or the script's current phase). */
  phase?: string;
  prompt: string;
  opts: AgentOptions;
  schema?: CompiledSchema;
  driver: Driver;
  retries: number;
  repairs: number;
  /** Idle limit of each attempt (C01): the call's stallMs, else the idleTimeoutMs setting. */
  stallMs?: number;
  /** The worktree the agent works in (W01); otherwise the run's cwd. */
  cwd?: string;
  /** Commands that check the worktree after the agent (W05). */
  verify?: string[];
  /** The commit a worktree agent starts from, taken when `agent()` was called (R03's key). */
  start?: string;
  /** R03: the agent can change the shared working tree (not isolated, allowed to edit). */
  writer?: boolean;
  /** R03: the frontier of writers that had finished when `agent()` was called. */
  after?: Ranges;
  /** R03: the writer's number, given when it finished. */
  writerNo?: number;
}

export interface AgentEnd {
  status: "completed" | "failed" | "stopped";
  /** Set for completed agents: the text, or the validated object. */
  value?: unknown;
  /** The output never matched the schema: agent() throws (A03). */
  invalid?: boolean;
  /** Every attempt stalled (C01): agent() throws. */
  stalled?: boolean;
  /** A failure that trips the run's breaker (C03): quota, billing, credentials. */
  fatal?: boolean;
  /** The last failure was transient (C02) and the retries ran out: a later start may succeed. */
  transient?: boolean;
  error?: string;
  usage: Usage;
  model?: string;
  sessionId?: string;
  attempts: number;
  verify?: (VerifyResult & { attempt: number })[];
}

export interface RunnerContext {
  runId: string;
  runDir: string;
  cwd: string;
  idleTimeoutMs: number;
  verifyRepairs: number;
  /** Runs a job's `verify` commands in its worktree. */
  verify?(job: AgentJob, signal: AbortSignal): Promise<VerifyResult>;
  onAttempt(job: AgentJob, attempt: number): void;
  onDriverEvent(job: AgentJob, attempt: number, e: DriverEvent): void;
  onRetry(job: AgentJob, attempt: number, error: string): void;
  onRepair(job: AgentJob, attempt: number, errors: string[]): void;
  /** The agent's last activity (U02), already throttled per agent; not journaled. */
  onActivity?(job: AgentJob, attempt: number, activity: Activity): void;
  /** The price of a model on a driver, for usage the backend reported without a cost (C06, D07). */
  priceOf?(model: string | undefined, driver: string): ModelPrice | undefined;
  /** U11: the run's trace, when it exports one (TRACEPARENT for the agent, tool calls as events). */
  trace?: AgentTrace;
  /**
   * A signal for one attempt: aborted, that attempt is stopped and the same call starts again at
   * once (`weft restart --agent`), not counted against `retries`.
   */
  attemptSignal?(job: AgentJob, attempt: number): AbortSignal | undefined;
}

/** C01: a stalled agent is started again this many times, as Claude Code does; then agent() throws. */
export const STALL_RESTARTS = 5;

export const zeroUsage = (): Usage => ({ input: 0, output: 0, cached: 0, reasoning: 0 });

function addUsage(sum: Usage, u: Usage | undefined): void {
  if (!u) return;
  sum.input += u.input || 0;
  sum.output += u.output || 0;
  sum.cached += u.cached || 0;
  sum.reasoning += u.reasoning || 0;
  if (u.costUsd !== undefined) sum.costUsd = (sum.costUsd ?? 0) + u.costUsd;
}

/** Exponential backoff with full jitter, stopped early by the signal. */
function backoff(retry: number, signal: AbortSignal): Promise<void> {
  const ms = Math.random() * Math.min(30_000, 250 * 2 ** retry);
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** `ctx` is shared by every agent of a run; `signal` is this agent's own. */
export async function runAgent(job: AgentJob, ctx: RunnerContext, signal: AbortSignal): Promise<AgentEnd> {
  const usage = zeroUsage();
  const base = job.schema ? [schemaInstructions(job.schema.schema)] : [];
  let extra = base;
  let retriesLeft = job.retries;
  let verifyRepairsLeft = ctx.verifyRepairs;
  const verifications: (VerifyResult & { attempt: number })[] = [];
  let repairsLeft = job.repairs;
  let stalls = 0;
  let attempt = 0;
  let model: string | undefined;
  let sessionId: string | undefined;
  for (;;) {
    attempt++;
    if (signal.aborted) return { status: "stopped", usage, attempts: attempt - 1, model, sessionId };
    ctx.onAttempt(job, attempt);
    const task: AgentTask = {
      runId: ctx.runId,
      index: job.n,
      attempt,
      prompt: fullPrompt(job.prompt, extra),
      userPrompt: job.prompt,
      schema: job.schema?.schema,
      label: job.opts.label,
      phase: job.phase,
      model: job.opts.model,
      effort: job.opts.effort,
      agentType: job.opts.agentType,
      permissions: job.opts.permissions ?? "edit",
      cwd: job.cwd ?? ctx.cwd,
      runDir: ctx.runDir,
      transcriptPath: `${ctx.runDir}/transcripts/${job.n}.jsonl`,
      timeoutMs: job.opts.timeoutMs,
      idleTimeoutMs: job.stallMs ?? ctx.idleTimeoutMs,
      command: job.opts.command,
      env: ctx.trace?.envFor(job.n, attempt),
    };
    let outcome: Awaited<ReturnType<Driver["run"]>>;
    const at = attempt;
    const restart = ctx.attemptSignal?.(job, attempt);
    const activity = ctx.onActivity && new ActivityThrottle((a) => ctx.onActivity?.(job, at, a));
    try {
      outcome = await job.driver.run(task, {
        signal: restart ? AbortSignal.any([signal, restart]) : signal,
        onEvent: (e) => {
          ctx.onDriverEvent(job, at, e);
          if (e.type === "tool_call") ctx.trace?.toolCall(job.n, at, e.name);
          if (!activity) return;
          const text = activityOf(e);
          if (text !== undefined) activity.push({ text });
          else if (e.type === "started" && e.model) activity.push({ text: "started", model: e.model });
        },
      });
    } catch (e) {
      outcome = { status: "failed", error: (e as Error).message ?? String(e), transient: false };
    } finally {
      activity?.close();
    }
    model = outcome.model ?? model ?? job.opts.model;
    if (outcome.usage && outcome.usage.costUsd === undefined) {
      const price = ctx.priceOf?.(outcome.model ?? job.opts.model, job.driver.name);
      if (price) outcome.usage = { ...outcome.usage, costUsd: costOf(outcome.usage, price) };
    }
    addUsage(usage, outcome.usage);
    sessionId = outcome.sessionId ?? sessionId;
    const end = { usage, attempts: attempt, model, sessionId };
    if (restart?.aborted && !signal.aborted) {
      // Restarted by a person: the same call again, at once; what the attempt used still counts.
      ctx.onRetry(job, attempt, `restarted: ${String(restart.reason ?? "by request")}`);
      continue;
    }
    if (outcome.status === "stopped" || signal.aborted) return { status: "stopped", ...end };
    if (outcome.status === "failed" && outcome.stalled) {
      // C01: a stall is not the backend's answer; start the same attempt again, at once.
      stalls++;
      const error = outcome.error || "the agent stalled";
      if (stalls <= STALL_RESTARTS) {
        ctx.onRetry(job, attempt, `stalled: ${error}`);
        continue;
      }
      return {
        status: "failed",
        stalled: true,
        error: `agent stalled on all ${stalls} attempts (${error})`,
        ...end,
      };
    }
    if (outcome.status === "failed") {
      const error = outcome.error || "the agent failed";
      // A failure known to be permanent is not retried; D09: command failures cannot be
      // classified, so for the command driver `retries` retries them all.
      if (
        retriesLeft > 0 &&
        !outcome.fatal &&
        (outcome.transient !== false || job.driver.name === "command")
      ) {
        retriesLeft--;
        ctx.onRetry(job, attempt, error);
        await backoff(job.retries - retriesLeft, signal);
        continue;
      }
      return {
        status: "failed",
        error,
        fatal: outcome.fatal === true || undefined,
        transient: outcome.transient === true || undefined,
        ...end,
      };
    }
    const text = outcome.text ?? "";
    let value: unknown;
    if (!job.schema) {
      value = outcome.object ?? text;
    } else {
      const found =
        outcome.object !== undefined ? { ok: true as const, value: outcome.object } : extractJsonObject(text);
      let errors: string[] = [];
      if (!found.ok) errors = ["the answer holds no parseable JSON object"];
      else {
        const v = job.schema.validate(found.value);
        if (v.ok) value = found.value;
        else errors = v.errors;
      }
      if (errors.length > 0) {
        if (repairsLeft > 0) {
          repairsLeft--;
          ctx.onRepair(job, attempt, errors);
          extra = [...base, repairInstructions(errors, found.ok ? "invalid" : "no-json")];
          continue;
        }
        return {
          status: "failed",
          invalid: true,
          error: `the output did not match the schema after ${job.repairs} repair${job.repairs === 1 ? "" : "s"}: ${errors.join("; ")}`,
          ...end,
        };
      }
    }
    if (job.verify && ctx.verify) {
      // W05: the worktree must pass the checks; a failure goes back to the agent to fix.
      const v = await ctx.verify(job, signal);
      verifications.push({ attempt, ...v });
      if (signal.aborted) return { status: "stopped", ...end, verify: verifications };
      if (!v.ok) {
        if (verifyRepairsLeft > 0) {
          verifyRepairsLeft--;
          ctx.onRepair(job, attempt, [`verify failed: ${v.command}`]);
          extra = [...base, verifyInstructions(v)];
          continue;
        }
        return {
          status: "failed",
          error: `verify failed after ${ctx.verifyRepairs} repair${ctx.verifyRepairs === 1 ? "" : "s"}: \`${v.command}\` exited with ${v.exitCode}:\n${v.output.trimEnd().split("\n").slice(-20).join("\n")}`,
          ...end,
          verify: verifications,
        };
      }
    }
    return { status: "completed", value, ...end, verify: job.verify ? verifications : undefined };
  }
}

function verifyInstructions(v: VerifyResult): string {
  return [
    `Your changes were checked with \`${v.command}\`, which failed (exit code ${v.exitCode}). Its output:`,
    v.output.trimEnd().split("\n").slice(-60).join("\n"),
    "Fix the problem in the files, then answer again.",
  ].join("\n");
}
