/**
 * C03: a subscription usage limit pauses the run through the breaker, in the shapes claude prints
 * it (a "successful" result whose text is the banner, and a 429 "hit your limit"), with the reset
 * time in run.json and in `weft status`. A stand-in for the claude CLI prints its stream.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { meta, project, runIdOf, runJson, weft } from "../helpers/cli.js";

function fakeClaude(dir: string, result: object): string {
  const bin = join(dir, "fake-claude.mjs");
  const lines = [
    { type: "system", subtype: "init", session_id: "s1", model: "claude-x" },
    { type: "result", session_id: "s1", ...result },
  ];
  mkdirSync(join(dir, ".weft"), { recursive: true });
  writeFileSync(
    bin,
    `#!${process.execPath}\nfor (const l of ${JSON.stringify(lines)}) console.log(JSON.stringify(l));\n`,
  );
  chmodSync(bin, 0o755);
  return bin;
}

const SHAPES = [
  [
    "a success result whose text is the banner",
    { subtype: "success", is_error: false, result: "Claude AI usage limit reached|1798761600" },
  ],
  [
    "a 429 error",
    {
      subtype: "error_during_execution",
      is_error: true,
      result: "API Error: 429 You've hit your limit · resets 3pm",
    },
  ],
] as const;

for (const [shape, result] of SHAPES) {
  test(`C03 claude's usage limit as ${shape} pauses the run (breaker), never hands the banner to the script`, async () => {
    const dir = project({
      "wf.js": `${meta()}return await parallel([1, 2, 3].map((i) => () => agent("task " + i)))\n`,
    });
    const bin = fakeClaude(dir, result);
    writeFileSync(join(dir, ".weft", "config.json"), JSON.stringify({ drivers: { claude: { bin } } }));
    const r = await weft(["run", "wf.js", "--driver", "claude", "--concurrency", "1"], dir);
    expect(r.code, r.stderr).toBe(4);
    const id = runIdOf(r);
    const s = runJson(dir, id);
    expect(s.status).toBe("paused");
    expect(s.result).toBeUndefined();
    expect(s.error ?? "").toMatch(/usage limit reached|hit your limit/);
    // Not retried: one start, and no other agent started after the breaker.
    expect(s.agents.failed ?? 0).toBe(1);
    expect(Date.parse(s.usageResetAt)).toBeGreaterThan(Date.now() - 60_000);
    const st = await weft(["status", id], dir);
    expect(st.stdout).toMatch(/usage limit resets at \S+: weft resume/);
  });
}
