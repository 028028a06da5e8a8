/**
 * R01 (the run directory) against an agent that plants symbolic links in it (issue 13 item 6):
 * weft never writes through a link under .weft/, says which path it refused, and goes on where it
 * safely can. Through the real CLI, with a command-driver agent doing the planting.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { meta, project, runIdOf, weft } from "../helpers/cli.js";

const PLANT = `node ${resolve(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "plant-agent.mjs")}`;
const ORIGINAL = "the user's own file\n";

/** A folder outside the project with files that must stay as they are. */
function outside(...names: string[]): { dir: string; file: (n: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), "weft-outside-"));
  for (const n of names) writeFileSync(join(dir, n), ORIGINAL);
  return { dir, file: (n) => join(dir, n) };
}

function unchanged(out: { dir: string }, names: string[]): void {
  for (const n of names) expect(readFileSync(join(out.dir, n), "utf8"), n).toBe(ORIGINAL);
  expect(readdirSync(out.dir).sort()).toEqual([...names].sort());
}

const TWO_AGENTS = `${meta("plant")}const a = await agent("one")\nconst b = await agent("two")\nreturn { a, b }\n`;

function run(dir: string, plan: Record<number, [string, string, string?][]>, flags: string[] = []) {
  return weft(["run", "flow.js", "--command", PLANT, ...flags], dir, { PLANT: JSON.stringify(plan) });
}

describe("R01 weft never writes through a symbolic link under .weft/", () => {
  test("R01 links planted at the next agent's record, transcript, packet, result and run.json temp names are refused and reported", async () => {
    const names = ["record", "transcript", "packet", "result", "runjson", "plan", "report", "state"];
    const out = outside(...names);
    const dir = project({ "flow.js": TWO_AGENTS });
    const r = await run(dir, {
      1: [
        ["agents/2.json", out.file("record")],
        ["transcripts/2.jsonl", out.file("transcript")],
        ["packets/2.md", out.file("packet")],
        ["results/2.md", out.file("result")],
        ["plan.md", out.file("plan")],
        ["final-report.md", out.file("report")],
        // The temp names an older weft used for run.json and state.json: predictable, followed.
        ["run.json.{pid}.{k}.tmp", out.file("runjson")],
        ["state.json.{pid}.tmp", out.file("state")],
      ],
    });
    const id = runIdOf(r);
    expect(r.code, r.stderr).toBe(0);
    unchanged(out, names);
    const rd = `.weft/runs/${id}`;
    for (const rel of [
      "agents/2.json",
      "transcripts/2.jsonl",
      "packets/2.md",
      "results/2.md",
      "plan.md",
      "final-report.md",
    ]) {
      expect(r.stderr).toContain(`refusing to write through symlink ${rd}/${rel}`);
      // The link is left for the user to look at, not replaced.
      expect(lstatSync(join(dir, rd, rel)).isSymbolicLink(), rel).toBe(true);
    }
    // The run went on: both agents answered, and what could be written was.
    const summary = JSON.parse(readFileSync(join(dir, rd, "run.json"), "utf8"));
    expect(summary.status).toBe("completed");
    expect(summary.result).toEqual({ a: "planted 8", b: "planted 0" });
    expect(JSON.parse(readFileSync(join(dir, rd, "agents", "1.json"), "utf8")).status).toBe("completed");
    expect(readFileSync(join(dir, rd, "results", "1.md"), "utf8")).toContain("planted 8");
  });

  test("R01 hard links planted at the next agent's record, transcript and result are refused, the files unchanged", async () => {
    const names = ["record", "transcript", "result"];
    const out = outside(...names);
    const dir = project({ "flow.js": TWO_AGENTS });
    const r = await run(dir, {
      1: [
        ["agents/2.json", out.file("record"), "hardlink"],
        ["transcripts/2.jsonl", out.file("transcript"), "hardlink"],
        ["results/2.md", out.file("result"), "hardlink"],
      ],
    });
    const id = runIdOf(r);
    expect(r.code, r.stderr).toBe(0);
    for (const n of names) expect(readFileSync(out.file(n), "utf8"), n).toBe(ORIGINAL);
    for (const rel of ["agents/2.json", "transcripts/2.jsonl", "results/2.md"]) {
      expect(r.stderr).toContain(`.weft/runs/${id}/${rel}: it has 2 names`);
    }
  });

  test("R01 an agents/ folder replaced by a link to a folder elsewhere gets no records; the run completes", async () => {
    const out = outside();
    const dir = project({ "flow.js": TWO_AGENTS });
    const r = await run(dir, { 1: [["agents", out.dir, "replace"]] });
    const id = runIdOf(r);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out.dir)).toEqual([]);
    expect(r.stderr).toContain(`refusing to write through symlink .weft/runs/${id}/agents`);
    // The journal, the record of truth, has both agents.
    const journal = readFileSync(join(dir, ".weft", "runs", id, "journal.jsonl"), "utf8");
    expect(journal.split("\n").filter((l) => l.includes('"agent.finished"'))).toHaveLength(2);
  });

  test("R01 a link at the next agent's prompt file fails that agent with the reason, not the file elsewhere", async () => {
    const out = outside("prompt");
    const dir = project({ "flow.js": TWO_AGENTS });
    const r = await run(dir, { 1: [["tasks/2-1.prompt.txt", out.file("prompt")]] });
    const id = runIdOf(r);
    unchanged(out, ["prompt"]);
    expect(r.stderr).toContain(`refusing to write through symlink .weft/runs/${id}/tasks/2-1.prompt.txt`);
    const record = JSON.parse(readFileSync(join(dir, ".weft", "runs", id, "agents", "2.json"), "utf8"));
    expect(record.status).toBe("failed");
    expect(record.error).toContain("refusing to write through symlink");
  });

  test("R01 an events.jsonl replaced by a link is not written on resume, and the resume says so", async () => {
    const out = outside("events");
    const dir = project({ "flow.js": TWO_AGENTS });
    const r = await run(dir, { 1: [["events.jsonl", out.file("events"), "replace"]] });
    const id = runIdOf(r);
    expect(r.code, r.stderr).toBe(0);
    const again = await weft(["resume", id, "--command", PLANT], dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`refusing to write through symlink .weft/runs/${id}/events.jsonl`);
    unchanged(out, ["events"]);
  });

  test("R01 a journal swapped for a link while the run goes on stops the run with the reason; nothing is written through it", async () => {
    const out = outside();
    const dir = project({ "flow.js": TWO_AGENTS });
    // The agent moves the journal out of the project and links to it: the records would go to a
    // file elsewhere, and a resume would refuse the link.
    const r = await run(dir, { 1: [["journal.jsonl", join(out.dir, "journal"), "move"]] });
    const id = runIdOf(r);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("replaced by a symbolic link while the run went on");
    const moved = readFileSync(join(out.dir, "journal"), "utf8");
    // What weft wrote before the swap is there; nothing after it (agent 1's end) went through.
    expect(moved).toContain('"run.started"');
    expect(moved).not.toContain('"agent.finished"');
    // And a resume refuses the link rather than read or write through it.
    const again = await weft(["resume", id, "--command", PLANT], dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("symbolic link");
    expect(readFileSync(join(out.dir, "journal"), "utf8")).toBe(moved);
  });
});

describe("R01 a run directory or journal that is a link is refused (exit 2, E02)", () => {
  async function finishedRun(): Promise<{ dir: string; id: string; runDir: string }> {
    const dir = project({ "flow.js": `${meta("plant")}return await agent("one")\n` });
    const r = await run(dir, {});
    expect(r.code, r.stderr).toBe(0);
    const id = runIdOf(r);
    return { dir, id, runDir: join(dir, ".weft", "runs", id) };
  }

  test("R01 resume of a run whose directory is a link to a folder elsewhere is refused and writes nothing there", async () => {
    const { dir, id, runDir } = await finishedRun();
    const out = outside();
    const moved = join(out.dir, "run");
    renameSync(runDir, moved);
    symlinkSync(moved, runDir);
    const before = readdirSync(moved).sort();
    const journal = readFileSync(join(moved, "journal.jsonl"), "utf8");
    const r = await weft(["resume", id, "--command", PLANT], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`refusing to use run directory .weft/runs/${id}`);
    expect(r.stderr).toContain("is a symbolic link");
    expect(readdirSync(moved).sort()).toEqual(before);
    expect(readFileSync(join(moved, "journal.jsonl"), "utf8")).toBe(journal);
  });

  test("R01 resume of a run whose journal is a link is refused and the file it points at is unchanged", async () => {
    const { dir, id, runDir } = await finishedRun();
    const out = outside();
    const target = join(out.dir, "journal.jsonl");
    renameSync(join(runDir, "journal.jsonl"), target);
    symlinkSync(target, join(runDir, "journal.jsonl"));
    const journal = readFileSync(target, "utf8");
    const r = await weft(["resume", id, "--command", PLANT], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("symbolic link");
    expect(readFileSync(target, "utf8")).toBe(journal);
    expect(readdirSync(out.dir)).toEqual(["journal.jsonl"]);
  });

  test("R01 a .weft/runs that is a link refuses a new run before anything is written (exit 2)", async () => {
    const out = outside();
    const dir = project({ "flow.js": `${meta("plant")}return 1\n` });
    mkdirSync(join(dir, ".weft"));
    symlinkSync(out.dir, join(dir, ".weft", "runs"));
    const r = await run(dir, {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("refusing to write through symlink .weft/runs");
    expect(readdirSync(out.dir)).toEqual([]);
    expect(existsSync(join(dir, ".weft", "runs", "x"))).toBe(false);
  });
});
