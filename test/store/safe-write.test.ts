/** R01: the rules every write under .weft/ follows (src/store/safe-write.ts), one by one. */
import { execFileSync } from "node:child_process";
import {
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  ensureDir,
  isUnsafePath,
  openAppendSync,
  writeFileAtomic,
  writeFileAtomicSync,
  writeFileInPlaceSync,
} from "../../src/store/safe-write.js";

const ORIGINAL = "mine\n";

function setup() {
  const project = mkdtempSync(join(tmpdir(), "weft-sw-"));
  const outside = mkdtempSync(join(tmpdir(), "weft-sw-out-"));
  const victim = join(outside, "victim");
  writeFileSync(victim, ORIGINAL);
  const run = join(project, ".weft", "runs", "r-1");
  mkdirSync(join(run, "agents"), { recursive: true });
  return { project, outside, victim, run };
}

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(isUnsafePath(e), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("not refused");
};

describe("R01 safe writes under .weft/", () => {
  test("R01 a link at the file is refused by every kind of write, and the file it points at is unchanged", async () => {
    const { run, victim } = setup();
    const at = join(run, "agents", "1.json");
    symlinkSync(victim, at);
    const msg = "refusing to write through symlink .weft/runs/r-1/agents/1.json";
    expect(refusal(() => writeFileInPlaceSync(at, "x"))).toBe(msg);
    expect(refusal(() => writeFileAtomicSync(at, "x"))).toBe(msg);
    expect(refusal(() => openAppendSync(at))).toBe(msg);
    await expect(writeFileAtomic(at, "x")).rejects.toThrow(msg);
    expect(readFileSync(victim, "utf8")).toBe(ORIGINAL);
    expect(lstatSync(at).isSymbolicLink()).toBe(true);
  });

  test("R01 a link anywhere from .weft down to the file's folder is refused, .weft itself included", () => {
    const { project, run, outside, victim } = setup();
    const agents = join(run, "agents");
    execFileSync("rm", ["-rf", agents]);
    symlinkSync(outside, agents);
    expect(refusal(() => writeFileInPlaceSync(join(agents, "1.json"), "x"))).toBe(
      "refusing to write through symlink .weft/runs/r-1/agents",
    );
    expect(refusal(() => ensureDir(join(agents, "deeper")))).toContain("symlink .weft/runs/r-1/agents");
    expect(readdirSync(outside)).toEqual(["victim"]);
    expect(readFileSync(victim, "utf8")).toBe(ORIGINAL);
    // .weft itself a link: refused too.
    const other = mkdtempSync(join(tmpdir(), "weft-sw-"));
    symlinkSync(join(project, ".weft"), join(other, ".weft"));
    expect(refusal(() => ensureDir(join(other, ".weft", "runs")))).toBe(
      "refusing to write through symlink .weft",
    );
  });

  test("R01 a hard link to a file elsewhere is replaced by an atomic write and refused by the others", () => {
    const { run, victim } = setup();
    const at = join(run, "agents", "1.json");
    linkSync(victim, at);
    expect(refusal(() => writeFileInPlaceSync(at, "x"))).toContain("it has 2 names");
    expect(refusal(() => openAppendSync(at))).toContain("it has 2 names");
    expect(readFileSync(victim, "utf8")).toBe(ORIGINAL);
    // A rename replaces the name: the other name keeps the old content.
    writeFileAtomicSync(at, "new\n");
    expect(readFileSync(at, "utf8")).toBe("new\n");
    expect(readFileSync(victim, "utf8")).toBe(ORIGINAL);
  });

  test("R01 a FIFO where an appended file should be is refused at once instead of hanging", () => {
    const { run } = setup();
    const at = join(run, "events.jsonl");
    execFileSync("mkfifo", [at]);
    expect(refusal(() => openAppendSync(at))).toContain("not a regular file");
  });

  test("R01 mkdir -p makes the missing folders, and an existing file written in place loses its old content", () => {
    const { run } = setup();
    ensureDir(join(run, "packets"));
    expect(lstatSync(join(run, "packets")).isDirectory()).toBe(true);
    const at = join(run, "packets", "1.md");
    writeFileInPlaceSync(at, "a long first version\n");
    writeFileInPlaceSync(at, "short\n");
    expect(readFileSync(at, "utf8")).toBe("short\n");
    // No temp files are left beside atomic writes.
    writeFileAtomicSync(join(run, "run.json"), "{}\n");
    expect(readdirSync(run).sort()).toEqual(["agents", "packets", "run.json"]);
  });

  test("R01 folders outside any .weft (the user's own, which may be links) are not checked", () => {
    const { outside } = setup();
    const home = mkdtempSync(join(tmpdir(), "weft-sw-home-"));
    symlinkSync(outside, join(home, "config"));
    writeFileAtomicSync(join(home, "config", "saved.js"), "x");
    expect(readFileSync(join(outside, "saved.js"), "utf8")).toBe("x");
  });
});
