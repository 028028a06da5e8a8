/**
 * `weft worker` (X01): takes agent tasks from the BullMQ queue and runs each with this machine's
 * agent CLIs and logins, in a fresh worktree of its own clone of the task's repository (X02).
 * Progress goes back as job progress (batched), the outcome as the job's return value; a cancel
 * message on the Redis channel kills the agent's process group.
 *
 * What a worker trusts: whoever can add jobs to its queue decides what its agents are asked and
 * which `verify` commands run, with the permissions the task names. The command driver's program
 * is the worker's own (`--command`); a task never chooses a program to run.
 */

import { randomUUID } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { type Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import { createDriver } from "../../drivers/registry.js";
import type { Driver } from "../../drivers/types.js";
import { runSpec } from "../local.js";
import type { TaskEvent, TaskOutcome, TaskSpec } from "../task.js";
import { portableEvent } from "../task.js";
import { cancelChannel, DEFAULT_QUEUE, redisOptions } from "./names.js";
import { filesOf, prepareTree } from "./tree.js";

export interface WorkerOptions {
  redis: string;
  queueName?: string;
  concurrency?: number;
  /** Drivers this worker serves (default: every built-in one it can start). */
  drivers?: string[];
  /** The program of the command driver on this worker. */
  command?: string;
  workdir: string;
  killGraceMs?: number;
  /**
   * How long a task's lock lasts without renewal (renewed at half of it while the task runs): a
   * worker that dies (kill -9, a lost machine) has its task handed to another worker this long
   * after its last renewal (X03). Default 30 s, BullMQ's own.
   */
  lockMs?: number;
  log?(line: string): void;
}

export interface RunningWorker {
  /** Stop taking tasks; running ones finish (graceful) or are handed back to the queue (force). */
  close(force?: boolean): Promise<void>;
  readonly served: string[];
}

const PROGRESS_MS = 100;

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const connection = redisOptions(o.redis);
  const queue = o.queueName ?? DEFAULT_QUEUE;
  const log = o.log ?? (() => {});
  const running = new Map<string, AbortController>();
  const drivers = new Map<string, Driver>();
  const served = o.drivers ?? ["command", "codex", "claude", "pi", "opencode", "gemini"];
  const driverFor = (name: string): Driver => {
    if (!served.includes(name))
      throw new Error(`this worker does not serve the ${name} driver (it serves ${served.join(", ")})`);
    let d = drivers.get(name);
    if (!d) {
      if (name === "command" && !o.command) {
        throw new Error("this worker has no command for the command driver (start it with --command)");
      }
      d = createDriver(name, { command: o.command, killGraceMs: o.killGraceMs ?? 5_000 });
      drivers.set(name, d);
    }
    return d;
  };

  const sub = new Redis({ ...connection, lazyConnect: true });
  await sub.connect();
  await sub.subscribe(cancelChannel(queue));
  sub.on("message", (_channel, jobId: string) => {
    const c = running.get(jobId);
    if (c) {
      log(`cancel ${jobId}`);
      c.abort();
    }
  });

  const worker = new Worker<TaskSpec, TaskOutcome>(
    queue,
    async (job: Job<TaskSpec, TaskOutcome>, _token?: string, signal?: AbortSignal) => process(job, signal),
    {
      connection,
      concurrency: o.concurrency ?? 4,
      autorun: false,
      lockDuration: o.lockMs ?? 30_000,
      stalledInterval: o.lockMs ?? 30_000,
      // A task whose worker died goes to another worker once; a second loss fails it, with a
      // reason that reaches the run, rather than circling through every worker.
      maxStalledCount: 1,
    },
  );
  worker.on("error", (e) => log(`error: ${e.message}`));

  async function process(job: Job<TaskSpec, TaskOutcome>, given?: AbortSignal): Promise<TaskOutcome> {
    const spec = job.data;
    if (spec?.v !== 1)
      throw new Error(`task ${job.id} is not a weft task this worker can read (format ${spec?.v})`);
    const id = String(job.id);
    const ctl = new AbortController();
    given?.addEventListener("abort", () => ctl.abort(), { once: true });
    running.set(id, ctl);
    // Sent in batches: one Redis write per 100 ms per task, however chatty the backend is.
    let batch: TaskEvent[] = [];
    let seq = 0;
    // One run of the task on this worker: a task handed to another worker after a stall starts
    // its sequence again under a token of its own.
    const runToken = randomUUID();
    const flush = () => {
      if (batch.length === 0) return;
      const events = batch;
      batch = [];
      void job.updateProgress({ run: runToken, seq: ++seq, events }).catch(() => {});
    };
    const timer = setInterval(flush, PROGRESS_MS);
    const name = `${id}-${job.attemptsStarted ?? 0}`;
    log(`start ${id} (${spec.driver}${spec.opts.label ? `, ${spec.opts.label}` : ""})`);
    let tree: Awaited<ReturnType<typeof prepareTree>> | undefined;
    try {
      driverFor(spec.driver);
      tree = await prepareTree(o.workdir, spec.tree, name);
      const runDir = join(o.workdir, "runs", spec.runId.replace(/[^A-Za-z0-9._-]/g, "_"));
      const end = await runSpec(
        { ...spec, opts: { ...spec.opts, command: undefined } },
        {
          driverFor,
          runDir,
          cwd: tree.path,
          signal: ctl.signal,
          killGraceMs: o.killGraceMs,
          onEvent: (e) => batch.push(e.type === "driver" ? { ...e, event: portableEvent(e.event) } : e),
        },
      );
      const patch = end.status === "stopped" ? "" : await tree.changes();
      const transcriptFile = join(runDir, "transcripts", `${spec.n}.jsonl`);
      const transcript = await readFile(transcriptFile, "utf8").catch(() => "");
      await rm(transcriptFile, { force: true });
      log(`end ${id}: ${end.status}`);
      return {
        end,
        patch,
        files: filesOf(patch),
        transcript,
        worker: `${hostname()}:${globalThis.process.pid}`,
      };
    } finally {
      clearInterval(timer);
      flush();
      running.delete(id);
      await tree?.remove().catch(() => {});
    }
  }

  await worker.waitUntilReady();
  void worker.run();
  return {
    served,
    async close(force = false) {
      if (force) for (const c of running.values()) c.abort();
      await worker.close(force);
      await sub.quit().catch(() => sub.disconnect());
    },
  };
}
