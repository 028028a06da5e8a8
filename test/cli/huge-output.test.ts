/**
 * R01 (the run directory) with a huge answer (issue 15 item 17): the journal keeps the whole
 * value once; agents/<n>.json, results/<n>.md, the transcript, events.jsonl and final-report.md
 * keep a bounded excerpt and say where the whole value is. The script still gets all of it, and
 * `weft show --agent` still prints all of it. Through the real CLI with a command-driver agent.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { meta, project, runIdOf, weft } from "../helpers/cli.js";

const MB = 1024 * 1024;
const SIZE = 50 * MB;
/** Well above the 64 KiB excerpt, well below a second copy. */
const SMALL = 256 * 1024;

// 50 MB of numbered lines, with no newline at the end (the command driver trims trailing space).
const BIG_AGENT = `
const line = (i) => \`line \${String(i).padStart(8, "0")} \${"x".repeat(80)}\\n\`;
process.stdin.resume();
process.stdin.on("end", () => {
  const one = line(0).length;
  const chunks = [];
  let n = 0;
  for (let i = 0; n + one <= ${SIZE}; i++, n += one) chunks.push(line(i));
  let text = chunks.join("");
  text += "y".repeat(${SIZE} - text.length - 1) + "!";
  process.stdout.write(text);
});
`;

function bigProject(body: string): string {
  return project({ "big.cjs": BIG_AGENT, "flow.js": `${meta("big")}${body}` });
}

const size = (dir: string, id: string, rel: string) => statSync(join(dir, ".weft", "runs", id, rel)).size;

describe("R01 a huge answer is kept whole once, in the journal", () => {
  test("R01 a 50 MB answer: the journal holds it once, the other files an excerpt with a pointer, the script all of it", async () => {
    const dir = bigProject(
      `const a = await agent("big")\nreturn { length: a.length, last: a.slice(-3), first: a.slice(0, 13) }\n`,
    );
    const r = await weft(["run", "flow.js", "--command", "node big.cjs"], dir);
    expect(r.code, r.stderr).toBe(0);
    const id = runIdOf(r);
    const runDir = join(dir, ".weft", "runs", id);
    // The script got the whole value.
    const summary = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8"));
    expect(summary.result).toEqual({ length: SIZE, last: "yy!", first: "line 00000000" });
    // One full copy: the journal (JSON escapes each line's newline: 1 byte in 100 more).
    const journal = size(dir, id, "journal.jsonl");
    expect(journal).toBeGreaterThan(SIZE);
    expect(journal).toBeLessThan(SIZE * 1.02);
    // Every other file of the run directory is small.
    for (const rel of [
      "agents/1.json",
      "results/1.md",
      "transcripts/1.jsonl",
      "events.jsonl",
      "final-report.md",
    ]) {
      expect(size(dir, id, rel), rel).toBeLessThan(SMALL);
    }
    // ... and says where the rest is.
    const record = JSON.parse(readFileSync(join(runDir, "agents", "1.json"), "utf8"));
    expect(record.result.startsWith("line 00000000")).toBe(true);
    expect(record.result.length).toBe(64 * 1024);
    expect(record.resultTruncated).toEqual({
      chars: SIZE,
      kept: 64 * 1024,
      full: `journal.jsonl, the agent.finished record of agent 1 (weft show ${id} --agent 1 prints it)`,
    });
    expect(readFileSync(join(runDir, "results", "1.md"), "utf8")).toContain(
      `(truncated: the first 65536 of ${SIZE} characters are shown; the whole value is in journal.jsonl, the agent.finished record of agent 1`,
    );
    const transcript = readFileSync(join(runDir, "transcripts", "1.jsonl"), "utf8");
    expect(transcript).toContain("stdout past 65536 characters is not kept here");
    const exit = JSON.parse(transcript.trimEnd().split("\n").at(-1)!);
    expect(exit.cutChars).toBe(SIZE - 64 * 1024);
    // `weft show --agent` reads the whole result back from the journal.
    const shown = await weft(["show", id, "--agent", "1", "--json"], dir);
    expect(shown.code, shown.stderr).toBe(0);
    const whole = JSON.parse(shown.stdout);
    expect(whole.result.length).toBe(SIZE);
    expect(whole.result.endsWith("yy!")).toBe(true);
    expect(whole.resultTruncated).toBeUndefined();
  }, 120_000);

  test("R01 a 50 MB result of the run: events.jsonl and final-report.md keep an excerpt, run.json the whole result", async () => {
    const dir = bigProject(`return await agent("big")\n`);
    const r = await weft(["run", "flow.js", "--command", "node big.cjs"], dir);
    expect(r.code, r.stderr.slice(0, 2000)).toBe(0);
    const id = runIdOf(r);
    const runDir = join(dir, ".weft", "runs", id);
    // Before: the result twice in the run.finished event (its `result` and the summary's).
    expect(size(dir, id, "events.jsonl")).toBeLessThan(SMALL);
    expect(size(dir, id, "final-report.md")).toBeLessThan(SMALL);
    const finished = readFileSync(join(runDir, "events.jsonl"), "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((e) => e.type === "run.finished");
    expect(finished.resultTruncated.chars).toBe(SIZE);
    expect(finished.resultTruncated.full).toContain("run.json");
    // R01: run.json has the script's return value under `result`.
    expect(JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")).result.length).toBe(SIZE);
  }, 120_000);
});
