/**
 * One process drives a run at a time (SPEC R05): `lock.json` in the run directory with pid,
 * process start time and a heartbeat. A lock is stale when its pid is gone, belongs to another
 * process (the start time differs: the pid was reused), or its heartbeat is older than 30 s; a
 * stale lock is taken over at once, so a resume right after kill -9 proceeds.
 *
 * Race safety. POSIX has no "replace this file if it is still the one I read", so:
 * - Creating: the lock is written complete to a temp file and link()ed to `lock.json`. link()
 *   fails with EEXIST when the name exists: of any number of takers exactly one creates it, and
 *   nobody ever reads a half-written lock.
 * - Taking over a stale lock S: only the holder of a takeover token for S may remove S. The token
 *   `lock.json.takeover.<hash of S>.<k>` is also created with link(), so exactly one taker holds
 *   it; the others wait for the outcome and then find a live lock (refused) or none (and race on
 *   link() again). Under the token the holder re-reads `lock.json`, moves it aside with rename(),
 *   checks that what it moved is S byte for byte, and link()s its own lock. A token whose holder
 *   died mid-takeover is never removed (removing it would race with a new holder); the next
 *   taker uses k + 1. Tokens are removed by the winner; a late taker that recreates one finds
 *   `lock.json` no longer S and gives up.
 * Moving a lock aside without a token (the simpler scheme) loses: a taker that read S can move
 * the winner's fresh lock aside, and while it is gone a third process creates its own.
 * What remains is a process frozen past staleMs (taken over, as R05 asks) waking at the very
 * moment of its takeover; its heartbeat then stops as soon as it sees the new owner's lock.
 */

import { createHash, randomBytes } from "node:crypto";
import { readFileSync, statSync, unlinkSync } from "node:fs";
import { link, readFile, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { StoreError } from "./errors.js";
import { assertRealDirs, createExclusiveSync, renameSafe } from "./safe-write.js";

export interface LockInfo {
  pid: number;
  /** /proc/<pid>/stat field 22; absent where /proc cannot be read. */
  startTime?: string;
  hostname: string;
  /** Epoch milliseconds. */
  acquiredAt: number;
  heartbeatAt: number;
  /** Fencing token (R05): new with every acquisition, so a takeover always changes it. */
  token?: string;
}

export class LockedError extends Error {
  override name = "LockedError";
}

export interface RunLock {
  info: LockInfo;
  /** The stale lock this one replaced, if any. */
  takenOver?: LockInfo;
  release(): Promise<void>;
  releaseSync(): void;
  /**
   * R05 fencing: whether this process still holds the lock. False once another process took it
   * over (this one was frozen past the heartbeat, then continued). Cheap enough to call before
   * every journal batch and agent start: a stat, and a read only when the file changed.
   */
  holds(): boolean;
  /** The owner that took the lock over, once `holds()` or the heartbeat has seen one. */
  readonly lostTo: LockInfo | undefined;
  /** Called once, when the heartbeat or `holds()` first finds the lock taken over. */
  onLost(cb: (owner: LockInfo | undefined) => void): void;
}

/** Start time of a process in clock ticks since boot (/proc/<pid>/stat field 22). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function parseLock(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as LockInfo;
    if (Number.isInteger(v?.pid) && v.pid > 0 && typeof v.heartbeatAt === "number") return v;
  } catch {}
  return undefined;
}

function staleReason(info: LockInfo, staleMs: number): string | undefined {
  if (!isPidAlive(info.pid)) return "its process is gone";
  if (pidReused(info)) return "its pid now belongs to another process";
  if (Date.now() - info.heartbeatAt > staleMs) return "its heartbeat is too old";
  return undefined;
}

function lockedMessage(runDir: string, held: LockInfo): string {
  const ago = Math.max(0, Math.round((Date.now() - held.heartbeatAt) / 1000));
  const where = held.hostname && held.hostname !== hostname() ? ` on ${held.hostname}` : "";
  const self = held.pid === process.pid && !where ? ", this process" : "";
  return (
    `run ${basename(runDir)} is locked by pid ${held.pid}${where}${self} ` +
    `(started ${new Date(held.acquiredAt).toISOString()}, last heartbeat ${ago} s ago); it is still running`
  );
}

const isCode = (e: unknown, code: string) => (e as NodeJS.ErrnoException)?.code === code;
const failure = (runDir: string, e: unknown) =>
  new StoreError(`cannot lock run ${runDir}: ${(e as Error).message}`, { cause: e });

let seq = 0;

const tempOf = (runDir: string, ext: string) =>
  join(runDir, `lock.${process.pid}.${++seq}.${randomBytes(6).toString("hex")}.${ext}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Link `mine` as lock.json, taking over a stale lock on the way (see the top of this file).
 * Returns the stale lock replaced, if any; throws LockedError while a live process holds it.
 */
async function claim(runDir: string, mine: string, staleMs: number): Promise<LockInfo | undefined> {
  const path = join(runDir, "lock.json");
  let takenOver: LockInfo | undefined;
  // A pass ends in the lock, a refusal, or another pass after a takeover step: many passes only
  // happen while another taker holds a token, which takes a few file operations.
  for (let pass = 0; pass < 300; pass++) {
    try {
      await link(mine, path);
      return takenOver;
    } catch (e) {
      if (!isCode(e, "EEXIST")) throw failure(runDir, e);
    }
    const text = await readText(runDir, path);
    if (text === undefined) continue; // Released or moved aside meanwhile: try to create it again.
    const held = parseLock(text);
    // An unreadable lock cannot have come from link() of a complete file: it is damage (a crash
    // of the machine before the data reached the disk), and nobody can be shown to hold it.
    if (held && !staleReason(held, staleMs)) throw new LockedError(lockedMessage(runDir, held));
    const token = await takeToken(runDir, mine, text);
    if (!token) {
      await sleep(Math.min(2 + pass, 20));
      continue;
    }
    try {
      if ((await readText(runDir, path)) !== text) continue; // Taken over or released already.
      const aside = join(runDir, `lock.stale.${process.pid}.${++seq}`);
      try {
        renameSafe(path, aside);
      } catch (e) {
        if (isCode(e, "ENOENT")) continue;
        throw failure(runDir, e);
      }
      const moved = await readFile(aside, "utf8").catch(() => undefined);
      if (moved === text) takenOver = held ?? { pid: 0, hostname: "", acquiredAt: 0, heartbeatAt: 0 };
      // Its owner came back to life and wrote a heartbeat in between: it holds the lock again.
      else await link(aside, path).catch(() => {});
      await unlink(aside).catch(() => {});
    } finally {
      for (const t of token.all) await unlink(t).catch(() => {});
    }
  }
  throw new LockedError(`run ${basename(runDir)} is being locked by other processes; try again`);
}

async function readText(runDir: string, path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if (isCode(e, "ENOENT")) return undefined;
    throw failure(runDir, e);
  }
}

/**
 * The takeover token for the stale lock `text`, or undefined while a live process holds it.
 * `all` lists this token and those of dead holders before it, removed once the takeover is done.
 */
async function takeToken(runDir: string, mine: string, text: string): Promise<{ all: string[] } | undefined> {
  const base = join(
    runDir,
    `lock.json.takeover.${createHash("sha256").update(text).digest("hex").slice(0, 16)}`,
  );
  const all: string[] = [];
  for (let k = 0; k < 100; k++) {
    const token = `${base}.${k}`;
    all.push(token);
    try {
      await link(mine, token);
      return { all };
    } catch (e) {
      if (!isCode(e, "EEXIST")) throw failure(runDir, e);
    }
    const held = await readText(runDir, token);
    // Removed meanwhile: that takeover is over; look at lock.json again.
    if (held === undefined) return undefined;
    const holder = parseLock(held);
    // A live holder finishes in a few file operations; its outcome decides.
    if (holder && isPidAlive(holder.pid) && !pidReused(holder)) return undefined;
    // A dead holder's token stays; the next number is free for this taker.
  }
  throw new LockedError(`run ${basename(runDir)} has too many abandoned lock takeovers; remove lock.json*`);
}

function pidReused(info: LockInfo): boolean {
  const now = processStartTime(info.pid);
  return info.startTime !== undefined && now !== undefined && now !== info.startTime;
}

export async function acquireLock(
  runDir: string,
  opts: { staleMs?: number; heartbeatMs?: number } = {},
): Promise<RunLock> {
  const staleMs = opts.staleMs ?? 30_000;
  const heartbeatMs = opts.heartbeatMs ?? 5_000;
  const path = join(runDir, "lock.json");
  const now = Date.now();
  const info: LockInfo = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    hostname: hostname(),
    acquiredAt: now,
    heartbeatAt: now,
    token: randomBytes(12).toString("hex"),
  };
  const mine = tempOf(runDir, "tmp");
  try {
    // Created, never written through a link an agent planted (safe-write.ts); the folders of the
    // run are checked on the way.
    assertRealDirs(runDir);
    createExclusiveSync(mine, JSON.stringify(info));
  } catch (e) {
    throw failure(runDir, e);
  }
  let takenOver: LockInfo | undefined;
  try {
    takenOver = await claim(runDir, mine, staleMs);
  } finally {
    await unlink(mine).catch(() => {});
  }

  let released = false;
  // Another owner in lock.json means this process was judged stale (frozen past staleMs) and taken
  // over: it must then never write or remove that owner's lock.
  const isMine = (text: string) => {
    const held = parseLock(text);
    return held?.pid === info.pid && held.acquiredAt === info.acquiredAt && held.token === info.token;
  };
  // Fencing: the inode of lock.json as this process last wrote it. A takeover link()s another
  // file there, a heartbeat renames a new one: a different inode means "read it and see".
  let ino = inodeOf(path);
  let lostTo: LockInfo | undefined;
  let lost = false;
  const lostCallbacks: ((owner: LockInfo | undefined) => void)[] = [];
  const markLost = (text: string | undefined) => {
    if (lost) return;
    lost = true;
    lostTo = text === undefined ? undefined : parseLock(text);
    clearInterval(timer);
    for (const cb of lostCallbacks.splice(0)) cb(lostTo);
  };
  const holds = (): boolean => {
    if (lost) return false;
    if (released) return true;
    const now = inodeOf(path);
    if (now !== undefined && now === ino) return true;
    let text: string | undefined;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      // Moved aside by a taker mid-takeover, or never there: not provably lost yet; the taker
      // either gives it back (our heartbeat raced it) or links its own, which the next check sees.
      return true;
    }
    if (isMine(text)) {
      ino = now;
      return true;
    }
    markLost(text);
    return false;
  };
  // A new random name per beat: a link planted at a name weft would use cannot be hit.
  let heartbeatTmp = tempOf(runDir, "hb.tmp");
  const beat = async () => {
    try {
      const text = await readFile(path, "utf8").catch(() => undefined);
      if (text !== undefined && !isMine(text)) {
        markLost(text);
        return;
      }
      info.heartbeatAt = Date.now();
      heartbeatTmp = tempOf(runDir, "hb.tmp");
      createExclusiveSync(heartbeatTmp, JSON.stringify(info));
      if (released) return;
      if (text !== undefined) {
        // Temp file and rename: a reader sees the old lock or the new one, never half of one.
        const next = inodeOf(heartbeatTmp);
        renameSafe(heartbeatTmp, path);
        ino = next;
      } else {
        // Missing: a taker has it aside. link() puts it back only if no new owner's lock is there;
        // the temp name goes at once, so the next beat's write cannot reach lock.json through it.
        const next = inodeOf(heartbeatTmp);
        await link(heartbeatTmp, path).finally(() => unlink(heartbeatTmp));
        ino = next;
      }
    } catch {
      // A missed heartbeat is retried at the next tick; staleMs allows several. Its temp file
      // (if the rename did not take it) goes; unlink removes a name, never what a link points at.
      await unlink(heartbeatTmp).catch(() => {});
    }
  };
  // The beat in progress: release waits for it, or its rename could recreate a released lock.
  let beating: Promise<void> | undefined;
  const timer = setInterval(() => {
    beating ??= beat().finally(() => {
      beating = undefined;
    });
  }, heartbeatMs);
  timer.unref();
  const readNow = () => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  };
  return {
    info,
    takenOver,
    holds,
    get lostTo() {
      return lostTo;
    },
    onLost(cb) {
      if (lost) cb(lostTo);
      else lostCallbacks.push(cb);
    },
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await beating;
      await unlink(heartbeatTmp).catch(() => {});
      const text = await readFile(path, "utf8").catch(() => undefined);
      if (text !== undefined && isMine(text)) await unlink(path).catch(() => {});
    },
    /** For exit paths. A heartbeat rename in flight may still land; its pid is then dead: stale. */
    releaseSync() {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        unlinkSync(heartbeatTmp);
      } catch {}
      const text = readNow();
      if (text !== undefined && isMine(text)) {
        try {
          unlinkSync(path);
        } catch {}
      }
    },
  };
}

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * The process that owns a run now, read from its lock (R05's rules: pid alive and the same
 * process, heartbeat fresh), or undefined when none does. A lock of another machine (a shared
 * folder) is judged by its heartbeat alone. For `weft status`, `stop`, `pause`, `logs --follow`.
 */
export function liveOwner(runDir: string, staleMs = 30_000): LockInfo | undefined {
  let held: LockInfo | undefined;
  try {
    held = parseLock(readFileSync(join(runDir, "lock.json"), "utf8"));
  } catch {
    return undefined;
  }
  if (!held) return undefined;
  if (held.hostname && held.hostname !== hostname()) {
    return Date.now() - held.heartbeatAt > staleMs ? undefined : held;
  }
  return staleReason(held, staleMs) ? undefined : held;
}
