/**
 * What the MCP tools return, read from a run's directory (U04): the status of a run (never an
 * agent's result while it runs, so that a host polling it does not fill its context) and the
 * per-agent results of a finished run, failed ones first, paged, long values cut with a note.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunSummary } from "../report/events.js";
import { readRunJson } from "../store/files.js";
import { liveOwner } from "../store/lock.js";

/** States in which the run may still change; the rest are ends (a paused run waits for a resume). */
export const LIVE_STATES = new Set(["running", "waiting"]);

export interface StatusView {
  runId: string;
  runDir: string;
  state: string;
  /** Who runs it now: this server, another process (pid), or nobody (ended, or its process died). */
  owner: string;
  name?: string;
  phase?: string;
  agents: Record<string, number>;
  tokens?: RunSummary["tokens"];
  costUsd?: number;
  elapsedMs?: number;
  /** The gate the run waits on (A14), when it waits: {n, title, details, since}, or a list when several wait. */
  waitingGate?: unknown;
  refused?: number;
  error?: string;
  /** Present once the run has ended: the script's return value, cut when long. */
  result?: unknown;
  next: string;
}

/** A value as JSON text, cut to `max` characters with a note saying how much was left out. */
export function clip(value: unknown, max: number): { value: unknown; truncated?: string } {
  if (value === undefined) return { value };
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined || text.length <= max) return { value };
  return {
    value: `${text.slice(0, max)}…`,
    truncated: `cut to ${max} of ${text.length} characters`,
  };
}

export async function readSummary(runDir: string): Promise<RunSummary | undefined> {
  return (await readRunJson(runDir)) as RunSummary | undefined;
}

export function statusView(o: {
  runId: string;
  runDir: string;
  summary: RunSummary | undefined;
  owned: boolean;
  phase?: string;
  maxResultChars: number;
}): StatusView {
  const s = o.summary;
  // A run.json is flushed about once a second: the run this server owns may have ended already.
  const state = s?.status ?? (o.owned ? "running" : "unknown");
  const live = LIVE_STATES.has(state);
  const started = s?.startedAt ? Date.parse(s.startedAt) : undefined;
  const ended = s?.endedAt ? Date.parse(s.endedAt) : undefined;
  const view: StatusView = {
    runId: o.runId,
    runDir: o.runDir,
    state,
    owner: o.owned ? "this server" : ownerOf(o.runDir),
    name: s?.name,
    phase: o.phase,
    agents: Object.fromEntries(Object.entries(s?.agents ?? {}).filter(([, n]) => n > 0)),
    tokens: s?.tokens,
    costUsd: s?.costUsd,
    elapsedMs:
      started === undefined ? undefined : (live || ended === undefined ? Date.now() : ended) - started,
    // A14: the summary lists the gates waiting while the run's status is `waiting`.
    waitingGate: state === "waiting" ? gatesOf(s) : undefined,
    refused: s?.refused?.length || undefined,
    error: s?.error,
    next: nextStep(state, o.runId, s?.resumeHelps),
  };
  if (!live && s && s.result !== undefined) view.result = clip(s.result, o.maxResultChars).value;
  return view;
}

function ownerOf(runDir: string): string {
  const held = liveOwner(runDir);
  return held ? `process ${held.pid}${held.hostname ? ` on ${held.hostname}` : ""}` : "none";
}

function gatesOf(s: RunSummary | undefined): unknown {
  const g = s as { gate?: unknown; gates?: unknown[] } | undefined;
  return g?.gates && g.gates.length > 1 ? g.gates : g?.gate;
}

function nextStep(state: string, runId: string, resumeHelps?: boolean): string {
  if (state === "waiting")
    return `the run waits for a person at a gate: ask the user, then call workflow_control {runId: "${runId}", action: "approve" or "reject"}`;
  if (LIVE_STATES.has(state))
    return `still running: end your turn or call workflow_wait {runId: "${runId}"} to block until it ends`;
  // E03: a failure the same script meets again is not continued by a resume.
  if (state === "failed" && resumeHelps !== true)
    return `ended failed: the script's error (see error) would happen again on a resume; fix the script and launch it with resumeFromRunId: "${runId}" to reuse the finished agents`;
  if (state === "paused" || state === "stopped" || state === "failed")
    return `ended ${state}: workflow_result shows each agent; workflow_control {action: "resume"} continues it (finished agents are reused)`;
  return "ended: call workflow_result for each agent's result";
}

export interface AgentView {
  n: number;
  label?: string;
  phase?: string;
  status?: string;
  error?: string;
  result?: unknown;
  truncated?: string;
  attempts?: number;
  durationMs?: number;
  model?: string;
  driver?: string;
  patch?: string;
}

/** Every agent record of the run, failed ones first, then the rest by number. */
export async function readAgents(runDir: string): Promise<Record<string, unknown>[]> {
  const dir = join(runDir, "agents");
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d+\.json$/.test(n));
  const records: Record<string, unknown>[] = [];
  for (const name of names) {
    try {
      records.push(JSON.parse(await readFile(join(dir, name), "utf8")) as Record<string, unknown>);
    } catch {
      // A record being written right now, or damaged: the journal stays the record of truth.
      records.push({ n: Number(name.slice(0, -5)), status: "unreadable" });
    }
  }
  const rank = (r: Record<string, unknown>) => (r.status === "failed" ? 0 : 1);
  return records.sort((a, b) => rank(a) - rank(b) || Number(a.n) - Number(b.n));
}

export function agentView(r: Record<string, unknown>, maxChars: number): AgentView {
  const cut = clip(r.result, maxChars);
  const out: AgentView = {
    n: Number(r.n),
    label: r.label as string | undefined,
    phase: r.phase as string | undefined,
    status: r.status as string | undefined,
    error: r.error as string | undefined,
    result: cut.value,
    attempts: r.attempts as number | undefined,
    durationMs: r.durationMs as number | undefined,
    model: r.model as string | undefined,
    driver: r.driver as string | undefined,
    patch: r.patch as string | undefined,
  };
  // agents/<n>.json itself holds an excerpt of a huge result; the journal has it whole.
  const whole = (r.resultTruncated as { full?: string } | undefined)?.full;
  if (cut.truncated || whole) {
    out.truncated = whole
      ? `${cut.truncated ?? "an excerpt"}; the whole result is in ${whole}`
      : `${cut.truncated}; the whole record is agents/${out.n}.json in the run directory`;
  }
  return out;
}
