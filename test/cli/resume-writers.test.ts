/**
 * R03: a cached answer is never stale. Each call records the writers that had finished when it
 * was made; on resume it runs again when one of them ran again (or its key changed, or the
 * script no longer calls it). `resume: "prefix"` gives Claude Code's rule instead.
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { gitProject, journal, meta, project, runIdOf, runScript, weft } from "../helpers/cli.js";

/** The prompts the fixture agent started with (its `log:` directive), in order. */
function starts(dir: string, file = "starts.log"): string[] {
  const path = join(dir, file);
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.replace(/^start \d+ log:\S+ /, ""));
}

function clearLog(dir: string, file = "starts.log"): void {
  writeFileSync(join(dir, file), "");
}

// The example: a writer whose prompt depends on the args, then a reader.
const WRITER_READER = `${meta()}const fix = await agent("log:" + cwd + "/starts.log fix X for " + args.v)
const report = await agent("log:" + cwd + "/starts.log run the tests and report")
return { fix, report }\n`;

describe("R03 writer rule", () => {
  test("R03 resumed with other args, the reader after a writer that ran again runs again", async () => {
    const dir = project({ "wf.js": WRITER_READER });
    const first = await runScript(dir, "wf.js", ["--args", '{"v":1}']);
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first);
    expect(starts(dir)).toEqual(["fix X for 1", "run the tests and report"]);

    clearLog(dir);
    const r = await weft(["resume", id, "--args", '{"v":2}'], dir);
    expect(r.code, r.stderr).toBe(0);
    // The writer's key changed, so it ran; the reader saw the old tree, so it runs again too.
    expect(starts(dir)).toEqual(["fix X for 2", "run the tests and report"]);
    expect(r.stderr).toMatch(/runs again although its answer is cached/);

    // Nothing changed since: both are served from the cache.
    clearLog(dir);
    const again = await weft(["resume", id], dir);
    expect(again.code, again.stderr).toBe(0);
    expect(starts(dir)).toEqual([]);
    expect(JSON.parse(again.stdout).report).toMatch(/run the tests and report$/);

    // Back to the first args: that writer's old answer is cached, but the reader's latest answer
    // saw the other writer, so the reader runs again.
    clearLog(dir);
    const back = await weft(["resume", id, "--args", '{"v":1}'], dir);
    expect(back.code, back.stderr).toBe(0);
    expect(starts(dir)).toEqual(["run the tests and report"]);
  });

  test("R03 with the writer unchanged, the reader is served from the cache", async () => {
    const dir = project({ "wf.js": WRITER_READER });
    const first = await runScript(dir, "wf.js", ["--args", '{"v":1}']);
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first);
    clearLog(dir);
    const r = await weft(["resume", id], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(starts(dir)).toEqual([]);
    expect(r.stderr.match(/cached #/g)).toHaveLength(2);
  });

  test("R03 an edited reader runs again alone; an edited writer takes the readers after it along", async () => {
    const script = (w: string, rd: string) =>
      `${meta()}const a = await agent("log:" + cwd + "/starts.log ${w}")
const b = await agent("log:" + cwd + "/starts.log ${rd}")
const c = await agent("log:" + cwd + "/starts.log last")
return [a, b, c]\n`;
    const dir = project({ "wf.js": script("writer", "reader") });
    const first = await runScript(dir, "wf.js");
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first);
    // The middle call edited: it runs, and (being a command agent, so a writer) the call after it.
    clearLog(dir);
    writeFileSync(join(dir, "wf.js"), script("writer", "reader, edited"));
    let r = await runScript(dir, "wf.js", ["--resume", id]);
    expect(r.code, r.stderr).toBe(0);
    expect(starts(dir)).toEqual(["reader, edited", "last"]);
    // The first call is left alone: nothing before it changed.
    expect(r.stderr.match(/cached #/g)).toHaveLength(1);
    // A removed writer: the calls that saw it run again.
    clearLog(dir);
    writeFileSync(
      join(dir, "wf.js"),
      `${meta()}const b = await agent("log:" + cwd + "/starts.log reader, edited")
const c = await agent("log:" + cwd + "/starts.log last")
return [b, c]\n`,
    );
    r = await runScript(dir, "wf.js", ["--resume", id]);
    expect(r.code, r.stderr).toBe(0);
    expect(starts(dir)).toEqual(["reader, edited", "last"]);
  });

  test("R03 a writer in a worktree does not make the reader after it stale", async () => {
    const dir = gitProject({
      "wf.js": `${meta()}const fix = await agent("log:" + cwd + "/starts.log fix X for " + args.v, { isolation: "worktree" })
const report = await agent("log:" + cwd + "/starts.log run the tests and report")
return { fix, report }\n`,
    });
    writeFileSync(join(dir, ".gitignore"), "starts.log\n.weft/\n");
    const first = await runScript(dir, "wf.js", ["--args", '{"v":1}']);
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first);
    clearLog(dir);
    const r = await weft(["resume", id, "--args", '{"v":2}'], dir);
    expect(r.code, r.stderr).toBe(0);
    // The worktree agent changed nothing the reader sees (until integrate()): the reader stays cached.
    expect(starts(dir)).toEqual(["fix X for 2"]);
  });

  test("R03 integrate() is a writer: a reader after it runs again when the integrated patch changed", async () => {
    const dir = gitProject({
      "wf.js": `${meta()}await agent("log:" + cwd + "/starts.log write:f.txt:" + args.v, { isolation: "worktree" })
await integrate()
return await agent("log:" + cwd + "/starts.log cat:f.txt")\n`,
      ".gitignore": "starts.log\n.weft/\n",
    });
    const first = await runScript(dir, "wf.js", ["--args", '{"v":1}']);
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first);
    expect(first.stdout.trim()).toBe("1");
    // Unchanged: the integration is the same writer as before, so the reader stays cached.
    clearLog(dir);
    let r = await weft(["resume", id], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(starts(dir)).toEqual([]);
    // Other args: the worktree agent runs again and its new patch is integrated (the user put the
    // tree back first); the reader must see the new file, not answer "1" from the cache.
    rmSync(join(dir, "f.txt"));
    clearLog(dir);
    r = await weft(["resume", id, "--args", '{"v":2}'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(starts(dir)).toEqual(["write:f.txt:2", "cat:f.txt"]);
    expect(r.stdout.trim()).toBe("2");
  });

  test("R03 read-only agents are not writers; an agent that may edit is", async () => {
    const fake = (dir: string) => {
      const bin = join(dir, "fake-claude.mjs");
      // A stand-in for claude: logs the prompt (the argument after "--") and answers with it.
      writeFileSync(
        bin,
        `#!${process.execPath}
import { appendFileSync } from "node:fs";
const prompt = process.argv[process.argv.indexOf("--") + 1].split("\\n").at(-1);
appendFileSync(${JSON.stringify(join(dir, "starts.log"))}, "start 0 log:x " + prompt + "\\n");
console.log(JSON.stringify({ type: "system", subtype: "init", session_id: "s1", model: "claude-x" }));
console.log(JSON.stringify({ type: "result", subtype: "success", is_error: false, session_id: "s1", result: "answer to " + prompt, usage: { input_tokens: 1, output_tokens: 1 } }));
`,
      );
      chmodSync(bin, 0o755);
      writeFileSync(join(dir, ".weft", "config.json"), JSON.stringify({ drivers: { claude: { bin } } }));
    };
    for (const [perm, rerun] of [
      ["read-only", false],
      ["edit", true],
    ] as const) {
      const dir = project({
        "wf.js": `${meta()}const a = await agent("look at " + args.v, { permissions: "${perm}" })
const b = await agent("summarise the code", { permissions: "read-only" })
return { a, b }\n`,
        ".weft/.keep": "",
      });
      fake(dir);
      const first = await weft(["run", "wf.js", "--driver", "claude", "--args", '{"v":1}'], dir);
      expect(first.code, first.stderr).toBe(0);
      expect(starts(dir)).toEqual(["look at 1", "summarise the code"]);
      clearLog(dir);
      const r = await weft(["resume", runIdOf(first), "--args", '{"v":2}'], dir);
      expect(r.code, r.stderr).toBe(0);
      expect(starts(dir)).toEqual(rerun ? ["look at 2", "summarise the code"] : ["look at 2"]);
    }
  });

  test("R03 a failed writer runs again on resume, and so do the calls made after it", async () => {
    const dir = project({
      "wf.js": `${meta()}const a = await parallel([() => agent("log:" + cwd + "/starts.log exit:" + args.code)])
const b = await agent("log:" + cwd + "/starts.log after")
return [a, b]\n`,
    });
    const first = await runScript(dir, "wf.js", ["--args", '{"code":3}']);
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first);
    clearLog(dir);
    const r = await weft(["resume", id, "--args", '{"code":0}'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(starts(dir)).toEqual(["exit:0", "after"]);
  });

  test("R03 a sequential loop of many writers keeps what each call records small", async () => {
    const n = 300;
    const dir = project({
      "wf.js": `${meta()}const out = []
for (let i = 0; i < ${n}; i++) out.push(await agent("step " + i))
return out.length\n`,
    });
    const first = await weft(["run", "wf.js", "--command", "cat >/dev/null; echo ok"], dir);
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first);
    const finished = journal(dir, id).filter((r) => r.type === "agent.finished");
    expect(finished).toHaveLength(n);
    // Writers are numbered 1..n in order; each call after the first recorded one range: its
    // predecessor (who had recorded all before it), not the whole list.
    expect(finished.map((r) => r.writer)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(finished[0].after).toBeUndefined();
    for (let i = 1; i < n; i++) expect(finished[i].after).toEqual([[i, i]]);
    // The same for a parallel() of writers followed by readers: one range each.
    const par = project({
      "wf.js": `${meta()}const a = await parallel(Array.from({ length: 50 }, (_, i) => () => agent("w " + i, { label: "w" })))
const b = await parallel(Array.from({ length: 50 }, (_, i) => () => agent("r " + i, { label: "r" })))
return a.length + b.length\n`,
    });
    const p = await weft(["run", "wf.js", "--command", "cat >/dev/null; echo ok", "--concurrency", "7"], par);
    expect(p.code, p.stderr).toBe(0);
    const recs = journal(par, runIdOf(p)).filter((r) => r.type === "agent.finished");
    const second = recs.filter((r) => r.label === "r");
    expect(second).toHaveLength(50);
    for (const r of second) expect(r.after).toEqual([[1, 50]]);
  });

  test('R03 resume: "prefix" runs again the first call that misses the cache and every call after it', async () => {
    const script = (mid: string) =>
      `${meta()}const out = []
for (const p of ["one", "${mid}", "three"]) out.push(await agent("log:" + cwd + "/starts.log " + p, { permissions: "edit" }))
const r = await parallel([() => agent("log:" + cwd + "/starts.log four")])
return out\n`;
    const dir = project({ "wf.js": script("two") });
    const first = await runScript(dir, "wf.js", ["--resume-mode", "prefix"]);
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first);
    // The setting is the run's own: the resume reuses it.
    clearLog(dir);
    writeFileSync(join(dir, "wf.js"), script("two, edited"));
    let r = await runScript(dir, "wf.js", ["--resume", id]);
    expect(r.code, r.stderr).toBe(0);
    expect(starts(dir)).toEqual(["two, edited", "three", "four"]);
    // A cache: false call is a miss too.
    clearLog(dir);
    writeFileSync(
      join(dir, "wf.js"),
      script("two, edited").replace('{ permissions: "edit" }', '{ cache: p !== "one" }'),
    );
    r = await runScript(dir, "wf.js", ["--resume", id]);
    expect(r.code, r.stderr).toBe(0);
    expect(starts(dir)).toEqual(["one", "two, edited", "three", "four"]);
    // A bad value is refused by name. a bad value is refused by name.
    const bad = await runScript(dir, "wf.js", ["--resume-mode", "sometimes"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--resume-mode: resume must be one of "writers", "prefix"/);
  });

  test('R03 resume: "prefix" from a settings file reruns what follows an edited worktree agent; the default does not', async () => {
    const script = (task: string) =>
      `${meta()}const a = await agent("log:" + cwd + "/starts.log ${task}", { isolation: "worktree" })
const b = await agent("log:" + cwd + "/starts.log after")
return [a, b]\n`;
    for (const [mode, expected] of [
      ["prefix", ["task, edited", "after"]],
      ["writers", ["task, edited"]],
    ] as const) {
      const dir = gitProject({ "wf.js": script("task"), ".gitignore": "starts.log\n.weft/\n" });
      const cfg = join(dir, ".weft", "config.json");
      const first = await runScript(dir, "wf.js");
      expect(first.code, first.stderr).toBe(0);
      const id = runIdOf(first);
      writeFileSync(cfg, JSON.stringify({ resume: mode }));
      clearLog(dir);
      writeFileSync(join(dir, "wf.js"), script("task, edited"));
      const r = await runScript(dir, "wf.js", ["--resume", id]);
      expect(r.code, r.stderr).toBe(0);
      expect(starts(dir)).toEqual(expected);
    }
  });
});

describe("R03 R07 the recorded writers in the journal", () => {
  test("R03 a journal from before the writer rule (no writer, no after) resumes: its calls recorded no writer", async () => {
    const dir = project({ "wf.js": WRITER_READER });
    const first = await runScript(dir, "wf.js", ["--args", '{"v":1}']);
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first);
    const path = join(dir, ".weft", "runs", id, "journal.jsonl");
    const old = readFileSync(path, "utf8")
      .replace(/"writer":\d+,/g, "")
      .replace(/"after":\[\[\d+,\d+\]\],/g, "");
    expect(old).not.toMatch(/"writer"|"after"/);
    writeFileSync(path, old);
    clearLog(dir);
    const r = await weft(["resume", id, "--args", '{"v":2}'], dir);
    expect(r.code, r.stderr).toBe(0);
    // As before the rule: the changed writer runs, the reader is served.
    expect(starts(dir)).toEqual(["fix X for 2"]);
  });

  test("R07 damaged writer numbers and ranges are refused with the line; a huge range is never served", async () => {
    const dir = project({ "wf.js": WRITER_READER });
    const first = await runScript(dir, "wf.js", ["--args", '{"v":1}']);
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first);
    const path = join(dir, ".weft", "runs", id, "journal.jsonl");
    const text = readFileSync(path, "utf8");
    const lines = text.split("\n").filter(Boolean);
    const reader = lines.findIndex((l) => l.includes('"after":'));
    expect(reader).toBeGreaterThan(0);
    for (const [bad, says] of [
      [
        '"after":[[2,1]]',
        '"after" should be a list of ranges of writer numbers (item 1: a range [first, last]',
      ],
      ['"after":[[0,1]]', '"after" should be a list of ranges of writer numbers'],
      ['"after":"1-2"', '"after" should be a list of ranges of writer numbers'],
      ['"writer":0', '"writer" should be a writer number'],
      ['"writer":1e300', '"writer" should be a writer number'],
    ]) {
      const damaged = lines.map((l, i) =>
        i === reader
          ? l
              .replace(/"after":\[\[\d+,\d+\]\]/, bad!)
              .replace(/"writer":\d+/, bad!.startsWith('"writer"') ? bad! : "$&")
          : l,
      );
      writeFileSync(path, `${damaged.join("\n")}\n`);
      const r = await weft(["resume", id], dir);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain(`damaged at line ${reader + 1}: agent.finished: ${says}`);
    }
    // The largest range a record may name costs nothing to check, and is not served.
    writeFileSync(path, text.replace(/"after":\[\[\d+,\d+\]\]/, `"after":[[1,${2 ** 40}]]`));
    clearLog(dir);
    const r = await weft(["resume", id], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(starts(dir)).toEqual(["run the tests and report"]);
  });
});

describe("R03 isolation in the key", () => {
  test("R03 changing isolation runs the call again", async () => {
    const script = (iso: boolean) =>
      `${meta()}return await agent("log:" + cwd + "/starts.log task"${iso ? ', { isolation: "worktree" }' : ""})\n`;
    const dir = gitProject({ "wf.js": script(false), ".gitignore": "starts.log\n.weft/\n" });
    const first = await runScript(dir, "wf.js");
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first);
    clearLog(dir);
    writeFileSync(join(dir, "wf.js"), script(true));
    let r = await runScript(dir, "wf.js", ["--resume", id]);
    expect(r.code, r.stderr).toBe(0);
    expect(starts(dir)).toEqual(["task"]);
    // Unchanged: served.
    clearLog(dir);
    r = await runScript(dir, "wf.js", ["--resume", id]);
    expect(r.code, r.stderr).toBe(0);
    expect(starts(dir)).toEqual([]);
    // And back: the first answer (no isolation) is still the cached one for that key.
    writeFileSync(join(dir, "wf.js"), script(false));
    r = await runScript(dir, "wf.js", ["--resume", id]);
    expect(r.code, r.stderr).toBe(0);
    expect(starts(dir)).toEqual([]);
  });
});
