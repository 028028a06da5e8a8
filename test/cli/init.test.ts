import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { meta, project, runScript, weft } from "../helpers/cli.js";

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
    expect(read(dir, ".weft/.gitignore")).toBe("runs/\nworktrees/\n");
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
    expect(read(dir, ".weft/.gitignore")).toBe("secrets/\nruns/\nworktrees/\n");
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
    expect(mcp.mcpServers.weft).toEqual({ command: "npx", args: ["-y", "weftkit", "mcp"] });
    expect(r.stdout).toContain('"weft"');
  });

  test("U05 --skill codex: .agents/skills/weft/SKILL.md; the config.toml snippet is printed, the user's file untouched", async () => {
    const dir = project();
    const r = await weft(["init", "--skill", "codex"], dir, { HOME: dir, CODEX_HOME: join(dir, ".codex") });
    expect(r.code).toBe(0);
    const fm = frontMatter(read(dir, ".agents/skills/weft/SKILL.md"));
    expect(fm).toMatchObject({ name: "weft" });
    expect(read(dir, ".agents/skills/weft/SKILL.md")).toContain("workflow_wait");
    expect(r.stdout).toContain('[mcp_servers.weft]\ncommand = "npx"\nargs = ["-y", "weftkit", "mcp"]');
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
    expect(skill).toContain("weft run .weft/workflows/<name>.js");
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
