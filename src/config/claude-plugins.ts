/**
 * Claude Code's enabled plugins (SPEC U03), whose `workflows/` and `agents/` folders weft reads,
 * named `<plugin>:<name>` as Claude Code names a plugin's parts.
 *
 * Installed plugins are listed in `~/.claude/plugins/installed_plugins.json` (under
 * `$CLAUDE_CONFIG_DIR` when set): `{ "version": 2, "plugins": { "<name>@<marketplace>": [ {
 * "scope": "user" | "project" | "local", "installPath": "...", "projectPath"?: "..." } ] } }`, or in
 * the older shape one object per plugin instead of the list. A plugin is enabled when
 * `enabledPlugins["<name>@<marketplace>"]` is true in Claude Code's settings (the user's
 * `settings.json`, then the project's `.claude/settings.json` and `.claude/settings.local.json`,
 * the later winning). A plugin installed for a project counts only inside that project.
 *
 * These are Claude Code's files: one that is missing or broken means no plugins, never an error.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { claudeConfigDir } from "./claude-code.js";

export interface ClaudePlugin {
  /** `<name>@<marketplace>`, as in installed_plugins.json. */
  id: string;
  /** The plugin's name: the prefix of its workflows and agents. */
  name: string;
  /** Where it is installed; its parts are `workflows/` and `agents/` there. */
  dir: string;
}

const SAFE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function readObject(path: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(readFileSync(path, "utf8"));
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const inside = (dir: string, base: string) => {
  const rel = relative(base, dir);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
};

/** Enabled plugins, in the order installed_plugins.json lists them. */
export function enabledPlugins(cwd: string, env: NodeJS.ProcessEnv = process.env): ClaudePlugin[] {
  const home = claudeConfigDir(env);
  const installed = readObject(join(home, "plugins", "installed_plugins.json"))?.plugins;
  if (!isObject(installed)) return [];
  const enabled: Record<string, unknown> = {};
  for (const file of [
    join(home, "settings.json"),
    join(cwd, ".claude", "settings.json"),
    join(cwd, ".claude", "settings.local.json"),
  ]) {
    const e = readObject(file)?.enabledPlugins;
    if (isObject(e)) Object.assign(enabled, e);
  }
  const out: ClaudePlugin[] = [];
  for (const [id, raw] of Object.entries(installed)) {
    if (enabled[id] !== true) continue;
    const name = id.split("@")[0]!;
    if (!SAFE.test(name)) continue;
    const entries = (Array.isArray(raw) ? raw : [raw]).filter(isObject);
    const entry = entries.find((e) => {
      if (typeof e.installPath !== "string" || !isAbsolute(e.installPath)) return false;
      // A plugin installed for one project is that project's only.
      const scope = e.scope;
      if ((scope === "project" || scope === "local") && typeof e.projectPath === "string")
        return inside(cwd, e.projectPath);
      return true;
    });
    if (entry) out.push({ id, name, dir: entry.installPath as string });
  }
  return out;
}

/** `<plugin>:<name>` split, when the plugin is enabled here. */
export function pluginPart(
  qualified: string,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): { plugin: ClaudePlugin; name: string } | undefined {
  const i = qualified.indexOf(":");
  if (i <= 0) return undefined;
  const prefix = qualified.slice(0, i);
  const name = qualified.slice(i + 1);
  const plugin = enabledPlugins(cwd, env).find((p) => p.name === prefix);
  return plugin && name !== "" ? { plugin, name } : undefined;
}
