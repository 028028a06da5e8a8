/**
 * Runs one agent program in its own process group (D08) and watches it: the transcript of its raw
 * output, stdout split into lines for the driver, the idle and whole-life limits (C01), and a stop
 * (abort) that ends the whole group, SIGTERM then SIGKILL (C04). Shared by the command driver and
 * the CLI drivers, which differ only in what they make of the lines.
 */

import { stat } from "node:fs/promises";
import type { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { isGroupAlive, readProcStat, spawnInGroup, terminateGroup } from "./process.js";
import { unwatchGroup, watchGroup } from "./reaper.js";
import type { DriverRunContext } from "./types.js";

/** Enough stderr to hold the last lines of a failure, without keeping a chatty program's whole log. */
const STDERR_KEEP = 16_384;
/**
 * After the program exits and its group is gone, the pipes close at once unless a process that
 * left the group (setsid) still holds them; waiting for it longer would hang the agent.
 */
const PIPE_DRAIN_MS = 1000;

export interface GroupRunOptions {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to the program's stdin, then end of file; null gives it /dev/null (D08). */
  stdin: string | null;
  transcript: Writable;
  ctx: DriverRunContext;
  killGraceMs: number;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  /** Each stdout line, without its newline (a last line without one counts too). */
  onLine(line: string): void;
  /**
   * Each stderr line, for a driver that reads its CLI's log there (opencode's retries go to its
   * log only). Lines longer than the tail kept for errors are cut.
   */
  onStderrLine?(line: string): void;
  /** Whether to keep the whole stdout for the result (the command driver's answer). */
  keepStdout?: boolean;
  /** Names the program in spawn errors ("the command", "codex"). */
  what: string;
  /** How much of stdout the transcript keeps (the answer is kept whole in the journal). */
  transcriptLimit?: TranscriptLimit;
}

/**
 * A bound on what the transcript keeps of stdout: `total` characters in all, or `line`
 * characters of each line (a CLI's event stream: every event stays, a huge one is cut). What is
 * cut is counted, and `note` (where the whole answer is) is written once, where the cutting starts.
 */
export interface TranscriptLimit {
  total?: number;
  line?: number;
  note: string;
}

/** Cuts stdout text to a TranscriptLimit, in one pass over each chunk. */
class TranscriptBudget {
  dropped = 0;
  private used = 0;
  private lineUsed = 0;
  noted = false;

  constructor(readonly limit: TranscriptLimit) {}

  take(s: string): string {
    const total = this.limit.total ?? Number.POSITIVE_INFINITY;
    const line = this.limit.line ?? Number.POSITIVE_INFINITY;
    if (this.used >= total) {
      this.dropped += s.length;
      return "";
    }
    if (line === Number.POSITIVE_INFINITY) {
      const keep = Math.min(s.length, total - this.used);
      this.used += keep;
      this.dropped += s.length - keep;
      return keep === s.length ? s : s.slice(0, keep);
    }
    let out = "";
    let i = 0;
    while (i < s.length) {
      const nl = s.indexOf("\n", i);
      const end = nl < 0 ? s.length : nl + 1;
      const body = (nl < 0 ? end : nl) - i;
      const room = Math.max(0, Math.min(line - this.lineUsed, total - this.used));
      const keep = Math.min(body, room);
      out += s.slice(i, i + keep);
      this.dropped += body - keep;
      this.used += keep;
      this.lineUsed += keep;
      // Every line keeps its newline, so the events around a cut one stay apart.
      if (nl >= 0) {
        out += "\n";
        this.lineUsed = 0;
      }
      i = end;
    }
    return out;
  }
}

/** How the process ended: on its own, or because weft ended it (and why). */
export type Ended =
  | { kind: "spawn-error"; message: string }
  | {
      kind: "exit" | "stopped" | "timeout" | "idle";
      code: number | null;
      signal: NodeJS.Signals | null;
      /** The whole stdout, trailing white space removed; "" unless keepStdout. */
      stdout: string;
      stderrTail: string;
    };

export function runInGroup(o: GroupRunOptions): Promise<Ended> {
  const { ctx, transcript } = o;
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawnInGroup>;
    try {
      child = spawnInGroup(o.file, o.args, {
        cwd: o.cwd,
        env: o.env,
        stdin: o.stdin === null ? "ignore" : "pipe",
      });
    } catch (e) {
      // Some spawn failures (ENOTDIR for a cwd that is a file) throw instead of emitting.
      void spawnErrorMessage(e, o.cwd, o.what).then((message) => resolve({ kind: "spawn-error", message }));
      return;
    }
    const pgid = child.pid;
    // A program that does not read its prompt closes the pipe early: that is fine (D09).
    child.stdin?.on("error", () => {});
    if (pgid === undefined) {
      // The start failed; the reason follows as an "error" event.
      child.once("error", (e) => {
        for (const s of [child.stdin, child.stdout, child.stderr]) s?.destroy();
        void spawnErrorMessage(e, o.cwd, o.what).then((message) => resolve({ kind: "spawn-error", message }));
      });
      return;
    }
    // After a successful start "error" only reports failed signals, which are handled by pgid.
    child.on("error", () => {});
    // Right away, so the engine records the group before anything else can happen (R02).
    // With the leader's start time, so a resume can tell this group from a later one of the same id.
    ctx.onEvent({ type: "started", pid: pgid, pgid, startTime: readProcStat(pgid)?.startTime });
    // R02: should weft die, however, the group dies with it.
    watchGroup(pgid);

    const stdout = child.stdout!;
    const stderr = child.stderr!;
    const out: Buffer[] = [];
    const outText = new StringDecoder("utf8");
    const errText = new StringDecoder("utf8");
    let stderrTail = "";
    let partialLine = "";
    let partialErr = "";
    const emitErrLines = (s: string, last = false) => {
      if (!o.onStderrLine) return;
      const text = partialErr + s;
      const lines = text.split("\n");
      partialErr = last ? "" : lines.pop()!;
      if (partialErr.length > STDERR_KEEP) partialErr = partialErr.slice(0, STDERR_KEEP);
      for (const l of lines) {
        const line = l.endsWith("\r") ? l.slice(0, -1) : l;
        if (!line.trim()) continue;
        try {
          o.onStderrLine(line);
        } catch {
          // As for stdout: a driver's parser must not take the process watch down with it.
        }
      }
    };
    let reason: "stopped" | "timeout" | "idle" | undefined;
    let stopping: Promise<void> | undefined;
    let exited = false;

    const stop = (why: "stopped" | "timeout" | "idle") => {
      if (reason || exited) return;
      reason = why;
      stopping = terminateGroup(pgid, o.killGraceMs);
    };
    const onAbort = () => stop("stopped");
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    // An abort from inside onEvent("started") came before the listener.
    if (ctx.signal.aborted) stop("stopped");
    const whole = o.timeoutMs && o.timeoutMs > 0 ? setTimeout(() => stop("timeout"), o.timeoutMs) : undefined;
    const idle =
      o.idleTimeoutMs && o.idleTimeoutMs > 0 ? setTimeout(() => stop("idle"), o.idleTimeoutMs) : undefined;

    const budget = o.transcriptLimit && new TranscriptBudget(o.transcriptLimit);
    const record = (stream: "stdout" | "stderr", text: string) => {
      let data = text;
      if (budget && stream === "stdout") {
        const before = budget.dropped;
        data = budget.take(text);
        if (budget.dropped > before && !budget.noted) {
          budget.noted = true;
          if (data) transcript.write(`${JSON.stringify({ t: Date.now(), stream, data })}\n`);
          data = "";
          transcript.write(`${JSON.stringify({ t: Date.now(), stream, cut: budget.limit.note })}\n`);
        }
      }
      if (data) transcript.write(`${JSON.stringify({ t: Date.now(), stream, data })}\n`);
    };
    const emitLine = (line: string) => {
      const text = line.endsWith("\r") ? line.slice(0, -1) : line;
      if (!text.trim()) return;
      try {
        o.onLine(text);
      } catch {
        // A driver's parser must not take the process watch down with it.
      }
    };
    // Only the new chunk is searched for a newline, so long lines cost linear time.
    const emitLines = (s: string) => {
      const nl = s.lastIndexOf("\n");
      if (nl < 0) {
        partialLine += s;
        return;
      }
      const block = partialLine + s.slice(0, nl);
      partialLine = s.slice(nl + 1);
      for (const line of block.split("\n")) emitLine(line);
    };

    stdout.on("data", (d: Buffer) => {
      // refresh() re-arms the same timer: cheaper than a new one per chunk.
      if (!reason) idle?.refresh();
      if (o.keepStdout) out.push(d);
      const s = outText.write(d);
      record("stdout", s);
      emitLines(s);
    });
    stderr.on("data", (d: Buffer) => {
      if (!reason) idle?.refresh();
      const s = errText.write(d);
      record("stderr", s);
      stderrTail += s;
      if (stderrTail.length > 2 * STDERR_KEEP) stderrTail = stderrTail.slice(-STDERR_KEEP);
      emitErrLines(s);
    });
    if (o.stdin !== null) child.stdin!.end(o.stdin);

    let closed = false;
    let onClosed: (() => void) | undefined;
    child.once("close", () => {
      closed = true;
      onClosed?.();
    });

    child.once("exit", async (code, signal) => {
      exited = true;
      clearTimeout(whole);
      clearTimeout(idle);
      ctx.signal.removeEventListener("abort", onAbort);
      // Processes left in the group outlived the program. The group is the agent's (R02, C04),
      // and the agent is over, so they end with it rather than linger unowned.
      if (!stopping && isGroupAlive(pgid)) stopping = terminateGroup(pgid, o.killGraceMs);
      if (stopping) await stopping;
      unwatchGroup(pgid);
      if (!closed) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, PIPE_DRAIN_MS);
          onClosed = () => {
            clearTimeout(t);
            r();
          };
        });
      }
      // Whatever still holds the pipes is outside the group: stop reading, so those handles do not
      // keep weft's event loop alive.
      if (!closed) {
        stdout.destroy();
        stderr.destroy();
      }
      const outRest = outText.end();
      record("stdout", outRest);
      emitLines(outRest);
      // The last line counts when the stream ends without a newline.
      emitLine(partialLine);
      const errRest = errText.end();
      record("stderr", errRest);
      stderrTail += errRest;
      emitErrLines(errRest, true);
      const cut = budget?.dropped ? { cutChars: budget.dropped } : {};
      transcript.write(`${JSON.stringify({ t: Date.now(), exit: code, signal, ...cut })}\n`);
      resolve({
        kind: reason ?? "exit",
        code,
        signal,
        stdout: o.keepStdout ? Buffer.concat(out).toString("utf8").trimEnd() : "",
        stderrTail,
      });
    });
  });
}

/** The last `n` non-empty lines of a stderr tail, for a failure message. */
export function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n").trim();
}

async function spawnErrorMessage(e: unknown, cwd: string, what: string): Promise<string> {
  const err = e as NodeJS.ErrnoException;
  // Node reports a missing cwd as "spawn <file> ENOENT", which points at the wrong thing.
  try {
    const st = await stat(cwd);
    if (!st.isDirectory()) return `cannot start ${what}: its working directory ${cwd} is not a directory`;
  } catch {
    return `cannot start ${what}: its working directory ${cwd} does not exist`;
  }
  return `cannot start ${what} in ${cwd}: ${err.message ?? String(e)}`;
}
