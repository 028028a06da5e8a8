/**
 * The run's event stream (SPEC U02; documented in docs/events.md). Every reporter (plain lines,
 * JSON lines, later the live tree) renders this one stream, so nothing is computed twice.
 */
import type { ControlRequest } from "../control/channel.js";
import type { Usage } from "../drivers/types.js";
import type { CheckpointSpec } from "../engine/gate-text.js";
import type { Truncation } from "../store/excerpt.js";

export interface AgentRef {
  n: number;
  label?: string;
  phase?: string;
}

export interface RunSummary {
  id: string;
  name: string;
  status: RunStatus;
  result?: unknown;
  error?: string;
  agents: Record<string, number>;
  refused: { n?: number; label?: string; reason: string }[];
  tokens: { input: number; output: number; cached: number; reasoning: number };
  costUsd: number;
  startedAt: string;
  endedAt?: string;
  /** Set when this execution was a resume. */
  resumedAt?: string;
  durationMs?: number;
  script: string;
  driver: string;
  /** What the end-of-run integration applied and what conflicted (W04), or why it was refused. */
  integration?:
    | {
        applied: { n: number; label?: string; files: string[] }[];
        conflicts: { n: number; label?: string; files: string[]; error: string }[];
      }
    | { error: string };
  /** A14: while status is `waiting`, the gate waiting (the first, when several wait) ... */
  gate?: GateView;
  /** ... and every gate waiting, in number order. */
  gates?: GateView[];
  /** R08: the run this one was forked from, and which of its agents it reuses. */
  forkedFrom?: { run: string; from?: number; rerun?: number[] };
  /** C03: paused by a usage limit that resets then (ISO time), as the backend said. */
  usageResetAt?: string;
  /**
   * E03: whether `weft resume` can change how the run ended; set when it ended other than
   * completed. False for a failure the same script meets again (a DeterminismError, invalid
   * options, a value JSON cannot carry): fix the script and `weft run <script> --resume <id>`.
   */
  resumeHelps?: boolean;
  /**
   * E03: agent() calls of this execution refused before they started, for their options (invalid
   * values, an option the driver cannot honour, an unknown agentType): the call threw.
   */
  rejected?: number;
  /** E03: the first agents of this execution that failed, with their errors (at most 3). */
  failures?: { n: number; label?: string; error: string }[];
}

export interface GateView {
  n: number;
  title: string;
  details?: unknown;
  /** ISO time it began to wait. */
  since: string;
  /** A14: a checkpoint(), and what it asks. */
  checkpoint?: CheckpointSpec;
}

export interface RunLimits {
  budget: number | null;
  maxAgents: number;
  maxCostUsd: number | null;
}

export type RunStatus =
  | "running"
  | "waiting"
  | "paused"
  | "completed"
  | "failed"
  | "stopped"
  | "budget_exhausted";

export type RunEvent =
  | {
      type: "run.started";
      runId: string;
      name: string;
      runDir: string;
      resumed: boolean;
      driver: string;
      /** The limits of this execution (C06), for the budget line; absent in older event files. */
      limits?: RunLimits;
    }
  | { type: "warning"; message: string }
  | { type: "phase"; title: string }
  | { type: "log"; message: string }
  /** An agent was called and waits for a concurrency slot (U02: counted as `weft status` counts it). */
  | ({ type: "agent.queued" } & AgentRef)
  | ({
      type: "agent.started";
      attempt: number;
      driver: string;
      model?: string;
      /** The first line of the script's prompt, at most 80 characters (shown for unlabelled agents). */
      prompt?: string;
    } & AgentRef)
  /** U02: what the agent did last (a tool call, a line of text); at most one per agent per 250 ms. */
  | ({ type: "agent.activity"; attempt: number; text: string; model?: string } & AgentRef)
  | ({ type: "agent.retry"; attempt: number; error: string } & AgentRef)
  | ({ type: "agent.repair"; attempt: number; errors: string[] } & AgentRef)
  | ({
      type: "agent.finished";
      status: "completed" | "failed" | "stopped";
      cached: boolean;
      durationMs: number;
      usage: Usage;
      attempts: number;
      error?: string;
    } & AgentRef)
  /** `n` when the call had a number: it was queued, and a limit refused it when its turn came. */
  | { type: "agent.refused"; n?: number; label?: string; reason: string }
  /** C03: a failure every agent would hit tripped the breaker; nothing new starts, the run will pause. */
  | { type: "breaker"; n: number; label?: string; driver: string; reason: string; usageResetAt?: string }
  | {
      type: "gate.waiting";
      n: number;
      title: string;
      details?: unknown;
      hash: string;
      since: string;
      /** A14: a checkpoint(), and what it asks. */
      checkpoint?: CheckpointSpec;
    }
  | {
      type: "gate.answered";
      n: number;
      title: string;
      approved: boolean;
      by: string;
      reason?: string;
      answeredAt: string;
      /** Answered from the journal (an earlier execution recorded this very gate's answer). */
      replayed: boolean;
      /** A14: what a checkpoint() resolved to. */
      value?: unknown;
    }
  /** C04, C05, C08: a control request the run took (stop, stop-agent, pause), and what came of it. */
  | { type: "control"; request: ControlRequest; from: string; ok: boolean; outcome: string }
  | {
      type: "run.finished";
      runId: string;
      status: RunStatus;
      result?: unknown;
      /** In events.jsonl only: `result` (and the summary's) is an excerpt of a huge result. */
      resultTruncated?: Truncation;
      error?: string;
      summary: RunSummary;
    };

export interface Reporter {
  event(e: RunEvent): void;
  /** Called once after run.finished; flush what is buffered. */
  close?(): void | Promise<void>;
}
