/**
 * Claude Code's settings as weft's lowest source (U09, issue 17 item 5): the variables read from
 * the environment and from Claude Code's settings files, with HOME pointed at a temporary folder.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { resolveSettings } from "../../dist/config/settings.js";
import { meta, project, runScript, weft } from "../helpers/cli.js";

const json = (v: unknown) => JSON.stringify(v);
const ccEnv = (env: Record<string, string>) => json({ env });

test("U09 CC Claude Code's env blocks: local over project over user over the environment; weft's layers over all", () => {
  const dir = project({
    "home/.claude/settings.json": ccEnv({
      CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS: "3",
      CLAUDE_CODE_SUBAGENT_MODEL: "haiku",
      CLAUDE_CODE_EFFORT_LEVEL: "low",
    }),
    ".claude/settings.json": ccEnv({ CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS: "5" }),
    ".claude/settings.local.json": ccEnv({ CLAUDE_CODE_EFFORT_LEVEL: "High" }),
  });
  const env = {
    HOME: join(dir, "home"),
    XDG_CONFIG_HOME: join(dir, "xdg"),
    CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS: "9",
    CLAUDE_CODE_SUBAGENT_MODEL_FORCE: "1",
  };
  let r = resolveSettings({ cwd: dir, cpus: 2, env });
  expect(r.settings.concurrency).toBe(5);
  expect(r.sources.concurrency).toEqual({
    source: "claude",
    where: "CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS in .claude/settings.json",
  });
  expect(r.settings.drivers.claude).toEqual({ model: "haiku", effort: "high", forceModel: true });
  expect(r.details["drivers.claude.model"]!.where).toBe(
    `CLAUDE_CODE_SUBAGENT_MODEL in ${join(dir, "home", ".claude", "settings.json")}`,
  );
  expect(r.details["drivers.claude.effort"]!.where).toBe(
    "CLAUDE_CODE_EFFORT_LEVEL in .claude/settings.local.json",
  );
  expect(r.details["drivers.claude.forceModel"]!.where).toBe(
    "CLAUDE_CODE_SUBAGENT_MODEL_FORCE (environment)",
  );
  expect(r.warnings).toEqual([]);

  // The workflow variable wins over the general one; CLAUDE_CONFIG_DIR moves the user file.
  mkdirSync(join(dir, "ccdir"));
  writeFileSync(join(dir, "ccdir", "settings.json"), ccEnv({ CLAUDE_CODE_SUBAGENT_MODEL: "opus" }));
  r = resolveSettings({
    cwd: dir,
    cpus: 2,
    env: { ...env, CLAUDE_CONFIG_DIR: join(dir, "ccdir"), CLAUDE_CODE_WORKFLOW_SUBAGENT_MODEL: "sonnet" },
  });
  expect(r.settings.drivers.claude!.model).toBe("sonnet");
  expect(r.details["drivers.claude.model"]!.where).toBe("CLAUDE_CODE_WORKFLOW_SUBAGENT_MODEL (environment)");

  // Any weft layer wins, value by value: the project's drivers.claude keeps Claude Code's effort.
  mkdirSync(join(dir, ".weft"));
  writeFileSync(
    join(dir, ".weft", "config.json"),
    json({ drivers: { claude: { model: "claude-sonnet-4-5", args: ["--x"] } } }),
  );
  r = resolveSettings({ cwd: dir, cpus: 2, env: { ...env, WEFT_CONCURRENCY: "2" } });
  expect(r.settings.concurrency).toBe(2);
  expect(r.sources.concurrency.source).toBe("env");
  expect(r.settings.drivers.claude).toEqual({
    model: "claude-sonnet-4-5",
    args: ["--x"],
    effort: "high",
    forceModel: true,
  });
  expect(r.details["drivers.claude.model"]).toBeUndefined();
});

test("U09 CC invalid Claude Code values warn, naming where they came from, and are ignored", () => {
  const dir = project({
    "home/.claude/settings.json": ccEnv({
      CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS: "300",
      CLAUDE_CODE_EFFORT_LEVEL: "extreme",
    }),
    ".claude/settings.local.json": "{ not json",
  });
  const r = resolveSettings({
    cwd: dir,
    cpus: 2,
    env: {
      HOME: join(dir, "home"),
      XDG_CONFIG_HOME: join(dir, "xdg"),
      CLAUDE_CODE_SUBAGENT_MODEL_FORCE: "yes",
    },
  });
  expect(r.settings.concurrency).toBe(4);
  expect(r.sources.concurrency.source).toBe("default");
  expect(r.settings.drivers).toEqual({});
  const home = join(dir, "home", ".claude", "settings.json");
  expect(r.warnings).toEqual([
    expect.stringMatching(/^\.claude\/settings\.local\.json is not valid JSON .*weft ignores it$/),
    `CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS in ${home}: must be a whole number from 1 to 256, got "300"; ignored`,
    'CLAUDE_CODE_SUBAGENT_MODEL_FORCE (environment): must be 1 or 0, got "yes"; ignored',
    `CLAUDE_CODE_EFFORT_LEVEL in ${home}: must be one of low, medium, high, xhigh, max, got "extreme"; ignored`,
  ]);
});

test("U09 CC weft config shows Claude Code's values and where each came from", async () => {
  const dir = project({
    "home/.claude/settings.json": ccEnv({ CLAUDE_CODE_SUBAGENT_MODEL: "haiku" }),
    ".claude/settings.json": ccEnv({ CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS: "0" }),
  });
  const env = { HOME: join(dir, "home"), CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS: "12" };
  let r = await weft(["config"], dir, env);
  expect(r.code).toBe(0);
  // .claude/settings.json's 0 is what Claude Code would take (its file over the shell): invalid, so ignored.
  expect(r.stdout).toMatch(/^concurrency\s+4\s+default$/m);
  expect(r.stderr).toContain(
    '! CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS in .claude/settings.json: must be a whole number from 1 to 256, got "0"; ignored',
  );
  expect(r.stdout).toMatch(
    /^drivers\.claude\.model\s+"haiku"\s+CLAUDE_CODE_SUBAGENT_MODEL in .*home\/\.claude\/settings\.json$/m,
  );
  writeFileSync(join(dir, ".claude", "settings.json"), "{}");
  r = await weft(["config", "--json"], dir, env);
  const rows = JSON.parse(r.stdout).settings as {
    key: string;
    value: unknown;
    source: string;
    where: string;
  }[];
  expect(rows.find((x) => x.key === "concurrency")).toEqual({
    key: "concurrency",
    value: 12,
    source: "claude",
    where: "CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS (environment)",
  });
});

test("U09 CC a run honours CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS from ~/.claude/settings.json", async () => {
  const dir = project({
    "home/.claude/settings.json": ccEnv({ CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS: "2" }),
  });
  const span = join(dir, "span.log");
  writeFileSync(
    join(dir, "flow.js"),
    `${meta()}return await parallel([1, 2, 3, 4, 5, 6].map((i) => () => agent(\`n\${i} sleep:300 span:${span}\`)))\n`,
  );
  const r = await runScript(dir, "flow.js", [], { HOME: join(dir, "home") });
  expect(r.code).toBe(0);
  let now = 0;
  let most = 0;
  for (const l of readFileSync(span, "utf8").split("\n").filter(Boolean)) {
    now += l === "+" ? 1 : -1;
    most = Math.max(most, now);
  }
  expect(most).toBe(2);
});

/** A stand-in `claude` that answers with the arguments it was given. */
function fakeClaude(dir: string): string {
  const bin = join(dir, "fake-claude.mjs");
  writeFileSync(
    bin,
    `#!${process.execPath}
process.stdout.write(JSON.stringify({ type: "result", result: JSON.stringify(process.argv.slice(2, -2)) }) + "\\n");
`,
  );
  chmodSync(bin, 0o755);
  return bin;
}

test("U09 CC the claude driver's default model and effort from Claude Code; FORCE overrides the call's model", async () => {
  const dir = project({
    "home/.claude/settings.json": ccEnv({
      CLAUDE_CODE_SUBAGENT_MODEL: "haiku",
      CLAUDE_CODE_EFFORT_LEVEL: "max",
    }),
  });
  const bin = fakeClaude(dir);
  mkdirSync(join(dir, ".weft"));
  writeFileSync(join(dir, ".weft", "config.json"), json({ drivers: { claude: { bin } } }));
  writeFileSync(
    join(dir, "flow.js"),
    `${meta()}const a = JSON.parse(await agent("plain"))
const b = JSON.parse(await agent("named", { model: "opus", effort: "low" }))
const v = (argv, f) => argv[argv.indexOf(f) + 1]
return [v(a, "--model"), v(a, "--effort"), v(b, "--model"), v(b, "--effort")]\n`,
  );
  const home = { HOME: join(dir, "home") };
  let r = await weft(["run", "flow.js", "--driver", "claude"], dir, home);
  expect(r.stderr).not.toContain("!");
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual(["haiku", "max", "opus", "low"]);
  r = await weft(["run", "flow.js", "--driver", "claude"], dir, {
    ...home,
    CLAUDE_CODE_SUBAGENT_MODEL_FORCE: "1",
  });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual(["haiku", "max", "haiku", "low"]);
});

test("U09 CC Claude Code's model is the claude driver's only: another backend never gets it", () => {
  const dir = project({ "home/.claude/settings.json": ccEnv({ CLAUDE_CODE_SUBAGENT_MODEL: "haiku" }) });
  const r = resolveSettings({
    cwd: dir,
    cpus: 2,
    env: { HOME: join(dir, "home"), XDG_CONFIG_HOME: join(dir, "x") },
  });
  expect(Object.keys(r.settings.drivers)).toEqual(["claude"]);
});

test("U09 CC Claude Code's values are not stored with a run: a resume reads them afresh", async () => {
  const dir = project({ "home/.claude/settings.json": ccEnv({ CLAUDE_CODE_SUBAGENT_MODEL: "haiku" }) });
  const bin = fakeClaude(dir);
  writeFileSync(join(dir, "flow.js"), `${meta()}return JSON.parse(await agent("plain"))\n`);
  const r = await weft(["run", "flow.js", "--driver", "claude"], dir, {
    HOME: join(dir, "home"),
    WEFT_DRIVERS: json({ claude: { bin } }),
  });
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toContain("haiku");
  const id = /^run (\S+)/m.exec(r.stderr)![1]!;
  const started = readFileSync(join(dir, ".weft", "runs", id, "journal.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((x) => x.type === "run.started");
  expect(started.settings.drivers).toEqual({ claude: { bin } });
  expect(started.settings.concurrency).toBeUndefined();
});
