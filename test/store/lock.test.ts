import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { StoreError } from "../../src/store/files.js";
import {
  acquireLock,
  isPidAlive,
  LockedError,
  type LockInfo,
  processStartTime,
  type RunLock,
} from "../../src/store/lock.js";

const tmp = () => mkdtempSync(join(tmpdir(), "weft-lock-"));
const lockFile = (dir: string) => join(dir, "lock.json");
const readLock = (dir: string) => JSON.parse(readFileSync(lockFile(dir), "utf8")) as LockInfo;
const writeLock = (dir: string, info: Partial<LockInfo>) =>
  writeFileSync(
    lockFile(dir),
    JSON.stringify({ hostname: hostname(), acquiredAt: 1_000, heartbeatAt: Date.now(), ...info }),
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The pid of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;

const held: RunLock[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const l of held.splice(0)) await l.release();
  for (const c of children.splice(0)) c.kill("SIGKILL");
});
const acquire = async (dir: string, opts?: Parameters<typeof acquireLock>[1]) => {
  const l = await acquireLock(dir, opts);
  held.push(l);
  return l;
};
/** A live process other than this one, and its start time. */
const liveOther = () => {
  const c = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  children.push(c);
  return { pid: c.pid!, startTime: processStartTime(c.pid!) };
};

describe("process identity", () => {
  test("R05 start times come from /proc; a dead pid has none and is not alive", () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(isPidAlive(process.pid)).toBe(true);
    const dead = deadPid();
    expect(isPidAlive(dead)).toBe(false);
    expect(processStartTime(dead)).toBeUndefined();
  });

  test("R05 pid 1 is alive even when signalling it is not allowed (EPERM)", () => {
    expect(isPidAlive(1)).toBe(true);
  });
});

describe("acquireLock", () => {
  test("R05 the lock records pid, start time, host, acquisition and heartbeat", async () => {
    const dir = tmp();
    const lock = await acquire(dir);
    expect(readLock(dir)).toEqual(lock.info);
    expect(lock.info).toMatchObject({
      pid: process.pid,
      startTime: processStartTime(process.pid),
      hostname: hostname(),
    });
    expect(lock.takenOver).toBeUndefined();
    // Only lock.json is left: the temp file it was linked from is gone.
    expect(readdirSync(dir)).toEqual(["lock.json"]);
  });

  test("R05 a second acquisition by the same process is refused", async () => {
    const dir = tmp();
    await acquire(dir);
    const err = await acquireLock(dir).catch((e) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect(err.message).toMatch(
      new RegExp(
        `^run ${basename(dir)} is locked by pid ${process.pid}, this process \\(started .*Z, last heartbeat 0 s ago\\); it is still running$`,
      ),
    );
  });

  test("R05 a lock held by another live process is refused, naming its pid and heartbeat age", async () => {
    const dir = tmp();
    const other = liveOther();
    writeLock(dir, { ...other, heartbeatAt: Date.now() - 2_000 });
    const err = await acquireLock(dir).catch((e) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect(err.message).toContain(`run ${basename(dir)} is locked by pid ${other.pid} (started `);
    expect(err.message).toContain("last heartbeat 2 s ago); it is still running");
    expect(readLock(dir).pid).toBe(other.pid);
  });

  test("R05 a lock whose pid is dead is taken over at once", async () => {
    const dir = tmp();
    const pid = deadPid();
    writeLock(dir, { pid, startTime: "1" });
    const lock = await acquire(dir);
    expect(lock.takenOver?.pid).toBe(pid);
    expect(readLock(dir).pid).toBe(process.pid);
  });

  test("R05 a lock whose pid now belongs to another process (start time differs) is taken over", async () => {
    const dir = tmp();
    const other = liveOther();
    writeLock(dir, { pid: other.pid, startTime: `${other.startTime}7` });
    const lock = await acquire(dir);
    expect(lock.takenOver?.pid).toBe(other.pid);
  });

  test("R05 a lock whose heartbeat is older than 30 s is taken over, though its process lives", async () => {
    const dir = tmp();
    const other = liveOther();
    writeLock(dir, { ...other, heartbeatAt: Date.now() - 29_000 });
    await expect(acquireLock(dir)).rejects.toBeInstanceOf(LockedError);
    writeLock(dir, { ...other, heartbeatAt: Date.now() - 31_000 });
    const lock = await acquire(dir);
    expect(lock.takenOver?.pid).toBe(other.pid);
  });

  test("R05 a dead pid makes a lock stale whatever host name it records", async () => {
    const dir = tmp();
    writeLock(dir, { pid: deadPid(), hostname: "elsewhere.example" });
    expect((await acquire(dir)).takenOver?.hostname).toBe("elsewhere.example");
  });

  test("R05 an unreadable lock file is taken over", async () => {
    const dir = tmp();
    writeFileSync(lockFile(dir), '{"pid":');
    const lock = await acquire(dir);
    expect(lock.takenOver).toBeDefined();
    expect(readLock(dir).pid).toBe(process.pid);
  });

  test("R05 takers racing for one stale lock: exactly one wins, the rest are refused", async () => {
    for (let round = 0; round < 20; round++) {
      const dir = tmp();
      writeLock(dir, { pid: deadPid(), startTime: "1", acquiredAt: round });
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => acquireLock(dir)));
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(LockedError);
      const lock = (won[0] as PromiseFulfilledResult<RunLock>).value;
      held.push(lock);
      expect(readLock(dir)).toEqual(lock.info);
      // Nothing of the losers is left behind.
      expect(readdirSync(dir)).toEqual(["lock.json"]);
    }
  });

  test("R05 a takeover abandoned by a dead taker does not block the next one", async () => {
    const dir = tmp();
    writeLock(dir, { pid: deadPid(), startTime: "1" });
    const token = `${lockFile(dir)}.takeover.${createHash("sha256")
      .update(readFileSync(lockFile(dir)))
      .digest("hex")
      .slice(0, 16)}`;
    writeFileSync(
      `${token}.0`,
      JSON.stringify({ pid: deadPid(), hostname: hostname(), acquiredAt: 1, heartbeatAt: 1 }),
    );
    const lock = await acquire(dir);
    expect(lock.takenOver).toBeDefined();
    expect(readdirSync(dir)).toEqual(["lock.json"]);
  });

  test("R05 while a live taker holds the takeover, others wait for its outcome", async () => {
    const dir = tmp();
    writeLock(dir, { pid: deadPid(), startTime: "1" });
    const token = `${lockFile(dir)}.takeover.${createHash("sha256")
      .update(readFileSync(lockFile(dir)))
      .digest("hex")
      .slice(0, 16)}.0`;
    const other = liveOther();
    writeFileSync(token, JSON.stringify({ ...other, hostname: hostname(), acquiredAt: 1, heartbeatAt: 1 }));
    let settled = false;
    const waiting = acquireLock(dir).finally(() => {
      settled = true;
    });
    await sleep(100);
    expect(settled).toBe(false);
    // The other taker gives up (its token goes); the stale lock is still there to take.
    unlinkSync(token);
    const lock = await waiting;
    held.push(lock);
    expect(lock.takenOver?.startTime).toBe("1");
  });

  test("R05 takers racing for a free run: exactly one wins", async () => {
    const dir = tmp();
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => acquireLock(dir)));
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    held.push((won[0] as PromiseFulfilledResult<RunLock>).value);
  });

  test("R05 the heartbeat keeps the lock fresh", async () => {
    const dir = tmp();
    const lock = await acquire(dir, { heartbeatMs: 20 });
    const first = readLock(dir).heartbeatAt;
    await sleep(150);
    const later = readLock(dir);
    expect(later.heartbeatAt).toBeGreaterThan(first);
    expect(later.acquiredAt).toBe(lock.info.acquiredAt);
    // With a short staleMs, a lock without heartbeat would be stale by now; this one is not.
    await expect(acquireLock(dir, { staleMs: 100 })).rejects.toBeInstanceOf(LockedError);
  });

  test("R05 release removes the lock, so the run can be locked again", async () => {
    const dir = tmp();
    const a = await acquireLock(dir, { heartbeatMs: 10 });
    await sleep(50);
    await a.release();
    expect(readdirSync(dir)).toEqual([]);
    const b = await acquireLock(dir);
    b.releaseSync();
    expect(existsSync(lockFile(dir))).toBe(false);
  });

  test("R05 a process that was taken over neither heartbeats into nor removes the new owner's lock", async () => {
    const dir = tmp();
    const old = await acquire(dir, { heartbeatMs: 10 });
    const other = liveOther();
    writeLock(dir, { ...other, acquiredAt: 42 });
    const theirs = readFileSync(lockFile(dir), "utf8");
    await sleep(60);
    expect(readFileSync(lockFile(dir), "utf8")).toBe(theirs);
    await old.release();
    expect(readFileSync(lockFile(dir), "utf8")).toBe(theirs);
  });

  test("R05 a run directory that cannot hold a lock is a StoreError naming it", async () => {
    const dir = join(tmp(), "missing");
    const err = await acquireLock(dir).catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain(`cannot lock run ${dir}`);
  });
});
