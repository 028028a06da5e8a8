import { describe, expect, test } from "vitest";
import { meta, project, runIdOf, runJson, runScript } from "../helpers/cli.js";

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

  test("C07 more than 25 agents scheduled prints one large-run warning", async () => {
    const dir = project({
      "wf.js": `${meta()}await parallel(Array.from({ length: 30 }, (_, i) => () => agent("n" + i)))\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code).toBe(0);
    expect(r.stderr.match(/large run: more than 25 agents/g)).toHaveLength(1);
  });
});
