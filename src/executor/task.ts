/**
 * The Executor seam (ARCHITECTURE.md): where an agent task runs. The local executor is the
 * attempt loop of agent-runner.ts in this process; the queue executor sends the same task to a
 * worker machine (X01). A task crosses that line as plain JSON (TaskSpec), and what comes back is
 * plain JSON too (TaskOutcome plus the events on the way), so nothing live (a Driver, a compiled
 * schema, a callback) ever has to travel.
 */
import type { DriverEvent } from "../drivers/types.js";
import type { Activity } from "../engine/activity.js";
import type { AgentEnd, AgentJob, RunnerContext } from "../engine/agent-runner.js";
import type { AgentOptions } from "../engine/options.js";

/** Runs one agent call to its end, reporting through `ctx` as the local attempt loop does. */
export interface Executor {
  run(job: AgentJob, ctx: RunnerContext, signal: AbortSignal): Promise<AgentEnd>;
  close?(): Promise<void>;
}

/** The tree a remote agent starts from (X02): a repository, a commit, and a patch on top of it. */
export interface TreeSpec {
  /** A path or URL the workers can clone and fetch. */
  repo: string;
  /** The commit the patch applies to. */
  base: string;
  /** `git diff --binary` from `base` to the tree the agent must see (uncommitted work included). */
  patch: string;
}

export interface TaskSpec {
  /** Format version: a worker refuses a task it cannot read rather than guess. */
  v: 1;
  runId: string;
  n: number;
  key: string;
  phase?: string;
  prompt: string;
  opts: AgentOptions;
  /** The JSON Schema of the result, when the call has one. */
  schema?: Record<string, unknown>;
  driver: string;
  retries: number;
  repairs: number;
  verify?: string[];
  idleTimeoutMs: number;
  verifyRepairs: number;
  tree: TreeSpec;
}

/** What a worker streams back while a task runs (BullMQ job progress, in batches). */
export type TaskEvent =
  | { type: "attempt"; attempt: number }
  | { type: "driver"; attempt: number; event: DriverEvent }
  | { type: "retry"; attempt: number; error: string }
  | { type: "repair"; attempt: number; errors: string[] }
  | { type: "activity"; attempt: number; activity: Activity };

export interface TaskOutcome {
  end: AgentEnd;
  /** The agent's changes to the tree it started from, as a binary git patch ("" for none). */
  patch: string;
  /** Paths the patch changes. */
  files: string[];
  /** The backend's raw output (transcripts/<n>.jsonl on the worker). */
  transcript: string;
  /** Which worker ran it (host and pid), for the record. */
  worker: string;
}

/**
 * A driver's "started" event names a process on the machine that ran it. Sent elsewhere, its pid
 * and process group would name someone else's processes there (R02 kills recorded groups on
 * resume), so they never leave the worker.
 */
export function portableEvent(e: DriverEvent): DriverEvent {
  if (e.type !== "started") return e;
  const { pid: _pid, pgid: _pgid, startTime: _start, ...rest } = e;
  return rest;
}
