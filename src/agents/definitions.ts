/**
 * Named agent definitions for `agentType` (SPEC A02), read from the project in this order:
 *
 * - `.weft/agents/<name>.md`: front matter `driver`, `model`, `effort`, `permissions`,
 *   `description`, `instructions`; the body is more instructions.
 * - `.claude/agents/<name>.md`: Claude Code's subagent format. `name`, `description`, `tools`,
 *   `model` (`inherit` means none), `effort`; the body is the subagent's system prompt, given here
 *   as instructions. `tools` without any writing tool (Edit, Write, MultiEdit, NotebookEdit)
 *   becomes `permissions: "read-only"`; the list itself is not enforced tool by tool.
 * - `.codex/agents/<name>.toml`: Codex's custom agents (developers.openai.com/codex/subagents:
 *   one TOML file per agent with `name`, `description`, `developer_instructions`, and optional
 *   `model`, `model_reasoning_effort`, `sandbox_mode`, `nickname_candidates`, `web_search`,
 *   `mcp_servers`, `skills`). Mapped: `model`, `model_reasoning_effort` as effort, `sandbox_mode`
 *   (read-only, workspace-write as edit, danger-full-access as full), `developer_instructions`
 *   (or `instructions`) as instructions. Every other key is ignored with one warning per run.
 *
 * A file is found by its base name, or (Claude Code and Codex) by the `name` inside it, which
 * both tools treat as the agent's identity. Front matter and TOML are parsed by `yaml` and
 * `smol-toml`, not by hand.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { basename, extname, isAbsolute, join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { claudeConfigDir } from "../config/claude-code.js";
import { pluginPart } from "../config/claude-plugins.js";
import type { Permissions } from "../drivers/types.js";

export type DefinitionFormat = "weft" | "claude" | "codex";

export interface AgentDefinition {
  name: string;
  format: DefinitionFormat;
  /** Relative to the project, as shown in messages. */
  file: string;
  driver?: string;
  model?: string;
  effort?: string;
  permissions?: Permissions;
  description?: string;
  instructions?: string;
  /** sha256 of the file's text: in the cache key, so an edited definition runs its agents again. */
  hash: string;
  /** Keys read but not mapped, to warn about once. */
  ignored: string[];
}

export class AgentDefinitionError extends Error {
  override name = "OptionsError";
}

const PERMISSIONS: Permissions[] = ["read-only", "edit", "full"];
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

interface Place {
  format: DefinitionFormat;
  dir: string;
  ext: ".md" | ".toml";
}

export const PLACES: Place[] = [
  { format: "weft", dir: join(".weft", "agents"), ext: ".md" },
  { format: "claude", dir: join(".claude", "agents"), ext: ".md" },
  { format: "codex", dir: join(".codex", "agents"), ext: ".toml" },
];

/** The project's folders, then the user's Claude Code agents (`~/.claude/agents`, absolute). */
function placesOf(env: NodeJS.ProcessEnv): Place[] {
  return [...PLACES, { format: "claude", dir: join(claudeConfigDir(env), "agents"), ext: ".md" }];
}

/** The files weft reads for `name`, as shown in the error for a type nobody defines. */
export function placesFor(name: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return placesOf(env).map((p) => join(p.dir, `${name}${p.ext}`));
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** `---\n<yaml>\n---\n<body>`; a file without front matter is all body. */
function frontMatter(text: string, file: string): { data: Record<string, unknown>; body: string } {
  const m = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (!m) return { data: {}, body: text.trim() };
  let data: unknown;
  try {
    data = parseYaml(m[1]!);
  } catch (e) {
    throw new AgentDefinitionError(
      `agent definition ${file}: front matter is not valid YAML: ${(e as Error).message}`,
    );
  }
  if (data !== null && data !== undefined && !isObject(data)) {
    throw new AgentDefinitionError(`agent definition ${file}: front matter must be a mapping of keys`);
  }
  return { data: (data as Record<string, unknown>) ?? {}, body: text.slice(m[0].length).trim() };
}

function str(data: Record<string, unknown>, key: string, file: string): string | undefined {
  const v = data[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v.trim() === "") {
    throw new AgentDefinitionError(`agent definition ${file}: "${key}" must be a non-empty string`);
  }
  return v.trim();
}

function permissionsOf(v: string | undefined, key: string, file: string): Permissions | undefined {
  if (v === undefined) return undefined;
  if (!PERMISSIONS.includes(v as Permissions)) {
    throw new AgentDefinitionError(
      `agent definition ${file}: "${key}" must be one of ${PERMISSIONS.join(", ")}, got "${v}"`,
    );
  }
  return v as Permissions;
}

const joinText = (...parts: (string | undefined)[]) =>
  parts.filter((p) => p && p.trim() !== "").join("\n\n") || undefined;

const WEFT_KEYS = ["name", "driver", "model", "effort", "permissions", "description", "instructions"];

function readWeft(name: string, file: string, text: string): AgentDefinition {
  const { data, body } = frontMatter(text, file);
  return {
    name,
    format: "weft",
    file,
    driver: str(data, "driver", file),
    model: str(data, "model", file),
    effort: str(data, "effort", file),
    permissions: permissionsOf(str(data, "permissions", file), "permissions", file),
    description: str(data, "description", file),
    instructions: joinText(str(data, "instructions", file), body),
    hash: "",
    ignored: Object.keys(data).filter((k) => !WEFT_KEYS.includes(k)),
  };
}

const CLAUDE_WRITING_TOOLS = ["Edit", "Write", "MultiEdit", "NotebookEdit"];
const CLAUDE_KEYS = ["name", "description", "tools", "model", "effort"];

function readClaude(name: string, file: string, text: string): AgentDefinition {
  const { data, body } = frontMatter(text, file);
  const model = str(data, "model", file);
  let permissions: Permissions | undefined;
  const tools = data.tools;
  if (tools !== undefined && tools !== null) {
    const list = Array.isArray(tools) ? tools.map(String) : String(tools).split(",");
    const names = list.map((t) => t.trim().replace(/\(.*$/, "")).filter(Boolean);
    if (!names.some((t) => CLAUDE_WRITING_TOOLS.includes(t))) permissions = "read-only";
  }
  return {
    name,
    format: "claude",
    file,
    model: model === "inherit" ? undefined : model,
    effort: str(data, "effort", file),
    permissions,
    description: str(data, "description", file),
    instructions: body || undefined,
    hash: "",
    ignored: Object.keys(data).filter((k) => !CLAUDE_KEYS.includes(k)),
  };
}

const SANDBOX: Record<string, Permissions> = {
  "read-only": "read-only",
  "workspace-write": "edit",
  "danger-full-access": "full",
};
const CODEX_KEYS = [
  "name",
  "description",
  "model",
  "model_reasoning_effort",
  "sandbox_mode",
  "developer_instructions",
  "instructions",
];

function readCodex(name: string, file: string, text: string): AgentDefinition {
  let data: Record<string, unknown>;
  try {
    data = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    throw new AgentDefinitionError(
      `agent definition ${file}: not valid TOML: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  const sandbox = str(data, "sandbox_mode", file);
  if (sandbox !== undefined && !SANDBOX[sandbox]) {
    throw new AgentDefinitionError(
      `agent definition ${file}: "sandbox_mode" must be one of ${Object.keys(SANDBOX).join(", ")}, got "${sandbox}"`,
    );
  }
  return {
    name,
    format: "codex",
    file,
    model: str(data, "model", file),
    effort: str(data, "model_reasoning_effort", file),
    permissions: sandbox ? SANDBOX[sandbox] : undefined,
    description: str(data, "description", file),
    instructions: joinText(str(data, "developer_instructions", file), str(data, "instructions", file)),
    hash: "",
    ignored: Object.keys(data).filter((k) => !CODEX_KEYS.includes(k)),
  };
}

const READERS: Record<DefinitionFormat, (name: string, file: string, text: string) => AgentDefinition> = {
  weft: readWeft,
  claude: readClaude,
  codex: readCodex,
};

/** The `name` a Claude Code or Codex file declares, without failing on a broken file. */
function declaredName(place: Place, text: string): string | undefined {
  try {
    const data =
      place.ext === ".toml"
        ? parseToml(text)
        : parseYaml(/^---\r?\n([\s\S]*?)\r?\n---/.exec(text)?.[1] ?? "");
    return isObject(data) && typeof data.name === "string" ? data.name : undefined;
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Finds definitions in a project. Synchronous and cached per name: it runs inside the engine's
 * agent() call handling, where calls must be keyed in the order the script made them; one run
 * reads each definition once.
 */
export class AgentDefinitions {
  private readonly cache = new Map<string, AgentDefinition | undefined>();

  constructor(
    private readonly cwd: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  find(name: string): AgentDefinition | undefined {
    if (this.cache.has(name)) return this.cache.get(name);
    const def = SAFE_NAME.test(name) ? this.lookup(name, placesOf(this.env)) : this.inPlugin(name);
    this.cache.set(name, def);
    return def;
  }

  /** U03: `<plugin>:<name>`, a Claude Code plugin's agent (its `agents/`), as Claude Code names it. */
  private inPlugin(qualified: string): AgentDefinition | undefined {
    const part = pluginPart(qualified, this.cwd, this.env);
    if (!part || !SAFE_NAME.test(part.name)) return undefined;
    const def = this.lookup(part.name, [
      { format: "claude", dir: join(part.plugin.dir, "agents"), ext: ".md" },
    ]);
    return def && { ...def, name: qualified };
  }

  private lookup(name: string, places: Place[]): AgentDefinition | undefined {
    for (const place of places) {
      const rel = join(place.dir, `${name}${place.ext}`);
      const dir = isAbsolute(place.dir) ? place.dir : join(this.cwd, place.dir);
      let text = readText(join(dir, `${name}${place.ext}`));
      let file = rel;
      if (text === undefined && place.format !== "weft") {
        // Claude Code and Codex name an agent by the `name` inside the file.
        let names: string[] = [];
        try {
          names = readdirSync(dir)
            .filter((n) => extname(n) === place.ext)
            .sort();
        } catch {}
        for (const n of names) {
          const t = readText(join(dir, n));
          if (t !== undefined && declaredName(place, t) === name) {
            text = t;
            file = join(place.dir, basename(n));
            break;
          }
        }
      }
      if (text === undefined) continue;
      const def = READERS[place.format](name, file, text);
      def.hash = createHash("sha256").update(text).digest("hex").slice(0, 16);
      return def;
    }
    return undefined;
  }
}
