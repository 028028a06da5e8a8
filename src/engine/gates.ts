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
 *
 * `checkpoint(prompt, {default, headless, kind, choices, timeoutMs})` (the Pi ports' question to a
 * person) is a gate too, with the same hash rules, records and answers, and a value: `confirm`
 * resolves true (approve) or false (reject); `input` to the text of `weft approve --answer`;
 * `select` to one of its choices (`--answer` gives the choice or its number from 1). Where nobody
 * can answer (the run has no terminal prompt: stdin not a TTY, --json, --detach, MCP, the library
 * without `interactive`), it does not wait: it resolves `default ?? true` at once, recorded with
 * by "headless", or with `headless: "abort"` fails the run. `timeoutMs` bounds the wait for a
 * person the same way: then `default ?? true` (by "timeout"), or the run fails with "abort".
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { ControlMessage, ControlRequest } from "../control/channel.js";
import type { RunEvent, RunStatus } from "../report/events.js";
import { readJournal } from "../store/journal.js";
import { canonicalJson, OccurrenceCounter } from "./cache-key.js";
import { answerHint, type CheckpointSpec } from "./gate-text.js";

export type { CheckpointSpec } from "./gate-text.js";

export interface GateInfo {
  /** Gates are numbered from 1 in the order the script calls gate(), in each execution. */
  n: number;
  title: string;
  details?: unknown;
  /** ISO time the gate began to wait. */
  since: string;
  /** Set when it is a checkpoint() (A14). */
  checkpoint?: CheckpointSpec;
}

export interface GateWaitingRecord {
  type: "gate.waiting";
  gate: number;
  title: string;
  details?: unknown;
  hash: string;
  at: string;
  checkpoint?: CheckpointSpec;
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
  /** A14: a checkpoint's answer, and what checkpoint() resolved to. */
  checkpoint?: true;
  value?: unknown;
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

export const describeGate = (g: { gate?: number; n?: number; title: string; checkpoint?: unknown }) =>
  `${g.checkpoint ? "checkpoint " : ""}#${g.gate ?? g.n} "${g.title}"`;

/**
 * What an approve or reject makes of a gate or checkpoint: the value the script gets, or why the
 * request does not fit (the CLI checks this before sending, the owner again before applying).
 */
export function answerValue(
  gate: { gate: number; title: string; checkpoint?: CheckpointSpec },
  req: Extract<ControlRequest, { type: "approve" | "reject" }>,
  runId = "<run>",
): { value: unknown } | string {
  const c = gate.checkpoint;
  const answer = req.type === "approve" ? req.answer : undefined;
  if (req.type === "reject" && req.answer !== undefined) return "a rejection takes no --answer";
  if (!c || c.kind === "confirm") {
    if (answer !== undefined)
      return `${describeGate(gate)} is a yes/no question: approve or reject it, without --answer`;
    return { value: req.type === "approve" };
  }
  if (req.type === "reject") return { value: false };
  if (answer === undefined)
    return `${describeGate(gate)} asks for an answer: ${answerHint(runId, gate.gate, c)}`;
  if (c.kind === "input") return { value: answer };
  const choices = c.choices ?? [];
  if (choices.includes(answer)) return { value: answer };
  const k = /^\s*(\d+)\s*$/.exec(answer);
  if (k && Number(k[1]) >= 1 && Number(k[1]) <= choices.length) return { value: choices[Number(k[1]) - 1] };
  return `${JSON.stringify(answer)} is not a choice of ${describeGate(gate)}: ${choices.map((x, i) => `${i + 1}. ${x}`).join(", ")}`;
}

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

/** checkpoint()'s request as the sandbox sends it, checked again here: the sandbox is the other side of a wall. */
function checkpointArgs(json: string): ({ prompt: string } & Partial<CheckpointSpec>) | string {
  let a: Record<string, unknown>;
  try {
    a = JSON.parse(json);
  } catch {
    return "not JSON";
  }
  if (a === null || typeof a !== "object" || Array.isArray(a)) return "not an object";
  if (typeof a.prompt !== "string" || a.prompt === "") return "no prompt";
  if (a.kind !== undefined && a.kind !== "confirm" && a.kind !== "input" && a.kind !== "select")
    return "kind";
  if (a.headless !== undefined && a.headless !== "default" && a.headless !== "abort") return "headless";
  if (a.choices !== undefined && !(Array.isArray(a.choices) && a.choices.every((c) => typeof c === "string")))
    return "choices";
  if (a.kind === "select" && !(Array.isArray(a.choices) && a.choices.length > 0)) return "choices";
  if (
    a.timeoutMs !== undefined &&
    !(typeof a.timeoutMs === "number" && a.timeoutMs > 0 && a.timeoutMs <= 2147483647)
  )
    return "timeoutMs";
  return a as { prompt: string } & Partial<CheckpointSpec>;
}

interface Live extends GateWaitingRecord {
  /** The sandbox call waiting for the answer. */
  id: number;
  /** A checkpoint's timeoutMs. */
  timer?: NodeJS.Timeout;
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
  /** Answer the script's pending gate() or checkpoint() call with this JSON value. */
  deliver(id: number, valueJson: string): void;
  /** A14: a person can answer here (the run has a terminal prompt); else checkpoints do not wait. */
  interactive: boolean;
  /** Requests on the channel now (to see, before deciding a checkpoint cannot be answered, whether one is). */
  pending(): ControlMessage[];
  /** End the run failed with this message (a checkpoint with headless: "abort" nobody can answer). */
  fail(message: string): void;
  runId: string;
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
      .map((g) => ({
        n: g.gate,
        title: g.title,
        details: g.details,
        since: g.at,
        ...(g.checkpoint ? { checkpoint: g.checkpoint } : {}),
      }));
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
    const hash = this.hashOf(what);
    const recorded = this.state.answers.get(hash);
    if (recorded) {
      this.replay(id, n, title, recorded);
      return;
    }
    this.wait({ type: "gate.waiting", gate: n, title, details, hash, at: new Date().toISOString(), id });
  }

  /**
   * A14: the script called checkpoint(); `argsJson` is `{prompt, default?, headless?, kind?,
   * choices?, timeoutMs?}` checked by the sandbox. Every option is part of the hash (as in the
   * port): a changed default or kind asks again instead of reusing an answer to another question.
   */
  openCheckpoint(id: number, argsJson: string): void {
    const a = checkpointArgs(argsJson);
    if (typeof a === "string") {
      // The sandbox checks these; a request that is not one means the sandbox is not ours (S06).
      this.deps.fail(`weft: the script's sandbox sent a checkpoint() request weft cannot read: ${a}`);
      return;
    }
    const spec: CheckpointSpec = {
      kind: a.kind ?? "confirm",
      headless: a.headless ?? "default",
      ...(a.choices ? { choices: a.choices } : {}),
      ...(a.default !== undefined ? { default: a.default } : {}),
      ...(a.timeoutMs !== undefined ? { timeoutMs: a.timeoutMs } : {}),
    };
    const n = ++this.calls;
    const what = canonicalJson({
      checkpoint: {
        prompt: a.prompt,
        kind: spec.kind,
        choices: spec.choices ?? null,
        default: spec.default ?? null,
        headless: spec.headless,
        timeoutMs: spec.timeoutMs ?? null,
      },
    });
    const hash = this.hashOf(what);
    const recorded = this.state.answers.get(hash);
    if (recorded) {
      this.replay(id, n, a.prompt, recorded);
      return;
    }
    const gate: Live = {
      type: "gate.waiting",
      gate: n,
      title: a.prompt,
      hash,
      at: new Date().toISOString(),
      checkpoint: spec,
      id,
    };
    // An answer sent to this very checkpoint while nobody ran the run is taken even here.
    if (!this.deps.interactive && !this.answerWaitsFor(hash)) {
      void this.unattended(gate, "headless");
      return;
    }
    this.wait(gate);
    if (spec.timeoutMs !== undefined) {
      gate.timer = setTimeout(() => void this.unattended(gate, "timeout"), spec.timeoutMs);
    }
  }

  private hashOf(what: string): string {
    const occurrence = this.counter.next(createHash("sha256").update(what).digest("hex"));
    return createHash("sha256")
      .update(
        canonicalJson({
          gate: what,
          occurrence: occurrence.slice(occurrence.indexOf("#") + 1),
          script: this.scriptHash,
        }),
      )
      .digest("hex");
  }

  /** Bound to this very script, title, details and occurrence: answered already. */
  private replay(id: number, n: number, title: string, recorded: GateAnsweredRecord): void {
    this.deps.emit({
      type: "gate.answered",
      n,
      title,
      approved: recorded.approved,
      by: recorded.by,
      reason: recorded.reason,
      answeredAt: recorded.at,
      replayed: true,
      ...(recorded.checkpoint ? { value: recorded.value } : {}),
    });
    this.deps.deliver(id, JSON.stringify(recorded.checkpoint ? (recorded.value ?? null) : recorded.approved));
  }

  private wait(gate: Live): void {
    const { id: _id, timer: _t, ...rec } = gate;
    this.live.set(gate.hash, gate);
    this.deps.onChange();
    this.deps.emit({
      type: "gate.waiting",
      n: gate.gate,
      title: gate.title,
      details: gate.details,
      hash: gate.hash,
      since: gate.at,
      ...(gate.checkpoint ? { checkpoint: gate.checkpoint } : {}),
    });
    void this.deps
      .record(rec)
      .catch(() => {})
      .then(() => this.takeHeld(gate.hash));
  }

  /** A request on the channel from before this execution that answers the gate with this hash. */
  private answerWaitsFor(hash: string): boolean {
    if (this.held.has(hash)) return true;
    const earlier = answerable(this.state);
    return this.deps.pending().some((m) => {
      if (m.request.type !== "approve" && m.request.type !== "reject") return false;
      if (Date.parse(m.at) >= this.deps.startedAt) return false;
      const g = selectGate(earlier, m.request.gate);
      return typeof g !== "string" && g.hash === hash;
    });
  }

  /** A checkpoint nobody answers: nobody can (headless), or nobody did in its timeoutMs. */
  private async unattended(gate: Live, why: "headless" | "timeout"): Promise<void> {
    const c = gate.checkpoint!;
    if (why === "timeout" && !this.live.delete(gate.hash)) return;
    if (c.headless === "abort") {
      this.deps.fail(
        why === "headless"
          ? `checkpoint "${gate.title}" needs a person's answer and nobody can answer this run (stdin is not a terminal, or --json, --detach, MCP; headless: "abort"): resume it in a terminal with weft resume ${this.deps.runId}`
          : `checkpoint "${gate.title}" was not answered within ${c.timeoutMs} ms (timeoutMs; headless: "abort")`,
      );
      return;
    }
    const value = c.default ?? true;
    const rec: GateAnsweredRecord = {
      type: "gate.answered",
      gate: gate.gate,
      title: gate.title,
      hash: gate.hash,
      approved: true,
      by: why,
      at: new Date().toISOString(),
      checkpoint: true,
      value,
    };
    this.state.answers.set(gate.hash, rec);
    await this.deps.record(rec);
    if (why === "timeout") this.afterAnswer();
    this.deps.emit({
      type: "gate.answered",
      n: gate.gate,
      title: gate.title,
      approved: true,
      by: why,
      answeredAt: rec.at,
      replayed: false,
      value,
    });
    this.deps.deliver(gate.id, JSON.stringify(value));
  }

  private afterAnswer(): void {
    this.deps.onChange();
    if (this.live.size === 0) for (const done of this.clearWaiters.splice(0)) done();
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
    if (typeof picked !== "string") {
      await this.apply(picked, msg);
      return;
    }
    await this.refuse(msg, picked);
  }

  /**
   * The run ends. Held requests whose gate was never reached again are refused when the script
   * ran to an end without it (the script or the details changed); otherwise they stay on disk.
   */
  /** The run is ending: a checkpoint's timeoutMs must not answer it now (the gate stays waiting). */
  stopTimers(): void {
    for (const g of this.live.values()) clearTimeout(g.timer);
  }

  async finish(status: RunStatus): Promise<void> {
    for (const done of this.clearWaiters.splice(0)) done();
    this.stopTimers();
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
    // The first that fits answers it (a checkpoint refuses an answer that is not one of its choices).
    let answered = false;
    for (const m of list) {
      if (answered) await this.refuse(m, `gate ${describeGate(gate)} was answered already`);
      else answered = await this.apply(gate, m);
    }
  }

  /** Whether the request answered the gate. */
  private async apply(gate: Live, msg: ControlMessage): Promise<boolean> {
    const req = msg.request as Extract<ControlMessage["request"], { type: "approve" | "reject" }>;
    if (!this.live.has(gate.hash)) return false;
    const answer = answerValue(gate, req, this.deps.runId);
    if (typeof answer === "string") {
      await this.refuse(msg, answer);
      return false;
    }
    if (!this.live.delete(gate.hash)) return false;
    clearTimeout(gate.timer);
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
      ...(gate.checkpoint ? { checkpoint: true as const, value: answer.value } : {}),
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
      ...(gate.checkpoint ? { value: answer.value } : {}),
    });
    this.deps.deliver(gate.id, JSON.stringify(answer.value));
    if (this.live.size === 0) for (const done of this.clearWaiters.splice(0)) done();
    return true;
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
