/**
 * E03: every message tells the truth. A run whose agents failed says so first; a recipe none of
 * whose agents succeeded fails; `resume with` is printed only where a resume can help; a driver
 * whose program is missing is refused before any run exists.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { meta, project, runIdOf, runJson, runScript, weft } from "../helpers/cli.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A folder holding a fake agent CLI `name`: a shell script with this body. */
function fakeCli(dir: string, name: string, body: string): string {
  const bin = join(dir, "fake-bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
  return bin;
}

const runsIn = (dir: string) =>
  existsSync(join(dir, ".weft", "runs")) ? readdirSync(join(dir, ".weft", "runs")) : [];

describe("E03 the summary of a run whose agents failed", () => {
  test("E03 says `N of M agents failed` first, even when the script returned", async () => {
    const dir = project({
      "wf.js": `${meta("partly")}const r = await parallel([() => agent("exit:1 a"), () => agent("b"), () => agent("exit:1 c")])\nreturn r.filter(Boolean).length\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^2 of 3 agents failed · completed in [\d.]+m?s · 1 agent completed/m);
    expect(r.stderr).not.toMatch(/· 2 failed/);
    expect(r.stderr).not.toContain("resume with");
  });

  test("E03 calls refused for their options are counted first too: a run of refusals is no success", async () => {
    const dir = project({
      "wf.js": `${meta("refusals")}const r = await parallel([() => agent("a", { permissions: "root" }), () => agent("b", { timeoutMs: "soon" })])\nreturn r\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^2 agent\(\) calls refused for their options · completed in [\d.]+m?s · 0 agents completed/m,
    );
    expect(runJson(dir, runIdOf(r)).rejected).toBe(2);
  });

  test("E03 a run with no failed agent does not mention failures", async () => {
    const dir = project({ "wf.js": `${meta("fine")}return await agent("b")\n` });
    const r = await runScript(dir, "wf.js");
    expect(r.stderr).toMatch(/^completed in [\d.]+m?s · 1 agent completed · 0 tokens$/m);
  });
});

describe("E03 recipes", () => {
  test("E03 a recipe none of whose agents succeeded fails (exit 1) and names the first failures", async () => {
    const dir = project({ "README.md": "x\n" });
    const r = await weft(
      [
        "run",
        join(root, "recipes", "triangulated-review.js"),
        "--command",
        "echo 'model unreachable' >&2; exit 1",
        "--args",
        JSON.stringify({ target: "src/", lenses: ["security", "tests"], readOnly: false }),
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      "every reviewer failed (review: security, review: tests): nothing was reviewed",
    );
    expect(r.stderr).toMatch(/^2 of 2 agents failed · failed in/m);
    expect(r.stderr).toMatch(/^ {2}✗ #1 review: security: model unreachable$/m);
    expect(r.stderr).toMatch(/^ {2}✗ #2 review: tests: model unreachable$/m);
    // The command's failure is its own: a resume would run it into the same wall.
    expect(r.stderr).not.toContain("resume with");
    const s = runJson(dir, runIdOf(r));
    expect(s.status).toBe("failed");
    expect(s.resumeHelps).toBe(false);
    expect(s.failures).toHaveLength(2);
  });

  test("E03 every bundled recipe throws when a fan-out's agents all failed", async () => {
    // Each recipe's check is in the script; the run-level proof is the test above.
    const { readFileSync } = await import("node:fs");
    for (const [name, text] of [
      ["triangulated-review", "every reviewer failed"],
      ["migration", "every migration agent failed"],
      ["review-fix-verify", "every fixer failed"],
      ["split-by-sections", "every section's agent failed"],
      ["research-synthesis", "every checker failed"],
      ["research-synthesis", "every researcher failed"],
      ["options-sprint", "every draft failed"],
      ["scout-act-verify", 'the agent "act" failed'],
    ]) {
      expect(readFileSync(join(root, "recipes", `${name}.js`), "utf8"), name).toContain(text);
    }
  });
});

describe("E03 resume with: only where a resume can help", () => {
  for (const [what, body, flags] of [
    ["a DeterminismError", `await agent("a")\nreturn Date.now()\n`, []],
    ["an OptionsError", `await agent("a")\nreturn await agent("b", { timeoutMs: "soon" })\n`, []],
    ["a Map in the result", `await agent("a")\nreturn { m: new Map() }\n`, []],
    [
      "a schema the agent never meets",
      `await agent("a")\nreturn await agent("b", { schema: { type: "object", required: ["x"], properties: { x: { type: "string" } } } })\n`,
      ["--repairs", "1"],
    ],
  ] as const) {
    test(`E03 no resume hint after ${what}`, async () => {
      const dir = project({ "wf.js": `${meta("nohint")}${body}` });
      const r = await runScript(dir, "wf.js", [...flags]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).not.toContain("resume with");
      // What does help: fixing the script and running it on the same run, which reuses agent 1.
      expect(r.stderr).toContain(`weft run <script> --resume ${runIdOf(r)}\` reuses the 1 finished agent`);
      expect(runJson(dir, runIdOf(r)).resumeHelps).toBe(false);
      // weft stop on the ended run does not point at resume either.
      const stop = await weft(["stop", runIdOf(r)], dir);
      expect(stop.stderr).toContain("is not running (status failed)");
      expect(stop.stderr).not.toContain("weft resume");
    });
  }

  test("E03 resume hint after a transient failure that outlived its retries", async () => {
    const dir = project({ "wf.js": `${meta("flaky")}const r = await agent("a")\nreturn r.length\n` });
    const bin = fakeCli(dir, "pi", "echo 'HTTP 503 service unavailable' >&2; exit 1");
    const r = await weft(["run", "wf.js", "--driver", "pi", "--retries", "0"], dir, { PATH: bin });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`resume with: weft resume ${runIdOf(r)}`);
    expect(runJson(dir, runIdOf(r)).resumeHelps).toBe(true);
  });

  test("E03 resume hint after the breaker paused the run", async () => {
    const dir = project({ "wf.js": `${meta("nokey")}return await agent("a")\n` });
    const bin = fakeCli(dir, "pi", "echo 'No API key found for anthropic.' >&2; exit 1");
    const r = await weft(["run", "wf.js", "--driver", "pi"], dir, { PATH: bin });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain(`resume with: weft resume ${runIdOf(r)}`);
  });
});

describe("E03 a missing driver program", () => {
  test("E03 --driver codex without codex on PATH is refused before a run is created (exit 2)", async () => {
    const dir = project({ "wf.js": `${meta()}return await agent("a")\n` });
    const empty = join(dir, "empty-bin");
    mkdirSync(empty);
    const r = await weft(["run", "wf.js", "--driver", "codex"], dir, { PATH: empty });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("the codex driver (chosen by --driver) cannot start: `codex` is not on PATH");
    expect(r.stderr).toContain("npm install -g @openai/codex");
    expect(r.stderr).not.toMatch(/^run /m);
    expect(runsIn(dir)).toEqual([]);
    const env = await weft(["run", "wf.js"], dir, { PATH: empty, WEFT_DRIVER: "claude" });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain("the claude driver (chosen by WEFT_DRIVER) cannot start");
    expect(env.stderr).toContain("npm install -g @anthropic-ai/claude-code");
    expect(runsIn(dir)).toEqual([]);
  });

  test("E03 a drivers.<name>.bin that does not exist is refused the same way", async () => {
    const dir = project({
      "wf.js": `${meta()}return await agent("a")\n`,
      ".weft/config.json": JSON.stringify({ driver: "pi", drivers: { pi: { bin: "/nowhere/pi" } } }),
    });
    const r = await weft(["run", "wf.js"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("/nowhere/pi (drivers.pi.bin) does not exist or is not executable");
    expect(runsIn(dir)).toEqual([]);
  });

  test("E03 --driver X --command Y warns that the command is ignored", async () => {
    const dir = project({ "wf.js": `${meta()}return await agent("a")\n` });
    const bin = fakeCli(dir, "pi", "echo 'No API key found for anthropic.' >&2; exit 1");
    const r = await weft(["run", "wf.js", "--driver", "pi", "--command", "cat"], dir, { PATH: bin });
    expect(r.stderr.split("\n")[0]).toMatch(/^run /);
    expect(r.stderr).toContain(
      '--command is ignored: the run\'s driver is pi (--driver); only agent() calls with driver: "command" run the command',
    );
  });
});

describe("E03 the MCP server's next step", () => {
  test("E03 workflow_status of a failed run points at resume only when a resume can help", async () => {
    const { statusView } = await import("../../dist/mcp/views.js");
    const base = {
      id: "r-abcdef",
      name: "r",
      status: "failed",
      agents: { completed: 1 },
      refused: [],
      tokens: { input: 0, output: 0, cached: 0, reasoning: 0 },
      costUsd: 0,
      startedAt: "2026-12-01T00:00:00.000Z",
      endedAt: "2026-12-01T00:00:01.000Z",
      script: "script.js",
      driver: "command",
    };
    const view = (over: object) =>
      statusView({
        runId: "r-abcdef",
        runDir: "/nowhere",
        summary: { ...base, ...over } as never,
        owned: false,
        maxResultChars: 1000,
      }).next;
    expect(view({ resumeHelps: false })).toContain("fix the script");
    expect(view({ resumeHelps: false })).not.toContain('action: "resume"');
    expect(view({ resumeHelps: true })).toContain('workflow_control {action: "resume"}');
    expect(view({ status: "paused", resumeHelps: true })).toContain('workflow_control {action: "resume"}');
  });
});
