/**
 * The sending side of control (C04, C05, C08, A14): what `weft stop`, `weft pause` and a library
 * or MCP caller use. A request goes to the run's owner through the control channel; the owner
 * journals what came of it, and this reads that record back (bounded wait).
 */
import { existsSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { answeredWord } from "../engine/gate-text.js";
import type { RunStatus, RunSummary } from "../report/events.js";
import { liveOwner } from "../store/lock.js";
import { type ControlRequest, consumeControl, controlDir, sendControl } from "./channel.js";
import { locateRun } from "./locate.js";

export interface ControlOutcome {
  runId: string;
  runDir: string;
  /**
   * applied: the owner did it (`outcome` says what); refused: the owner said no (`outcome` says
   * why); not-running: no process owns the run and a stop, pause or stop-agent was not sent (only
   * a live run can take one); held: an approve or reject left for the next `weft resume`;
   * pending: sent, and the owner has not answered within the wait (it takes it later); ended: the
   * owner ended before taking it, and the request was withdrawn.
   */
  state: "applied" | "refused" | "not-running" | "held" | "pending" | "ended";
  outcome: string;
  /** The request's id, when it was sent. */
  msg?: string;
  /** run.json's status when the answer came. */
  status?: RunStatus;
}

export interface ControlOptions {
  cwd?: string;
  /** Who sends it (recorded in the journal); default user@host. */
  from?: string;
  /** How long to wait for the owner's answer (ms, default 10,000). */
  waitMs?: number;
}

async function summaryIn(runDir: string): Promise<Partial<RunSummary>> {
  try {
    return JSON.parse(await readFile(join(runDir, "run.json"), "utf8")) as RunSummary;
  } catch {
    return {};
  }
}

async function statusIn(runDir: string): Promise<RunStatus | undefined> {
  return (await summaryIn(runDir)).status;
}

/** E03: point at `weft resume` only where it can change how the run ended. */
function resumeNote(runId: string, s: Partial<RunSummary>): string {
  if (s.status === "completed") return "";
  if (s.status === "failed" && s.resumeHelps !== true) return "";
  return `; weft resume ${runId} continues it`;
}

export async function sizeOf(path: string): Promise<number> {
  try {
    const fh = await open(path, "r");
    try {
      return (await fh.stat()).size;
    } finally {
      await fh.close();
    }
  } catch {
    return 0;
  }
}

export interface Answer {
  type: string;
  ok?: boolean;
  outcome?: string;
  approved?: boolean;
  gate?: number;
  title?: string;
  by?: string;
  reason?: string;
  /** A14: a checkpoint's answer. */
  checkpoint?: boolean;
  value?: unknown;
}

/** The owner's record of request `msg` (control, gate.answered or gate.refused), read from `offset`. */
export async function answerOf(journal: string, offset: number, msg: string): Promise<Answer | undefined> {
  let text: string;
  try {
    const fh = await open(journal, "r");
    try {
      const size = (await fh.stat()).size;
      const buf = Buffer.alloc(Math.max(0, size - offset));
      await fh.read(buf, 0, buf.length, offset);
      text = buf.toString("utf8");
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
  const needle = `"msg":${JSON.stringify(msg)}`;
  for (const line of text.split("\n")) {
    if (!line.includes(needle)) continue;
    try {
      const r = JSON.parse(line) as Answer & { msg?: string };
      if (r.msg === msg && ["control", "gate.answered", "gate.refused"].includes(r.type)) return r;
    } catch {}
  }
  return undefined;
}

function words(a: Answer): { ok: boolean; outcome: string } {
  if (a.type === "control") return { ok: a.ok === true, outcome: a.outcome ?? "" };
  if (a.type === "gate.answered") {
    return {
      ok: true,
      outcome: `${a.checkpoint ? "checkpoint" : "gate"} #${a.gate} "${a.title}" ${answeredWord({ approved: a.approved === true, value: a.value })} by ${a.by}${a.reason ? `: ${a.reason}` : ""}`,
    };
  }
  return { ok: false, outcome: a.reason ?? "refused" };
}

const isLiveOnly = (r: ControlRequest) =>
  r.type === "stop" || r.type === "pause" || r.type === "stop-agent" || r.type === "restart-agent";

/** Send a request to a run and wait (bounded) for its owner's answer. */
export async function controlRun(
  runIdOrDir: string,
  request: ControlRequest,
  opts: ControlOptions = {},
): Promise<ControlOutcome> {
  const { runId, runDir } = await locateRun(runIdOrDir, opts.cwd);
  const base = { runId, runDir };
  if (!liveOwner(runDir)) {
    const summary = await summaryIn(runDir);
    const status = summary.status as RunStatus | undefined;
    if (isLiveOnly(request)) {
      return {
        ...base,
        state: "not-running",
        status,
        outcome: `run ${runId} is not running (status ${status ?? "unknown"})${resumeNote(runId, summary)}`,
      };
    }
    const m = await sendControl(runDir, request, opts.from);
    return {
      ...base,
      state: "held",
      msg: m.id,
      status,
      outcome: `run ${runId} is not running: the ${request.type} waits for \`weft resume ${runId}\``,
    };
  }
  const journal = join(runDir, "journal.jsonl");
  const offset = await sizeOf(journal);
  const m = await sendControl(runDir, request, opts.from);
  const file = join(controlDir(runDir), `${m.id}.json`);
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  for (;;) {
    const a = await answerOf(journal, offset, m.id);
    if (a) {
      const w = words(a);
      return {
        ...base,
        state: w.ok ? "applied" : "refused",
        msg: m.id,
        outcome: w.outcome,
        status: await statusIn(runDir),
      };
    }
    if (!liveOwner(runDir)) {
      // The owner may have answered just before it went: look once more, then withdraw.
      const last = await answerOf(journal, offset, m.id);
      if (last) continue;
      if (existsSync(file) && isLiveOnly(request)) {
        await consumeControl(runDir, m.id);
        const status = await statusIn(runDir);
        return {
          ...base,
          state: "ended",
          status,
          outcome: `run ${runId} ended (status ${status ?? "unknown"}) before it took the request; nothing was done`,
        };
      }
    }
    if (Date.now() > deadline) {
      return {
        ...base,
        state: "pending",
        msg: m.id,
        status: await statusIn(runDir),
        outcome: `sent; the run's owner has not answered within ${Math.round((opts.waitMs ?? 10_000) / 1000)} s (request ${m.id} waits in ${controlDir(runDir)})`,
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
