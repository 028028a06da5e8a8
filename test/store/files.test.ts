import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  AmbiguousRunError,
  createRunDir,
  ensureRunsDir,
  findRun,
  listRuns,
  newRunId,
  readRunJson,
  runDirPath,
  StoreError,
  saveScriptCopy,
  writeJsonAtomic,
  writeJsonAtomicSync,
} from "../../src/store/files.js";

const tmp = () => mkdtempSync(join(tmpdir(), "weft-files-"));

describe("run ids", () => {
  test("R01 a run id is the name lowercased, other characters made '-', then '-' and 6 of [a-z0-9]", () => {
    expect(newRunId("Audit Routes/v2!")).toMatch(/^audit-routes-v2--[a-z0-9]{6}$/);
    expect(newRunId("fix_bug-1.2")).toMatch(/^fix_bug-1\.2-[a-z0-9]{6}$/);
    expect(newRunId("Café ünï")).toMatch(/^caf---n--[a-z0-9]{6}$/);
  });

  test("R01 leading '.' and '-' are removed, and a name with nothing left gives 'run'", () => {
    expect(newRunId("")).toMatch(/^run-[a-z0-9]{6}$/);
    expect(newRunId("日本語")).toMatch(/^run-[a-z0-9]{6}$/);
    expect(newRunId("ünïcødé")).toMatch(/^n-c-d--[a-z0-9]{6}$/);
    expect(newRunId(".hidden")).toMatch(/^hidden-[a-z0-9]{6}$/);
    expect(newRunId("-.-x")).toMatch(/^x-[a-z0-9]{6}$/);
    expect(newRunId("...")).toMatch(/^run-[a-z0-9]{6}$/);
  });

  test("R01 the six characters are random", () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newRunId("x").slice(2)));
    expect(ids.size).toBeGreaterThan(1990);
    const chars = new Set([...ids].join(""));
    // Every one of the 36 characters turns up in 12,000 draws.
    expect(chars.size).toBe(36);
  });
});

describe("atomic JSON", () => {
  test("R01 run.json is written as pretty JSON with a trailing newline, replacing the old file", async () => {
    const dir = tmp();
    const path = join(dir, "run.json");
    writeFileSync(path, "old");
    await writeJsonAtomic(path, { id: "a", agents: { completed: 1 } });
    expect(readFileSync(path, "utf8")).toBe('{\n  "id": "a",\n  "agents": {\n    "completed": 1\n  }\n}\n');
    await writeJsonAtomic(path, [1], { sync: false });
    expect(readFileSync(path, "utf8")).toBe("[\n  1\n]\n");
    writeJsonAtomicSync(path, { done: true });
    expect(readFileSync(path, "utf8")).toBe('{\n  "done": true\n}\n');
    expect(readdirSync(dir)).toEqual(["run.json"]);
  });

  test("R01 a reader never sees a half-written run.json", async () => {
    const path = join(tmp(), "run.json");
    const big = (i: number) => ({
      i,
      agents: Array.from({ length: 5000 }, (_, n) => ({ n, status: "completed" })),
    });
    await writeJsonAtomic(path, big(0));
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        // Would throw on an empty or truncated file.
        JSON.parse(readFileSync(path, "utf8"));
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 1; i <= 30; i++) await writeJsonAtomic(path, big(i), { sync: false });
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(10);
    expect(JSON.parse(readFileSync(path, "utf8")).i).toBe(30);
  });

  test("R01 a failed atomic write leaves no temp file and names the path", async () => {
    const dir = tmp();
    mkdirSync(join(dir, "run.json"));
    await expect(writeJsonAtomic(join(dir, "run.json"), {})).rejects.toThrow(join(dir, "run.json"));
    expect(() => writeJsonAtomicSync(join(dir, "run.json"), {})).toThrow(join(dir, "run.json"));
    expect(readdirSync(dir)).toEqual(["run.json"]);
  });
});

describe("run directories", () => {
  test("R01 .weft/runs is created in the directory given, and a run has agents/, transcripts/, tasks/", async () => {
    const cwd = tmp();
    const weft = await ensureRunsDir(cwd);
    expect(weft).toBe(join(cwd, ".weft"));
    expect(statSync(join(weft, "runs")).isDirectory()).toBe(true);
    // Idempotent.
    expect(await ensureRunsDir(cwd)).toBe(weft);
    const dir = await createRunDir(weft, "demo-abc123");
    expect(dir).toBe(runDirPath(weft, "demo-abc123"));
    expect(dir).toBe(join(weft, "runs", "demo-abc123"));
    for (const sub of ["agents", "transcripts", "tasks"])
      expect(statSync(join(dir, sub)).isDirectory()).toBe(true);
  });

  test("E02 a file named .weft is a StoreError that names it and says what is wrong", async () => {
    const cwd = tmp();
    writeFileSync(join(cwd, ".weft"), "");
    const err = await ensureRunsDir(cwd).catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toBe(`cannot create run directory: ${join(cwd, ".weft")} is a file, not a directory`);
  });

  test("E02 a file named .weft/runs is a StoreError that names it", async () => {
    const cwd = tmp();
    mkdirSync(join(cwd, ".weft"));
    writeFileSync(join(cwd, ".weft", "runs"), "");
    const err = await ensureRunsDir(cwd).catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toBe(
      `cannot create run directory: ${join(cwd, ".weft", "runs")} is a file, not a directory`,
    );
  });

  test("E02 a file where a run's folder should be is a StoreError that names it", async () => {
    const weft = await ensureRunsDir(tmp());
    mkdirSync(join(weft, "runs", "r-1"));
    writeFileSync(join(weft, "runs", "r-1", "agents"), "");
    const err = await createRunDir(weft, "r-1").catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain(`${join(weft, "runs", "r-1", "agents")} is a file, not a directory`);
  });

  test("R03 an edited script replaces the stored one; older copies are kept, numbered", async () => {
    const dir = tmp();
    const path = await saveScriptCopy(dir, "script.ts", "a");
    expect(path).toBe(join(dir, "script.ts"));
    await saveScriptCopy(dir, "script.ts", "a"); // Unchanged: no copy.
    await saveScriptCopy(dir, "script.ts", "b");
    await saveScriptCopy(dir, "script.ts", "c");
    expect(readdirSync(dir).sort()).toEqual(["script.1.ts", "script.2.ts", "script.ts"]);
    expect(
      ["script.ts", "script.1.ts", "script.2.ts"].map((f) => readFileSync(join(dir, f), "utf8")),
    ).toEqual(["c", "a", "b"]);
  });

  test("R03 a numbered copy takes the next free number and never overwrites one", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "script.1.js"), "kept");
    await saveScriptCopy(dir, "script.js", "a");
    await saveScriptCopy(dir, "script.js", "b");
    expect(readFileSync(join(dir, "script.1.js"), "utf8")).toBe("kept");
    expect(readFileSync(join(dir, "script.2.js"), "utf8")).toBe("a");
    // A name without an extension is numbered at its end.
    await saveScriptCopy(dir, "script", "x");
    await saveScriptCopy(dir, "script", "y");
    expect(readFileSync(join(dir, "script.1"), "utf8")).toBe("x");
  });
});

describe("finding runs", () => {
  const setup = async () => {
    const weft = await ensureRunsDir(tmp());
    const run = async (id: string, summary?: object | string) => {
      const dir = await createRunDir(weft, id);
      if (typeof summary === "string") writeFileSync(join(dir, "run.json"), summary);
      else if (summary) await writeJsonAtomic(join(dir, "run.json"), summary);
    };
    await run("build-aaaaaa", { id: "build-aaaaaa", startedAt: "2025-01-02T00:00:00.000Z" });
    await run("build-aabbbb", { id: "build-aabbbb", startedAt: "2025-03-01T00:00:00.000Z" });
    await run("audit-cccccc", { id: "audit-cccccc", startedAt: "2025-02-01T00:00:00.000Z" });
    await run("empty-dddddd");
    await run("broken-eeeeee", "{not json");
    return weft;
  };

  test("U01 runs are listed newest first; folders without a readable run.json are skipped", async () => {
    const weft = await setup();
    expect((await listRuns(weft)).map((r) => r.id)).toEqual(["build-aabbbb", "audit-cccccc", "build-aaaaaa"]);
    expect(await listRuns(join(tmp(), ".weft"))).toEqual([]);
  });

  test("U01 run.json is read back, or undefined when there is none", async () => {
    const weft = await setup();
    expect(await readRunJson(runDirPath(weft, "audit-cccccc"))).toMatchObject({ id: "audit-cccccc" });
    expect(await readRunJson(runDirPath(weft, "empty-dddddd"))).toBeUndefined();
    expect(await readRunJson(runDirPath(weft, "nope"))).toBeUndefined();
  });

  test("R07 a run is found by exact id or unique prefix; unknown finds nothing; ambiguous names the matches", async () => {
    const weft = await setup();
    expect(await findRun(weft, "audit-cccccc")).toBe(runDirPath(weft, "audit-cccccc"));
    expect(await findRun(weft, "au")).toBe(runDirPath(weft, "audit-cccccc"));
    expect(await findRun(weft, "build-aab")).toBe(runDirPath(weft, "build-aabbbb"));
    await expect(findRun(weft, "build-aa")).rejects.toThrow(
      /run id "build-aa" is ambiguous: 2 runs start with it \(build-aa\w{4}, build-aa\w{4}\); give more of the id/,
    );
    await expect(findRun(weft, "build-aa")).rejects.toBeInstanceOf(AmbiguousRunError);
    expect(await findRun(weft, "nope")).toBeUndefined();
    expect(await findRun(weft, "")).toBeUndefined();
    expect(await findRun(weft, "../runs/audit-cccccc")).toBeUndefined();
    expect(await findRun(join(tmp(), ".weft"), "x")).toBeUndefined();
  });

  test("R01 `last` names the newest run by its start, unless a run is called that", async () => {
    const weft = await setup();
    expect(await findRun(weft, "last")).toBe(runDirPath(weft, "build-aabbbb"));
    expect(await findRun(join(tmp(), ".weft"), "last")).toBeUndefined();
    await createRunDir(weft, "last");
    expect(await findRun(weft, "last")).toBe(runDirPath(weft, "last"));
  });

  test("R07 an exact id wins over being the prefix of another id", async () => {
    const weft = await ensureRunsDir(tmp());
    await createRunDir(weft, "a-111111");
    await createRunDir(weft, "a-111111x");
    expect(await findRun(weft, "a-111111")).toBe(runDirPath(weft, "a-111111"));
  });
});
