/**
 * The authoring guide (SPEC U05), one source (`guide.md` plus a launch section) rendered in each
 * host's own skill format and place. All three read the Agent Skills layout, a folder with a
 * `SKILL.md` whose YAML front matter has `name` and `description`:
 *
 * - Claude Code: `.claude/skills/<name>/SKILL.md` (project skills).
 * - Codex: `.agents/skills/<name>/SKILL.md` in the repository (developers.openai.com/codex/skills;
 *   Codex scans `.agents/skills` from the working folder up to the repository root).
 * - Pi: `.pi/skills/<name>/SKILL.md` (pi-coding-agent docs/skills.md: project skills in
 *   `.pi/skills/`, SKILL.md files in subfolders; `name` must match the folder, lowercase).
 *
 * Claude Code and Codex launch runs through weft's MCP server; pi has no MCP client of its own,
 * so its guide runs `weft run` from the shell.
 */
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadScriptFile } from "../script/load.js";
import { isScriptPath, RECIPES_DIR } from "../workflows/lookup.js";
import { launchLine, type McpLaunch, mcpLaunch } from "./mcp-launch.js";

export type SkillHost = "claude" | "codex" | "pi";
export const SKILL_HOSTS: SkillHost[] = ["claude", "codex", "pi"];

/** Shipped as source text (package.json `files`), read next to dist/ at run time. */
const SOURCE_DIR = fileURLToPath(new URL("../../src/skills/", import.meta.url));

export const SKILL_NAME = "weft";
export const SKILL_DESCRIPTION =
  "Write and run weft workflows: short scripts that fan work out to many coding agents " +
  "(reviews from several angles, fixes verified by tests, migrations over many files, research " +
  "with adversarial checks). Use when a task splits into many independent pieces or needs " +
  "independent verification; not for one small edit.";

export function skillPath(host: SkillHost): string {
  const root = { claude: ".claude", codex: ".agents", pi: ".pi" }[host];
  return join(root, "skills", SKILL_NAME, "SKILL.md");
}

const read = (name: string) => readFileSync(join(SOURCE_DIR, name), "utf8");

/** The bundled recipes with their meta, read (never run) from the package's recipes/ folder. */
async function recipesSection(): Promise<string> {
  const names = (await readdir(RECIPES_DIR).catch(() => [] as string[])).filter(isScriptPath).sort();
  const items: string[] = [];
  for (const n of names) {
    try {
      const s = await loadScriptFile(join(RECIPES_DIR, n), RECIPES_DIR);
      const sentence = (t: string) => `${t.trim().replace(/[.\s]+$/, "")}.`;
      const props = Object.keys((s.meta.args?.properties as Record<string, unknown> | undefined) ?? {});
      const required = (s.meta.args?.required as string[] | undefined) ?? [];
      const args = props.length
        ? ` Args: \`{ ${props.map((p) => (required.includes(p) ? p : `${p}?`)).join(", ")} }\`.`
        : "";
      items.push(
        `- \`${basename(n, extname(n))}\`: ${sentence(s.meta.description)}${s.meta.whenToUse ? ` ${sentence(s.meta.whenToUse)}` : ""}${args}`,
      );
    } catch {
      // A recipe that does not load is not offered.
    }
  }
  return items.length > 0 ? `The recipes shipped with this version:\n\n${items.join("\n")}` : "";
}

/**
 * The guide for one host. Pi runs weft from its shell: its commands name the weft on PATH when
 * that is this one, else `node <this CLI>` (as the MCP command does for the other hosts).
 */
export async function renderSkill(host: SkillHost, how: McpLaunch = mcpLaunch()): Promise<string> {
  const weft = launchLine({ command: how.command, args: how.args.slice(0, -1) });
  const launch = read(host === "pi" ? "launch-cli.md" : "launch-mcp.md")
    .trim()
    .replaceAll("{{WEFT}}", weft);
  const body = read("guide.md")
    .replace("{{LAUNCH}}", launch)
    .replace("{{RECIPES}}", await recipesSection())
    .replace(/\n{3,}/g, "\n\n");
  // JSON strings are valid YAML scalars: no quoting rules to get wrong.
  return `---\nname: ${SKILL_NAME}\ndescription: ${JSON.stringify(SKILL_DESCRIPTION)}\n---\n\n${body}`;
}

/**
 * How each host starts weft's MCP server: a command that names this weft (see mcp-launch.ts);
 * nothing here depends on a registry release.
 */
export function mcpSnippet(
  host: SkillHost,
  launch: McpLaunch = mcpLaunch(),
): { file?: string; text: string } {
  const server = { command: launch.command, args: launch.args };
  switch (host) {
    case "claude":
      return {
        file: ".mcp.json",
        text: `${JSON.stringify({ mcpServers: { weft: server } }, null, 2)}\n`,
      };
    case "codex":
      // A JSON string is a TOML basic string: the same escapes, so any path is quoted right.
      return {
        file: "~/.codex/config.toml",
        text: `[mcp_servers.weft]\ncommand = ${JSON.stringify(server.command)}\nargs = [${server.args.map((a) => JSON.stringify(a)).join(", ")}]\n# codex exec cannot ask before an MCP tool call and refuses it without this:\ndefault_tools_approval_mode = "approve"\n# codex's tool timeout is 60 s by default; workflow_wait may block longer:\ntool_timeout_sec = 600\n`,
      };
    case "pi":
      return {
        text: "pi has no MCP client built in: its skill runs `weft run` from the shell, so there is nothing to register.\n",
      };
  }
}
