/**
 * One process drives a run at a time (SPEC R05): lock.json with pid, process start time and a
 * heartbeat. A lock is stale when its pid is gone, belongs to another process (start time
 * differs: the pid was reused), or its heartbeat is older than 30 s; a stale lock is taken over.
 */
import { readFileSync, unlinkSync } from "node:fs";
import { link, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, join } from "node:path";

export interface LockInfo {
  pid: number;
  startTime?: string;
  hostname: string;
  acquiredAt: number;
  heartbeatAt: number;
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
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function staleReason(info: LockInfo, staleMs: number): string | undefined {
  if (!isPidAlive(info.pid)) return "its process is gone";
  const now = processStartTime(info.pid);
  if (info.startTime && now && now !== info.startTime) return "its pid now belongs to another process";
  if (Date.now() - info.heartbeatAt > staleMs) return "its heartbeat is too old";
  return undefined;
}

let seq = 0;

export async function acquireLock(
  runDir: string,
  opts: { staleMs?: number; heartbeatMs?: number } = {},
): Promise<RunLock> {
  const staleMs = opts.staleMs ?? 30_000;
  const heartbeatMs = opts.heartbeatMs ?? 5_000;
  const path = join(runDir, "lock.json");
  const info: LockInfo = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    hostname: hostname(),
    acquiredAt: Date.now(),
    heartbeatAt: Date.now(),
  };
  const mine = join(runDir, `lock.${process.pid}.${++seq}.tmp`);
  await writeFile(mine, JSON.stringify(info));
  let takenOver: LockInfo | undefined;
  try {
    // link() fails if lock.json exists: creation is atomic, exactly one process wins.
    for (let tries = 0; ; tries++) {
      try {
        await link(mine, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || tries > 5) throw e;
      }
      let held: LockInfo;
      try {
        held = JSON.parse(await readFile(path, "utf8")) as LockInfo;
      } catch {
        // Unreadable or half-written by a crashed process: treat as stale.
        held = { pid: -1, hostname: "", acquiredAt: 0, heartbeatAt: 0 };
      }
      const why = held.pid > 0 ? staleReason(held, staleMs) : "it is unreadable";
      if (!why) {
        const ago = Math.round((Date.now() - held.heartbeatAt) / 1000);
        throw new LockedError(
          `run ${basename(runDir)} is locked by pid ${held.pid} (last heartbeat ${ago} s ago): it is still running`,
        );
      }
      // Take over: move the stale lock aside under a unique name; whoever moves it wins the next link().
      const aside = join(runDir, `lock.stale.${process.pid}.${++seq}`);
      try {
        await rename(path, aside);
      } catch {
        continue; // Another process moved it first; look again.
      }
      const moved = await readFile(aside, "utf8").catch(() => "");
      if (held.pid > 0 && !moved.includes(`"acquiredAt":${held.acquiredAt}`)) {
        // Between our read and our move another process took the lock over: put its lock back.
        await link(aside, path).catch(() => {});
      } else {
        takenOver = held;
      }
      await unlink(aside).catch(() => {});
    }
  } finally {
    await unlink(mine).catch(() => {});
  }

  const timer = setInterval(() => {
    info.heartbeatAt = Date.now();
    const tmp = join(runDir, `lock.${process.pid}.hb.tmp`);
    writeFile(tmp, JSON.stringify(info))
      .then(() => rename(tmp, path))
      .catch(() => {});
  }, heartbeatMs);
  timer.unref();
  let released = false;
  const owned = () => {
    try {
      return (JSON.parse(readFileSync(path, "utf8")) as LockInfo).pid === process.pid;
    } catch {
      return false;
    }
  };
  return {
    info,
    takenOver,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      if (owned()) await unlink(path).catch(() => {});
    },
    releaseSync() {
      if (released) return;
      released = true;
      clearInterval(timer);
      if (owned()) {
        try {
          unlinkSync(path);
        } catch {}
      }
    },
  };
}
