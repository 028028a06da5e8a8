import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { AGENT_CMD, journal, meta, project, runIdOf, runJson, runScript, weft } from "../helpers/cli.js";

/** The CLI prints a string result as it is and anything else as JSON. */
function parseOut(stdout: string): any {
  try {
    return JSON.parse(stdout);
  } catch {
    return stdout.replace(/\n$/, "");
  }
}

async function run(body: string, flags: string[] = [], env: Record<string, string> = {}) {
  const dir = project({ "wf.js": meta() + body });
  const r = await runScript(dir, "wf.js", flags, env);
  return { dir, r, out: r.stdout ? parseOut(r.stdout) : undefined };
}

describe("script API", () => {
  test("A01 agent() resolves to the final text, or null when the agent failed", async () => {
    const { r, out } = await run('return [await agent("hello"), await agent("exit:3")]\n');
    expect(r.code).toBe(0);
    expect(out).toEqual(["echo: hello", null]);
    expect(r.stderr).toMatch(/failed #2 .*boom/);
  });

  test("A02 unknown options warn, wrong types throw, options without their prerequisite or driver support are refused by name", async () => {
    const { out, r } = await run(
      `const res = []
await agent("a", { colour: "red" })
for (const o of [{ timeoutMs: "soon" }, { label: 3 }, { permissions: "root" }, { isolation: "container" }, { writes: ["src/**"] }, { verify: "npm test" }, { agentType: "reviewer" }, { permissions: "read-only" }]) {
  try { await agent("b", o); res.push("ran") } catch (e) { res.push(e.name + ": " + e.message) }
}
return res\n`,
    );
    expect(r.stderr).toContain('option "colour" is unknown');
    expect(out[0]).toMatch(/OptionsError: .*"timeoutMs" must be a positive integer/);
    expect(out[1]).toMatch(/"label" must be a non-empty string/);
    expect(out[2]).toMatch(/"permissions" must be one of/);
    expect(out[3]).toMatch(/"isolation" must be "worktree"/);
    expect(out[4]).toMatch(/"writes" needs isolation: "worktree"/);
    expect(out[5]).toMatch(/"verify" needs isolation: "worktree"/);
    expect(out[6]).toMatch(
      /"agentType": no definition of agent type "reviewer" .* the command driver has no named agents/,
    );
    // D09: the command driver is told read-only (WEFT_PERMISSIONS) rather than refusing it.
    expect(out[7]).toBe("ran");
  });

  test("A02 model reaches the command as WEFT_MODEL; effort warns once", async () => {
    const { out, r } = await run(
      'const a = JSON.parse(await agent("env", { model: "m-1", effort: "high", label: "L", phase: "P" }))\nconst b = JSON.parse(await agent("env", { effort: "low" }))\nreturn [a.WEFT_MODEL, a.WEFT_AGENT_LABEL, a.WEFT_AGENT_PHASE, b.WEFT_MODEL ?? null]\n',
    );
    expect(out).toEqual(["m-1", "L", "P", null]);
    expect(r.stderr.match(/cannot set a reasoning effort/g)).toHaveLength(1);
  });

  test("A02 timeoutMs and retries act on the command driver", async () => {
    const { out, dir, r } = await run(
      'const t = await agent("hang", { timeoutMs: 300 })\nconst f = await agent("fail-until:3", { retries: 2 })\nconst g = await agent("fail-until:3", { retries: 1 })\nreturn [t, f, g]\n',
    );
    expect(out).toEqual([null, "echo: fail-until:3", null]);
    expect(r.stderr).toContain("timed out after 300 ms");
    const fin = journal(dir, runIdOf(r)).filter((x) => x.type === "agent.finished");
    expect(fin.map((x) => x.attempts)).toEqual([1, 3, 2]);
  });

  test("A03 a schema result is validated; invalid output is repaired, then throws", async () => {
    const schema = '{ type: "object", required: ["n"], properties: { n: { type: "number" } } }';
    const { out, dir, r } = await run(
      `const ok = await agent('json:{"n":1}', { schema: ${schema} })
const fixed = await agent('json-until:3:{"n":2}', { schema: ${schema} })
let err = null
try { await agent('json:{"n":"x"}', { schema: ${schema}, repairs: 1 }) } catch (e) { err = e.name + ": " + e.message }
return { ok, fixed, err }\n`,
    );
    expect(r.code).toBe(0);
    expect(out.ok).toEqual({ n: 1 });
    expect(out.fixed).toEqual({ n: 2 });
    expect(out.err).toMatch(/SchemaError: .*\/n: must be number/);
    const fin = journal(dir, runIdOf(r)).filter((x) => x.type === "agent.finished");
    expect(fin.map((x) => x.attempts)).toEqual([1, 3, 2]);
  });

  test("A03 the repair prompt carries the validation errors", async () => {
    const dir = project({
      "wf.js": `${meta()}try { await agent("stdin", { schema: { type: "object", required: ["n"] }, repairs: 1 }) } catch (e) {}\n`,
    });
    const r = await runScript(dir, "wf.js");
    const id = runIdOf(r);
    const t = readFileSync(join(dir, ".weft", "runs", id, "transcripts", "1.jsonl"), "utf8");
    expect(t).toContain("did not match the schema:\\n- (root): must have required property 'n'");
  });

  test("A03 a schema that can never be satisfied throws before any agent starts", async () => {
    const { out, dir, r } = await run(
      'try { await agent("a", { schema: { type: "object", properties: { n: { type: "number", minimum: 5, maximum: 1 } }, required: ["n"] } }) } catch (e) { return e.name + ": " + e.message }\n',
    );
    expect(out).toMatch(/never be satisfied/);
    expect(journal(dir, runIdOf(r)).filter((x) => x.type === "agent.started")).toHaveLength(0);
  });

  test("A04 parallel keeps order and turns a throwing thunk into null", async () => {
    const { out } = await run(
      'return await parallel([() => agent("sleep:200 a"), () => { throw new Error("x") }, () => agent("b"), () => agent("exit:1")])\n',
    );
    expect(out).toEqual(["echo: sleep:200 a", null, "echo: b", null]);
  });

  test("A05 pipeline moves items through stages without a barrier, (previous, item, index)", async () => {
    const dir = project({
      "wf.js": `${meta()}const log = cwd + "/order.log"
return await pipeline(["slow", "fast", "bad"],
  (item) => item === "bad" ? (() => { throw new Error("no") })() : agent((item === "slow" ? "sleep:600 " : "") + "log:" + log + " s1-" + item),
  (prev, item, i) => agent("log:" + log + " s2-" + item + "-" + i))\n`,
    });
    const r = await runScript(dir, "wf.js");
    const out = JSON.parse(r.stdout);
    expect(out[0]).toMatch(/s2-slow-0/);
    expect(out[1]).toMatch(/s2-fast-1/);
    expect(out[2]).toBeNull();
    const order = readFileSync(join(dir, "order.log"), "utf8");
    // The fast item reached stage 2 before the slow one finished stage 1.
    expect(order.indexOf("s2-fast")).toBeLessThan(order.indexOf("s2-slow"));
  });

  test("A05 an item whose stage returned null, or whose agent failed, skips its later stages (as Claude Code)", async () => {
    const dir = project({
      "wf.js": `${meta()}const log = cwd + "/stages.log"
const out = await pipeline([0, 20, 30],
  (x) => (x === 0 ? null : x === 30 ? agent("exit:1 fails") : x),
  (prev, item) => agent("log:" + log + " s2-" + item + "-" + prev),
  (prev) => typeof prev)
return out\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code, r.stderr).toBe(0);
    // [0, 20] where Claude Code gives [null, 20]: the null item started no agent.
    expect(JSON.parse(r.stdout)).toEqual([null, "string", null]);
    const log = readFileSync(join(dir, "stages.log"), "utf8");
    expect(log).toContain("s2-20-20");
    expect(log).not.toContain("s2-0");
    expect(log).not.toContain("s2-30");
  });

  test("A06 lists over maxListItems are refused", async () => {
    const { out } = await run(
      "const r = []\nfor (const f of [() => parallel(Array(11).fill(() => 1)), () => pipeline(Array(11).fill(1), (x) => x)]) { try { await f() } catch (e) { r.push(e.message) } }\nreturn [r, (await parallel(Array(10).fill(() => 1))).length]\n",
      ["--max-list-items", "10"],
    );
    expect(out[0]).toHaveLength(2);
    expect(out[0][0]).toMatch(/11 items, more than the limit of 10/);
    expect(out[1]).toBe(10);
  });

  test("A07 phase groups the agents after it; opts.phase overrides", async () => {
    const { dir, r } = await run(
      'phase("One")\nawait agent("a")\nawait agent("b", { phase: "Other" })\nphase("Two")\nawait agent("c")\n',
    );
    expect(r.stderr).toMatch(/> One[\s\S]*#1[\s\S]*> Two[\s\S]*#3/);
    const fin = journal(dir, runIdOf(r)).filter((x) => x.type === "agent.finished");
    expect(fin.map((x) => x.phase)).toEqual(["One", "Other", "Two"]);
  });

  test("A08 log and console write narrator lines", async () => {
    const { r } = await run('log("hello", 1)\nconsole.log("c", { a: 1 })\nconsole.error("bad")\n');
    expect(r.stderr).toContain("  hello 1");
    expect(r.stderr).toContain('  c {"a":1}');
    expect(r.stderr).toContain("! bad");
  });

  test("A09 args is the run's input verbatim, undefined when none was given", async () => {
    let { out } = await run("return [typeof args, args]\n", ["--args", '{"a":[1,"x"],"b":null}']);
    expect(out).toEqual(["object", { a: [1, "x"], b: null }]);
    ({ out } = await run("return typeof args\n"));
    expect(out).toBe("undefined");
  });

  test("A10 budget counts tokens spent by this execution and refuses past the total", async () => {
    const { out, r } = await run(
      `const before = [budget.total, budget.spent(), budget.remaining()]
await agent("usage:40,20")
const mid = [budget.spent(), budget.remaining(), budget.agents.spent()]
await agent("usage:50,90")
let refused = null
try { await agent("c") } catch (e) { refused = e.message }
return { before, mid, refused }\n`,
      ["--budget", "100"],
    );
    expect(r.code).toBe(3);
    expect(out.before).toEqual([100, 0, 100]);
    // A10: generated tokens only (the 40 read are not counted).
    expect(out.mid).toEqual([20, 80, 1]);
    expect(out.refused).toMatch(/token budget reached: 110 of 100/);
    expect(r.stderr).toContain("refused");
  });

  test("A12 at most `concurrency` agents run at once; the rest wait in order", async () => {
    const dir = project({
      "wf.js": `${meta()}await parallel(Array.from({ length: 6 }, (_, i) => () => agent("sleep:300 span:" + cwd + "/span.log " + i)))\n`,
    });
    const r = await runScript(dir, "wf.js", ["--concurrency", "2", "--json"]);
    expect(r.code).toBe(0);
    let running = 0;
    let max = 0;
    for (const mark of readFileSync(join(dir, "span.log"), "utf8").split("\n").filter(Boolean)) {
      running += mark === "+" ? 1 : -1;
      max = Math.max(max, running);
    }
    expect(max).toBe(2);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const starts = events.filter((e) => e.type === "agent.started").map((e) => e.n);
    expect(starts).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test("A13 the agent cap refuses further calls, lists them, and the run ends budget_exhausted", async () => {
    const { dir, r } = await run(
      'const r = await parallel([1, 2, 3, 4].map((i) => () => agent("x" + i, { label: "L" + i })))\nreturn r\n',
      ["--max-agents", "2"],
    );
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual(["echo: x1", "echo: x2", null, null]);
    const s = runJson(dir, runIdOf(r));
    expect(s.status).toBe("budget_exhausted");
    expect(s.result).toEqual(["echo: x1", "echo: x2", null, null]);
    expect(s.refused.map((x: { label: string }) => x.label)).toEqual(["L3", "L4"]);
    expect(r.stderr).toMatch(/refused L3: agent limit reached/);
    // Resumable with a higher limit: the two finished agents are reused.
    const again = await weft(["resume", runIdOf(r), "--max-agents", "10", "--command", AGENT_CMD], dir);
    expect(again.code).toBe(0);
    expect(again.stderr.match(/cached #/g)).toHaveLength(2);
  });

  test("A15 every agent gets the preamble on stdin; the task file holds the prompt verbatim", async () => {
    const { out } = await run('return await agent("stdin")\n');
    expect(out).toMatch(/^You are running non-interactively .*\n\nstdin$/s);
  });

  test("A15 agents cannot start workflows themselves", async () => {
    const dir = project({ "wf.js": `${meta()}return 1\n` });
    const r = await runScript(dir, "wf.js", [], { WEFT_RUN_ID: "x-abcdef", WEFT_AGENT_INDEX: "1" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("does not start workflows from inside a weft agent");
  });
});
