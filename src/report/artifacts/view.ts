/**
 * A run as its journal tells it (U07): the one source the human artifacts are rendered from, so
 * they say what was recorded, never what a process believed. Records are folded one at a time,
 * so the same fold serves a full read (the end of a run, `weft report`) and a tail read (state.json
 * on a timer while the run goes on).
 */
import type { Usage } from "../../drivers/types.js";
import { emptyGateState, foldGate, type GateState } from "../../engine/gates.js";
import type { AgentFinishedRecord, JournalRecord, RunStartedRecord } from "../../engine/records.js";
import type { RunStatus } from "../events.js";

export type AgentState = "running" | "completed" | "failed" | "stopped";

export interface AgentView {
  n: number;
  state: AgentState;
  /** Attempts started (agent.started records, counting retries and repairs). */
  started: number;
  /** The agent.finished record, when it finished (the last one, if it ran in several executions). */
  finished?: AgentFinishedRecord;
  /** It was started in an execution that ended without finishing it. */
  interrupted?: boolean;
  /** The execution (1 = the first start) whose record finished it. */
  execution?: number;
  /** Its call's cache key (R03), from its agent.started records. */
  key?: string;
  /**
   * A later agent made the same call (the same key): a resume ran it again after this one failed,
   * was stopped, or was cut off by the end of its execution. Its outcome is that agent's now.
   */
  supersededBy?: number;
}

export interface RunView {
  started?: RunStartedRecord;
  /** Each start and resume, with the script copy and args it ran with. */
  executions: {
    kind: "started" | "resumed";
    at: string;
    script: string;
    displayPath: string;
    args?: string;
  }[];
  /** The last execution's end; undefined while it runs, or when its process died. */
  finished?: { status: RunStatus; result?: unknown; error?: string; at: string };
  phases: string[];
  phase?: string;
  agents: Map<number, AgentView>;
  refused: { label?: string; reason: string; at: string }[];
  integrated: number[];
  warnings: string[];
  /** Gates (A14): answers, and what waits, folded as the engine folds them. */
  gates: GateState;
  /** The newest agent of each call key, to see which earlier agents a rerun superseded. */
  byKey: Map<string, number>;
}

export function emptyView(): RunView {
  return {
    executions: [],
    phases: [],
    agents: new Map(),
    refused: [],
    integrated: [],
    warnings: [],
    gates: emptyGateState(),
    byKey: new Map(),
  };
}

/** Agent `a` makes call `key`: an earlier agent of the same call that did not complete is superseded. */
function noteKey(view: RunView, a: AgentView, key: string | undefined): void {
  if (!key || a.key === key) return;
  a.key = key;
  const before = view.byKey.get(key);
  if (before !== undefined && before < a.n) {
    const old = view.agents.get(before);
    if (old && old.state !== "completed") old.supersededBy = a.n;
  }
  if (before === undefined || before < a.n) view.byKey.set(key, a.n);
}

/** Fold one journal record into the view. Unknown record types are left alone. */
export function applyRecord(view: RunView, r: JournalRecord | Record<string, any>): void {
  const rec = r as JournalRecord;
  foldGate(view.gates, r as { type: string });
  switch (rec.type) {
    case "run.started":
    case "run.resumed":
      if (rec.type === "run.started") view.started = rec;
      // A new execution: what the last one left running did not finish in it.
      for (const a of view.agents.values()) {
        if (a.state === "running") {
          a.interrupted = true;
          a.state = a.finished ? (a.finished.status as AgentState) : "stopped";
        }
      }
      view.executions.push({
        kind: rec.type === "run.started" ? "started" : "resumed",
        at: rec.at,
        script: rec.script,
        displayPath: rec.displayPath,
        args: rec.args,
      });
      view.finished = undefined;
      return;
    case "agent.started": {
      const a = view.agents.get(rec.n) ?? { n: rec.n, state: "running" as AgentState, started: 0 };
      a.state = "running";
      a.started++;
      view.agents.set(rec.n, a);
      noteKey(view, a, rec.key);
      return;
    }
    case "agent.finished": {
      const a = view.agents.get(rec.n) ?? { n: rec.n, state: "running" as AgentState, started: 0 };
      a.finished = rec;
      a.execution = view.executions.length;
      a.state = rec.status;
      a.interrupted = false;
      view.agents.set(rec.n, a);
      noteKey(view, a, rec.key);
      return;
    }
    case "agent.refused":
      view.refused.push({ label: rec.label, reason: rec.reason, at: rec.at });
      return;
    case "integrated":
      view.integrated.push(rec.n);
      return;
    case "phase":
      view.phase = rec.title;
      if (!view.phases.includes(rec.title)) view.phases.push(rec.title);
      return;
    case "log":
      if (rec.level === "warn") view.warnings.push(rec.message);
      return;
    case "run.finished":
      view.finished = { status: rec.status, result: rec.result, error: rec.error, at: rec.at };
      return;
  }
}

/** The state a reader should see: the recorded end, or "running" (or "waiting" at a gate) until there is one. */
export function statusOf(view: RunView): RunStatus {
  return view.finished?.status ?? (view.gates.waiting.size > 0 && !view.gates.fresh ? "waiting" : "running");
}

/** The gates waiting for an answer, as recorded. */
export function waitingGates(
  view: RunView,
): { gate: number; title: string; details?: unknown; since: string }[] {
  if (view.finished?.status === "completed") return [];
  return [...view.gates.waiting.values()].map((w) => ({
    gate: w.gate,
    title: w.title,
    details: w.details,
    since: w.at,
  }));
}

export function countStates(view: RunView): Record<AgentState, number> {
  const c: Record<AgentState, number> = { running: 0, completed: 0, failed: 0, stopped: 0 };
  for (const a of view.agents.values()) c[a.state]++;
  return c;
}

export function totalUsage(view: RunView): Usage & { costUsd: number } {
  const t = { input: 0, output: 0, cached: 0, reasoning: 0, costUsd: 0 };
  for (const a of view.agents.values()) {
    const u = a.finished?.usage;
    if (!u) continue;
    t.input += u.input;
    t.output += u.output;
    t.cached += u.cached;
    t.reasoning += u.reasoning;
    t.costUsd += u.costUsd ?? 0;
  }
  return t;
}
