/**
 * S06: the script's one timer, setTimeout/clearTimeout (Claude Code scripts wait between rounds
 * with `await new Promise((r) => setTimeout(r, ms))`): callbacks are script work (S07), the run's
 * end clears them, a resume that is still replaying does not wait again, and nothing of the host
 * reaches the script through them.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { AGENT_CMD, meta, project, runIdOf, runJson, runScript, weft } from "../helpers/cli.js";

async function run(body: string, flags: string[] = []) {
  const dir = project({ "wf.js": meta() + body });
  const t0 = Date.now();
  const r = await runScript(dir, "wf.js", flags);
  return { dir, r, ms: Date.now() - t0 };
}

describe("timers", () => {
  test("S06 setTimeout runs its callback with its arguments after the delay, in order; clearTimeout cancels; no other timer exists", async () => {
    const { r, ms } = await run(`const order = []
const h = setTimeout(() => order.push("cleared"), 10)
clearTimeout(h)
clearTimeout(12345); clearTimeout("x"); clearTimeout(undefined)
setTimeout((a, b) => order.push("late " + a + b), 400, 1, 2)
setTimeout(() => order.push("zero"))
await new Promise((r) => setTimeout(r, 150))
order.push("after 150")
await new Promise((r) => setTimeout(r, 400))
let bad
try { setTimeout("order.push(1)", 1) } catch (e) { bad = e.name }
await new Promise((r) => setTimeout(r, 2 ** 40))
return { order, bad, handle: typeof h, others: [typeof setInterval, typeof setImmediate, typeof queueMicrotask, typeof clearInterval] }
`);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      order: ["zero", "after 150", "late 12"],
      bad: "TypeError",
      handle: "number",
      others: ["undefined", "undefined", "undefined", "undefined"],
    });
    expect(ms).toBeGreaterThanOrEqual(550);
    // As in Node, a delay that does not fit in 32 bits is 1 ms, with a warning.
    expect(r.stderr).toContain("1099511627776 ms does not fit in a 32-bit signed integer");
  });

  test("S06 a pending timer is not a stalled script; the run's end clears timers it left (the run ends at once)", async () => {
    const { r, ms } = await run(`setTimeout(() => log("never"), 60000)
await new Promise((r) => setTimeout(r, 50))
return "done"
`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("done");
    expect(r.stderr).not.toContain("never");
    expect(ms).toBeLessThan(20_000);
  });

  test("S07 a timer callback is script work: a loop in it is stopped by scriptTimeMs; an error it throws fails the run", async () => {
    const spin = await run(
      "setTimeout(() => { for (;;) {} }, 10)\nawait new Promise((r) => setTimeout(r, 60000))\n",
      ["--script-time-ms", "300"],
    );
    expect(spin.r.code).toBe(1);
    expect(spin.r.stderr).toContain("ScriptTimeout");
    expect(spin.ms).toBeLessThan(20_000);
    const thrown = await run(
      'setTimeout(() => { throw new Error("from the timer") }, 10)\nawait new Promise((r) => setTimeout(r, 60000))\n',
    );
    expect(thrown.r.code).toBe(1);
    expect(thrown.r.stderr).toContain("a setTimeout callback threw: from the timer");
    expect(thrown.ms).toBeLessThan(20_000);
  });

  test("S06 a resume that is still replaying does not wait again for timers; from the first live agent timers wait", async () => {
    const dir = project({
      "wf.js": `${meta()}const a = await agent("a")
await new Promise((r) => setTimeout(r, 4000))
const b = await agent("b")
await new Promise((r) => setTimeout(r, 700))
return [a, b]
`,
    });
    // The first execution waits 4 s, then the agent limit refuses "b".
    const first = await runScript(dir, "wf.js", ["--max-agents", "1"]);
    expect(first.code).toBe(3);
    const id = runIdOf(first);
    const t0 = Date.now();
    const again = await weft(["resume", id, "--command", AGENT_CMD, "--max-agents", "5"], dir);
    const ms = Date.now() - t0;
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(["echo: a", "echo: b"]);
    // "a" came from the journal, so its 4 s timer fired at once; "b" ran, so the 700 ms one waited.
    const s = runJson(dir, id);
    expect(s.durationMs).toBeGreaterThanOrEqual(700);
    expect(s.durationMs).toBeLessThan(3500);
    expect(ms).toBeLessThan(20_000);
  });
});

describe("timer escapes", () => {
  test("S06 nothing of the host reaches the script through setTimeout, its handle, its callback's arguments or errors thrown in it", async () => {
    const dir = project();
    const marker = join(dir, "escaped.txt");
    writeFileSync(
      join(dir, "wf.js"),
      `${meta()}const MARK = ${JSON.stringify(marker)}
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
    return "evil"
  },
  get name() { own(() => arguments.callee.caller.constructor("return process")(), "name getter"); return "E" },
}
own(() => setTimeout.constructor("return process")(), "setTimeout.constructor")
own(() => clearTimeout.constructor.constructor("return process")(), "clearTimeout chain")
const h = setTimeout(() => {}, 1)
own(() => h.constructor.constructor("return process")(), "handle")
own(() => Object.getPrototypeOf(h).constructor.constructor("return process")(), "handle proto")
await new Promise((r) => setTimeout(function (...a) {
  own(() => this.constructor.constructor("return process")(), "this")
  own(() => a.constructor.constructor("return process")(), "arguments")
  own(() => arguments.callee.caller.constructor("return process")(), "caller")
  r()
}, 5, evil))
// A symbol or a throwing object as the delay throws inside the script, not the host.
for (const ms of [Symbol("s"), { valueOf() { throw evil } }]) {
  try { setTimeout(() => {}, ms) } catch (e) { own(() => e.constructor.constructor("return process")(), "delay error") }
}
// Replaced built-ins do not change what setTimeout hands the bridge.
Number.prototype.valueOf = () => { throw evil }
String.prototype.toString = () => { throw evil }
await new Promise((r) => setTimeout(r, 5))
setTimeout(() => { throw evil }, 5)
await new Promise((r) => setTimeout(r, 200))
return escaped
`,
    );
    const r = await runScript(dir, "wf.js");
    expect(existsSync(marker)).toBe(false);
    // The evil throw is an uncaught callback error: the run fails, naming it without inspecting it.
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("a setTimeout callback threw");
    expect(r.stderr).not.toContain("evil");
  });
});
