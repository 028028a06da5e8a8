/**
 * The state of runs as any process sees it (U01 `weft status`, R09): run.json as the owner last
 * wrote it, and whether a living process owns the run now (its lock).
 */
import { statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { GateView, RunStatus, RunSummary } from "../report/events.js";
import { liveOwner } from "../store/lock.js";
import { weftDirOf } from "../store/weft-dir.js";
import { locateRun } from "./locate.js";

export interface RunStatusView {
  runId: string;
  runDir: string;
  name: string;
  /** run.json's status; see `owner` for whether a process drives it now. */
  status: RunStatus;
  /** The process that owns the run now, when one does (pid, host). */
  owner?: { pid: number; hostname: string };
  /** Status "running" with no owner: the process died without recording its end (resume it). */
  orphaned: boolean;
  agents: Record<string, number>;
  /**
   * Finished agents (completed, cached, failed) and every agent called (those plus stopped,
   * running and queued). A stopped agent is not done: it runs again on resume.
   */
  done: number;
  total: number;
  tokens: RunSummary["tokens"];
  costUsd: number;
  /** Of the last execution: until now while it runs, else until its end (ms). */
  elapsedMs: number;
  startedAt: string;
  endedAt?: string;
  /** A14: the gate the run waits at (the first, when several wait). */
  gate?: GateView;
  error?: string;
  /** C03: when the usage limit that paused the run resets. */
  usageResetAt?: string;
}

const FINISHED = ["completed", "cached", "failed"];

/** When run.json was last written: the last moment a run whose owner died is known to have lived. */
function lastWrite(runDir: string): number | undefined {
  try {
    return statSync(join(runDir, "run.json")).mtimeMs;
  } catch {
    return undefined;
  }
}

export function statusOf(runId: string, runDir: string, s: RunSummary): RunStatusView {
  const owner = liveOwner(runDir);
  const count = (k: string) => s.agents[k] ?? 0;
  const done = FINISHED.reduce((t, k) => t + count(k), 0);
  const since = Date.parse(s.resumedAt ?? s.startedAt);
  const orphaned = !owner && (s.status === "running" || (s.status === "waiting" && !s.endedAt));
  // A run whose owner died stopped growing older when it died: its clock ends at its last write
  // (run.json is rewritten about once a second while a run goes on).
  const end = owner
    ? Date.now()
    : s.endedAt
      ? undefined
      : orphaned
        ? (lastWrite(runDir) ?? Date.now())
        : Date.now();
  const elapsedMs = end !== undefined ? end - since : (s.durationMs ?? Date.parse(s.endedAt!) - since);
  return {
    runId,
    runDir,
    name: s.name,
    status: s.status,
    ...(owner ? { owner: { pid: owner.pid, hostname: owner.hostname } } : {}),
    orphaned,
    agents: s.agents,
    done,
    total: done + count("stopped") + count("running") + count("queued"),
    tokens: s.tokens,
    costUsd: s.costUsd,
    elapsedMs: Math.max(0, elapsedMs),
    startedAt: s.startedAt,
    ...(s.endedAt ? { endedAt: s.endedAt } : {}),
    ...(s.gate ? { gate: s.gate } : {}),
    ...(s.error ? { error: s.error } : {}),
    ...(s.usageResetAt ? { usageResetAt: s.usageResetAt } : {}),
  };
}

async function readSummary(runDir: string): Promise<RunSummary | undefined> {
  try {
    return JSON.parse(await readFile(join(runDir, "run.json"), "utf8")) as RunSummary;
  } catch {
    return undefined;
  }
}

/** One run's state, by id, prefix or directory. */
export async function runStatus(runIdOrDir: string, opts: { cwd?: string } = {}): Promise<RunStatusView> {
  const { runId, runDir } = await locateRun(runIdOrDir, opts.cwd);
  const s = await readSummary(runDir);
  if (!s) {
    // Created a moment ago (run.json comes right after the lock), or damaged.
    const owner = liveOwner(runDir);
    return {
      runId,
      runDir,
      name: runId,
      status: "running",
      ...(owner ? { owner: { pid: owner.pid, hostname: owner.hostname } } : {}),
      orphaned: !owner,
      agents: {},
      done: 0,
      total: 0,
      tokens: { input: 0, output: 0, cached: 0, reasoning: 0 },
      costUsd: 0,
      elapsedMs: 0,
      startedAt: "",
    };
  }
  return statusOf(runId, runDir, s);
}

/**
 * The runs worth a look: those a living process owns, and those waiting at a gate or paused
 * (they wait for a person); `all` lists every run. Newest first.
 */
export async function runStatuses(opts: { cwd?: string; all?: boolean } = {}): Promise<RunStatusView[]> {
  const runsDir = join(weftDirOf(opts.cwd ?? process.cwd()), "runs");
  const ids = await readdir(runsDir).catch(() => [] as string[]);
  const out: RunStatusView[] = [];
  for (const id of ids) {
    if (id.startsWith(".")) continue;
    const runDir = join(runsDir, id);
    const s = await readSummary(runDir);
    if (!s) continue;
    const v = statusOf(id, runDir, s);
    // A run whose owner died is worth a look too: it says so, and how to continue it.
    if (opts.all || v.owner || v.orphaned || v.status === "waiting" || v.status === "paused") out.push(v);
  }
  return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}
