/**
 * Journal records (journal.jsonl) and the replay state built from them once per resume.
 * "Finished" means an agent.finished record is on disk (R02).
 */
import type { GroupLease } from "../drivers/process.js";
import type { Usage } from "../drivers/types.js";
import type { RunStatus } from "../report/events.js";
import { emptyGateState, foldGate, type GateRecord, type GateState } from "./gates.js";
import type { Ranges } from "./writers.js";

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
  /** R03: the agent's writer number, when it is a writer (set for any status it finished with). */
  writer?: number;
  /**
   * R03: the frontier of writers that had finished when the call was made, as ranges of writer
   * numbers (see writers.ts). Absent when there were none, and in journals written before the
   * writer rule: either way the call recorded no writer.
   */
  after?: Ranges;
  /** In memory only: the result's JSON text, when a reader has it (the resume stringifies `result`). */
  resultJson?: string;
}

export type JournalRecord =
  | RunStartedRecord
  | RunResumedRecord
  | { type: "agent.started"; n: number; key: string; attempt: number; at: string }
  | { type: "agent.spawned"; n: number; attempt: number; pgid: number; startTime?: string }
  | AgentFinishedRecord
  | { type: "agent.refused"; label?: string; reason: string; at: string }
  /** R03: `writer` numbers the integration, which changes the shared working tree as a writer does. */
  | { type: "integrated"; n: number; writer?: number }
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
  /** R03: the highest writer number recorded (finished agents of any status, integrations). */
  maxWriter: number;
  /** R03: the writer number of each recorded integration, by agent. */
  integratedWriters: Map<number, number>;
}

export function buildReplay(records: JournalRecord[]): Replay {
  const replay: Replay = {
    cache: new Map(),
    maxIndex: 0,
    liveGroups: [],
    integrated: new Set(),
    gates: emptyGateState(),
    maxWriter: 0,
    integratedWriters: new Map(),
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
        if (r.writer !== undefined && r.writer > replay.maxWriter) replay.maxWriter = r.writer;
        // A number a call recorded is never given out again, even when the writer's own record
        // is not in this journal (a fork seeds only the agents it reuses): a new writer under an
        // old number would make that call look fresh.
        if (r.after) for (const [, last] of r.after) if (last > replay.maxWriter) replay.maxWriter = last;
        break;
      case "run.finished":
        replay.finished = r;
        break;
      case "integrated":
        replay.integrated.add(r.n);
        if (r.writer !== undefined) {
          replay.integratedWriters.set(r.n, r.writer);
          if (r.writer > replay.maxWriter) replay.maxWriter = r.writer;
        }
        break;
    }
  }
  for (const list of groups.values()) replay.liveGroups.push(...list);
  return replay;
}

/**
 * agent.started lines in weft's own shape (Run's onAttempt writes exactly these fields in this
 * order): matched whole, so a line taken without JSON.parse is as checked as one parsed (R07).
 * Anything else (another shape, a damaged line) goes to JSON.parse and the record checks.
 */
const STARTED_LINE =
  /^\{"type":"agent\.started","n":([1-9][0-9]{0,15}),"key":"[0-9a-f]{64}#[1-9][0-9]{0,15}","attempt":[1-9][0-9]{0,15},"at":"[0-9A-Za-z:.+-]{1,40}"\}$/;

/**
 * Resume reads every line of the journal; in a 10,000-agent run half of them are agent.started,
 * of which the replay needs only the number. Those are answered here without JSON.parse.
 * agent.finished lines are parsed and checked in full: their result goes to the script, so it
 * must be valid JSON, and proving that costs the parse a shortcut would save (measured: the
 * resume of 10,000 cached agents stays within noise of the shortcut it replaced).
 */
export function cheapRecord(line: string): JournalRecord | undefined {
  const m = STARTED_LINE.exec(line);
  if (!m) return undefined;
  return { type: "agent.started", n: Number(m[1]), key: "", attempt: 0, at: "" };
}
