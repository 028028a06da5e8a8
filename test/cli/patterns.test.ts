/**
 * E03/A03 through the real CLI: a catastrophic-backtracking `pattern` (^(a+)+$ against "aaaa…!")
 * in an agent's schema, in `patternProperties` and in `meta.args` ends the run promptly with a
 * clear message, and Ctrl-C still works while such a run goes on. The time bound is checked from
 * outside: the weft process is killed, and the test fails, if it has not ended in time.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { AGENT_CMD, collect, meta, project, type Result, startWeft, until } from "../helpers/cli.js";

const BOMB = "^(a+)+$";
// 40 a's and a "!": a backtracking engine needs on the order of 2^40 steps to give up.
const VICTIM = `${"a".repeat(40)}!`;
/** Far more than weft needs here, far less than a backtracking engine would take. */
const LIMIT_MS = 30_000;

/** Waits for the process to end; kills its group and fails if it has not ended within `ms`. */
async function endsWithin(child: ChildProcess, ms = LIMIT_MS): Promise<Result> {
  const result = collect(child);
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, ms);
  const r = await result;
  clearTimeout(timer);
  if (killed) throw new Error(`weft did not end within ${ms} ms (killed):\n${r.stderr}`);
  return r;
}

const run = (dir: string, args: string[] = []) =>
  startWeft(["run", "wf.js", "--command", AGENT_CMD, ...args], dir);

const schemaScript = (schema: unknown, answer: unknown) =>
  `${meta()}return await agent(${JSON.stringify(`json:${JSON.stringify(answer)}`)}, { schema: ${JSON.stringify(schema)} })\n`;

describe("E03 a regex bomb cannot hang weft", () => {
  test("E03 a bomb in an agent's schema pattern: the answer is found invalid at once and the run fails saying so", async () => {
    const schema = { type: "object", properties: { s: { type: "string", pattern: BOMB } }, required: ["s"] };
    const dir = project({ "wf.js": schemaScript(schema, { s: VICTIM }) });
    const r = await endsWithin(run(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`must match pattern "${BOMB}"`);
  }, 60_000);

  test("E03 a bomb in patternProperties, with the bomb's victim as a key", async () => {
    const schema = {
      type: "object",
      patternProperties: { [BOMB]: { type: "number" } },
      additionalProperties: false,
    };
    const dir = project({ "wf.js": schemaScript(schema, { [VICTIM]: 1 }) });
    const r = await endsWithin(run(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`must not have additional property '${VICTIM}'`);
  }, 60_000);

  test("E03 a bomb in meta.args: the args are refused before the run starts", async () => {
    const script = `export const meta = { name: "t", description: "test", args: { type: "object", properties: { s: { type: "string", pattern: ${JSON.stringify(BOMB)} } } } }\nreturn args\n`;
    const dir = project({ "wf.js": script });
    const r = await endsWithin(run(dir, ["--args", JSON.stringify({ s: VICTIM })]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/args do not match meta\.args/);
    expect(r.stderr).toContain(`must match pattern "${BOMB}"`);
    expect(existsSync(join(dir, ".weft", "runs"))).toBe(false);
  }, 60_000);

  test("E03 Ctrl-C still ends a run at once after an agent's answer met a bomb", async () => {
    const schema = { type: "object", properties: { s: { type: "string", pattern: BOMB } } };
    const script = `${meta()}await parallel([
  () => agent(${JSON.stringify(`json:${JSON.stringify({ s: VICTIM })}`)}, { schema: ${JSON.stringify(schema)}, label: "bomb" }),
  () => agent("hang", { label: "waits" }),
])
`;
    const dir = project({ "wf.js": script });
    const child = run(dir);
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    const ended = endsWithin(child, LIMIT_MS + 10_000);
    // The bomb agent's answers have all been validated (and refused) while the other one hangs.
    await until(() => /must match pattern/.test(stderr), LIMIT_MS);
    const t0 = Date.now();
    child.kill("SIGINT");
    const r = await ended;
    expect(r.code).toBe(130);
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 90_000);
});

describe("A03 a pattern RE2 cannot run is refused before any agent starts", () => {
  test("A03 a lookahead in an agent's schema: agent() throws naming the pattern and why, no agent starts", async () => {
    const schema = { type: "object", properties: { s: { type: "string", pattern: "^(?=.*[A-Z]).+$" } } };
    const dir = project({
      "wf.js": `${meta()}return await agent("log:started.txt", { schema: ${JSON.stringify(schema)} })\n`,
    });
    const r = await endsWithin(run(dir));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('pattern "^(?=.*[A-Z]).+$" cannot be used: lookahead');
    expect(existsSync(join(dir, "started.txt"))).toBe(false);
  }, 60_000);
});
