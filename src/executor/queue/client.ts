/**
 * The driving side of X01: an Executor that sends each agent call to the queue instead of
 * starting a process here. Everything else (script, journal, cache, limits, gates, control)
 * stays with the run; this only turns a job into a task, the worker's events back into the
 * runner's callbacks, and the outcome into the agent's end, applying a non-isolated agent's
 * changes to the working tree (X02).
 */
import { closeSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import type { AgentEnd, AgentJob, RunnerContext } from "../../engine/agent-runner.js";
import { zeroUsage } from "../../engine/agent-runner.js";
import { ensureDir, openAppendSync } from "../../store/safe-write.js";
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
class QueueLostError extends Error {}

/** How long Redis may be unreachable mid-run before the run gives up on it (X03). */
const LOSS_GRACE_MS = 5_000;

interface Pending {
  job: AgentJob;
  ctx: RunnerContext;
  seen: number;
  /** The worker's run of the task the sequence belongs to. */
  run?: string;
}

export class QueueExecutor implements Executor {
  private readonly pending = new Map<string, Pending>();
  /** Calls waiting on a worker: ended at once when the queue is lost. */
  private readonly waiting = new Map<string, (why: string) => void>();
  private lost?: string;
  private lossTimer?: NodeJS.Timeout;

  private constructor(
    private readonly o: QueueExecutorOptions,
    private readonly queue: Queue<TaskSpec, TaskOutcome>,
    private readonly events: QueueEvents,
    private readonly pub: Redis,
    private readonly repo: string,
  ) {
    events.on("progress", ({ jobId, data }) => this.onProgress(jobId, data));
    // X03: Redis gone for longer than a blip: nothing new is sent, and every call waiting on a
    // worker ends as a fatal failure, which trips the run's breaker (the run ends paused; the
    // calls run again on resume). ioredis keeps reconnecting meanwhile; back in time, all is well.
    const onError = (e: Error) => {
      if (this.lost || this.lossTimer) return;
      this.lossTimer = setTimeout(() => {
        this.lost = `lost the queue at ${shownUrl(o.redis)}: ${e.message}`;
        for (const fail of this.waiting.values()) fail(this.lost);
      }, LOSS_GRACE_MS);
      this.lossTimer.unref();
    };
    const onReady = () => {
      if (this.lost) return;
      clearTimeout(this.lossTimer);
      this.lossTimer = undefined;
    };
    for (const c of [pub, queue, events] as { on(ev: string, f: (...a: never[]) => void): unknown }[]) {
      c.on("error", onError);
    }
    pub.on("ready", onReady);
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
        out = (await Promise.race([
          added.waitUntilFinished(this.events),
          new Promise<never>((_, reject) => this.waiting.set(id, (why) => reject(new QueueLostError(why)))),
        ])) as TaskOutcome;
      } catch (e) {
        if (e instanceof QueueLostError) return { ...failed(e.message), fatal: true };
        if (signal.aborted) return { status: "stopped", usage: zeroUsage(), attempts: 0 };
        return failed(`the worker failed the task: ${(e as Error).message}`);
      } finally {
        this.waiting.delete(id);
      }
      if (out.transcript) appendTranscript(ctx, job.n, out.transcript);
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
    const batch = data as { run?: string; seq?: number; events?: TaskEvent[] } | undefined;
    if (!p || !batch || !Array.isArray(batch.events) || typeof batch.seq !== "number") return;
    // Another worker took the task over (its first worker died): its own sequence starts anew.
    if (batch.run !== p.run) {
      p.run = batch.run;
      p.seen = 0;
    }
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
    clearTimeout(this.lossTimer);
    // A graceful close talks to Redis; with Redis gone it would wait for ever, so it gets 2 s.
    const graceful = Promise.allSettled([this.queue.close(), this.events.close(), this.pub.quit()]);
    const timedOut = await Promise.race([
      graceful.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), 2_000).unref()),
    ]);
    if (timedOut) {
      this.pub.disconnect();
      void this.queue.disconnect().catch(() => {});
      void this.events.disconnect().catch(() => {});
    }
  }
}

/** The worker's transcript, appended where a local agent's would be (never through a planted link). */
function appendTranscript(ctx: RunnerContext, n: number, text: string): void {
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
