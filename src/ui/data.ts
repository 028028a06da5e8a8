/**
 * What the dashboard reads (U08), all from the run directories weft already writes: run.json for
 * lists, agents/<n>.json and transcripts/<n>.jsonl for one agent, patches/ for a worktree's diff.
 * Nothing here writes; ids from a URL are checked before they name a path.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type RunStatusView, runStatuses, statusOf } from "../control/status.js";
import type { Driver } from "../drivers/types.js";
import type { RunSummary } from "../report/events.js";
import { type Turn, transcriptEvents } from "./transcript.js";

/** Run ids as weft makes them (R01): no separators, no leading dot, so never a path of their own. */
const RUN_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$/;

export class NotFound extends Error {}

export function runsDirOf(cwd: string): string {
  return join(cwd, ".weft", "runs");
}

export function runDirOf(cwd: string, id: string): string {
  if (!RUN_ID.test(id) || id.includes("..")) throw new NotFound(`no run ${JSON.stringify(id)}`);
  return join(runsDirOf(cwd), id);
}

export interface RunListItem extends Omit<RunStatusView, "runDir"> {
  driver?: string;
}

export async function listRuns(cwd: string): Promise<RunListItem[]> {
  const all = await runStatuses({ cwd, all: true });
  return all.map(({ runDir: _dir, ...v }) => v);
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

export interface RunDetail {
  status: Omit<RunStatusView, "runDir">;
  summary: RunSummary;
  script?: string;
}

export async function runDetail(cwd: string, id: string): Promise<RunDetail> {
  const dir = runDirOf(cwd, id);
  const summary = await readJson<RunSummary>(join(dir, "run.json"));
  if (!summary) throw new NotFound(`no run ${id}`);
  const { runDir: _dir, ...status } = statusOf(id, dir, summary);
  const script =
    summary.script && !summary.script.includes("/")
      ? await readFile(join(dir, summary.script), "utf8").catch(() => undefined)
      : undefined;
  return { status, summary, script };
}

export interface AgentRecord {
  n: number;
  label?: string;
  phase?: string;
  status?: string;
  prompt?: string;
  options?: Record<string, unknown>;
  result?: unknown;
  usage?: Record<string, number>;
  driver?: string;
  model?: string;
  sessionId?: string;
  attempts?: number;
  key?: string;
  patch?: string;
  [k: string]: unknown;
}

export interface AgentDetail {
  record: AgentRecord;
  /** The transcript as turns: text, tool calls and their results (the backend's own events, normalised). */
  turns: Turn[];
  /** True when the transcript had more than the page is sent. */
  turnsTruncated: boolean;
  /** A worktree agent's patch, as a unified diff. */
  patch?: string;
}

const MAX_TURNS = 2_000;
const MAX_TRANSCRIPT_BYTES = 8 * 1024 * 1024;
const MAX_PATCH_BYTES = 2 * 1024 * 1024;

export async function agentDetail(
  cwd: string,
  id: string,
  n: number,
  driverOf: (name: string) => Driver | undefined,
): Promise<AgentDetail> {
  const dir = runDirOf(cwd, id);
  if (!Number.isSafeInteger(n) || n < 1) throw new NotFound(`no agent ${n}`);
  const record = await readJson<AgentRecord>(join(dir, "agents", `${n}.json`));
  if (!record) throw new NotFound(`no agent ${n} in run ${id}`);
  const transcript = await readCapped(join(dir, "transcripts", `${n}.jsonl`), MAX_TRANSCRIPT_BYTES);
  const all =
    transcript === undefined ? [] : transcriptEvents(transcript.text, driverOf(record.driver ?? ""));
  const patch = await findPatch(dir, n);
  return {
    record,
    turns: all.slice(0, MAX_TURNS),
    turnsTruncated: all.length > MAX_TURNS || transcript?.truncated === true,
    ...(patch !== undefined ? { patch } : {}),
  };
}

async function readCapped(
  path: string,
  max: number,
): Promise<{ text: string; truncated: boolean } | undefined> {
  try {
    const s = await stat(path);
    if (!s.isFile()) return undefined;
    const buf = await readFile(path);
    return { text: buf.subarray(0, max).toString("utf8"), truncated: buf.length > max };
  } catch {
    return undefined;
  }
}

async function findPatch(runDir: string, n: number): Promise<string | undefined> {
  const names = await readdir(join(runDir, "patches")).catch(() => [] as string[]);
  const name = names.find((f) => f === `${n}.patch` || f === `${n}.diff`);
  if (!name) return undefined;
  const p = await readCapped(join(runDir, "patches", name), MAX_PATCH_BYTES);
  return p && (p.truncated ? `${p.text}\n… (patch truncated)` : p.text);
}

/** The record of every agent of a run, by number (for the comparison of two runs). */
export async function agentRecords(cwd: string, id: string): Promise<AgentRecord[]> {
  const dir = join(runDirOf(cwd, id), "agents");
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: AgentRecord[] = [];
  for (const f of names) {
    if (!/^\d+\.json$/.test(f)) continue;
    const r = await readJson<AgentRecord>(join(dir, f));
    if (r && typeof r.n === "number") out.push(r);
  }
  return out.sort((a, b) => a.n - b.n);
}
