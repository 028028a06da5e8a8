/**
 * Where Claude Code finds things (U03, issue 17 item 6): saved workflows in `.claude/workflows/`
 * up to the git root, the user's `~/.claude/workflows` (or `$CLAUDE_CONFIG_DIR`), enabled plugins'
 * `workflows/` and `agents/` as `<plugin>:<name>`, the user's `~/.claude/agents`; Claude Code's
 * built-in deep-research named as Claude Code's own. HOME is a temporary folder in every test.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { AGENT_CMD, meta, project, weft } from "../helpers/cli.js";

const wf = (name: string, body: string) =>
  `export const meta = { name: "${name}", description: "the ${name} workflow" }\n${body}\n`;

function write(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

/** A project (a git repository) with HOME at `<dir>/home`; runs `weft` in `sub` of it. */
function setup(files: Record<string, string> = {}) {
  const dir = project(files);
  execFileSync("git", ["init", "-q"], { cwd: dir });
  const home = join(dir, "home");
  mkdirSync(join(home, ".claude"), { recursive: true });
  const run = (args: string[], sub = ".", env: Record<string, string> = {}) => {
    mkdirSync(join(dir, sub), { recursive: true });
    return weft(args, join(dir, sub), { HOME: home, ...env });
  };
  return { dir, home, run };
}

/** installed_plugins.json (v2) with plugins under home/plugins/<name>, and which are enabled. */
function plugins(home: string, installs: Record<string, string>, enabled: Record<string, boolean>): void {
  const entries: Record<string, unknown[]> = {};
  for (const [id, path] of Object.entries(installs)) {
    entries[id] = [
      { scope: "user", installPath: path, version: "1.0.0", installedAt: "2026-10-01T00:00:00Z" },
    ];
  }
  write(home, {
    ".claude/plugins/installed_plugins.json": JSON.stringify({ version: 2, plugins: entries }),
    ".claude/settings.json": JSON.stringify({ enabledPlugins: enabled }),
  });
}

describe("Claude Code's places (U03)", () => {
  test("U03 .claude/workflows of every folder from the current one up to the git root, the closest first", async () => {
    const { dir, run } = setup();
    write(dir, {
      ".claude/workflows/flow.js": wf("flow", 'return "root"'),
      ".claude/workflows/rooted.js": wf("rooted", 'return "root only"'),
      "a/.claude/workflows/flow.js": wf("flow", 'return "a"'),
      "a/b/keep.txt": "",
    });
    let r = await run(["run", "flow", "--command", "tail -n 1"], "a/b");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("a");
    r = await run(["run", "rooted", "--command", "tail -n 1"], "a/b");
    expect(r.stdout.trim()).toBe("root only");
    r = await run(["run", "flow", "--command", "tail -n 1"]);
    expect(r.stdout.trim()).toBe("root");
    r = await run(["list-workflows", "--json"], "a/b");
    const flows = (JSON.parse(r.stdout) as any[]).filter((e) => e.name === "flow");
    expect(flows.map((e) => [e.source, e.shadowed])).toEqual([
      ["claude", false],
      ["claude", true],
    ]);
    r = await run(["run", "nope"], "a/b");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, "a", ".claude", "workflows")} (claude)`);
    expect(r.stderr).toContain(`${join(dir, ".claude", "workflows")} (claude)`);
    expect(r.stderr).not.toContain(`${join(dir, "..", ".claude", "workflows")} `);
  });

  test("U03 ~/.claude/workflows (or $CLAUDE_CONFIG_DIR/workflows), after the project's", async () => {
    const { dir, home, run } = setup();
    write(home, { ".claude/workflows/mine.js": wf("mine", 'return "home"') });
    write(dir, { "ccdir/workflows/mine.js": wf("mine", 'return "config dir"') });
    let r = await run(["run", "mine", "--command", "tail -n 1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("home");
    r = await run(["run", "mine", "--command", "tail -n 1"], ".", { CLAUDE_CONFIG_DIR: join(dir, "ccdir") });
    expect(r.stdout.trim()).toBe("config dir");
    write(dir, { ".claude/workflows/mine.js": wf("mine", 'return "project"') });
    r = await run(["run", "mine", "--command", "tail -n 1"]);
    expect(r.stdout.trim()).toBe("project");
    r = await run(["list-workflows", "--json"]);
    expect((JSON.parse(r.stdout) as any[]).find((e) => e.source === "claude-user")).toMatchObject({
      name: "mine",
      shadowed: true,
    });
  });

  test("U03 enabled plugins' workflows run as <plugin>:<name>; a disabled plugin's and a bare name do not", async () => {
    const { dir, home, run } = setup();
    const on = join(home, ".claude", "plugins", "cache", "mkt", "kit", "1.0.0");
    const off = join(home, ".claude", "plugins", "cache", "mkt", "other", "1.0.0");
    write(on, { "workflows/review.js": wf("review", 'return "kit review"') });
    write(off, { "workflows/hidden.js": wf("hidden", 'return "hidden"') });
    plugins(home, { "kit@mkt": on, "other@mkt": off }, { "kit@mkt": true, "other@mkt": false });
    let r = await run(["run", "kit:review", "--command", "tail -n 1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("kit review");
    r = await run(["run", "review", "--command", "tail -n 1"]);
    expect(r.code).toBe(2);
    r = await run(["run", "other:hidden", "--command", "tail -n 1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("home/.claude/plugins/cache/mkt/kit/1.0.0/workflows (plugin, as kit:<name>)");
    expect(r.stderr).not.toContain("other/1.0.0");
    r = await run(["list-workflows", "--json"]);
    const e = (JSON.parse(r.stdout) as any[]).find((x) => x.source === "plugin");
    expect(e).toMatchObject({ name: "kit:review", metaName: "kit:review", shadowed: false });
    // From a script, as Claude Code's workflow("<plugin>:<name>").
    write(dir, { "call.js": `${meta()}return await workflow("kit:review")\n` });
    r = await run(["run", "call.js", "--command", "tail -n 1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("kit review");
    // The project's settings can turn it off, as in Claude Code (the later file wins).
    write(dir, { ".claude/settings.local.json": JSON.stringify({ enabledPlugins: { "kit@mkt": false } }) });
    r = await run(["run", "kit:review", "--command", "tail -n 1"]);
    expect(r.code).toBe(2);
  });

  test("U03 agent definitions from ~/.claude/agents and from plugins' agents/ as <plugin>:<name>", async () => {
    const { dir, home, run } = setup();
    write(home, {
      ".claude/agents/helper.md": "---\nname: helper\nmodel: home-model\n---\nYou help from home.\n",
    });
    const kit = join(home, "plugins-kit");
    write(kit, {
      "agents/auditor.md": "---\nname: auditor\nmodel: kit-model\n---\nYou audit for the kit.\n",
    });
    plugins(home, { "kit@mkt": kit }, { "kit@mkt": true });
    write(dir, {
      "wf.js": `${meta()}return await parallel([
  () => agent("env", { agentType: "helper" }),
  () => agent("stdin", { agentType: "helper" }),
  () => agent("env", { agentType: "kit:auditor" }),
  () => agent("stdin", { agentType: "kit:auditor" }),
])\n`,
    });
    let r = await run(["run", "wf.js", "--command", AGENT_CMD]);
    expect(r.code, r.stderr).toBe(0);
    const [helperEnv, helperIn, kitEnv, kitIn] = JSON.parse(r.stdout) as string[];
    expect(JSON.parse(helperEnv!).WEFT_MODEL).toBe("home-model");
    expect(helperIn).toContain("You help from home.");
    expect(JSON.parse(kitEnv!).WEFT_MODEL).toBe("kit-model");
    expect(kitIn).toContain("You audit for the kit.");
    // The project's own definition wins over the user's.
    write(dir, {
      ".claude/agents/helper.md": "---\nname: helper\nmodel: project-model\n---\nProject help.\n",
    });
    write(dir, { "one.js": `${meta()}return await agent("env", { agentType: "helper" })\n` });
    r = await run(["run", "one.js", "--command", AGENT_CMD]);
    expect(JSON.parse(r.stdout).WEFT_MODEL).toBe("project-model");
    // A bare name never reaches a plugin's agent.
    write(dir, {
      "bare.js": `${meta()}try { await agent("x", { agentType: "auditor" }) } catch (e) { return e.message }\n`,
    });
    r = await run(["run", "bare.js", "--command", AGENT_CMD]);
    expect(r.stdout).toContain('no definition of agent type "auditor"');
    expect(r.stdout).toContain(join(home, ".claude", "agents", "auditor.md"));
  });

  test("U03 CC deep-research is named as Claude Code's own built-in, from weft run and from workflow()", async () => {
    const { dir, run } = setup();
    let r = await run(["run", "deep-research"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`"deep-research" is Claude Code's own built-in workflow`);
    expect(r.stderr).toContain('workflow("research-synthesis", { questions: ["..."] })');
    write(dir, { "dr.js": `${meta()}return await workflow("deep-research", { question: "why?" })\n` });
    r = await run(["run", "dr.js", "--command", "tail -n 1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Claude Code's own built-in workflow");
    // A workflow of one's own of that name is found first.
    write(dir, { ".claude/workflows/deep-research.js": wf("deep-research", 'return "my own"') });
    r = await run(["run", "deep-research", "--command", "tail -n 1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("my own");
  });
});
