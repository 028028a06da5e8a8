import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { cleanEnv, meta, project, runScript, WEFT_BIN, weft } from "../helpers/cli.js";

const recipesDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "recipes");
const recipeFiles = existsSync(recipesDir) ? readdirSync(recipesDir).filter((f) => /\.(js|ts)$/.test(f)) : [];

const read = (dir: string, rel: string) => readFileSync(join(dir, rel), "utf8");

function frontMatter(text: string): Record<string, unknown> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (!m) throw new Error("no front matter");
  return parseYaml(m[1]!) as Record<string, unknown>;
}

describe("weft init (U05)", () => {
  test("U05 weft init creates .weft/ with a commented config (driver unset), workflows/, agents/ and ignore rules", async () => {
    const dir = project({ "wf.js": `${meta()}return 1\n` });
    // A run before init left weft's catch-all ignore file; init narrows it.
    await runScript(dir, "wf.js");
    expect(read(dir, ".weft/.gitignore")).toBe("*\n");
    const r = await weft(["init"], dir);
    expect(r.code).toBe(0);
    for (const d of [".weft/workflows", ".weft/agents"]) expect(existsSync(join(dir, d))).toBe(true);
    expect(read(dir, ".weft/.gitignore")).toBe("runs/\nworktrees/\nscripts/\ndetached/\n");
    const config = JSON.parse(read(dir, ".weft/config.json"));
    expect(config.driver).toBeUndefined();
    expect(config["//driver"]).toMatch(/codex \| claude/);
    // The comment keys are no settings, and no warnings either.
    const c = await weft(["config", "--json"], dir);
    expect(c.code).toBe(0);
    expect(c.stderr).not.toContain("unknown setting");
    const runAfter = await runScript(dir, "wf.js");
    expect(runAfter.stderr).not.toContain("unknown setting");
    // A second init keeps what is there; --force rewrites it.
    writeFileSync(join(dir, ".weft/config.json"), '{ "concurrency": 3 }\n');
    expect((await weft(["init"], dir)).stdout).toContain("kept     .weft/config.json");
    expect(JSON.parse(read(dir, ".weft/config.json"))).toEqual({ concurrency: 3 });
    await weft(["init", "--force"], dir);
    expect(JSON.parse(read(dir, ".weft/config.json"))["//driver"]).toBeDefined();
    // A .gitignore of the user's own gets the two rules added, once.
    writeFileSync(join(dir, ".weft/.gitignore"), "secrets/\n");
    await weft(["init"], dir);
    await weft(["init"], dir);
    expect(read(dir, ".weft/.gitignore")).toBe("secrets/\nruns/\nworktrees/\nscripts/\ndetached/\n");
  });

  test("U05 --skill claude: .claude/skills/weft/SKILL.md with name and description, and .mcp.json registering weft", async () => {
    const dir = project({ ".mcp.json": JSON.stringify({ mcpServers: { other: { command: "x" } } }) });
    const r = await weft(["init", "--skill", "claude"], dir);
    expect(r.code).toBe(0);
    const skill = read(dir, ".claude/skills/weft/SKILL.md");
    const fm = frontMatter(skill);
    expect(fm.name).toBe("weft");
    expect(String(fm.description)).toMatch(/many coding agents/);
    for (const api of [
      "agent(prompt, opts?)",
      "parallel(",
      "pipeline(",
      "phase(",
      "gate(",
      "workflow(",
      "integrate(",
    ]) {
      expect(skill).toContain(api);
    }
    expect(skill).toContain("workflow_wait");
    expect(skill).toContain("Triangulated review");
    expect(skill).not.toContain("{{");
    // The recipes shipped with the package are offered by name, read from their meta.
    for (const f of recipeFiles) expect(skill).toContain(`- \`${f.replace(/\.(js|ts)$/, "")}\`: `);
    const mcp = JSON.parse(read(dir, ".mcp.json"));
    expect(mcp.mcpServers.other).toEqual({ command: "x" });
    // No weft on the test's PATH is this one: the command names this CLI by its path.
    expect(mcp.mcpServers.weft).toEqual({ command: "node", args: [realpathSync(WEFT_BIN), "mcp"] });
    expect(r.stdout).toContain('"weft"');
  });

  test("U05 --skill codex: .agents/skills/weft/SKILL.md; the config.toml snippet is printed, the user's file untouched", async () => {
    const dir = project();
    const r = await weft(["init", "--skill", "codex"], dir, { HOME: dir, CODEX_HOME: join(dir, ".codex") });
    expect(r.code).toBe(0);
    const fm = frontMatter(read(dir, ".agents/skills/weft/SKILL.md"));
    expect(fm).toMatchObject({ name: "weft" });
    expect(read(dir, ".agents/skills/weft/SKILL.md")).toContain("workflow_wait");
    expect(r.stdout).toContain(
      `[mcp_servers.weft]\ncommand = "node"\nargs = [${JSON.stringify(realpathSync(WEFT_BIN))}, "mcp"]`,
    );
    expect(r.stdout).toContain('default_tools_approval_mode = "approve"');
    expect(existsSync(join(dir, ".codex", "config.toml"))).toBe(false);
    expect(existsSync(join(dir, ".mcp.json"))).toBe(false);
  });

  test("U05 --skill pi: .pi/skills/weft/SKILL.md (name matching its folder) that runs weft from the shell", async () => {
    const dir = project();
    const r = await weft(["init", "--skill", "pi"], dir);
    expect(r.code).toBe(0);
    const skill = read(dir, ".pi/skills/weft/SKILL.md");
    expect(frontMatter(skill)).toMatchObject({ name: "weft" });
    expect(skill).toContain(`node ${realpathSync(WEFT_BIN)} run .weft/workflows/<name>.js`);
    expect(skill).not.toContain("workflow_wait");
    expect(r.stdout).toContain("pi has no MCP client");
  });

  test("U05 --skill with an unknown host is a usage error", async () => {
    const dir = project();
    const r = await weft(["init", "--skill", "vim"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--skill must be one of claude, codex, pi");
  });
});

/** A PATH of node, git and the system, plus `bin` first: no weft on it unless the test puts one. */
function pathWith(bin: string): string {
  return [bin, dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":");
}

async function listTools(command: string, args: string[], cwd: string, PATH: string): Promise<string[]> {
  const transport = new StdioClientTransport({
    command,
    args,
    cwd,
    env: cleanEnv(cwd, { PATH }) as Record<string, string>,
    stderr: "pipe",
  });
  const client = new Client({ name: "weft-init-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    return (await client.listTools()).tools.map((t) => t.name).sort();
  } finally {
    await client.close();
  }
}

describe("weft init: the MCP command names this weft (U05)", () => {
  test("U05 with no weft on PATH, .mcp.json runs `node <this CLI> mcp`, init says so, and the command serves MCP", async () => {
    const dir = project();
    const PATH = pathWith(join(dir, "bin"));
    const r = await weft(["init", "--skill", "claude"], dir, { PATH });
    expect(r.code).toBe(0);
    const server = JSON.parse(read(dir, ".mcp.json")).mcpServers.weft;
    expect(server).toEqual({ command: "node", args: [realpathSync(WEFT_BIN), "mcp"] });
    expect(r.stdout).toContain(
      `wrote    .mcp.json (MCP server weft for Claude Code): \`node ${realpathSync(WEFT_BIN)} mcp\` (no weft on PATH)`,
    );
    expect(JSON.stringify(server)).not.toMatch(/npx|weftkit/);
    expect(await listTools(server.command, server.args, dir, PATH)).toContain("workflow_wait");
  });

  test("U05 when the weft on PATH is this one (a link to its CLI), .mcp.json and the codex lines run `weft mcp`", async () => {
    const dir = project();
    const bin = join(dir, "bin");
    mkdirSync(bin);
    // As `npm install -g` links a bin: a symlink to the CLI, made executable.
    chmodSync(WEFT_BIN, 0o755);
    symlinkSync(WEFT_BIN, join(bin, "weft"));
    const PATH = pathWith(bin);
    const r = await weft(["init", "--skill", "claude"], dir, { PATH });
    expect(r.stdout).toMatch(/`weft mcp` \(the weft on PATH \(.*bin\/weft\) is this one\)/);
    const server = JSON.parse(read(dir, ".mcp.json")).mcpServers.weft;
    expect(server).toEqual({ command: "weft", args: ["mcp"] });
    expect(await listTools(server.command, server.args, dir, PATH)).toContain("workflow");
    const codex = await weft(["init", "--skill", "codex"], dir, {
      PATH,
      HOME: dir,
      CODEX_HOME: join(dir, ".codex"),
    });
    expect(codex.stdout).toContain('[mcp_servers.weft]\ncommand = "weft"\nargs = ["mcp"]');
    const pi = await weft(["init", "--skill", "pi"], dir, { PATH });
    expect(read(dir, ".pi/skills/weft/SKILL.md")).toContain("\nweft run .weft/workflows/<name>.js");
    expect(pi.stdout).toContain("The skill runs weft as `weft` (the weft on PATH");
  });

  test("U05 an .mcp.json of an earlier weft (npx -y weftkit mcp, which never started) is replaced; the user's own kept", async () => {
    const dir = project({
      ".mcp.json": JSON.stringify({
        mcpServers: { weft: { command: "npx", args: ["-y", "weftkit", "mcp"] } },
      }),
    });
    const PATH = pathWith(join(dir, "bin"));
    const r = await weft(["init", "--skill", "claude"], dir, { PATH });
    expect(r.stdout).toContain("replaced .mcp.json's `npx -y weftkit mcp` (not on the registry)");
    expect(JSON.parse(read(dir, ".mcp.json")).mcpServers.weft.command).toBe("node");
    const own = { command: "/opt/weft/bin/weft", args: ["mcp"] };
    writeFileSync(join(dir, ".mcp.json"), JSON.stringify({ mcpServers: { weft: own } }));
    const kept = await weft(["init", "--skill", "claude"], dir, { PATH });
    expect(kept.stdout).toContain(
      "kept     .mcp.json (it registers weft another way; --force to write `node ",
    );
    expect(JSON.parse(read(dir, ".mcp.json")).mcpServers.weft).toEqual(own);
  });

  test("U05 another program called weft on PATH is not taken for this one: the command names this CLI", async () => {
    const dir = project();
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "weft"), "#!/bin/sh\necho 'some other weft'\n");
    chmodSync(join(bin, "weft"), 0o755);
    const r = await weft(["init", "--skill", "claude"], dir, { PATH: pathWith(bin) });
    expect(JSON.parse(read(dir, ".mcp.json")).mcpServers.weft.command).toBe("node");
    expect(r.stdout).toMatch(/the weft on PATH \(.*bin\/weft\) is another program than this one/);
  });
});

describe("weft init: folders, ignore rules and editor types (U05)", () => {
  test("U05 init says created only for folders it made, and ignores what weft writes for itself", async () => {
    const dir = project({ ".weft/workflows/mine.js": `${meta()}return 1\n` });
    const r = await weft(["init"], dir);
    expect(r.stdout).toContain("kept     .weft/workflows/");
    expect(r.stdout).toContain("created  .weft/agents/");
    expect(r.stdout).not.toContain("created  .weft/workflows/");
    const again = await weft(["init"], dir);
    expect(again.stdout).not.toContain("created");
    const ignore = read(dir, ".weft/.gitignore").split("\n");
    for (const rule of ["runs/", "worktrees/", "scripts/", "detached/"]) expect(ignore).toContain(rule);
    // git agrees: what weft writes for itself is ignored; workflows, agents, config and types are not.
    execFileSync("git", ["init", "-q"], { cwd: dir });
    for (const f of [".weft/scripts/x.js", ".weft/detached/x/stderr.log", ".weft/runs/r/run.json"]) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), "x");
    }
    const untracked = execFileSync("git", ["status", "--porcelain", "--untracked-files=all"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(untracked).not.toMatch(/scripts|detached|runs\//);
    expect(untracked).toContain(".weft/workflows/mine.js");
    expect(untracked).toContain(".weft/types/weftkit/workflow.d.ts");
  });

  test('U05 `/// <reference types="weftkit/workflow" />` resolves with tsc in an init\'ed project without weftkit in node_modules', async () => {
    const dir = project({
      ".weft/workflows/ok.ts": `/// <reference types="weftkit/workflow" />\n${meta()}const s: string | null = await agent("x", { label: "a" })\nlog(s)\n`,
      ".weft/workflows/bad.ts": `/// <reference types="weftkit/workflow" />\n${meta()}await agent("x", { label: 1 })\n`,
    });
    expect((await weft(["init"], dir)).code).toBe(0);
    expect(read(dir, ".weft/types/weftkit/workflow.d.ts")).toBe(
      readFileSync(join(dirname(WEFT_BIN), "..", "..", "workflow.d.ts"), "utf8"),
    );
    const tsc = join(dirname(WEFT_BIN), "..", "..", "node_modules", "typescript", "bin", "tsc");
    let out = "";
    try {
      execFileSync(process.execPath, [tsc, "-p", join(dir, ".weft", "workflows")], {
        cwd: dir,
        encoding: "utf8",
      });
    } catch (e) {
      out = `${(e as { stdout: string }).stdout}`;
    }
    expect(out).not.toContain("TS2688");
    expect(out).not.toContain("ok.ts");
    expect(out).toMatch(/bad\.ts\(\d+,\d+\): error TS2322/);
    // A stale copy is refreshed by the next init, and said so.
    writeFileSync(join(dir, ".weft/types/weftkit/workflow.d.ts"), "// old\n");
    expect((await weft(["init"], dir)).stdout).toContain("updated  .weft/types/weftkit/workflow.d.ts");
  });
});
