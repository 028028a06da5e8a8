/**
 * The run's event stream on disk (U01, U02): every execution appends its events to
 * `<runDir>/events.jsonl`, one JSON object per line as `--json` prints them, so that other
 * processes can show a run they do not own (`weft logs`, `weft attach`, the MCP server). Lines
 * are buffered per tick and never fsync'd: the journal is the record; this is for watching.
 */
import { closeSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { bounded, runResultPointer } from "../store/excerpt.js";
import { isUnsafePath, openAppendSync } from "../store/safe-write.js";
import type { Reporter, RunEvent } from "./events.js";
import { JsonReporter } from "./json.js";

export const eventsFile = (runDir: string) => join(runDir, "events.jsonl");

/**
 * A reporter that appends the events to the run's events.jsonl. The lines of one tick go out in
 * one synchronous write(2): no stream buffer that grows when a large run emits faster than a
 * stream drains, and each write is whole lines, so a reader never sees half of one for long.
 */
export function eventLog(runDir: string): Reporter & { refused?: string } {
  let fd: number | undefined;
  let refused: string | undefined;
  try {
    // Never through a link an agent planted (safe-write.ts); the caller shows `refused`.
    fd = openAppendSync(eventsFile(runDir));
  } catch (e) {
    // No log (a full disk, a removed folder, a planted link): the run goes on without one.
    if (isUnsafePath(e)) refused = e.message;
  }
  const write = (text: string) => {
    if (fd === undefined) return;
    try {
      const buf = Buffer.from(text);
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    } catch {
      stop();
    }
  };
  const stop = () => {
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch {}
    fd = undefined;
  };
  const json = new JsonReporter({ write } as unknown as Writable);
  return {
    refused,
    event(e) {
      if (fd !== undefined) json.event(e.type === "run.finished" ? boundedFinish(e) : e);
    },
    close() {
      json.close();
      stop();
    },
  };
}

/**
 * The run's end as events.jsonl keeps it: a huge result (twice in the event: `result` and the
 * summary's) becomes an excerpt and a note of where the whole one is (run.json, the journal).
 * `--json` on stdout still prints it whole.
 */
function boundedFinish(e: Extract<RunEvent, { type: "run.finished" }>): RunEvent {
  const cut = bounded(e.result, runResultPointer(e.runId));
  if (!cut.truncated) return e;
  return {
    ...e,
    result: cut.value,
    resultTruncated: cut.truncated,
    summary: { ...e.summary, result: cut.value },
  };
}

/** Both reporters get every event; one that throws does not keep it from the other. */
export function teeReporter(a: Reporter, b: Reporter): Reporter {
  return {
    event(e) {
      try {
        a.event(e);
      } finally {
        b.event(e);
      }
    },
    async close() {
      await Promise.allSettled([a.close?.(), b.close?.()]);
    },
  };
}

/** An event as stored: the event and the time it was emitted. */
export type LoggedEvent = RunEvent & { at: string };

export interface FollowOptions {
  /** Keep reading as the file grows until the run finishes (or `ended()` says it is over). */
  follow?: boolean;
  /** Start at the last execution (its run.started) instead of the first line. */
  lastExecution?: boolean;
  /** Polled while following with nothing new to read: true once no process will write more. */
  ended?: () => boolean;
  signal?: AbortSignal;
  /** How often to look for new lines while following (ms). */
  pollMs?: number;
}

/**
 * The events of a run, in order. Without `follow` it ends at the end of the file; with it, it
 * ends after a run.finished with nothing after it, or once `ended()` is true and nothing more
 * is left to read. A line still being written is not read before it is whole.
 */
export async function* readEvents(runDir: string, opts: FollowOptions = {}): AsyncGenerator<LoggedEvent> {
  const path = eventsFile(runDir);
  const pollMs = opts.pollMs ?? 150;
  let offset = 0;
  let rest = "";
  if (opts.lastExecution) offset = await lastExecutionOffset(path);
  let finished = false;
  for (;;) {
    if (opts.signal?.aborted) return;
    const chunk = await readFrom(path, offset);
    offset += chunk.length;
    const text = rest + chunk.toString("utf8");
    const lines = text.split("\n");
    rest = lines.pop() ?? "";
    let got = false;
    for (const line of lines) {
      if (!line.trim()) continue;
      let e: LoggedEvent;
      try {
        e = JSON.parse(line) as LoggedEvent;
      } catch {
        continue; // A torn line from a crash: skipped, as in the journal.
      }
      got = true;
      finished = e.type === "run.finished";
      yield e;
    }
    if (!opts.follow) return;
    if (!got && chunk.length === 0) {
      if (finished) return;
      if (opts.ended?.()) {
        // One more read: the last lines may have landed just before the owner went away.
        const tail = await readFrom(path, offset);
        if (tail.length === 0) return;
        continue;
      }
      await sleep(pollMs, opts.signal);
    }
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

async function readFrom(path: string, offset: number): Promise<Buffer> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return Buffer.alloc(0);
    throw e;
  }
  try {
    const size = (await fh.stat()).size;
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    // Whole lines only: a multi-byte character cut at the end is read again with its line.
    const cut = buf.lastIndexOf(10, bytesRead - 1);
    return buf.subarray(0, cut + 1);
  } finally {
    await fh.close();
  }
}

const STARTED = '{"type":"run.started",';

/** Byte offset of the last run.started line, or 0. */
async function lastExecutionOffset(path: string): Promise<number> {
  const all = await readFrom(path, 0);
  const at = all.lastIndexOf(`\n${STARTED}`);
  if (at >= 0) return at + 1;
  return 0;
}
