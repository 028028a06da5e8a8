/** The warning before a large run (U06, issue 17 item 9): an estimate over 1.5 M tokens, with the figure. */
import { expect, test } from "vitest";
import { meta, project, runScript, weft } from "../helpers/cli.js";

// One agent per file in args: 31 × 50,000 = 1,550,000 tokens by plan's default per agent.
const script = `${meta("big")}return await parallel(args.files.map((f) => () => agent("look at " + f)))\n`;
const files = (n: number) => JSON.stringify({ files: Array.from({ length: n }, (_, i) => `f${i}.ts`) });

test("U06 CC weft plan warns when the estimate passes 1.5 M tokens, with the figure", async () => {
  const dir = project({ "big.js": script });
  let r = await weft(["plan", "big.js", "--args", files(31)], dir);
  expect(r.code).toBe(0);
  const warning =
    "large run: the estimate is ~1,550,000 tokens (31 agents × 50,000), over 1,500,000; `weft plan` shows how it is counted";
  expect(r.stderr).toContain(`! ${warning}`);
  expect(r.stdout).toContain(`- warning: ${warning}`);
  r = await weft(["plan", "big.js", "--args", files(31), "--json"], dir);
  expect(JSON.parse(r.stdout).warnings).toEqual([warning]);
  // 30 agents are 1,500,000: not over; a smaller per-agent guess moves the line too.
  r = await weft(["plan", "big.js", "--args", files(30)], dir);
  expect(r.stderr).not.toContain("large run");
  expect(r.stdout).not.toContain("- warning:");
  r = await weft(["plan", "big.js", "--args", files(31), "--tokens-per-agent", "1000", "--json"], dir);
  expect(JSON.parse(r.stdout).warnings).toEqual([]);
});

test("U06 CC weft run warns before starting a run whose estimate passes 1.5 M tokens", async () => {
  const dir = project({ "big.js": script });
  const r = await runScript(dir, "big.js", ["--args", files(31), "--json"]);
  expect(r.code).toBe(0);
  const events = r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const i = events.findIndex(
    (e) => e.type === "warning" && e.message.startsWith("large run: the estimate is ~1,550,000 tokens"),
  );
  expect(i).toBeGreaterThanOrEqual(0);
  // Before any agent started.
  expect(i).toBeLessThan(events.findIndex((e) => e.type === "agent.started"));
  const small = await runScript(dir, "big.js", ["--args", files(3)]);
  expect(small.code).toBe(0);
  expect(small.stderr).not.toContain("large run");
});
