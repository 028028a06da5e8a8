/**
 * S06: values the script controls never reach code of the host realm that formats, inspects or
 * rethrows them. Each test tries to write a file from inside the script through the escape and
 * checks that the file is not there: whatever wall holds (the vm, or the process around it), an
 * escape is only an escape when it gains something.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { meta, project, runScript } from "../helpers/cli.js";

/**
 * Script prelude: `own(getProcess)` writes the marker file with the process that getProcess
 * returns, if it is the host's; `evil` is a value whose Node inspect hook tries the same with
 * the objects Node hands it.
 */
function prelude(marker: string): string {
  return `const MARK = ${JSON.stringify(marker)}
const escaped = []
function own(getProcess, how) {
  try {
    const p = getProcess()
    p.getBuiltinModule("fs").writeFileSync(MARK, how)
    escaped.push(how)
  } catch {}
}
const evil = {
  [Symbol.for("nodejs.util.inspect.custom")](depth, options, inspect) {
    own(() => inspect.constructor("return process")(), "inspect")
    own(() => options.constructor.constructor("return process")(), "inspect options")
    return "evil"
  },
}
`;
}

async function attempt(body: string) {
  const dir = project();
  const marker = join(dir, "escaped.txt");
  const file = "wf.js";
  const { writeFileSync } = await import("node:fs");
  writeFileSync(join(dir, file), meta() + prelude(marker) + body);
  const r = await runScript(dir, file);
  return { r, escaped: existsSync(marker) };
}

describe("sandbox escapes", () => {
  test("S06 an Error with a Symbol name or message does not hand the script a host TypeError when its stack is read", async () => {
    const { r, escaped } = await attempt(`const out = []
for (const field of ["name", "message"]) {
  const e = new Error("x")
  e[field] = Symbol("s")
  try { out.push(typeof e.stack) } catch (err) {
    own(() => err.constructor.constructor("return process")(), field)
    out.push("threw")
  }
}
const e = new Error("y")
e.name = { toString() { return Symbol("t") } }
try { out.push(typeof e.stack) } catch (err) { own(() => err.constructor.constructor("return process")(), "toString") }
const o = { name: Symbol("n") }
Error.captureStackTrace(o)
try { out.push(typeof o.stack) } catch (err) { own(() => err.constructor.constructor("return process")(), "captured") }
return { out, escaped }
`);
    expect(escaped).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ out: ["string", "string", "string", "string"], escaped: [] });
  });

  test("S06 a script's own Error.prepareStackTrace still works and removing it keeps the sandbox's formatter", async () => {
    const { r, escaped } = await attempt(`const before = typeof Error.prepareStackTrace
Error.prepareStackTrace = (e, sites) => "custom " + sites.length
const custom = new Error("a").stack
Error.prepareStackTrace = undefined
const e = new Error("b")
e.name = Symbol("s")
let plain
try { plain = e.stack.split("\\n")[0] } catch (err) { own(() => err.constructor.constructor("return process")(), "after reset") }
let reassigned = true
try { Error = function () {} } catch { reassigned = false }
return { before, custom: custom.startsWith("custom "), plain, reassigned }
`);
    expect(escaped).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      before: "function",
      custom: true,
      plain: "Symbol(s): b",
      reassigned: false,
    });
  });

  test("S06 a value thrown out of a replaced built-in the bridge once used is never inspected by the host", async () => {
    const { r, escaped } =
      await attempt(`for (const C of [Map, Set, Array, Object, Promise, String, RegExp]) {
  for (const k of Object.getOwnPropertyNames(C.prototype)) {
    if (k === "constructor") continue
    const d = Object.getOwnPropertyDescriptor(C.prototype, k)
    if (!d.configurable) continue
    Object.defineProperty(C.prototype, k, { get() { throw evil }, set() { throw evil }, configurable: true })
  }
}
JSON.stringify = JSON.parse = () => { throw evil }
Reflect.apply = Object.keys = Array.isArray = () => { throw evil }
const a = await agent("x")
return a
`);
    expect(escaped).toBe(false);
    // Nothing the bridge needs was taken from the script: the run goes on as usual.
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("echo: x");
  });

  test("S06 an unhandled rejection (AggregateError, cause, inspect hooks) fails the run without Node inspecting the reason", async () => {
    for (const reason of [
      "evil",
      'Object.assign(new AggregateError([evil], "many"), { cause: evil })',
      '(() => { const e = new Error("m"); e.cause = evil; return e })()',
    ]) {
      const { r, escaped } = await attempt(`Promise.reject(${reason})\nawait agent("x")\nreturn 1\n`);
      expect(escaped, reason).toBe(false);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain("a promise was rejected and nothing handled it");
    }
  });

  test("S06 thrown values whose name, message, stack or toString throw or lie fail the run with a readable error", async () => {
    for (const thrown of [
      '{ name: "x", message: { toString() { throw evil } } }',
      '{ get name() { throw evil }, message: "m" }',
      '{ get stack() { throw evil }, name: "n", message: "m" }',
      "{ [Symbol.toPrimitive]() { throw evil }, toString() { throw evil } }",
      '(() => { const e = new Error("m"); e.name = Symbol("s"); return e })()',
    ]) {
      const { r, escaped } = await attempt(`throw ${thrown}\n`);
      expect(escaped, thrown).toBe(false);
      expect(r.code, `${thrown}\n${r.stderr}`).toBe(1);
      expect(r.stderr).not.toContain("worker");
    }
    const { r, escaped } = await attempt(
      "const v = await parallel([() => { throw { name: { toString() { throw evil } } } }])\nreturn v\n",
    );
    expect(escaped).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([null]);
  });
});
