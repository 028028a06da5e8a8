/**
 * Named agent definitions for `agentType` (SPEC A02), read in this order (the first found wins):
 *
 * - `.weft/agents/<name>.md`: front matter `driver`, `model`, `effort`, `permissions`,
 *   `description`, `instructions`; the body is more instructions. Strict YAML.
 * - `.claude/agents/<name>.md`: Claude Code's subagent format. `name`, `description`, `tools`,
 *   `model` (`inherit` means none), `effort`; the body is the subagent's system prompt, given here
 *   as instructions. `tools` without any writing tool (Edit, Write, MultiEdit, NotebookEdit)
 *   becomes `permissions: "read-only"`; the list itself is not enforced tool by tool. The front
 *   matter is read as leniently as Claude Code reads it (front-matter.ts): a file strict YAML
 *   rejects is read line by line, with one warning, and never dropped.
 * - `.codex/agents/<name>.toml`: Codex's custom agents (developers.openai.com/codex/subagents:
 *   one TOML file per agent with `name`, `description`, `developer_instructions`, and optional
 *   `model`, `model_reasoning_effort`, `sandbox_mode`, `nickname_candidates`, `web_search`,
 *   `mcp_servers`, `skills`). Mapped: `model`, `model_reasoning_effort` as effort, `sandbox_mode`
 *   (read-only, workspace-write as edit, danger-full-access as full), `developer_instructions`
 *   (or `instructions`) as instructions. Every other key is ignored with one warning per run.
 * - `.pi/agents/<name>.md`, then the user's `~/.pi/agent/agents/<name>.md` (`$PI_CODING_AGENT_DIR/
 *   agents` when set): pi's subagent format (its examples/extensions/subagent): `name`,
 *   `description`, `tools` (a comma list of pi's tools: read, bash, edit, write, grep, find, ls),
 *   `model`; the body is the system prompt. Without `edit` or `write` in `tools` the agent is
 *   read-only. Lenient front matter, as pi's loader falls back to `key: value` lines too.
 * - weft's own definitions of Claude Code's built-in types (builtin.ts): `general-purpose`,
 *   `Explore`, `Plan`.
 *
 * A file is found by its base name, or (Claude Code, Codex, pi) by the `name` inside it, which
 * those tools treat as the agent's identity. Front matter and TOML are parsed by `yaml` and
 * `smol-toml`, not by hand, except in the lenient fallback.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, extname, isAbsolute, join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { claudeConfigDir } from "../config/claude-code.js";
import { pluginPart } from "../config/claude-plugins.js";
import type { Permissions } from "../drivers/types.js";
import { builtinDefinition } from "./builtin.js";
import { FrontMatterError, frontMatterText, lineByLine, readFrontMatter } from "./front-matter.js";

export type DefinitionFormat = "weft" | "claude" | "codex" | "pi" | "builtin";

export interface AgentDefinition {
  name: string;
  format: DefinitionFormat;
  /** Relative to the project (absolute for the user's folders), as shown in messages. */
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
  /** Set when the front matter was read line by line (strict YAML failed): the warning to show. */
  lenient?: string;
}

export class AgentDefinitionError extends Error {
  override name = "OptionsError";
}

const PERMISSIONS: Permissions[] = ["read-only", "edit", "full"];
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

type FileFormat = Exclude<DefinitionFormat, "builtin">;

interface Place {
  format: FileFormat;
  /** Relative to the project, or absolute (the user's own folder). */
  dir: string;
  ext: ".md" | ".toml";
}

/** The project's folders, in order. */
export const PLACES: Place[] = [
  { format: "weft", dir: join(".weft", "agents"), ext: ".md" },
  { format: "claude", dir: join(".claude", "agents"), ext: ".md" },
  { format: "codex", dir: join(".codex", "agents"), ext: ".toml" },
  { format: "pi", dir: join(".pi", "agents"), ext: ".md" },
];

/** pi's user folder of agents: `$PI_CODING_AGENT_DIR/agents`, else `~/.pi/agent/agents`. */
export function piUserAgents(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.PI_CODING_AGENT_DIR || join(env.HOME || homedir(), ".pi", "agent"), "agents");
}

/** The project's folders, then the user's Claude Code agents (`~/.claude/agents`), then pi's. */
function placesOf(env: NodeJS.ProcessEnv): Place[] {
  return [
    ...PLACES,
    { format: "claude", dir: join(claudeConfigDir(env), "agents"), ext: ".md" },
    { format: "pi", dir: piUserAgents(env), ext: ".md" },
  ];
}

/** The files weft reads for `name`, as shown in the error for a type nobody defines. */
export function placesFor(name: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return placesOf(env).map((p) => join(p.dir, `${name}${p.ext}`));
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Front matter of a Markdown definition; lenient for the formats whose hosts read it leniently. */
function frontMatter(
  text: string,
  file: string,
  lenient: boolean,
): { data: Record<string, unknown>; body: string; lenient?: string } {
  try {
    const fm = readFrontMatter(text, lenient);
    return {
      data: fm.data,
      body: fm.body,
      lenient: fm.lenient
        ? `agent definition ${file}: ${fm.lenient}; read line by line as \`key: value\` pairs, as Claude Code does (quote the value to silence this)`
        : undefined,
    };
  } catch (e) {
    if (e instanceof FrontMatterError)
      throw new AgentDefinitionError(`agent definition ${file}: ${e.message}`);
    throw e;
  }
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
  // weft's own format is strict: its users get an error to fix rather than a guess.
  const { data, body } = frontMatter(text, file, false);
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

/**
 * A string key of a format its host reads leniently (Claude Code, pi): a number or boolean is its
 * text, an empty value is no value; only a list or a mapping where text belongs is refused.
 */
function looseStr(data: Record<string, unknown>, key: string, file: string): string | undefined {
  const v = data[key];
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "string" && v.trim() === "") return undefined;
  return str(data, key, file);
}

/** `tools` as a list of names, from a YAML list or a comma list; `Bash(git *)` counts as Bash. */
function toolNames(tools: unknown): string[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  const list = Array.isArray(tools) ? tools.map(String) : String(tools).split(",");
  return list.map((t) => t.trim().replace(/\(.*$/, "")).filter(Boolean);
}

/** Claude Code's and pi's writing tools, compared without case (pi's are lower-case). */
const WRITING_TOOLS = ["edit", "write", "multiedit", "notebookedit"];

/** A `tools` list without a writing tool makes the agent read-only. */
function toolsPermissions(tools: unknown): Permissions | undefined {
  const names = toolNames(tools);
  if (!names) return undefined;
  return names.some((t) => WRITING_TOOLS.includes(t.toLowerCase())) ? undefined : "read-only";
}

const CLAUDE_KEYS = ["name", "description", "tools", "model", "effort"];

function readClaude(name: string, file: string, text: string): AgentDefinition {
  const { data, body, lenient } = frontMatter(text, file, true);
  const model = looseStr(data, "model", file);
  return {
    name,
    format: "claude",
    file,
    model: model === "inherit" ? undefined : model,
    effort: looseStr(data, "effort", file),
    permissions: toolsPermissions(data.tools),
    description: looseStr(data, "description", file),
    instructions: body || undefined,
    hash: "",
    ignored: Object.keys(data).filter((k) => !CLAUDE_KEYS.includes(k)),
    lenient,
  };
}

const PI_KEYS = ["name", "description", "tools", "model"];

function readPi(name: string, file: string, text: string): AgentDefinition {
  const { data, body, lenient } = frontMatter(text, file, true);
  return {
    name,
    format: "pi",
    file,
    model: looseStr(data, "model", file),
    permissions: toolsPermissions(data.tools),
    description: looseStr(data, "description", file),
    instructions: body || undefined,
    hash: "",
    ignored: Object.keys(data).filter((k) => !PI_KEYS.includes(k)),
    lenient,
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

const READERS: Record<FileFormat, (name: string, file: string, text: string) => AgentDefinition> = {
  weft: readWeft,
  claude: readClaude,
  codex: readCodex,
  pi: readPi,
};

/** The `name` a Claude Code, Codex or pi file declares, without failing on a broken file. */
function declaredName(place: Place, text: string): string | undefined {
  try {
    let data: unknown;
    if (place.ext === ".toml") data = parseToml(text);
    else {
      const yaml = frontMatterText(text) ?? "";
      try {
        data = parseYaml(yaml);
      } catch {
        // A02: the same lenient reading as the definition itself, so a file strict YAML rejects
        // is still found by its name.
        data = lineByLine(yaml);
      }
    }
    return isObject(data) && typeof data.name === "string" ? data.name.trim() : undefined;
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
 * Finds definitions in a project (and the user's pi folder), then weft's built-in types.
 * Synchronous and cached per name: it runs inside the engine's agent() call handling, where calls
 * must be keyed in the order the script made them; one run reads each definition once.
 */
export class AgentDefinitions {
  private readonly cache = new Map<string, AgentDefinition | undefined>();
  private readonly places: Place[];

  constructor(
    private readonly cwd: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.places = placesOf(env);
  }

  find(name: string): AgentDefinition | undefined {
    if (this.cache.has(name)) return this.cache.get(name);
    const def = SAFE_NAME.test(name) ? (this.lookup(name) ?? builtinDefinition(name)) : this.inPlugin(name);
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

  private lookup(name: string, places: Place[] = this.places): AgentDefinition | undefined {
    for (const place of places) {
      const dir = isAbsolute(place.dir) ? place.dir : join(this.cwd, place.dir);
      let text = readText(join(dir, `${name}${place.ext}`));
      let file = join(place.dir, `${name}${place.ext}`);
      if (text === undefined && place.format !== "weft") {
        // Claude Code, Codex and pi name an agent by the `name` inside the file.
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
