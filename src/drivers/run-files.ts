/**
 * The files a driver writes in the run directory (task files, transcripts), all through
 * store/safe-write.ts: an agent may have planted links there, and weft must not write through
 * one (R01, README "Security model").
 */
import { dirname } from "node:path";
import { Writable } from "node:stream";
import { appendStream, ensureDir, isUnsafePath } from "../store/safe-write.js";
import type { DriverRunContext } from "./types.js";

/** Make the folders, refusing links; a refusal fails the agent with the message, as it should. */
export function ensureDirs(...dirs: string[]): void {
  for (const d of dirs) ensureDir(d);
}

/**
 * The transcript, appended to. It is a record for people: when it cannot be opened (a link in
 * the way, a full disk) the agent runs without one, and a refusal is reported as a warning.
 */
export function openTranscript(path: string, ctx: DriverRunContext): Writable {
  try {
    ensureDir(dirname(path));
    const stream = appendStream(path);
    // Failing to write it later must not fail the agent either.
    stream.on("error", () => {});
    return stream;
  } catch (e) {
    if (isUnsafePath(e)) ctx.onEvent({ type: "warning", message: e.message });
    return new Writable({ write: (_chunk, _enc, done) => done() });
  }
}

/** Runs `f`; a refusal to write through a link is also shown as a warning before it fails the agent. */
export function refusalsReported<T>(ctx: DriverRunContext, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isUnsafePath(e)) ctx.onEvent({ type: "warning", message: e.message });
    throw e;
  }
}
