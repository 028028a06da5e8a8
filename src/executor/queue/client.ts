/**
 * The driving side of X01: an Executor that sends each agent call to the queue instead of
 * starting a process here. Everything else (script, journal, cache, limits, gates, control)
 * stays with the run; this only turns a job into a task, the worker's events back into the
 * runner's callbacks, and the outcome into the agent's end, applying a non-isolated agent's
 * changes to the working tree (X02).
 */
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import type { AgentEnd, AgentJob, RunnerContext } from "../../engine/agent-runner.js";
import { zeroUsage } from "../../engine/agent-runner.js";
import type { Executor, TaskEvent, TaskOutcome, TaskSpec } from "../task.js";
import { cancelChannel, DEFAULT_QUEUE, jobIdOf, redisOptions, shownUrl } from "./names.js";
import { applyToTree, repoOf, snapshotTree } from "./tree.js";

export interface QueueExecutorOptions {
  redis: string;
  queueName?: string;
  /** The project's working tree (the run's cwd). */
  cwd: string;
  /** `--repo`: what workers clone; default the origin remote, else this repository's path. */
  repo?: string;
  /** How long to wait for Redis when the run starts. */
  connectTimeoutMs?: number;
}

export class QueueUnavailableError extends Error {}

interface Pending {
  job: AgentJob;
  ctx: RunnerContext;
  seen: number;
}

export class QueueExecutor implements Executor {
  private readonly pending = new Map<string, Pending>();
  private lost?: string;

  private constructor(
    private readonly o: QueueExecutorOptions,
    private readonly queue: Queue<TaskSpec, TaskOutcome>,
    private readonly events: QueueEvents,
    private readonly pub: Redis,
    private readonly repo: string,
  ) {
    events.on("progress", ({ jobId, data }) => this.onProgress(jobId, data));
    const onLost = (e: Error) => {
      this.lost ??= `lost the queue at ${shownUrl(o.redis)}: ${e.message}`;
    };
    pub.on("error", onLost);
    queue.on("error", onLost);
    events.on("error", onLost);
  }

  /** Connects first: an unreachable Redis is refused before the run starts (X03). */
  static async open(o: QueueExecutorOptions): Promise<QueueExecutor> {
    const connection = redisOptions(o.redis);
    const name = o.queueName ?? DEFAULT_QUEUE;
    const probe = new Redis({
      ...connection,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    probe.on("error", () => {});
    try {
      await withTimeout(
        probe.connect().then(() => probe.ping()),
        o.connectTimeoutMs ?? 5_000,
      );
    } catch (e) {
      probe.disconnect();
      throw new QueueUnavailableError(
        `cannot reach the queue at ${shownUrl(o.redis)}: ${(e as Error).message}`,
      );
    }
    probe.disconnect();
    const repo = await repoOf(o.cwd, o.repo);
    const queue = new Queue<TaskSpec, TaskOutcome>(name, { connection });
    const events = new QueueEvents(name, { connection });
    const pub = new Redis(connection);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new QueueExecutor(o, queue, events, pub, repo);
  }

  async run(job: AgentJob, ctx: RunnerContext, signal: AbortSignal): Promise<AgentEnd> {
    const failed = (error: string): AgentEnd => ({
      status: "failed",
      error,
      usage: zeroUsage(),
      attempts: 0,
    });
    if (this.lost) return { ...failed(this.lost), fatal: true };
    if (signal.aborted) return { status: "stopped", usage: zeroUsage(), attempts: 0 };
    const spec: TaskSpec = {
      v: 1,
      runId: ctx.runId,
      n: job.n,
      key: job.key,
      phase: job.phase,
      prompt: job.prompt,
      opts: job.opts,
      schema: job.schema?.schema as Record<string, unknown> | undefined,
      driver: job.driver.name,
      retries: job.retries,
      repairs: job.repairs,
      verify: job.verify,
      idleTimeoutMs: ctx.idleTimeoutMs,
      verifyRepairs: ctx.verifyRepairs,
      tree: await snapshotTree(this.o.cwd, this.repo),
    };
    const id = jobIdOf(ctx.runId, job.n);
    this.pending.set(id, { job, ctx, seen: 0 });
    const onAbort = () => void this.cancel(id);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const added = await this.queue.add("agent", spec, {
        jobId: id,
        // A worker that dies mid-task hands it back (BullMQ's stalled-job check); the outcome
        // stays a day for a resume to find.
        removeOnComplete: { age: 86_400 },
        removeOnFail: { age: 86_400 },
        attempts: 1,
      });
      let out: TaskOutcome;
      try {
        out = (await added.waitUntilFinished(this.events)) as TaskOutcome;
      } catch (e) {
        if (signal.aborted) return { status: "stopped", usage: zeroUsage(), attempts: 0 };
        return failed(`the worker failed the task: ${(e as Error).message}`);
      }
      if (out.transcript) await appendTranscript(ctx, job.n, out.transcript);
      if (out.end.status === "completed" && out.patch) {
        try {
          await applyToTree(ctx.cwd, out.patch);
        } catch (e) {
          return { ...out.end, status: "failed", value: undefined, error: (e as Error).message };
        }
      }
      return out.end;
    } catch (e) {
      this.lost ??= `lost the queue at ${shownUrl(this.o.redis)}: ${(e as Error).message}`;
      return { ...failed(this.lost), fatal: true };
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.pending.delete(id);
    }
  }

  private async cancel(id: string): Promise<void> {
    // Not started yet: take it off the queue. Running: tell its worker.
    const job = await this.queue.getJob(id).catch(() => undefined);
    const state = await job?.getState().catch(() => undefined);
    if (job && (state === "waiting" || state === "delayed" || state === "prioritized")) {
      await job.remove().catch(() => {});
    }
    await this.pub.publish(cancelChannel(this.o.queueName ?? DEFAULT_QUEUE), id).catch(() => {});
  }

  private onProgress(jobId: string, data: unknown): void {
    const p = this.pending.get(jobId);
    const batch = data as { seq?: number; events?: TaskEvent[] } | undefined;
    if (!p || !batch || !Array.isArray(batch.events) || typeof batch.seq !== "number") return;
    // Progress events can arrive twice (a reconnect): each batch is taken once, in order.
    if (batch.seq <= p.seen) return;
    p.seen = batch.seq;
    for (const e of batch.events) {
      switch (e.type) {
        case "attempt":
          p.ctx.onAttempt(p.job, e.attempt);
          break;
        case "driver":
          p.ctx.onDriverEvent(p.job, e.attempt, e.event);
          break;
        case "retry":
          p.ctx.onRetry(p.job, e.attempt, e.error);
          break;
        case "repair":
          p.ctx.onRepair(p.job, e.attempt, e.errors);
          break;
        case "activity":
          p.ctx.onActivity?.(p.job, e.attempt, e.activity);
          break;
      }
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.events.close(), this.pub.quit()]);
  }
}

/** The worker's transcript, appended where a local agent's would be (never through a planted link). */
async function appendTranscript(ctx: RunnerContext, n: number, text: string): Promise<void> {
  const { closeSync, writeSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { ensureDir, openAppendSync } = await import("../../store/safe-write.js");
  try {
    ensureDir(join(ctx.runDir, "transcripts"));
    const fd = openAppendSync(join(ctx.runDir, "transcripts", `${n}.jsonl`));
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  } catch {
    // The transcript is a record for people; failing to write it does not fail the agent.
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
