/**
 * Gates (SPEC A14): `await gate(title, {details})` waits until a person approves or rejects it.
 *
 * An answer binds to a hash of the script's content, the gate's title and details (canonical
 * JSON) and its occurrence (the k-th gate with that title and details), and is journaled as
 * `gate.answered`. A resume, or `run --resume` with an edited script, answers a gate whose hash
 * has a recorded answer from the journal; any change to the script or the details makes a new
 * hash, and the gate waits again (ARCHITECTURE "Determinism": a person's approval enters the
 * script through the engine, recorded before the script sees it).
 *
 * Answers come on the control channel. One sent while this process owns the run must name a
 * gate waiting now (or be the only one waiting); otherwise it is refused with a message. One sent
 * before this process started (while nobody owned the run) was meant for a gate waiting in the
 * previous execution: it is bound to that gate's hash and held until the gate is reached again.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { ControlMessage } from "../control/channel.js";
import type { RunEvent, RunStatus } from "../report/events.js";
import { readJournal } from "../store/journal.js";
import { canonicalJson, OccurrenceCounter } from "./cache-key.js";

export interface GateInfo {
  /** Gates are numbered from 1 in the order the script calls gate(), in each execution. */
  n: number;
  title: string;
  details?: unknown;
  /** ISO time the gate began to wait. */
  since: string;
}

export interface GateWaitingRecord {
  type: "gate.waiting";
  gate: number;
  title: string;
  details?: unknown;
  hash: string;
  at: string;
}

export interface GateAnsweredRecord {
  type: "gate.answered";
  gate: number;
  title: string;
  hash: string;
  approved: boolean;
  by: string;
  at: string;
  reason?: string;
  /** The control request that carried the answer. */
  msg?: string;
}

/** An answer on the channel that was not applied, and why (the sender reads it back). */
export interface GateRefusedRecord {
  type: "gate.refused";
  msg: string;
  reason: string;
  at: string;
}

export type GateRecord = GateWaitingRecord | GateAnsweredRecord | GateRefusedRecord;

/** What the journal says about gates. */
export interface GateState {
  /** Recorded answers by gate hash. */
  answers: Map<string, GateAnsweredRecord>;
  /** Gates waiting, unanswered, as the last execution that reached a gate left them, by hash. */
  waiting: Map<string, GateWaitingRecord>;
  /** How the last execution ended, when it recorded its end. */
  ended?: RunStatus;
  /** A new execution began and has not reached a gate yet. */
  fresh?: boolean;
}

export const emptyGateState = (): GateState => ({ answers: new Map(), waiting: new Map() });

/** Fold one journal record into the gate state (records.ts buildReplay calls this for every record). */
export function foldGate(state: GateState, r: { type: string }): void {
  switch (r.type) {
    case "run.started":
    case "run.resumed":
      // A new execution. Until it reaches a gate, the gates the previous one left waiting still
      // wait (an execution killed before its first gate changes nothing); once it reaches one,
      // its own gates are what waits.
      state.fresh = true;
      state.ended = undefined;
      break;
    case "gate.waiting": {
      const w = r as GateWaitingRecord;
      if (state.fresh) state.waiting = new Map();
      state.fresh = false;
      state.waiting.set(w.hash, w);
      break;
    }
    case "gate.answered": {
      const a = r as GateAnsweredRecord;
      state.answers.set(a.hash, a);
      state.waiting.delete(a.hash);
      break;
    }
    case "run.finished":
      state.ended = (r as unknown as { status: RunStatus }).status;
      break;
  }
}

/** The gates waiting in a run according to its journal (for `weft approve` when no process owns it). */
export async function readGateState(runDir: string): Promise<GateState> {
  const state = emptyGateState();
  const { records } = await readJournal(join(runDir, "journal.jsonl"));
  for (const r of records as { type: string }[]) foldGate(state, r);
  return state;
}

/** Waiting gates a person can still answer: every end but completion leaves them to a resume. */
export function answerable(state: GateState): GateWaitingRecord[] {
  if (state.ended === "completed") return [];
  return [...state.waiting.values()].sort((a, b) => a.gate - b.gate);
}

export const describeGate = (g: { gate?: number; n?: number; title: string }) =>
  `#${g.gate ?? g.n} "${g.title}"`;

/**
 * Pick the gate an answer names: by number, by title, or the one waiting when none is named.
 * Returns the gate or the reason none fits.
 */
export function selectGate<T extends { gate: number; title: string }>(
  waiting: T[],
  which: string | number | undefined,
): T | string {
  const list = () => waiting.map(describeGate).join(", ");
  if (waiting.length === 0) return "no gate is waiting";
  if (which === undefined) {
    if (waiting.length === 1) return waiting[0]!;
    return `${waiting.length} gates are waiting: ${list()}; name one by number or title`;
  }
  if (typeof which === "number") {
    return waiting.find((g) => g.gate === which) ?? `gate #${which} is not waiting (waiting: ${list()})`;
  }
  const named = waiting.filter((g) => g.title === which);
  if (named.length === 1) return named[0]!;
  if (named.length > 1) {
    return `${named.length} gates titled "${which}" are waiting: ${named.map(describeGate).join(", ")}; name one by number`;
  }
  return `no gate titled "${which}" is waiting (waiting: ${list()})`;
}

interface Live extends GateWaitingRecord {
  /** The sandbox call waiting for the answer. */
  id: number;
}

export interface GateDeps {
  /** The script's content as given (R03 `run --resume` with an edited script changes it). */
  scriptSource: string;
  /** From the journal, on resume. */
  state?: GateState;
  /** When this execution started (ms): requests sent before it were left for it on disk. */
  startedAt: number;
  /** Append to the journal and wait until it is on disk. */
  record(r: GateRecord): Promise<void>;
  emit(e: RunEvent): void;
  /** Answer the script's pending gate() call. */
  deliver(id: number, approved: boolean): void;
  /** Remove a request from the channel once it is recorded. */
  consume(msgId: string): Promise<void>;
  /** The set of waiting gates changed: the run's status and run.json follow. */
  onChange(): void;
}

export class Gates {
  private readonly scriptHash: string;
  private readonly counter = new OccurrenceCounter();
  private readonly state: GateState;
  private readonly live = new Map<string, Live>();
  /** Requests from before this execution, bound to a gate hash of the previous one. */
  private readonly held = new Map<string, ControlMessage[]>();
  private calls = 0;
  private clearWaiters: (() => void)[] = [];

  constructor(private readonly deps: GateDeps) {
    this.scriptHash = createHash("sha256").update(deps.scriptSource).digest("hex");
    this.state = deps.state ?? emptyGateState();
  }

  /** The gates waiting now, in number order. */
  get waiting(): GateInfo[] {
    return [...this.live.values()]
      .sort((a, b) => a.gate - b.gate)
      .map((g) => ({ n: g.gate, title: g.title, details: g.details, since: g.at }));
  }

  get count(): number {
    return this.live.size;
  }

  /** Resolves when no gate waits (agents queued meanwhile wait here), or when `signal` aborts. */
  clear(signal: AbortSignal): Promise<void> {
    if (this.live.size === 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      signal.addEventListener("abort", done, { once: true });
      this.clearWaiters.push(done);
    });
  }

  /** The script called gate(); `argsJson` is `{title, details?}` checked by the sandbox. */
  open(id: number, argsJson: string): void {
    const { title, details } = JSON.parse(argsJson) as { title: string; details?: unknown };
    const n = ++this.calls;
    const what = canonicalJson({ details: details ?? null, title });
    const occurrence = this.counter.next(createHash("sha256").update(what).digest("hex"));
    const hash = createHash("sha256")
      .update(
        canonicalJson({
          gate: what,
          occurrence: occurrence.slice(occurrence.indexOf("#") + 1),
          script: this.scriptHash,
        }),
      )
      .digest("hex");
    const recorded = this.state.answers.get(hash);
    if (recorded) {
      // Bound to this very script, title, details and occurrence: answered already.
      this.deps.emit({
        type: "gate.answered",
        n,
        title,
        approved: recorded.approved,
        by: recorded.by,
        reason: recorded.reason,
        answeredAt: recorded.at,
        replayed: true,
      });
      this.deps.deliver(id, recorded.approved);
      return;
    }
    const at = new Date().toISOString();
    const gate: Live = { type: "gate.waiting", gate: n, title, details, hash, at, id };
    this.live.set(hash, gate);
    this.deps.onChange();
    this.deps.emit({ type: "gate.waiting", n, title, details, hash, since: at });
    const { id: _id, ...rec } = gate;
    void this.deps
      .record(rec)
      .catch(() => {})
      .then(() => this.takeHeld(hash));
  }

  /** An approve or reject request from the channel. Resolves once it is recorded (or held). */
  async answer(msg: ControlMessage): Promise<void> {
    const req = msg.request;
    if (req.type !== "approve" && req.type !== "reject") return;
    if (Date.parse(msg.at) < this.deps.startedAt) {
      // Left on disk for this execution: it answers a gate that waited in an earlier one, and
      // applies to that very gate (same hash) once the script reaches it again.
      const prior = selectGate(answerable(this.state), req.gate);
      if (typeof prior !== "string") {
        if (this.state.answers.has(prior.hash)) {
          await this.refuse(msg, `gate ${describeGate(prior)} was answered already`);
          return;
        }
        const list = this.held.get(prior.hash) ?? [];
        list.push(msg);
        this.held.set(prior.hash, list);
        if (this.live.has(prior.hash)) await this.takeHeld(prior.hash);
        return;
      }
    }
    const waiting = [...this.live.values()].sort((a, b) => a.gate - b.gate);
    const picked = selectGate(waiting, req.gate);
    if (typeof picked !== "string") return this.apply(picked, msg);
    await this.refuse(msg, picked);
  }

  /**
   * The run ends. Held requests whose gate was never reached again are refused when the script
   * ran to an end without it (the script or the details changed); otherwise they stay on disk.
   */
  async finish(status: RunStatus): Promise<void> {
    for (const done of this.clearWaiters.splice(0)) done();
    if (status !== "completed") return;
    for (const list of this.held.values()) {
      for (const m of list) {
        await this.refuse(
          m,
          "the gate it answered was not reached again: the script or the gate's details changed since",
        );
      }
    }
    this.held.clear();
  }

  private async takeHeld(hash: string): Promise<void> {
    const list = this.held.get(hash);
    const gate = this.live.get(hash);
    if (!list || list.length === 0 || !gate) return;
    this.held.delete(hash);
    const [first, ...rest] = list;
    await this.apply(gate, first!);
    for (const m of rest) await this.refuse(m, `gate ${describeGate(gate)} was answered already`);
  }

  private async apply(gate: Live, msg: ControlMessage): Promise<void> {
    const req = msg.request as Extract<ControlMessage["request"], { type: "approve" | "reject" }>;
    if (!this.live.delete(gate.hash)) return;
    const approved = req.type === "approve";
    const rec: GateAnsweredRecord = {
      type: "gate.answered",
      gate: gate.gate,
      title: gate.title,
      hash: gate.hash,
      approved,
      by: req.by ?? msg.from,
      at: new Date().toISOString(),
      reason: req.reason,
      msg: msg.id,
    };
    this.state.answers.set(gate.hash, rec);
    // On disk before the script sees it; then the request leaves the channel.
    await this.deps.record(rec);
    await this.deps.consume(msg.id);
    this.deps.onChange();
    this.deps.emit({
      type: "gate.answered",
      n: gate.gate,
      title: gate.title,
      approved,
      by: rec.by,
      reason: rec.reason,
      answeredAt: rec.at,
      replayed: false,
    });
    this.deps.deliver(gate.id, approved);
    if (this.live.size === 0) for (const done of this.clearWaiters.splice(0)) done();
  }

  private async refuse(msg: ControlMessage, why: string): Promise<void> {
    const req = msg.request as Extract<ControlMessage["request"], { type: "approve" | "reject" }>;
    const named =
      req.gate === undefined
        ? ""
        : ` for gate ${typeof req.gate === "number" ? `#${req.gate}` : `"${req.gate}"`}`;
    const reason = `${req.type}${named} from ${req.by ?? msg.from} not applied: ${why}`;
    await this.deps.record({ type: "gate.refused", msg: msg.id, reason, at: new Date().toISOString() });
    await this.deps.consume(msg.id);
    this.deps.emit({ type: "warning", message: reason });
  }
}
