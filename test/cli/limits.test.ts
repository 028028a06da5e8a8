import { describe, expect, test } from "vitest";
import { AGENT_CMD, meta, project, runIdOf, runJson, runScript, weft } from "../helpers/cli.js";

describe("limits", () => {
  test("C06 --max-cost-usd refuses agents once the recorded cost reaches the limit", async () => {
    const dir = project({
      "wf.js": `${meta()}const r = []\nfor (let i = 0; i < 4; i++) r.push(await agent("usage:1,1,0.3 n" + i).catch((e) => e.message))\nreturn [r, budget.costUsd.spent()]\n`,
    });
    const r = await runScript(dir, "wf.js", ["--max-cost-usd", "0.5"]);
    expect(r.code).toBe(3);
    const [answers, spent] = JSON.parse(r.stdout);
    expect(answers.slice(0, 2)).toEqual(["echo: usage:1,1,0.3 n0", "echo: usage:1,1,0.3 n1"]);
    expect(answers[2]).toMatch(/cost limit reached/);
    expect(spent).toBeCloseTo(0.6);
    const s = runJson(dir, runIdOf(r));
    expect(s.costUsd).toBeCloseTo(0.6);
    expect(s.status).toBe("budget_exhausted");
  });

  test("C06 --max-cost prices reported tokens with the user's price table and resumes with a higher limit", async () => {
    const dir = project({
      "wf.js": `${meta()}const r = []\nfor (let i = 0; i < 4; i++) r.push(await agent("usage:1000,500 n" + i, { model: "house-model-2" }).catch((e) => e.message))\nreturn r\n`,
      // $100 per million input and $200 per million output: 1000 in + 500 out = $0.20 an agent.
      ".weft/config.json": JSON.stringify({ prices: { "house-model": { input: 100, output: 200 } } }),
    });
    const r = await runScript(dir, "wf.js", ["--max-cost", "0.3"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cost limit reached: \$0\.4000 of \$0\.3 spent/);
    const id = runIdOf(r);
    const s = runJson(dir, id);
    expect(s.status).toBe("budget_exhausted");
    expect(s.costUsd).toBeCloseTo(0.4);
    // A higher limit lets the rest run; the two finished agents are not paid for again.
    const again = await weft(["resume", id, "--command", AGENT_CMD, "--max-cost", "1"], dir);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toHaveLength(4);
    // This execution's cost: the two agents it ran.
    expect(runJson(dir, id).costUsd).toBeCloseTo(0.4);
  });

  test("A10 budget and --budget count generated tokens (output + reasoning), not input; the summary keeps every figure", async () => {
    // Claude Code's documented loop: an agent reading 40,000 tokens and writing 500 spends 500.
    const dir = project({
      "wf.js": `${meta()}let n = 0
while (budget.remaining() > 0 && n < 10) { await agent("usage:40000,500 n" + n); n++ }
return [n, budget.spent(), budget.remaining(), budget.total]\n`,
    });
    const r = await runScript(dir, "wf.js", ["--budget", "2000"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([4, 2000, 0, 2000]);
    const s = runJson(dir, runIdOf(r));
    expect(s.tokens).toMatchObject({ input: 160000, output: 2000 });
    // The next call after the loop would be refused: the budget is spent.
    const over = project({
      "wf.js": `${meta()}await agent("usage:40000,500 a")\nawait agent("usage:40000,500 b")\ntry { await agent("c") } catch (e) { return e.message }\n`,
    });
    const r2 = await runScript(over, "wf.js", ["--budget", "1000"]);
    expect(r2.stdout).toMatch(/token budget reached: 1000 of 1000 tokens spent/);
  });

  test("C07 more than 25 agents scheduled prints one large-run warning", async () => {
    const dir = project({
      "wf.js": `${meta()}await parallel(Array.from({ length: 30 }, (_, i) => () => agent("n" + i)))\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code).toBe(0);
    expect(r.stderr.match(/large run: more than 25 agents/g)).toHaveLength(1);
  });
});

describe("limits checked when a queued agent is about to start", () => {
  test("C06 --budget holds inside parallel(): queued agents are refused once it is spent; the overshoot is bounded by the agents running", async () => {
    const dir = project({
      "wf.js": `${meta()}const out = await parallel(Array.from({ length: 20 }, (_, i) => () => agent("usage:100,50 n" + i, { label: "a" + i })))
return out.map((x) => (x === null ? null : "ok"))\n`,
    });
    const r = await runScript(dir, "wf.js", ["--budget", "400", "--concurrency", "2"]);
    expect(r.code).toBe(3);
    const s = runJson(dir, runIdOf(r));
    expect(s.status).toBe("budget_exhausted");
    // A10: the budget counts generated tokens (50 per agent), not the 100 of input.
    const spent = s.tokens.output + s.tokens.reasoning;
    // The limit plus at most what the two running agents added.
    expect(spent).toBeGreaterThanOrEqual(400);
    expect(spent).toBeLessThanOrEqual(400 + 2 * 50);
    const ran = s.result.filter((x: string | null) => x === "ok").length;
    expect(ran).toBe(spent / 50);
    expect(s.tokens.input).toBe(ran * 100);
    // Every call that did not run is listed, with its label and number, and is null in its slot.
    expect(s.refused).toHaveLength(20 - ran);
    expect(s.refused[0]).toMatchObject({ label: expect.stringMatching(/^a\d+$/), n: expect.any(Number) });
    expect(s.refused[0].reason).toMatch(/token budget reached/);
    expect(s.agents.completed).toBe(ran);
  });

  test("C06 --max-cost holds inside parallel(): six agents of $0.40 at concurrency 2 stop below $1 + 2 x $0.40", async () => {
    const dir = project({
      "wf.js": `${meta()}return (await parallel(Array.from({ length: 6 }, (_, i) => () => agent("usage:1,1,0.4 n" + i)))).filter(Boolean).length\n`,
    });
    const r = await runScript(dir, "wf.js", ["--max-cost", "1", "--concurrency", "2"]);
    expect(r.code).toBe(3);
    const s = runJson(dir, runIdOf(r));
    expect(s.costUsd).toBeLessThanOrEqual(1 + 2 * 0.4 + 1e-9);
    expect(s.result).toBe(4);
    expect(s.refused).toHaveLength(2);
    expect(s.refused[0].reason).toMatch(/cost limit reached/);
  });
});

test("C06 a list over --max-list-items ends the run budget_exhausted, not failed, whether the script catches it or not", async () => {
  const caught = project({
    "wf.js": `${meta()}let m = null\ntry { await parallel(Array(11).fill(() => 1)) } catch (e) { m = e.message }\nreturn m\n`,
  });
  let r = await runScript(caught, "wf.js", ["--max-list-items", "10"]);
  expect(r.code).toBe(3);
  let s = runJson(caught, runIdOf(r));
  expect(s.status).toBe("budget_exhausted");
  expect(s.result).toMatch(/11 items, more than the limit of 10/);
  expect(s.refused).toEqual([
    { reason: "parallel() got 11 items, more than the limit of 10 (setting maxListItems)" },
  ]);
  const uncaught = project({ "wf.js": `${meta()}return await pipeline(Array(11).fill(1), (x) => x)\n` });
  r = await runScript(uncaught, "wf.js", ["--max-list-items", "10"]);
  expect(r.code).toBe(3);
  s = runJson(uncaught, runIdOf(r));
  expect(s.status).toBe("budget_exhausted");
  expect(s.refused).toHaveLength(1);
});
