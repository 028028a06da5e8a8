/**
 * `weft init [--skill codex|claude|pi] [--force]` (SPEC U05): the project's `.weft/` (config,
 * workflows, agents, ignore rules), and with `--skill` the authoring guide in the host's own
 * skill format and place, plus how that host reaches weft's MCP server.
 */
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { UsageError } from "../api/errors.js";
import {
  MCP_COMMAND,
  mcpSnippet,
  renderSkill,
  SKILL_HOSTS,
  type SkillHost,
  skillPath,
} from "../skills/render.js";
import { ensureDir, writeFileAtomic } from "../store/safe-write.js";

/** JSON has no comments: keys starting with "//" are skipped by the settings loader. */
const CONFIG = {
  "//": "weft settings for this project. Flags and WEFT_* variables win over these; `weft config` shows the merged result.",
  "//driver":
    "codex | claude | pi | opencode | gemini | command. Unset: the first of codex, claude, pi, opencode, gemini found on PATH.",
  "//concurrency": "agents running at once; default min(16, max(4, cpus))",
  "//maxAgents": "agents started per execution; default 1000",
  "//budget": "token budget per execution; default none",
  "//maxCostUsd": "cost limit in US dollars; default none",
  "//drivers": 'per backend: { "claude": { "model": "...", "args": [], "env": {} } }',
};

/** Runs and worktrees are not the project's content; workflows, agents and config are. */
const IGNORE = ["runs/", "worktrees/"];

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    (e: NodeJS.ErrnoException) => e.code !== "ENOENT",
  );
}

export async function initCommand(flags: { skill?: string; force?: boolean }): Promise<number> {
  const cwd = process.cwd();
  const host = flags.skill as SkillHost | undefined;
  if (host !== undefined && !SKILL_HOSTS.includes(host)) {
    throw new UsageError(`--skill must be one of ${SKILL_HOSTS.join(", ")}, got "${flags.skill}"`);
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const write = async (rel: string, text: string) => {
    const path = join(cwd, rel);
    if (!flags.force && (await exists(path))) {
      say(`kept     ${rel} (exists; --force to overwrite)`);
      return;
    }
    // .weft/ may hold links an agent planted: never written through (safe-write.ts).
    ensureDir(dirname(path));
    await writeFileAtomic(path, text);
    say(`wrote    ${rel}`);
  };
  try {
    for (const sub of ["workflows", "agents"]) ensureDir(join(cwd, ".weft", sub));
    say("created  .weft/workflows/ .weft/agents/");
    await write(join(".weft", "config.json"), `${JSON.stringify(CONFIG, null, 2)}\n`);
    await ignoreRules(cwd, say);
    if (host) {
      await write(skillPath(host), await renderSkill(host));
      await registerMcp(cwd, host, flags.force === true, say);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`weft init: ${(e as Error).message}`);
  }
  return 0;
}

/**
 * `.weft/.gitignore`: a run started before `weft init` wrote `*` there (everything in .weft is
 * generated then); init narrows it to runs and worktrees, so saved workflows can be committed.
 */
async function ignoreRules(cwd: string, say: (l: string) => void): Promise<void> {
  const path = join(cwd, ".weft", ".gitignore");
  const old = await readFile(path, "utf8").catch(() => undefined);
  const lines = (old ?? "").split("\n").map((l) => l.trim());
  if (old === undefined || old.trim() === "*") {
    await writeFileAtomic(path, `${IGNORE.join("\n")}\n`);
    say("wrote    .weft/.gitignore (runs/, worktrees/)");
    return;
  }
  const missing = IGNORE.filter((r) => !lines.includes(r));
  if (missing.length === 0) return;
  await writeFileAtomic(path, `${old.endsWith("\n") ? old : `${old}\n`}${missing.join("\n")}\n`);
  say(`added    ${missing.join(", ")} to .weft/.gitignore`);
}

async function registerMcp(
  cwd: string,
  host: SkillHost,
  force: boolean,
  say: (l: string) => void,
): Promise<void> {
  const snippet = mcpSnippet(host);
  if (host === "claude") {
    // .mcp.json is Claude Code's project file and may list other servers: add ours, keep the rest.
    const path = join(cwd, ".mcp.json");
    const text = await readFile(path, "utf8").catch(() => undefined);
    let config: { mcpServers?: Record<string, unknown> } = {};
    if (text !== undefined) {
      try {
        config = JSON.parse(text);
      } catch (e) {
        throw new UsageError(`.mcp.json is not valid JSON (${(e as Error).message}); fix it or remove it`);
      }
    }
    config.mcpServers ??= {};
    if (config.mcpServers.weft && !force) {
      say("kept     .mcp.json (it already registers weft; --force to overwrite)");
    } else {
      config.mcpServers.weft = MCP_COMMAND;
      await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
      say("wrote    .mcp.json (MCP server weft for Claude Code)");
    }
    process.stdout.write(`\n${snippet.text}`);
    return;
  }
  if (host === "codex") {
    say(`\nAdd weft's MCP server to ${snippet.file} (your own file; weft does not edit it):\n`);
    process.stdout.write(snippet.text);
    return;
  }
  say(`\n${snippet.text.trimEnd()}`);
}
