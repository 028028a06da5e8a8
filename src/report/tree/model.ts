/**
 * What the live tree knows (U02), built from the event stream alone so that a run started
 * elsewhere can be shown from its events (weft attach). Every event updates running totals in
 * O(1); finished agents are kept only in a short per-phase list of the latest, so memory and the
 * cost of a frame do not grow with the number of agents (ARCHITECTURE: progress that scales).
 *
 * C09: every text from the script or an agent (titles, labels, activity, errors, messages) is made
 * safe for the terminal here, once, as it comes in: the frame then styles clean text only.
 */
import { answeredWord, answerHint, type CheckpointSpec } from "../../engine/gate-text.js";
import type { RunEvent, RunLimits, RunStatus, RunSummary } from "../events.js";
import { forTerminalUnder as block, forTerminalLine as one } from "../terminal-text.js";

export type AgentState = "running" | "completed" | "failed" | "stopped" | "cached";

export interface AgentRow {
  n: number;
  /** The label, or else the start of the prompt. */
  name: string;
  phase: PhaseRow;
  state: AgentState;
  attempt: number;
  model?: string;
  tokens: number;
  costUsd: number;
  startedAt: number;
  durationMs?: number;
  activity?: string;
  error?: string;
}

export interface PhaseRow {
  /** "" for agents outside any phase. */
  title: string;
  agents: number;
  running: Map<number, AgentRow>;
  completed: number;
  failed: number;
  stopped: number;
  cached: number;
  tokens: number;
  costUsd: number;
  firstAt?: number;
  lastAt?: number;
  /** The latest finished agents, oldest first; trimmed to RECENT_KEEP. */
  recent: AgentRow[];
}

export interface Totals {
  /** Agents seen started or finished (queued ones are counted in `queued` until they start). */
  agents: number;
  /** Called, waiting for a concurrency slot (U02: `weft status` counts them in the total too). */
  queued: number;
  running: number;
  completed: number;
  failed: number;
  stopped: number;
  cached: number;
  /** Agents this execution started (cached ones are not), for the agent limit. */
  started: number;
  tokens: number;
  /** Output + reasoning tokens, what the token budget counts (A10). */
  generated: number;
  costUsd: number;
  refused: number;
}

export interface RunInfo {
  id?: string;
  name?: string;
  driver?: string;
  resumed?: boolean;
  status: RunStatus | "starting";
  startedAt?: number;
  limits?: RunLimits;
}

export interface Finished {
  runId: string;
  status: RunStatus;
  error?: string;
  summary: RunSummary;
  at: number;
}

/** The most agents a phase can show; more finished ones than this are only counted. */
export const RECENT_KEEP = 64;
/** Refusals and failures printed as lines above the tree; the rest are counted. */
const REFUSALS_SHOWN = 3;
const FAILURES_SHOWN = 20;

const timeOf = (e: RunEvent, now: number): number => {
  // Events read back from a file (weft attach) carry their own time.
  const at = (e as { at?: unknown }).at;
  if (typeof at === "string") {
    const t = Date.parse(at);
    if (!Number.isNaN(t)) return t;
  }
  return now;
};

const who = (r: { n: number; name: string }) => (r.name ? `#${r.n} ${r.name}` : `#${r.n}`);
const lastLine = (s: string) =>
  s
    .split("\n")
    .filter((l) => l.trim() !== "")
    .pop()
    ?.trim() ?? s;

export class TreeModel {
  readonly run: RunInfo = { status: "starting" };
  readonly totals: Totals = {
    agents: 0,
    queued: 0,
    running: 0,
    completed: 0,
    failed: 0,
    stopped: 0,
    cached: 0,
    started: 0,
    tokens: 0,
    generated: 0,
    costUsd: 0,
    refused: 0,
  };
  /** In the order they first appeared. */
  readonly phases: PhaseRow[] = [];
  private readonly byTitle = new Map<string, PhaseRow>();
  /** The phase the script is in (its last phase() call). */
  current?: PhaseRow;
  /** Running agents only: a finished agent leaves this map. */
  private readonly live = new Map<number, AgentRow>();
  /** Gates and checkpoints waiting, by number: the title (made safe) and what a checkpoint asks. */
  readonly gates = new Map<number, { title: string; checkpoint?: CheckpointSpec }>();
  /** Agents called and not started yet, by number. */
  private readonly waiting = new Set<number>();
  finished?: Finished;
  /** Lines for above the tree (warnings, logs, refusals, failures), taken by drain(). */
  private pending: string[] = [];
  /** Set when something visible changed since the last frame. */
  dirty = true;

  apply(e: RunEvent, now = Date.now()): void {
    const at = timeOf(e, now);
    this.dirty = true;
    switch (e.type) {
      case "run.started":
        // A second run.started (a stream that holds a resume) starts a new execution's clock.
        this.run.id = one(e.runId);
        this.run.name = one(e.name);
        this.run.driver = one(e.driver);
        this.run.resumed = e.resumed;
        this.run.status = "running";
        this.run.startedAt = at;
        this.run.limits = e.limits;
        break;
      case "warning":
        this.pending.push(block("! ", e.message));
        break;
      case "log":
        this.pending.push(block("  ", e.message));
        break;
      case "phase": {
        const p = this.phase(e.title);
        p.firstAt ??= at;
        this.current = p;
        break;
      }
      case "agent.queued":
        if (!this.waiting.has(e.n) && !this.live.has(e.n)) {
          this.waiting.add(e.n);
          this.totals.queued++;
        }
        break;
      case "agent.started": {
        this.unqueue(e.n);
        const row = this.agent(e.n, e, at);
        row.attempt = e.attempt;
        if (e.model !== undefined) row.model = one(e.model);
        if (e.attempt === 1) row.activity = undefined;
        if (e.prompt && !e.label && !row.name) row.name = one(e.prompt.split("\n")[0]!.trim());
        break;
      }
      case "agent.activity": {
        const row = this.agent(e.n, e, at);
        row.activity = one(e.text);
        if (e.model) row.model = one(e.model);
        break;
      }
      case "agent.retry": {
        const row = this.live.get(e.n);
        if (row) row.activity = `retry after attempt ${e.attempt}: ${one(lastLine(e.error))}`;
        break;
      }
      case "agent.repair": {
        const row = this.live.get(e.n);
        if (row) row.activity = `repair: ${one(e.errors.join("; "))}`;
        break;
      }
      case "agent.finished":
        this.unqueue(e.n);
        this.finishAgent(e, at);
        break;
      case "agent.refused":
        if (e.n !== undefined) this.unqueue(e.n);
        this.totals.refused++;
        if (this.totals.refused <= REFUSALS_SHOWN)
          this.pending.push(`  refused${e.label ? ` ${one(e.label)}` : ""}: ${one(e.reason)}`);
        else if (this.totals.refused === REFUSALS_SHOWN + 1)
          this.pending.push("  (further refusals are counted in the header and listed in run.json)");
        break;
      case "gate.waiting": {
        const title = one(e.title);
        this.gates.set(e.n, { title, checkpoint: e.checkpoint });
        if (!this.finished) this.run.status = "waiting";
        const id = this.run.id ?? "<run>";
        this.pending.push(
          `? ${e.checkpoint ? "checkpoint" : "gate"} #${e.n} "${title}" waits: ${one(answerHint(id, e.n, e.checkpoint))}`,
        );
        break;
      }
      case "gate.answered":
        this.gates.delete(e.n);
        if (this.gates.size === 0 && this.run.status === "waiting") this.run.status = "running";
        this.pending.push(
          `  ${"value" in e ? "checkpoint" : "gate"} #${e.n} "${one(e.title)}" ${one(answeredWord(e))} by ${one(e.by)}${e.reason ? `: ${one(e.reason)}` : ""}`,
        );
        break;
      case "run.finished":
        this.run.status = e.status;
        this.gates.clear();
        // Calls still queued at the end never started (a stop, a pause, the breaker).
        this.waiting.clear();
        this.totals.queued = 0;
        this.finished = { runId: e.runId, status: e.status, error: e.error, summary: e.summary, at };
        break;
    }
  }

  private unqueue(n: number): void {
    if (this.waiting.delete(n)) this.totals.queued--;
  }

  /** Lines to print above the tree since the last call. */
  drain(): string[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** The row of a running agent, made on first sight (also for a stream joined midway). */
  private agent(n: number, e: { label?: string; phase?: string }, at: number): AgentRow {
    let row = this.live.get(n);
    if (row) return row;
    const phase = this.phase(e.phase ?? "");
    phase.firstAt ??= at;
    row = {
      n,
      name: one(e.label ?? ""),
      phase,
      state: "running",
      attempt: 1,
      tokens: 0,
      costUsd: 0,
      startedAt: at,
    };
    this.live.set(n, row);
    phase.running.set(n, row);
    phase.agents++;
    this.totals.agents++;
    this.totals.running++;
    this.totals.started++;
    return row;
  }

  private finishAgent(e: Extract<RunEvent, { type: "agent.finished" }>, at: number): void {
    let row = this.live.get(e.n);
    if (row) {
      this.live.delete(e.n);
      row.phase.running.delete(e.n);
      this.totals.running--;
    } else {
      const phase = this.phase(e.phase ?? "");
      phase.firstAt ??= at - e.durationMs;
      row = {
        n: e.n,
        name: one(e.label ?? ""),
        phase,
        state: "running",
        attempt: e.attempts,
        tokens: 0,
        costUsd: 0,
        startedAt: at - e.durationMs,
      };
      phase.agents++;
      this.totals.agents++;
      if (!e.cached) this.totals.started++;
    }
    const p = row.phase;
    const tokens = e.usage.input + e.usage.output + e.usage.reasoning;
    const cost = e.usage.costUsd ?? 0;
    const state: Exclude<AgentState, "running"> = e.cached ? "cached" : e.status;
    row.state = state;
    row.tokens = tokens;
    row.costUsd = cost;
    row.durationMs = e.durationMs;
    if (e.error) row.error = one(lastLine(e.error));
    p[state]++;
    this.totals[state]++;
    p.tokens += tokens;
    p.costUsd += cost;
    this.totals.tokens += tokens;
    this.totals.generated += e.usage.output + e.usage.reasoning;
    this.totals.costUsd += cost;
    p.lastAt = at;
    p.recent.push(row);
    // Trim in chunks, so a long phase costs O(1) per agent, not a shift per agent.
    if (p.recent.length >= RECENT_KEEP * 2) p.recent.splice(0, p.recent.length - RECENT_KEEP);
    if (row.state === "failed") {
      if (this.totals.failed <= FAILURES_SHOWN)
        this.pending.push(`✗ ${who(row)} failed: ${row.error ?? "the agent failed"}`);
      else if (this.totals.failed === FAILURES_SHOWN + 1)
        this.pending.push("✗ (further failures are counted; weft show <run> lists them)");
    }
  }

  /** By the title as shown: the phase() event and the agents' `phase` field meet on it. */
  private phase(raw: string): PhaseRow {
    const title = one(raw);
    let p = this.byTitle.get(title);
    if (!p) {
      p = {
        title,
        agents: 0,
        running: new Map(),
        completed: 0,
        failed: 0,
        stopped: 0,
        cached: 0,
        tokens: 0,
        costUsd: 0,
        recent: [],
      };
      this.byTitle.set(title, p);
      this.phases.push(p);
    }
    return p;
  }
}
