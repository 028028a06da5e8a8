/**
 * Journal records (journal.jsonl) and the replay state built from them once per resume.
 * "Finished" means an agent.finished record is on disk (R02).
 */
import type { GroupLease } from "../drivers/process.js";
import type { Usage } from "../drivers/types.js";
import type { RunStatus } from "../report/events.js";
import { emptyGateState, foldGate, type GateRecord, type GateState } from "./gates.js";

export interface RunStartedRecord {
  type: "run.started";
  runId: string;
  name: string;
  at: string;
  /** File name of the script copy in the run directory. */
  script: string;
  /** The path as the user gave it. */
  displayPath: string;
  /** The args as JSON text; absent when none were given (A09). */
  args?: string;
  /** Settings that did not come from defaults: reused on resume (R03). */
  settings: Record<string, unknown>;
  cwd: string;
  /** The commit worktrees start from (W01), when the script uses worktree isolation. */
  base?: string;
  /** R08: the run this one was forked from, and which agents it reuses. */
  forkedFrom?: ForkedFrom;
}

export interface ForkedFrom {
  run: string;
  from?: number;
  rerun?: number[];
}

export interface RunResumedRecord {
  type: "run.resumed";
  at: string;
  script: string;
  displayPath: string;
  args?: string;
  settings: Record<string, unknown>;
}

export interface AgentFinishedRecord {
  type: "agent.finished";
  n: number;
  key: string;
  status: "completed" | "failed" | "stopped";
  result?: unknown;
  error?: string;
  /** The failure tripped the breaker (C03). */
  fatal?: boolean;
  usage: Usage;
  model?: string;
  sessionId?: string;
  attempts: number;
  label?: string;
  phase?: string;
  driver: string;
  startedAt: string;
  durationMs: number;
  /** Worktree agents (W01–W03): where it started, its patch (relative to the run directory) and files. */
  worktree?: { branch: string; start: string };
  patch?: string;
  files?: { status: string; path: string }[];
  /** In memory only: the result's JSON text as read from the journal (see cheapRecord). */
  resultJson?: string;
}

export type JournalRecord =
  | RunStartedRecord
  | RunResumedRecord
  | { type: "agent.started"; n: number; key: string; attempt: number; at: string }
  | { type: "agent.spawned"; n: number; attempt: number; pgid: number; startTime?: string }
  | AgentFinishedRecord
  | { type: "agent.refused"; label?: string; reason: string; at: string }
  | { type: "integrated"; n: number }
  | { type: "phase"; title: string }
  | { type: "log"; message: string; level: "info" | "warn" }
  | { type: "run.finished"; status: RunStatus; result?: unknown; error?: string; at: string }
  | GateRecord;

export interface Replay {
  started?: RunStartedRecord;
  /** The latest start or resume record: which script and settings ran last. */
  last?: RunStartedRecord | RunResumedRecord;
  /** Completed agents by cache key (R03). */
  cache: Map<string, AgentFinishedRecord>;
  maxIndex: number;
  /** Process groups of attempts that never finished: killed before anything starts (R02). */
  liveGroups: GroupLease[];
  finished?: Extract<JournalRecord, { type: "run.finished" }>;
  /** Worktree agents whose patch an earlier execution applied to the main tree (R04). */
  integrated: Set<number>;
  /** Gate answers and the gates the last execution left waiting (A14). */
  gates: GateState;
}

export function buildReplay(records: JournalRecord[]): Replay {
  const replay: Replay = {
    cache: new Map(),
    maxIndex: 0,
    liveGroups: [],
    integrated: new Set(),
    gates: emptyGateState(),
  };
  const groups = new Map<number, GroupLease[]>();
  for (const r of records) {
    foldGate(replay.gates, r);
    switch (r.type) {
      case "run.started":
        replay.started = r;
        replay.last = r;
        break;
      case "run.resumed":
        replay.last = r;
        break;
      case "agent.started":
        if (r.n > replay.maxIndex) replay.maxIndex = r.n;
        break;
      case "agent.spawned": {
        const list = groups.get(r.n) ?? [];
        list.push(r.startTime === undefined ? { pgid: r.pgid } : { pgid: r.pgid, startTime: r.startTime });
        groups.set(r.n, list);
        break;
      }
      case "agent.finished":
        if (r.n > replay.maxIndex) replay.maxIndex = r.n;
        groups.delete(r.n);
        if (r.status === "completed") replay.cache.set(r.key, r);
        break;
      case "run.finished":
        replay.finished = r;
        break;
      case "integrated":
        replay.integrated.add(r.n);
        break;
    }
  }
  for (const list of groups.values()) replay.liveGroups.push(...list);
  return replay;
}

const STARTED = '{"type":"agent.started","n":';
const FINISHED = '{"type":"agent.finished",';
const RESULT = ',"result":';
const FINISHED_HEAD = /^\{"type":"agent\.finished","n":(\d+),"key":"([0-9a-f]+#\d+)","status":"completed",/;

/**
 * Resume reads every line of the journal, and in a 10,000-agent run most of its time went to
 * parsing results only to turn them back into JSON for the script. agent.started lines need
 * only their number; completed agent.finished lines only their number, key and result. They are
 * written with `result` last (Run.recordEnd), so the
 * result's text is the rest of the line, kept as it is. The first `,"result":` is that field: the
 * fields before it are fixed-shape, and inside a JSON string the quotes would be escaped.
 */
export function cheapRecord(line: string): JournalRecord | undefined {
  if (line.startsWith(STARTED)) {
    const end = line.indexOf(",", STARTED.length);
    const n = Number(line.slice(STARTED.length, end));
    if (!Number.isInteger(n) || !line.endsWith("}")) return undefined;
    return { type: "agent.started", n, key: "", attempt: 0, at: "" };
  }
  if (line.startsWith(FINISHED)) {
    // `{"type":"agent.finished","n":<n>,"key":"<hex>#<k>","status":"completed",...,"result":<json>}`:
    // a cache hit needs only the number, the key and the result.
    const m = FINISHED_HEAD.exec(line);
    const at = line.indexOf(RESULT);
    // Worktree agents carry their patch: read those in full.
    if (!m || at < 0 || !line.endsWith("}") || line.includes('"patch":"')) return undefined;
    return {
      type: "agent.finished",
      n: Number(m[1]),
      key: m[2]!,
      status: "completed",
      resultJson: line.slice(at + RESULT.length, -1),
    } as AgentFinishedRecord;
  }
  return undefined;
}
