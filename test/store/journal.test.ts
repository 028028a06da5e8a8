import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { JournalWriter, readJournal } from "../../src/store/journal.js";

const tmp = () => mkdtempSync(join(tmpdir(), "weft-journal-"));
const journalPath = () => join(tmp(), "journal.jsonl");
const lines = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean);
/** These tests are about JSONL and tearing, not record shapes (R07 has its own tests). */
const RAW = { check: false } as const;
const turn = () => new Promise((r) => setImmediate(r));

describe("JournalWriter", () => {
  test("R02 appends land in the file in call order, notes and durable records interleaved", async () => {
    const path = journalPath();
    const j = await JournalWriter.open(path);
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 3000; i++) {
      if (i % 3 === 0) j.write({ i });
      else waits.push(j.append({ i }));
      if (i % 100 === 99) await turn();
    }
    await Promise.all(waits);
    await j.close();
    expect(lines(path).map((l) => JSON.parse(l).i)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  test("R02 an append resolves only once its record is written and datasynced", async () => {
    const path = journalPath();
    const j = await JournalWriter.open(path);
    let done = false;
    const p = j.append({ type: "agent.finished", n: 1 }).then(() => {
      done = true;
      // At the moment the caller learns of it, the record is in the file and a sync has finished.
      return { text: readFileSync(path, "utf8"), syncs: j.stats.syncs };
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(done).toBe(false);
    expect(readFileSync(path, "utf8")).toBe("");
    const seen = await p;
    expect(seen.text).toBe('{"type":"agent.finished","n":1}\n');
    expect(seen.syncs).toBe(1);
    await j.close();
  });

  test("R02 appends made in one tick share one write and one datasync", async () => {
    const j = await JournalWriter.open(journalPath());
    const all = Array.from({ length: 10_000 }, (_, i) => j.append({ i }));
    await Promise.all(all);
    expect(j.stats).toEqual({ records: 10_000, writes: 1, syncs: 1 });
    await j.close();
  });

  test("R02 appends made while a sync is in flight go out together in the next one", async () => {
    const path = journalPath();
    const j = await JournalWriter.open(path);
    // 200 agents each finishing 25 times, each waiting for its record before the next.
    await Promise.all(
      Array.from({ length: 200 }, async (_, a) => {
        for (let k = 0; k < 25; k++) await j.append({ a, k });
      }),
    );
    await j.close();
    expect(lines(path)).toHaveLength(5000);
    // One sync per record would be 5,000; grouping makes it about one per round of the agents.
    expect(j.stats.syncs).toBeLessThan(100);
    expect(j.stats.writes).toBe(j.stats.syncs);
  });

  test("R02 notes alone cost no datasync; they reach the file and the next flush syncs them", async () => {
    const path = journalPath();
    const j = await JournalWriter.open(path);
    for (let i = 0; i < 10; i++) j.write({ note: i });
    await turn();
    expect(lines(path)).toHaveLength(10);
    expect(j.stats.syncs).toBe(0);
    await j.flush();
    expect(j.stats.syncs).toBe(1);
    // Nothing new: flushing again does not sync again.
    await j.flush();
    expect(j.stats.syncs).toBe(1);
    await j.close();
  });

  test("R02 the same promise stands for a whole group, and flush waits for it", async () => {
    const j = await JournalWriter.open(journalPath());
    const a = j.append({ a: 1 });
    const b = j.append({ b: 1 });
    expect(a).toBe(b);
    let synced = false;
    void a.then(() => {
      synced = true;
    });
    await j.flush();
    expect(synced).toBe(true);
    expect(j.stats.syncs).toBe(1);
    // A flush during a sync, with nothing new, waits for that sync and adds none.
    const c = j.append({ c: 1 });
    await turn();
    await Promise.all([j.flush(), c]);
    expect(j.stats.syncs).toBe(2);
    await j.close();
  });

  test("R02 closeSync writes and syncs what is pending, for exit paths", async () => {
    const path = journalPath();
    const j = await JournalWriter.open(path);
    const p = j.append({ a: 1 });
    j.write({ b: 2 });
    const q = j.append({ c: 3 });
    j.closeSync();
    expect(lines(path)).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    await expect(Promise.all([p, q])).resolves.toBeDefined();
    await expect(j.append({ d: 4 })).rejects.toThrow(`journal ${path} is closed`);
    await j.close();
    expect(lines(path)).toHaveLength(3);
  });

  test("R02 closeSync while a sync is in flight keeps order and settles that group", async () => {
    const path = journalPath();
    const j = await JournalWriter.open(path);
    const first = j.append({ n: 1 });
    await turn(); // The first group is written and its datasync is in the thread pool.
    const second = j.append({ n: 2 });
    j.closeSync();
    await Promise.all([first, second]);
    expect(lines(path)).toEqual(['{"n":1}', '{"n":2}']);
  });

  test("R02 close flushes; appends after close are refused with the file named", async () => {
    const path = journalPath();
    const j = await JournalWriter.open(path);
    j.write({ a: 1 });
    void j.append({ b: 2 });
    await j.close();
    expect(lines(path)).toHaveLength(2);
    await expect(j.append({ c: 3 })).rejects.toThrow(path);
    j.write({ dropped: true });
    await j.close();
    expect(lines(path)).toHaveLength(2);
  });

  test("R02 a record JSON cannot hold throws at the call and spoils nothing", async () => {
    const path = journalPath();
    const j = await JournalWriter.open(path);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => j.append(cyclic)).toThrow(TypeError);
    await j.append({ ok: true });
    await j.close();
    expect(lines(path)).toEqual(['{"ok":true}']);
  });

  test("R02 a journal that cannot be opened is an error naming the file", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "file"), "");
    const path = join(dir, "file", "journal.jsonl");
    await expect(JournalWriter.open(path)).rejects.toThrow(`cannot open journal ${path}`);
  });

  test.skipIf(!existsSync("/dev/full"))(
    "R02 a write error rejects that append and every later one, names the file, and is never unhandled",
    async () => {
      const j = await JournalWriter.open("/dev/full");
      // An ignored promise, alone in its group: vitest fails the run on an unhandled rejection.
      void j.append({ ignored: 1 });
      await new Promise((r) => setTimeout(r, 50));
      j.write({ note: 1 });
      const p = j.append({ a: 1 });
      await expect(p).rejects.toThrow(/cannot write journal \/dev\/full: .*ENOSPC/);
      void j.append({ ignored: 2 });
      await expect(j.append({ b: 1 })).rejects.toThrow(/cannot write journal \/dev\/full/);
      expect(() => j.write({ note: 2 })).not.toThrow();
      await expect(j.flush()).rejects.toThrow(/ENOSPC/);
      await expect(j.close()).rejects.toThrow(/ENOSPC/);
      await turn();
    },
  );
});

describe("readJournal", () => {
  test("R02 a torn (unterminated) last line is skipped", async () => {
    const path = journalPath();
    writeFileSync(path, '{"a":1}\n{"a":2}\n{"a":');
    expect(await readJournal(path, RAW)).toEqual({ records: [{ a: 1 }, { a: 2 }], tornTail: true });
  });

  test("R02 an unterminated last line that happens to parse is still torn: its newline never landed", async () => {
    const path = journalPath();
    writeFileSync(path, '{"a":1}\n{"a":2}');
    expect(await readJournal(path, RAW)).toEqual({ records: [{ a: 1 }], tornTail: true });
  });

  test("R02 an unparsable terminated last line is skipped too", async () => {
    const path = journalPath();
    writeFileSync(path, '{"a":1}\n\0\0\0\0\n');
    expect(await readJournal(path, RAW)).toEqual({ records: [{ a: 1 }], tornTail: true });
  });

  test("R02 a damaged line in the middle is an error naming the file and the line", async () => {
    const path = journalPath();
    writeFileSync(path, '{"a":1}\n\n{"a":2}\nnot json\n{"a":3}\n');
    await expect(readJournal(path, RAW)).rejects.toThrow(`journal ${path} is damaged at line 4: not JSON`);
  });

  test("R02 an intact journal has no torn tail; a missing one fails with ENOENT", async () => {
    const path = journalPath();
    writeFileSync(path, '{"a":1}\n');
    expect(await readJournal(path, RAW)).toEqual({ records: [{ a: 1 }], tornTail: false });
    await expect(readJournal(`${path}.missing`, RAW)).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("R03 a cheap reader may answer lines itself; the rest are parsed", async () => {
    const path = journalPath();
    writeFileSync(path, '{"type":"x","v":1}\n{"type":"y","v":2}\n');
    const { records } = await readJournal(path, {
      ...RAW,
      cheap: (l) => (l.includes('"x"') ? { quick: true } : undefined),
    });
    expect(records).toEqual([{ quick: true }, { type: "y", v: 2 }]);
  });

  test("R03 30,000 records are read in well under 50 ms", async () => {
    const path = journalPath();
    const rec = (n: number) =>
      JSON.stringify({ type: "agent.finished", n, key: "k".repeat(64), status: "completed", result: "ok" });
    writeFileSync(path, `${Array.from({ length: 30_000 }, (_, n) => rec(n)).join("\n")}\n`);
    await readJournal(path, RAW); // Warm up the parser.
    const t0 = performance.now();
    const { records } = await readJournal(path, RAW);
    const ms = performance.now() - t0;
    expect(records).toHaveLength(30_000);
    // Generous against a busy CI machine; a per-line regression (a read or regex per line) is far above.
    expect(ms).toBeLessThan(150);
  });
});

describe("reopening a journal", () => {
  test("R02 a torn tail is cut on reopen, so the next record starts on a fresh line", async () => {
    const path = journalPath();
    let j = await JournalWriter.open(path);
    await Promise.all(Array.from({ length: 100 }, (_, i) => j.append({ i })));
    await j.close();
    const intact = statSync(path).size;
    writeFileSync(path, `${readFileSync(path, "utf8")}{"i":10`);
    expect((await readJournal(path, RAW)).tornTail).toBe(true);
    j = await JournalWriter.open(path);
    expect(statSync(path).size).toBe(intact);
    await j.append({ i: "next" });
    await j.close();
    const { records, tornTail } = await readJournal(path, RAW);
    expect(tornTail).toBe(false);
    expect(records.map((r) => r.i)).toEqual([...Array.from({ length: 100 }, (_, i) => i), "next"]);
  });

  test("R02 a torn record longer than the repair's read chunk is cut whole", async () => {
    const path = journalPath();
    const big = JSON.stringify({ result: "x".repeat(200_000) });
    writeFileSync(path, `{"a":1}\n${big.slice(0, 150_000)}`);
    const j = await JournalWriter.open(path);
    await j.append({ a: 2 });
    await j.close();
    expect(await readJournal(path, RAW)).toEqual({ records: [{ a: 1 }, { a: 2 }], tornTail: false });
  });

  test("R02 a torn first and only line leaves an empty journal", async () => {
    const path = journalPath();
    writeFileSync(path, '{"type":"run.sta');
    const j = await JournalWriter.open(path);
    await j.append({ a: 1 });
    await j.close();
    expect(readFileSync(path, "utf8")).toBe('{"a":1}\n');
  });

  test("R02 an unparsable terminated last line is cut on reopen instead of ending up in the middle", async () => {
    const path = journalPath();
    writeFileSync(path, '{"a":1}\n\0\0\0\0\n');
    const j = await JournalWriter.open(path);
    await j.append({ a: 2 });
    await j.close();
    expect(await readJournal(path, RAW)).toEqual({ records: [{ a: 1 }, { a: 2 }], tornTail: false });
  });

  test("R02 an intact journal is left as it is", async () => {
    const path = journalPath();
    writeFileSync(path, '{"a":1}\n\n');
    const j = await JournalWriter.open(path);
    await j.append({ a: 2 });
    await j.close();
    expect(readFileSync(path, "utf8")).toBe('{"a":1}\n\n{"a":2}\n');
  });
});
