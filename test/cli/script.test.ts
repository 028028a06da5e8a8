import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { journal, meta, project, runIdOf, runJson, runScript } from "../helpers/cli.js";

async function run(body: string, flags: string[] = [], file = "wf.js") {
  const dir = project({ [file]: meta() + body });
  const r = await runScript(dir, file, flags);
  return { dir, r };
}

describe("script format", () => {
  test("S01 a meta with an identifier is refused with file:line:col and no run is created", async () => {
    const dir = project({ "wf.js": 'const x = 1\nexport const meta = { name: x, description: "d" }\n' });
    let r = await runScript(dir, "wf.js");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^wf\.js:1:1: MetaError: /m);
    const dir2 = project({ "wf.js": `export const meta = { name: "a", description: \`d\${1}\` }\n` });
    r = await runScript(dir2, "./wf.js");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^\.\/wf\.js:1:\d+: MetaError: /m);
    expect(existsSync(join(dir2, ".weft", "runs"))).toBe(false);
  });

  test("S01 meta.args is a schema the args must satisfy before anything runs", async () => {
    const dir = project({
      "wf.js":
        'export const meta = { name: "a", description: "d", args: { type: "object", required: ["n"], properties: { n: { type: "number" } } } }\nreturn args.n\n',
    });
    let r = await runScript(dir, "wf.js", ["--args", '{"n":"x"}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("args do not match meta.args");
    r = await runScript(dir, "wf.js", ["--args", '{"n":5}']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("5");
  });

  test("S02 top-level await and return give the run's result; undefined becomes null", async () => {
    let { r } = await run('const a = await agent("hi")\nreturn { a, skip: undefined, list: [1, "x"] }\n');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ a: "echo: hi", list: [1, "x"] });
    ({ r } = await run("const x = 1\n"));
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("null");
  });

  test("S02 a result JSON cannot carry fails the run naming the path", async () => {
    for (const [value, path] of [
      ["{ a: [1, () => 1] }", "result.a[1]"],
      ["{ s: Symbol() }", "result.s"],
      ["{ m: new Map() }", "result.m"],
      ["{ big: 10n }", "result.big"],
      ["(() => { const o = { x: {} }; o.x.self = o; return o })()", "result.x.self"],
    ] as const) {
      const { dir, r } = await run(`return ${value}\n`);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(path);
      expect(runJson(dir, runIdOf(r)).status).toBe("failed");
    }
  });

  test("S03 require, import and import() are refused before the run; Node globals do not exist", async () => {
    for (const [body, where] of [
      ['const fs = require("fs")\n', "wf.js:2:12"],
      ['import fs from "node:fs"\n', "wf.js:2:1"],
      ['await import("node:fs")\n', "wf.js:2:7"],
    ]) {
      const { r } = await run(body!);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${where}: ForbiddenSyntax`);
    }
    const { r } = await run(
      "return [typeof require, typeof module, typeof setInterval, typeof setImmediate, typeof queueMicrotask, typeof fetch, typeof Buffer, typeof globalThis.process.exit, process.cwd() === cwd, typeof setTimeout, typeof clearTimeout]\n",
    );
    expect(JSON.parse(r.stdout)).toEqual([
      ...Array(8).fill("undefined"),
      true,
      // S06: the one timer Claude Code scripts wait with.
      "function",
      "function",
    ]);
  });

  test("S04 a .ts script runs with types stripped; errors point into the original file", async () => {
    let { r } = await run(
      "interface R { a: string }\nconst x: R = { a: await agent('hi') as string }\nreturn x\n",
      [],
      "wf.ts",
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ a: "echo: hi" });
    ({ r } = await run(
      "type T = { a: number }\nconst y: T = { a: 1 }\n\n  throw new RangeError('bad ' + y.a)\n",
      [],
      "wf.ts",
    ));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("wf.ts:5:9: RangeError: bad 1");
  });

  test("S05 Date.now, aliases, Math.random, new Date() and crypto throw DeterminismError where called", async () => {
    for (const [expr, line] of [
      ["Date.now()", 2],
      ["const D = Date\nD.now()", 3],
      ["const r = Math.random; r()", 2],
      ["new Date()", 2],
      ["performance.now()", 2],
      ["crypto.randomUUID()", 2],
      ["const C = (new Date(0)).constructor; C.now()", 2],
    ] as const) {
      const { r } = await run(`${expr}\n`);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`wf\\.js:${line}:\\d+: DeterminismError: `));
    }
    const { r } = await run(
      "let caught = null\ntry { Date.now() } catch (e) { caught = e.name }\nreturn [caught, new Date(0).toISOString()]\n",
    );
    expect(JSON.parse(r.stdout)).toEqual(["DeterminismError", "1970-01-01T00:00:00.000Z"]);
  });

  test("S05 parallel and pipeline never turn a DeterminismError into null", async () => {
    let { r } = await run("return await parallel([() => 1, () => Date.now()])\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("DeterminismError");
    ({ r } = await run("return await pipeline([1], (x) => Math.random())\n"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("DeterminismError");
  });

  test("S06 constructor chains through every API object stay inside the sandbox", async () => {
    const probes = [
      "agent",
      "parallel",
      "pipeline",
      "phase",
      "log",
      "console.log",
      "budget.spent",
      "budget.agents.remaining",
      "agent('x')",
      "args",
      "(await agent('x', { schema: { type: 'object' } }).catch((e) => e))",
      "process.cwd",
      "(await parallel([() => 1]))",
    ];
    const body = `const out = []\nfor (const p of ${JSON.stringify(probes)}) { out.push(p) }\n${probes
      .map(
        (p) =>
          `try { const v = ${p}; out.push(String(v.constructor.constructor("return typeof process === 'object' && typeof process.exit")())) } catch (e) { out.push(e.name + ": " + e.message) }`,
      )
      .join(
        "\n",
      )}\nlet ev = null\ntry { eval("1") } catch (e) { ev = e.message }\nreturn { out: out.slice(${probes.length}), ev }\n`;
    const { r } = await run(body, ["--args", "{}"]);
    expect(r.code).toBe(0);
    const { out, ev } = JSON.parse(r.stdout);
    expect(out).toHaveLength(probes.length);
    for (const line of out) expect(line).toMatch(/Code generation from strings disallowed/);
    expect(ev).toMatch(/Code generation from strings disallowed/);
  });

  test("S06 a script that tampers with its own globals cannot pass objects out through the bridge", async () => {
    const { r } = await run(
      'JSON.stringify = () => ({ toString() { return "x" } })\nconst out = await Promise.race([agent("a", { label: "l" }), 1])\nreturn out\n',
    );
    // The bridge captured JSON's methods before the script ran: the run goes on as usual.
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("1");
  });

  test("S06 stack-trace call sites and a replaced Promise expose no host function or receiver", async () => {
    const { r } = await run(`const leaks = []
let frames = 0
Error.prepareStackTrace = (e, cs) => {
  for (const f of cs) {
    frames++
    for (const v of [f.getFunction?.(), f.getThis?.()]) {
      if (!v) continue
      try { leaks.push(String(v.constructor.constructor("return typeof process")())) } catch (err) { leaks.push("blocked") }
    }
  }
  return ""
}
class P extends Promise {
  constructor(ex) { super((res, rej) => ex((v) => { new Error().stack; res(v) }, (e) => { new Error().stack; rej(e) })) }
}
globalThis.Promise = P
const r = await agent("x")
new Error().stack
return { r, frames, leaks: leaks.filter((l) => l !== "blocked") }
`);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.r).toBe("echo: x");
    expect(out.frames).toBeGreaterThan(0);
    expect(out.leaks).toEqual([]);
  });

  test("S02 a script waiting on a promise nothing can settle fails instead of hanging", async () => {
    const { dir, r } = await run("await new Promise(() => {})\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("StalledScript: the script is waiting on a promise that nothing will settle");
    expect(runJson(dir, runIdOf(r)).status).toBe("failed");
  });

  test("S07 a script stuck in synchronous code is stopped, names the limit, and the run is resumable", async () => {
    const { dir, r } = await run('await agent("a")\nwhile (true) {}\n', ["--script-time-ms", "300"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("300 ms");
    expect(r.stderr).toContain("scriptTimeMs");
    const id = runIdOf(r);
    expect(runJson(dir, id).status).toBe("failed");
    // The finished agent is kept for the resume.
    expect(journal(dir, id).filter((x) => x.type === "agent.finished")).toHaveLength(1);
    const top = await run("while (true) {}\n", ["--script-time-ms", "300"]);
    expect(top.r.code).toBe(1);
    expect(top.r.stderr).toContain("scriptTimeMs");
  });

  test("E01 a syntax error prints path:line:col: SyntaxError and creates no run", async () => {
    const { dir, r } = await run("const a = 1\nconst = 2\n");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^wf\.js:3:7: SyntaxError: /m);
    expect(existsSync(join(dir, ".weft", "runs"))).toBe(false);
  });

  test("E01 an error thrown at run time points at the line that threw", async () => {
    const { r } = await run('const x = await agent("a")\n\nnull.foo\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/wf\.js:4:6: TypeError: Cannot read properties of null/);
  });
});
