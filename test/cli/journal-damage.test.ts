/** R07: journal records are validated when read; a damaged one is refused with its line number. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { AGENT_CMD, meta, project, runIdOf, runScript, weft } from "../helpers/cli.js";

/** A finished one-agent run whose journal the tests then damage by hand. */
async function finishedRun(): Promise<{ dir: string; id: string; journal: string; lines: string[] }> {
  const dir = project({ "wf.js": `${meta()}return await agent("log:" + cwd + "/starts.log a")\n` });
  const r = await runScript(dir, "wf.js");
  expect(r.code).toBe(0);
  const id = runIdOf(r);
  const journal = join(dir, ".weft", "runs", id, "journal.jsonl");
  return { dir, id, journal, lines: readFileSync(journal, "utf8").split("\n").filter(Boolean) };
}

const starts = (dir: string) => readFileSync(join(dir, "starts.log"), "utf8").split("\n").filter(Boolean);

describe("R07 damaged journals", () => {
  test("R07 a null line, empty start and resume records, a wrong-shape agent.finished: refused with the line", async () => {
    const { dir, id, journal, lines } = await finishedRun();
    const finished = lines.findIndex((l) => l.includes('"agent.finished"'));
    const cases: { name: string; lines: string[]; line: number; says: string }[] = [
      { name: "null", lines: ["null", ...lines], line: 1, says: "not a record" },
      {
        name: "empty run.started",
        lines: ['{"type":"run.started"}', ...lines.slice(1)],
        line: 1,
        says: 'run.started: "runId" is missing',
      },
      {
        name: "empty run.resumed",
        lines: [...lines, '{"type":"run.resumed"}'],
        line: lines.length + 1,
        says: "run.resumed:",
      },
      {
        name: "wrong-shape agent.finished",
        lines: lines.map((l, i) =>
          i === finished ? '{"type":"agent.finished","n":"x","key":7,"status":"completed"}' : l,
        ),
        line: finished + 1,
        says: 'agent.finished: "n" should be a whole number >= 1, not "x"',
      },
      {
        name: "agent.finished without usage",
        lines: lines.map((l, i) => (i === finished ? l.replace(/"usage":\{[^}]*\},/, "") : l)),
        line: finished + 1,
        says: 'agent.finished: "usage" is missing',
      },
      {
        name: "unknown type",
        lines: [...lines.slice(0, 2), '{"type":"agent.teleported","n":1}', ...lines.slice(2)],
        line: 3,
        says: 'unknown record type "agent.teleported"',
      },
      {
        name: "a kill of every process (pgid 1)",
        lines: [...lines, '{"type":"agent.spawned","n":9,"attempt":1,"pgid":1}'],
        line: lines.length + 1,
        says: 'agent.spawned: "pgid" should be a process group id > 1, not 1',
      },
    ];
    for (const c of cases) {
      writeFileSync(journal, `${c.lines.join("\n")}\n`);
      const r = await weft(["resume", id, "--command", AGENT_CMD], dir);
      expect(r.code, c.name).toBe(2);
      expect(r.stderr, c.name).toContain(`cannot resume run "${id}"`);
      expect(r.stderr, c.name).toContain(`journal.jsonl is damaged at line ${c.line}: `);
      expect(r.stderr, c.name).toContain(c.says);
      expect(r.stderr, c.name).not.toMatch(/TypeError|Cannot read properties/);
      // show, status and ls read run.json: they work on a run whose journal is damaged.
      for (const args of [["show", id], ["status", id], ["ls"]]) {
        const s = await weft(args, dir);
        expect(s.code, `${c.name}: ${args[0]}`).toBe(0);
        expect(s.stdout, `${c.name}: ${args[0]}`).toContain(id);
      }
      // `weft report` renders from the journal: it names the damage instead of crashing.
      const rep = await weft(["report", id], dir);
      expect(rep.code, `${c.name}: report`).toBe(2);
      expect(rep.stderr, `${c.name}: report`).toContain(`damaged at line ${c.line}`);
    }
    // Nothing ran again in any of them.
    expect(starts(dir)).toHaveLength(1);
    // A torn last line is still skipped (R02): the intact journal resumes from the cache.
    writeFileSync(journal, `${lines.join("\n")}\n{"type":"run.resumed","at":"x","scr`);
    const r = await weft(["resume", id], dir);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`echo: log:${dir}/starts.log a`);
    expect(starts(dir)).toHaveLength(1);
  });

  test("R07 a run.resumed naming a script outside the run directory is refused, and nothing runs", async () => {
    const { dir, id, journal, lines } = await finishedRun();
    const evil = join(dir, "evil.js");
    writeFileSync(evil, `${meta()}return await agent("log:" + cwd + "/starts.log evil")\n`);
    const settings = JSON.parse(lines[0]!).settings;
    for (const script of ["../../../evil.js", evil, "..", "sub/script.js"]) {
      const resumed = {
        type: "run.resumed",
        at: "2026-01-01T00:00:00Z",
        script,
        displayPath: "wf.js",
        settings,
      };
      writeFileSync(journal, `${[...lines, JSON.stringify(resumed)].join("\n")}\n`);
      const r = await weft(["resume", id], dir);
      expect(r.code, script).toBe(2);
      expect(r.stderr, script).toContain(
        `damaged at line ${lines.length + 1}: run.resumed: "script" should be a file name inside the run directory, not ${JSON.stringify(script)}`,
      );
    }
    expect(starts(dir)).toEqual([expect.stringContaining(" a")]);
  });

  test("R07 a patch path outside patches/ and a commit that reads as a git option are refused", async () => {
    const { dir, id, journal, lines } = await finishedRun();
    const finished = lines.findIndex((l) => l.includes('"agent.finished"'));
    const withPatch = lines.map((l, i) =>
      i === finished ? l.replace('"result":', '"patch":"../../../../etc/passwd","result":') : l,
    );
    writeFileSync(journal, `${withPatch.join("\n")}\n`);
    let r = await weft(["resume", id], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `damaged at line ${finished + 1}: agent.finished: "patch" should be a path "patches/<n>.patch"`,
    );
    const start = JSON.parse(lines[0]!);
    writeFileSync(
      journal,
      `${[JSON.stringify({ ...start, base: "--output=/tmp/x" }), ...lines.slice(1)].join("\n")}\n`,
    );
    r = await weft(["resume", id], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'damaged at line 1: run.started: "base" should be a commit id (hex), not "--output=/tmp/x"',
    );
  });
});
