/**
 * The control channel of a run (C05, C08, A14, U04): how `weft stop`, `pause`, `approve` and the
 * MCP server reach a run from any process. A request is a JSON file in `<runDir>/control/`,
 * written atomically (temp file, then rename), so a reader sees all of it or nothing. The process
 * that owns the run watches the folder, records each request in the journal, then deletes its
 * file. A request sent while no process owns the run stays on disk and is taken by the next owner
 * (`weft resume`), so an approval given while weft is not running is not lost.
 *
 * Files rather than a socket: they work with no process listening, survive a crash of either
 * side, and need no port or path-length care; fs.watch makes delivery prompt, and a slow poll
 * covers file systems where fs.watch is silent.
 */
import { randomBytes } from "node:crypto";
import { type FSWatcher, readdirSync, readFileSync, watch } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { hostname, userInfo } from "node:os";
import { join } from "node:path";
import { writeJsonAtomic } from "../store/files.js";
import { ensureDir, unlinkSafe } from "../store/safe-write.js";

export type ControlRequest =
  /** C04 from another process: no new agents, running agents stopped, run ends `stopped`. */
  | { type: "stop" }
  /** C05: one agent, by number or label; its `agent()` resolves to null. */
  | { type: "stop-agent"; agent: number | string }
  /** Restart one running agent in place: its attempt is stopped and the same call starts again at once. */
  | { type: "restart-agent"; agent: number | string }
  /** C08: no new agents; running ones finish; the run ends `paused`. */
  | { type: "pause" }
  /**
   * A14: answer a gate, by its title or number (absent: the one gate waiting); `answer` is a
   * checkpoint's text or choice (kind "input" or "select").
   */
  | { type: "approve"; gate?: string | number; by?: string; reason?: string; answer?: string }
  | { type: "reject"; gate?: string | number; by?: string; reason?: string; answer?: string };

export interface ControlMessage {
  /** Unique and sortable: the send time, then random characters. */
  id: string;
  /** ISO time of sending. */
  at: string;
  /** Who sent it: the user name and host, or what the sender says (an MCP client). */
  from: string;
  request: ControlRequest;
}

export const controlDir = (runDir: string) => join(runDir, "control");

let seq = 0;

function newId(): string {
  // Time first so that file names sort in sending order; a counter and random characters keep two
  // requests of one millisecond (or of two processes) apart.
  const t = Date.now().toString(36).padStart(9, "0");
  return `${t}-${(seq++ % 1296).toString(36).padStart(2, "0")}-${randomBytes(4).toString("hex")}`;
}

/** Send a request to a run: it is on disk when this resolves. */
export async function sendControl(
  runDir: string,
  request: ControlRequest,
  from?: string,
): Promise<ControlMessage> {
  const dir = controlDir(runDir);
  // Never through a link an agent planted in the run directory (safe-write.ts).
  ensureDir(dir);
  const msg: ControlMessage = {
    id: newId(),
    at: new Date().toISOString(),
    from: from ?? defaultSender(),
    request,
  };
  await writeJsonAtomic(join(dir, `${msg.id}.json`), msg);
  return msg;
}

function defaultSender(): string {
  let user = process.env.USER ?? process.env.LOGNAME;
  try {
    user ??= userInfo().username;
  } catch {}
  return `${user ?? "unknown"}@${hostname()}`;
}

/** An unreadable file is not a request; it is left where it is for a person to look at. */
function parse(text: string): ControlMessage | undefined {
  try {
    const m = JSON.parse(text) as ControlMessage;
    if (m && typeof m.id === "string" && m.request && typeof m.request.type === "string") return m;
  } catch {}
  return undefined;
}

const isRequestFile = (name: string) => name.endsWith(".json");

/** The requests waiting on disk, oldest first. */
export async function pendingControl(runDir: string): Promise<ControlMessage[]> {
  const dir = controlDir(runDir);
  let names: string[];
  try {
    names = (await readdir(dir)).filter(isRequestFile).sort();
  } catch {
    return [];
  }
  const out: ControlMessage[] = [];
  for (const name of names) {
    const text = await readFile(join(dir, name), "utf8").catch(() => undefined);
    const m = text === undefined ? undefined : parse(text);
    if (m) out.push(m);
  }
  return out;
}

/** The same, synchronously, for a status view that must not wait. */
export function pendingControlSync(runDir: string): ControlMessage[] {
  const dir = controlDir(runDir);
  let names: string[];
  try {
    names = readdirSync(dir).filter(isRequestFile).sort();
  } catch {
    return [];
  }
  const out: ControlMessage[] = [];
  for (const name of names) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, name), "utf8");
    } catch {}
    const m = text === undefined ? undefined : parse(text);
    if (m) out.push(m);
  }
  return out;
}

/** Remove a request once the owner has recorded it (in the journal) and acted on it. */
export async function consumeControl(runDir: string, id: string): Promise<void> {
  try {
    unlinkSafe(join(controlDir(runDir), `${id}.json`));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

export interface ControlWatcher {
  close(): void;
}

/**
 * Call `onMessage` once for each request, the ones already waiting first, then new ones as they
 * arrive, in sending order. The handler consumes a request when it has recorded it; a request the
 * handler has seen is not delivered again by this watcher even if its file is still there.
 */
export function watchControl(
  runDir: string,
  onMessage: (m: ControlMessage) => void | Promise<void>,
  opts: { pollMs?: number; onError?: (e: unknown) => void } = {},
): ControlWatcher {
  const onError = opts.onError ?? ((e: unknown) => process.emitWarning(`weft control: ${String(e)}`));
  const dir = controlDir(runDir);
  ensureDir(dir);
  const seen = new Set<string>();
  let closed = false;
  let scanning = false;
  let again = false;

  const scan = async () => {
    if (closed) return;
    if (scanning) {
      again = true;
      return;
    }
    scanning = true;
    try {
      do {
        again = false;
        for (const m of await pendingControl(runDir)) {
          if (closed || seen.has(m.id)) continue;
          seen.add(m.id);
          try {
            await onMessage(m);
          } catch (e) {
            onError(e);
          }
        }
      } while (again && !closed);
    } catch (e) {
      onError(e);
    } finally {
      scanning = false;
    }
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, () => void scan());
    watcher.on("error", () => {});
  } catch {
    // No fs.watch here (some network file systems): the poll below still delivers.
  }
  const timer = setInterval(() => void scan(), opts.pollMs ?? 500);
  timer.unref();
  void scan();
  return {
    close() {
      closed = true;
      clearInterval(timer);
      watcher?.close();
    },
  };
}
