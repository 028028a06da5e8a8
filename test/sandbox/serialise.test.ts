/**
 * S02: a value is serialised once, inside the sandbox, in one pass that reads each property and
 * each toJSON once; what was checked is what is recorded. A02: option keys are own properties.
 */
import { describe, expect, test } from "vitest";
import { journal, meta, project, runIdOf, runJson, runScript } from "../helpers/cli.js";

async function run(body: string, files: Record<string, string> = {}) {
  const dir = project({ "wf.js": meta() + body, ...files });
  const r = await runScript(dir, "wf.js");
  return { dir, r };
}

describe("serialise once", () => {
  test("S02 getters, toJSON and Proxies that change between reads are read once, and what was read is recorded", async () => {
    const { dir, r } = await run(`let g = 0, t = 0
const reads = {}
const count = (k) => { reads[k] = (reads[k] ?? 0) + 1 }
const getter = { get v() { g++; count("getter"); return g === 1 ? 1 : NaN } }
const toJson = { toJSON() { t++; count("toJSON"); return t === 1 ? "ok" : () => 1 } }
const proxy = new Proxy({ a: 1 }, {
  get(target, key) { if (typeof key === "string") count("proxy." + key); return reads["proxy." + String(key)] > 1 ? 10n : target[key] },
})
phase("counted")
globalThis.report = () => log(JSON.stringify(reads))
return { getter, toJson, proxy, later: { toJSON() { report(); return true } } }
`);
    expect(r.code, r.stderr).toBe(0);
    const recorded = { getter: { v: 1 }, toJson: "ok", proxy: { a: 1 }, later: true };
    expect(JSON.parse(r.stdout)).toEqual(recorded);
    expect(runJson(dir, runIdOf(r)).result).toEqual(recorded);
    const counts = journal(dir, runIdOf(r)).find((x) => x.type === "log" && x.message.startsWith("{"));
    expect(JSON.parse(counts.message)).toEqual({
      getter: 1,
      toJSON: 1,
      "proxy.toJSON": 1,
      "proxy.then": 1,
      "proxy.a": 1,
    });
  });

  test("S02 NaN and the infinities become null with one warning naming the paths; undefined in objects is dropped", async () => {
    const { dir, r } = await run(
      "return { a: NaN, b: [1, Infinity], c: { d: -Infinity }, u: undefined, l: [undefined] }\n",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ a: null, b: [1, null], c: { d: null }, l: [null] });
    const warnings = r.stderr.split("\n").filter((l) => l.includes("JSON cannot carry"));
    expect(warnings).toHaveLength(1);
    for (const p of ["result.a", "result.b[1]", "result.c.d"]) expect(warnings[0]).toContain(p);
    expect(runJson(dir, runIdOf(r)).status).toBe("completed");
  });

  test("S02 workflow() args are serialised once: a getter that turns to NaN on a second read is recorded as first read", async () => {
    const { r } = await run(
      'let n = 0\nconst a = { get x() { n++; return n === 1 ? 1 : NaN } }\nreturn await workflow({ scriptPath: "sub.js" }, a)\n',
      { "sub.js": `${meta("sub")}return args\n` },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ x: 1 });
    expect(r.stderr).not.toContain("JSON cannot carry");
  });

  test("S02 agent() options are serialised once: a label getter that turns into a function is recorded as first read", async () => {
    const { dir, r } = await run(
      'let n = 0\nconst opts = { get label() { n++; return n === 1 ? "first" : () => 1 } }\nconst a = await agent("x", opts)\nreturn { a, n }\n',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ a: "echo: x", n: 1 });
    const finished = journal(dir, runIdOf(r)).find((x) => x.type === "agent.finished");
    expect(finished.label).toBe("first");
  });

  test("A02 option keys are own properties: __proto__, constructor, toString and isPrototypeOf warn as unknown", async () => {
    const { r } = await run(
      `const opts = JSON.parse('{"__proto__": 1, "constructor": "a", "toString": "b", "isPrototypeOf": "c", "hasOwnProperty": 2, "label": "l"}')
return await agent("x", opts)
`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("echo: x");
    for (const k of ["__proto__", "constructor", "toString", "isPrototypeOf", "hasOwnProperty"]) {
      expect(r.stderr).toContain(`agent() option "${k}" is unknown and ignored`);
    }
  });
});
