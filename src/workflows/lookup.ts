/**
 * Saved workflows (SPEC U03): where `weft run <name>` and `workflow(name)` look, in order, and
 * what each folder holds. `meta` is read with the script loader, which parses without running.
 */
import { existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../api/errors.js";
import { claudeConfigDir } from "../config/claude-code.js";
import { enabledPlugins } from "../config/claude-plugins.js";
import { type LoadedScript, loadScriptFile } from "../script/load.js";
import { weftDirOf } from "../store/weft-dir.js";

/** `claude`: a project's `.claude/workflows`; `claude-user`: `~/.claude/workflows`; `plugin`: a Claude Code plugin's. */
export type WorkflowSource = "project" | "user" | "claude" | "claude-user" | "plugin" | "recipes";

export interface WorkflowFolder {
  source: WorkflowSource;
  dir: string;
  /** `.claude/workflows` belongs to Claude Code: weft reads it and never writes there. */
  readOnly: boolean;
  /** A plugin's workflows answer to `<prefix>:<name>` only, as Claude Code names them. */
  prefix?: string;
}

export interface WorkflowEntry {
  /** The file's base name without its extension: what `weft run <name>` matches first. */
  name: string;
  /** `meta.name`, which also matches; undefined when the file does not load. */
  metaName?: string;
  description?: string;
  whenToUse?: string;
  source: WorkflowSource;
  path: string;
  /** A workflow of the same name in an earlier folder wins over this one. */
  shadowed: boolean;
  /** Why the file does not load (it is listed, never run). */
  error?: string;
}

/** A usage error: the CLI exits 2 (E02). */
export class WorkflowNotFoundError extends UsageError {
  override name = "WorkflowNotFoundError";
}

const EXTS = [".js", ".ts", ".mjs"];
export const isScriptPath = (p: string) => EXTS.includes(extname(p).toLowerCase());

/** The bundled recipes, next to dist/ in the installed package. */
export const RECIPES_DIR = fileURLToPath(new URL("../../recipes", import.meta.url));

export function userWorkflowsDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "weft", "workflows");
}

/** The folder and its parents up to the git root (the first with `.git`); only the folder outside git. */
function upToGitRoot(cwd: string): string[] {
  const dirs: string[] = [];
  for (let d = resolve(cwd); ; d = dirname(d)) {
    dirs.push(d);
    if (existsSync(join(d, ".git"))) return dirs;
    if (dirname(d) === d) return [resolve(cwd)];
  }
}

/**
 * In lookup order: weft's own folders, then Claude Code's (as Claude Code looks: `.claude/workflows`
 * of the folder and each parent up to the git root, the closest first; the user's; enabled
 * plugins'), then the recipes.
 */
export function workflowFolders(cwd: string, env: NodeJS.ProcessEnv): WorkflowFolder[] {
  return [
    { source: "project", dir: join(weftDirOf(cwd), "workflows"), readOnly: false },
    { source: "user", dir: userWorkflowsDir(env), readOnly: false },
    ...upToGitRoot(cwd).map(
      (d): WorkflowFolder => ({ source: "claude", dir: join(d, ".claude", "workflows"), readOnly: true }),
    ),
    { source: "claude-user", dir: join(claudeConfigDir(env), "workflows"), readOnly: true },
    ...enabledPlugins(cwd, env).map(
      (p): WorkflowFolder => ({
        source: "plugin",
        dir: join(p.dir, "workflows"),
        readOnly: true,
        prefix: p.name,
      }),
    ),
    { source: "recipes", dir: RECIPES_DIR, readOnly: true },
  ];
}

const named = (folder: WorkflowFolder, name: string) => (folder.prefix ? `${folder.prefix}:${name}` : name);

/** Claude Code's built-in workflows, which weft does not ship: a clear word instead of "not found". */
const CLAUDE_BUILTINS: Record<string, string> = {
  "deep-research": `"deep-research" is Claude Code's own built-in workflow (/deep-research: web searches across several angles, sources cross-checked, a cited report); weft does not ship it. weft's nearest recipe is research-synthesis (questions researched by read-only agents, a synthesis of checkable claims, each claim checked): workflow("research-synthesis", { questions: ["..."] }) in a script, or weft run research-synthesis --args '{"questions":["..."]}'. A workflow of your own named deep-research (in .weft/workflows or .claude/workflows) is found first.`,
};

/** A path as a person in `cwd` would write it: relative when inside, absolute otherwise. */
export function shownPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel === "" || rel.startsWith(`..${sep}`) || rel === ".." || isAbsolute(rel) ? path : rel;
}

async function scriptFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files: string[] = [];
  for (const n of names.sort()) {
    if (!isScriptPath(n) || n.startsWith(".")) continue;
    const st = await stat(join(dir, n)).catch(() => undefined);
    if (st?.isFile()) files.push(join(dir, n));
  }
  return files;
}

async function entryOf(cwd: string, folder: WorkflowFolder, path: string): Promise<WorkflowEntry> {
  const name = named(folder, basename(path, extname(path)));
  try {
    const s = await loadScriptFile(shownPath(cwd, path), cwd);
    return {
      name,
      metaName: s.meta.name === undefined ? undefined : named(folder, s.meta.name),
      description: s.meta.description,
      whenToUse: s.meta.whenToUse,
      source: folder.source,
      path,
      shadowed: false,
    };
  } catch (e) {
    const err = e as Error & { format?: () => string };
    return {
      name,
      source: folder.source,
      path,
      shadowed: false,
      error: err.format ? err.format() : err.message,
    };
  }
}

/**
 * Every saved workflow, folder by folder in lookup order. An entry is shadowed when an earlier
 * entry answers to its name (by base name or meta.name): `weft run <name>` finds that one.
 */
export async function listWorkflows(cwd: string, env: NodeJS.ProcessEnv): Promise<WorkflowEntry[]> {
  const out: WorkflowEntry[] = [];
  const taken = new Set<string>();
  for (const folder of workflowFolders(cwd, env)) {
    const entries = await Promise.all((await scriptFiles(folder.dir)).map((p) => entryOf(cwd, folder, p)));
    // Within one folder, base names are matched before meta names: take those first.
    const names = (e: WorkflowEntry) => [e.name, ...(e.metaName ? [e.metaName] : [])];
    for (const e of entries) {
      e.shadowed = taken.has(e.name);
      out.push(e);
    }
    for (const e of entries) for (const n of names(e)) taken.add(n);
  }
  return out;
}

/** The first workflow answering to `name`: each folder by base name, then by meta.name. */
export async function findWorkflow(
  name: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ path: string; source: WorkflowSource } | undefined> {
  for (const folder of workflowFolders(cwd, env)) {
    // A plugin's workflows answer only to their qualified name, others never to one.
    if (folder.prefix ? !name.startsWith(`${folder.prefix}:`) : false) continue;
    const files = await scriptFiles(folder.dir);
    const byBase = files.find((p) => named(folder, basename(p, extname(p))) === name);
    if (byBase) return { path: byBase, source: folder.source };
    for (const p of files) {
      const e = await entryOf(cwd, folder, p);
      if (e.metaName === name) return { path: p, source: folder.source };
    }
  }
  return undefined;
}

/** `weft run <name>` with nothing found: where weft looked and what is there. */
export async function notFoundMessage(name: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const where = workflowFolders(cwd, env)
    .map((f) => `  ${shownPath(cwd, f.dir)} (${f.source}${f.prefix ? `, as ${f.prefix}:<name>` : ""})`)
    .join("\n");
  const builtin = CLAUDE_BUILTINS[name];
  if (builtin) return builtin;
  const names = [...new Set((await listWorkflows(cwd, env)).filter((e) => !e.error).map((e) => e.name))];
  return `no workflow named "${name}" (and no file of that name). Looked in, in order:\n${where}\n${
    names.length > 0 ? `Workflows available: ${names.join(", ")}` : "No saved workflows were found."
  }`;
}

/**
 * What `weft run <arg>` runs: an existing file, or a path with a script extension (whose read
 * error the loader reports), or else a saved workflow by name.
 */
export async function resolveScriptArg(arg: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const st = await stat(resolve(cwd, arg)).catch(() => undefined);
  if (st?.isFile() || isScriptPath(arg) || arg.includes("/")) return arg;
  const found = await findWorkflow(arg, cwd, env);
  if (!found) throw new WorkflowNotFoundError(await notFoundMessage(arg, cwd, env));
  return shownPath(cwd, found.path);
}

export async function loadWorkflowByName(
  name: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<LoadedScript> {
  const found = await findWorkflow(name, cwd, env);
  if (!found) throw new WorkflowNotFoundError(await notFoundMessage(name, cwd, env));
  return loadScriptFile(shownPath(cwd, found.path), cwd);
}
