/**
 * S06 for the Pi ports' helpers and checkpoint() (src/sandbox/bootstrap-helpers.ts): what they
 * return, resolve to and throw is the script's own context's, so the host's Function is out of
 * reach through them; and a script that replaces the built-ins they use does not change what they
 * do. As in escapes.test.ts, an escape counts only when it writes a file from inside the script.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { meta, project, runScript } from "../helpers/cli.js";

function prelude(marker: string): string {
  return `const MARK = ${JSON.stringify(marker)}
const escaped = []
const seen = []
function own(getProcess, how) {
  try {
    const p = getProcess()
    p.getBuiltinModule("fs").writeFileSync(MARK, how)
    escaped.push(how)
  } catch (e) { seen.push(how + ": " + e.message) }
}
// Every way out from a value: its constructor's Function, and its prototype chain's.
function probe(v, how) {
  own(() => v.constructor.constructor("return process")(), how)
  own(() => Object.getPrototypeOf(v).constructor.constructor("return process")(), how + " proto")
}
`;
}

async function attempt(body: string) {
  const dir = project();
  const marker = join(dir, "escaped.txt");
  writeFileSync(join(dir, "wf.js"), meta("helpers") + prelude(marker) + body);
  const r = await runScript(dir, "wf.js");
  return { r, escaped: existsSync(marker) };
}

test("S06 A14 PI checkpoint(), gate(fn, validator) and the quality helpers hand the script only values of its own context", async () => {
  const { r, escaped } = await attempt(`const calls = {
  checkpoint: () => checkpoint("Go on?", { default: { deep: [1] } }),
  gate: () => gate(async () => 1, (v) => ({ ok: v === 1 })),
  verify: () => verify("json:{\\"real\\":true}", { reviewers: 1 }),
  judgePanel: () => judgePanel(["json:{\\"score\\":1}"], { judges: 1 }),
  loopUntilDry: () => loopUntilDry({ round: (i) => (i === 0 ? [{ a: 1 }] : []) }),
  retry: () => retry((i) => i),
}
const values = {}
for (const name of Object.keys(calls)) {
  const p = calls[name]()
  probe(p, name + " promise")
  const v = await p
  probe(v, name + " value")
  values[name] = v
}
probe(values.checkpoint.deep, "checkpoint default")
probe(values.verify.votes, "verify votes")
probe(values.judgePanel.judgments, "judge judgments")
// Refusals are TypeErrors of the context too.
const errors = []
const bad = [
  () => checkpoint(42),
  () => checkpoint("x", { kind: "radio" }),
  () => checkpoint("x", { kind: "select" }),
  () => checkpoint("x", { choices: [() => 1] }),
  () => checkpoint("x", { default: () => 1 }),
  () => checkpoint("x", { headless: "never" }),
  () => checkpoint("x", { timeoutMs: -1 }),
  () => gate(() => 1, "not a validator"),
  () => loopUntilDry({}),
  () => retry(42),
  () => retry(() => 1, { until: true }),
  () => verify("x", "not options"),
]
for (const f of bad) {
  try { await f(); errors.push("no error") } catch (e) { probe(e, "error"); errors.push(e.name + ": " + e.message) }
}
return { escaped, errors, values: { checkpoint: values.checkpoint, gate: values.gate, retry: values.retry, loop: values.loopUntilDry }, probes: seen.length }
`);
  expect(r.code, r.stderr).toBe(0);
  expect(escaped).toBe(false);
  const out = JSON.parse(r.stdout);
  expect(out.escaped).toEqual([]);
  // 6 calls x (promise + value) x 2, 3 nested values x 2, 12 errors x 2 (completenessCheck is
  // agent()'s promise and value; test/compat checks what it returns).
  expect(out.probes).toBe(6 * 4 + 3 * 2 + 12 * 2);
  expect(out.values).toEqual({
    checkpoint: { deep: [1] },
    gate: { ok: true, value: 1, attempts: 1 },
    retry: 0,
    loop: [{ a: 1 }],
  });
  expect(out.errors).toEqual([
    "TypeError: checkpoint(prompt, options?): prompt must be a non-empty string",
    'TypeError: checkpoint(): kind must be "confirm", "input" or "select"',
    'TypeError: checkpoint(): kind "select" needs choices',
    "TypeError: checkpoint(): choices must be non-empty strings",
    "TypeError: default is a function, which JSON cannot carry",
    'TypeError: checkpoint(): headless must be "default" or "abort"',
    "TypeError: checkpoint(): timeoutMs must be a positive number of milliseconds, at most 2147483647",
    "TypeError: gate(producer, validator, options?): validator must be a function returning { ok, feedback? }",
    "TypeError: loopUntilDry requires { round: (i) => items[] }",
    "TypeError: retry(thunk, options?): thunk must be a function",
    "TypeError: retry(thunk, { attempts, until }): until must be a function of the result",
    "TypeError: verify(item, options?): options must be an object",
  ]);
});

test("PI the helpers do what they do when the script has replaced the built-ins they use", async () => {
  const { r, escaped } =
    await attempt(`// A script (or a polyfill it carries) may replace any built-in; the helpers captured theirs.
Array.prototype.push = function () { throw new Error("push replaced") }
Array.prototype.filter = function () { return [] }
Array.prototype.map = function () { return [] }
Array.isArray = () => false
JSON.stringify = () => "replaced"
Object.keys = () => []
const v = await verify("json:{\\"real\\":true}", { reviewers: 2 })
const j = await judgePanel(["json:{\\"score\\":0.5}", "json:{\\"score\\":1}"], { judges: 1 })
const l = await loopUntilDry({ round: (i) => (i < 2 ? ["a" + i, "a0"] : []) })
const c = await checkpoint("Ok?", { kind: "select", choices: ["x", "y"], default: "y" })
return { real: v.real, total: v.total, best: j.index, loop: l.length, c }
`);
  expect(escaped).toBe(false);
  expect(r.code, r.stderr).toBe(0);
  // JSON.stringify of the result is the sandbox's own too.
  expect(JSON.parse(r.stdout)).toEqual({ real: true, total: 2, best: 1, loop: 2, c: "y" });
});
