/**
 * `weft init [--skill codex|claude|pi] [--force]` (SPEC U05): the project's `.weft/` (config,
 * workflows, agents, ignore rules), and with `--skill` the authoring guide in the host's own
 * skill format and place, plus how that host reaches weft's MCP server.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../api/errors.js";
import { launchLine, type McpLaunch, mcpLaunch } from "../skills/mcp-launch.js";
import { mcpSnippet, renderSkill, SKILL_HOSTS, type SkillHost, skillPath } from "../skills/render.js";
import { ensureDir, writeFileAtomic } from "../store/safe-write.js";

/** JSON has no comments: keys starting with "//" are skipped by the settings loader. */
const CONFIG = {
  "//": "weft settings for this project. Flags and WEFT_* variables win over these; `weft config` shows the merged result.",
  "//driver":
    "codex | claude | pi | opencode | gemini | command. Unset: the first of codex, claude, pi, opencode, gemini found on PATH.",
  "//concurrency": "agents running at once; default min(16, max(4, cpus))",
  "//maxAgents": "agents started per execution; default 1000",
  "//budget": "budget of generated (output + reasoning) tokens per execution; default none",
  "//maxCostUsd": "cost limit in US dollars; default none",
  "//drivers": 'per backend: { "claude": { "model": "...", "args": [], "env": {} } }',
};

/**
 * What weft writes for itself is not the project's content: runs, worktrees, the inline scripts
 * MCP launches (`scripts/`) and the output of detached runs before their run exists (`detached/`).
 * Workflows, agents, config and the editor types are, and stay committable.
 */
const IGNORE = ["runs/", "worktrees/", "scripts/", "detached/"];

/** The ambient types of workflow scripts, shipped in the package next to dist/. */
const WORKFLOW_DTS = fileURLToPath(new URL("../../workflow.d.ts", import.meta.url));
/**
 * Where `weft init` copies them: a type root, so `/// <reference types="weftkit/workflow" />`
 * resolves without weftkit in node_modules (a global install has none there).
 */
const TYPES_COPY = join(".weft", "types", "weftkit", "workflow.d.ts");
/**
 * The editor and tsc configuration of saved workflows. An explicit `types` keeps tsc from
 * reading every folder of the type root as a library of its own (`weftkit` has no index.d.ts)
 * and gives every script the API without a reference line; `/// <reference types=
 * "weftkit/workflow" />` resolves there too. allowJs: .js workflows get the completions.
 */
const WORKFLOWS_TSCONFIG = {
  compilerOptions: {
    typeRoots: ["../types"],
    types: ["weftkit/workflow"],
    target: "es2022",
    module: "esnext",
    moduleResolution: "bundler",
    allowJs: true,
    noEmit: true,
    strict: true,
  },
};

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
    for (const sub of ["workflows", "agents"]) {
      const dir = join(cwd, ".weft", sub);
      const there = await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!there) ensureDir(dir);
      say(`${there ? "kept    " : "created "} .weft/${sub}/`);
    }
    await write(join(".weft", "config.json"), `${JSON.stringify(CONFIG, null, 2)}\n`);
    await ignoreRules(cwd, say);
    await editorTypes(cwd, write, say);
    if (host) {
      const launch = mcpLaunch();
      await write(skillPath(host), await renderSkill(host, launch));
      await registerMcp(cwd, host, launch, flags.force === true, say);
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
    say(`wrote    .weft/.gitignore (${IGNORE.join(", ")})`);
    return;
  }
  const missing = IGNORE.filter((r) => !lines.includes(r));
  if (missing.length === 0) return;
  await writeFileAtomic(path, `${old.endsWith("\n") ? old : `${old}\n`}${missing.join("\n")}\n`);
  say(`added    ${missing.join(", ")} to .weft/.gitignore`);
}

/**
 * U05: the copy of this weft's workflow.d.ts follows the weft that ran init (a stale copy would
 * complete another version's API), so it is refreshed whenever it differs; the tsconfig is the
 * user's to edit and is kept.
 */
async function editorTypes(
  cwd: string,
  write: (rel: string, text: string) => Promise<void>,
  say: (l: string) => void,
): Promise<void> {
  const dts = await readFile(WORKFLOW_DTS, "utf8");
  const path = join(cwd, TYPES_COPY);
  const old = await readFile(path, "utf8").catch(() => undefined);
  if (old !== dts) {
    ensureDir(dirname(path));
    await writeFileAtomic(path, dts);
    say(`${old === undefined ? "wrote   " : "updated "} ${TYPES_COPY} (the workflow API's types)`);
  }
  await write(
    join(".weft", "workflows", "tsconfig.json"),
    `${JSON.stringify(WORKFLOWS_TSCONFIG, null, 2)}\n`,
  );
}

async function registerMcp(
  cwd: string,
  host: SkillHost,
  launch: McpLaunch,
  force: boolean,
  say: (l: string) => void,
): Promise<void> {
  const snippet = mcpSnippet(host, launch);
  const which = `\`${launchLine(launch)}\` (${launch.why})`;
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
    const old = config.mcpServers.weft as { command?: unknown; args?: unknown } | undefined;
    // What earlier versions wrote: weftkit is not on the registry, so it never started.
    const npx =
      old?.command === "npx" && JSON.stringify(old.args) === JSON.stringify(["-y", "weftkit", "mcp"]);
    if (old && !force && !npx) {
      const same = old.command === launch.command && JSON.stringify(old.args) === JSON.stringify(launch.args);
      say(
        same
          ? "kept     .mcp.json (it already registers weft this way)"
          : `kept     .mcp.json (it registers weft another way; --force to write ${which})`,
      );
    } else {
      config.mcpServers.weft = { command: launch.command, args: launch.args };
      await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
      say(
        `${npx ? "replaced .mcp.json's `npx -y weftkit mcp` (not on the registry)" : "wrote    .mcp.json"} (MCP server weft for Claude Code): ${which}`,
      );
    }
    process.stdout.write(`\n${snippet.text}`);
    return;
  }
  if (host === "codex") {
    say(
      `\nAdd weft's MCP server to ${snippet.file} (your own file; weft does not edit it); it runs ${which}:\n`,
    );
    process.stdout.write(snippet.text);
    return;
  }
  say(`\n${snippet.text.trimEnd()}`);
  say(
    `The skill runs weft as \`${launchLine({ command: launch.command, args: launch.args.slice(0, -1) })}\` (${launch.why}).`,
  );
}
