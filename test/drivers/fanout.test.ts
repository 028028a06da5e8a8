/**
 * A15: an agent cannot start workflows or sub-agent fan-outs of its own, which would run outside
 * weft's concurrency, budget and agent caps. Read from what each driver really starts its CLI
 * with (the capturing stand-in of capture.ts), at every permission level.
 */
import { readFileSync, rmSync } from "node:fs";
import { afterAll, describe, expect, test } from "vitest";
import { captureKit, flag } from "./capture.js";

const kit = captureKit(["CLAUDE_CODE_DISABLE_WORKFLOWS", "OPENCODE_PERMISSION"]);
afterAll(() => rmSync(kit.root, { recursive: true, force: true }));
const LEVELS = ["read-only", "edit", "full"] as const;
const run = (name: string, permissions: (typeof LEVELS)[number]) =>
  kit.capture(kit.driver(name), kit.task({ permissions }));

describe.each(LEVELS)("at %s", (level) => {
  test(`A15 claude (${level}): Workflow and Agent (and its old name Task) disallowed, workflows off`, async () => {
    const c = await run("claude", level);
    const denied = c.argv
      .filter((a) => a.startsWith("--disallowedTools="))
      .flatMap((a) => a.slice(18).split(","));
    expect(denied).toEqual(expect.arrayContaining(["Workflow", "Agent", "Task"]));
    expect(c.env.CLAUDE_CODE_DISABLE_WORKFLOWS).toBe("1");
  });

  test(`A15 codex (${level}): both generations of its multi-agent tools disabled`, async () => {
    const { argv } = await run("codex", level);
    const disabled = argv.flatMap((a, i) => (argv[i - 1] === "--disable" ? [a] : []));
    expect(disabled).toEqual(expect.arrayContaining(["multi_agent", "multi_agent_v2"]));
  });

  test(`A15 opencode (${level}): its task tool (sub-agents) denied`, async () => {
    const c = await run("opencode", level);
    expect(JSON.parse(c.env.OPENCODE_PERMISSION ?? "{}").task).toBe("deny");
  });

  test(`A15 gemini (${level}): an admin policy denies its sub-agent tools`, async () => {
    const { argv } = await run("gemini", level);
    const policy = readFileSync(flag(argv, "--admin-policy") as string, "utf8");
    for (const t of ["invoke_agent", "codebase_investigator", "generalist"])
      expect(policy).toContain(`"${t}"`);
    expect(policy).toContain('decision = "deny"');
  });
});
