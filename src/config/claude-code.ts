/**
 * Claude Code's own settings, honoured as weft's lowest-priority source (SPEC U09, issue 17):
 * a user who tuned Claude Code's dynamic workflows gets the same concurrency, model and effort
 * when the same script runs on weft. Only these variables are read, from the environment and
 * from the `env` blocks of Claude Code's settings files; nothing else in those files (hooks,
 * permissions) is used by weft.
 *
 * Where Claude Code looks (code.claude.com/docs/en/settings): the user's
 * `~/.claude/settings.json` (`$CLAUDE_CONFIG_DIR/settings.json` when set), the project's
 * `.claude/settings.json` and `.claude/settings.local.json`; the later overrides the earlier, and
 * an `env` block overrides the shell's variable of the same name (Claude Code applies `env` over
 * its process environment by design). weft takes a value from the same place Claude Code would.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The variables weft reads, each mapped to a weft setting in settings.ts. */
export const CLAUDE_CODE_VARS = [
  "CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS",
  "CLAUDE_CODE_WORKFLOW_SUBAGENT_MODEL",
  "CLAUDE_CODE_SUBAGENT_MODEL",
  "CLAUDE_CODE_SUBAGENT_MODEL_FORCE",
  "CLAUDE_CODE_EFFORT_LEVEL",
  "CLAUDE_CODE_WORKFLOW_PREFIX_STAGGER_MS",
] as const;
export type ClaudeCodeVar = (typeof CLAUDE_CODE_VARS)[number];

/** Claude Code's folder of user files: `$CLAUDE_CONFIG_DIR`, else `~/.claude`. */
export function claudeConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLAUDE_CONFIG_DIR || join(env.HOME || homedir(), ".claude");
}

export interface ClaudeValue {
  value: string;
  /** Where it came from, for `weft config` and warnings: `X in <file>` or `X (environment)`. */
  where: string;
}

interface SettingsFile {
  /** As shown: relative for the project's files, absolute for the user's. */
  shown: string;
  env: Record<string, unknown>;
}

/** A settings file's `env` block; a missing file is none, a broken one a warning (it is Claude Code's file). */
function readEnvBlock(path: string, shown: string, warnings: string[]): SettingsFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR")
      warnings.push(`cannot read ${shown}: ${(e as Error).message}`);
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    warnings.push(`${shown} is not valid JSON (${(e as Error).message}); weft ignores it`);
    return undefined;
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) return undefined;
  const env = (data as Record<string, unknown>).env;
  if (env === undefined) return undefined;
  if (env === null || typeof env !== "object" || Array.isArray(env)) {
    warnings.push(`${shown}: "env" is not an object; weft ignores it`);
    return undefined;
  }
  return { shown, env: env as Record<string, unknown> };
}

/**
 * The Claude Code values that are set, each from the place Claude Code itself would take it:
 * `.claude/settings.local.json`, then `.claude/settings.json`, then the user's settings, then the
 * environment.
 */
export function readClaudeCodeValues(
  cwd: string,
  env: NodeJS.ProcessEnv,
  warnings: string[],
): Partial<Record<ClaudeCodeVar, ClaudeValue>> {
  const user = join(claudeConfigDir(env), "settings.json");
  const files = [
    readEnvBlock(
      join(cwd, ".claude", "settings.local.json"),
      join(".claude", "settings.local.json"),
      warnings,
    ),
    readEnvBlock(join(cwd, ".claude", "settings.json"), join(".claude", "settings.json"), warnings),
    readEnvBlock(user, user, warnings),
  ].filter((f): f is SettingsFile => f !== undefined);
  const out: Partial<Record<ClaudeCodeVar, ClaudeValue>> = {};
  for (const name of CLAUDE_CODE_VARS) {
    const file = files.find((f) => f.env[name] !== undefined && f.env[name] !== null);
    if (file) {
      const v = file.env[name];
      // Claude Code's env values are strings; a number or boolean written by hand is its text.
      const value =
        typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : "";
      out[name] = { value, where: `${name} in ${file.shown}` };
      continue;
    }
    const v = env[name];
    if (v !== undefined) out[name] = { value: v, where: `${name} (environment)` };
  }
  return out;
}

/** The levels Claude Code's effort takes (`claude --effort`). */
export const CLAUDE_EFFORTS = ["low", "medium", "high", "xhigh", "max"];

export interface ClaudeCodeSettings {
  concurrency?: ClaudeValue & { n: number };
  model?: ClaudeValue;
  forceModel?: ClaudeValue;
  effort?: ClaudeValue;
  prefixStaggerMs?: ClaudeValue & { n: number };
}

/**
 * The values checked: an invalid one is a warning naming where it came from, and is ignored (as
 * Claude Code falls back to its default). An empty value is "not set".
 */
export function claudeCodeSettings(
  cwd: string,
  env: NodeJS.ProcessEnv,
  warnings: string[],
): ClaudeCodeSettings {
  const v = readClaudeCodeValues(cwd, env, warnings);
  const out: ClaudeCodeSettings = {};
  const set = (x: ClaudeValue | undefined) => x !== undefined && x.value.trim() !== "";
  const bad = (x: ClaudeValue, want: string) =>
    warnings.push(`${x.where}: ${want}, got ${JSON.stringify(x.value)}; ignored`);

  const c = v.CLAUDE_CODE_WORKFLOW_MAX_CONCURRENT_AGENTS;
  if (set(c)) {
    const n = Number(c!.value.trim());
    if (Number.isInteger(n) && n >= 1 && n <= 256) out.concurrency = { ...c!, n };
    else bad(c!, "must be a whole number from 1 to 256");
  }
  // The workflow-specific variable is the more specific one: it wins over the general one.
  const m = set(v.CLAUDE_CODE_WORKFLOW_SUBAGENT_MODEL)
    ? v.CLAUDE_CODE_WORKFLOW_SUBAGENT_MODEL
    : v.CLAUDE_CODE_SUBAGENT_MODEL;
  if (set(m)) {
    if (/\s/.test(m!.value.trim())) bad(m!, "must be a model name");
    else out.model = { ...m!, value: m!.value.trim() };
  }
  const f = v.CLAUDE_CODE_SUBAGENT_MODEL_FORCE;
  if (set(f)) {
    const t = f!.value.trim().toLowerCase();
    if (t === "1" || t === "true") out.forceModel = f;
    else if (t !== "0" && t !== "false") bad(f!, "must be 1 or 0");
  }
  const e = v.CLAUDE_CODE_EFFORT_LEVEL;
  if (set(e)) {
    const level = e!.value.trim().toLowerCase();
    // "auto" is Claude Code's "the model's default": no level to pass.
    if (CLAUDE_EFFORTS.includes(level)) out.effort = { ...e!, value: level };
    else if (level !== "auto") bad(e!, `must be one of ${CLAUDE_EFFORTS.join(", ")}`);
  }
  const st = v.CLAUDE_CODE_WORKFLOW_PREFIX_STAGGER_MS;
  if (set(st)) {
    const n = Number(st!.value.trim());
    if (Number.isInteger(n) && n >= 0) out.prefixStaggerMs = { ...st!, n };
    else bad(st!, "must be a whole number of milliseconds >= 0");
  }
  return out;
}
