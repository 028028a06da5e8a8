import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { newRunId, saveScriptCopy } from "../../dist/store/files.js";
import { JournalWriter, readJournal } from "../../dist/store/journal.js";
import { acquireLock, LockedError, processStartTime } from "../../dist/store/lock.js";

const tmp = () => mkdtempSync(join(tmpdir(), "weft-store-"));

describe("journal", () => {
  test("R02 appends keep their order; each append resolves once on disk; a torn tail is cut on reopen", async () => {
    const path = join(tmp(), "journal.jsonl");
    let j = await JournalWriter.open(path);
    await Promise.all(Array.from({ length: 1000 }, (_, i) => j.append({ i })));
    await j.close();
    writeFileSync(path, `${readFileSync(path, "utf8")}{"i":10`);
    expect((await readJournal(path)).tornTail).toBe(true);
    j = await JournalWriter.open(path);
    await j.append({ i: "next" });
    await j.close();
    const { records, tornTail } = await readJournal(path);
    expect(tornTail).toBe(false);
    expect(records.map((r) => r.i)).toEqual([...Array.from({ length: 1000 }, (_, i) => i), "next"]);
  });

  test("R02 a damaged line in the middle is an error naming the line", async () => {
    const path = join(tmp(), "journal.jsonl");
    writeFileSync(path, '{"a":1}\nnot json\n{"a":2}\n');
    await expect(readJournal(path)).rejects.toThrow(/damaged at line 2/);
  });

  test("R02 a write error reaches the caller with the file named", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "file"), "");
    await expect(JournalWriter.open(join(dir, "file", "journal.jsonl"))).rejects.toThrow(
      /cannot open journal .*file/,
    );
  });
});

describe("lock", () => {
  test("R05 a live lock is refused; one held by a dead pid, another process, or an old heartbeat is taken over", async () => {
    const dir = tmp();
    const lock = await acquireLock(dir);
    await expect(acquireLock(dir)).rejects.toBeInstanceOf(LockedError);
    await lock.release();
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    const me = processStartTime(process.pid);
    for (const stale of [
      { pid: dead, startTime: "1", heartbeatAt: Date.now() },
      { pid: process.pid, startTime: `${me}0`, heartbeatAt: Date.now() },
      { pid: process.pid, startTime: me, heartbeatAt: Date.now() - 31_000 },
    ]) {
      writeFileSync(join(dir, "lock.json"), JSON.stringify({ hostname: "h", acquiredAt: 1, ...stale }));
      const l = await acquireLock(dir);
      expect(l.takenOver?.pid).toBe(stale.pid);
      await l.release();
    }
  });

  test("R05 two takers of one stale lock: exactly one wins", async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, "lock.json"),
      JSON.stringify({ pid: 999_999, startTime: "1", hostname: "h", acquiredAt: 5, heartbeatAt: 0 }),
    );
    const results = await Promise.allSettled([acquireLock(dir), acquireLock(dir)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });
});

describe("run files", () => {
  test("R01 run ids are meta.name made safe plus six characters", () => {
    expect(newRunId("Audit Routes/v2!")).toMatch(/^audit-routes-v2--[a-z0-9]{6}$/);
  });

  test("R03 an edited script replaces the stored one; older copies are kept, numbered", async () => {
    const dir = tmp();
    await saveScriptCopy(dir, "script.js", "a");
    await saveScriptCopy(dir, "script.js", "a");
    await saveScriptCopy(dir, "script.js", "b");
    await saveScriptCopy(dir, "script.js", "c");
    expect(
      ["script.js", "script.1.js", "script.2.js"].map((f) => readFileSync(join(dir, f), "utf8")),
    ).toEqual(["c", "a", "b"]);
  });
});
