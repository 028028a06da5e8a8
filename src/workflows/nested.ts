/**
 * `workflow(nameOrRef, args?)` (SPEC A11), the engine's half: find the nested script, check it and
 * its args, and keep a copy in the run directory so a resume replays the same code.
 *
 * Cache keys: the nested workflow's agents are keyed exactly as the caller's are (same counter,
 * no namespace). A key stands for "this prompt with these result-shaping options", and identical
 * calls are interchangeable whoever makes them: an agent("x") in the nested script and one in the
 * caller would return equally valid answers to each other, which is the same reasoning that
 * makes finish order irrelevant. A namespace would only change meaning if a prompt's answer
 * depended on who asked, and nothing about the caller reaches the agent. Sharing keys also means
 * an edited nested workflow reruns only its changed calls, as an edited script does.
 */
import { readdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { type CompiledSchema, compileSchema } from "../engine/schema.js";
import type { NestedStart } from "../sandbox/protocol.js";
import { type LoadedScript, loadScriptFile } from "../script/load.js";
import { saveScriptCopy } from "../store/files.js";
import { ensureDir } from "../store/safe-write.js";
import { weftDirOf } from "../store/weft-dir.js";
import { loadWorkflowByName, shownPath } from "./lookup.js";

export interface NestedContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  runDir: string;
  /** `{scriptPath}` is relative to the calling script's folder. */
  scriptDir: string;
  /** A plain resume: replay the copies kept in the run directory rather than read the sources. */
  fromCopies: boolean;
  /** Whether the run prepared a git workspace (worktree agents need one, W06). */
  hasWorkspace: boolean;
}

/** A problem the script caused, thrown back into it from `workflow()`. */
export class NestedWorkflowError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface Ref {
  name?: string;
  scriptPath?: string;
  args?: unknown;
}

/** The copy's file name in `<run>/workflows/`, from the ref (one per distinct ref). */
const copyStem = (ref: Ref) =>
  (ref.name ?? ref.scriptPath!.replace(/\.[cm]?[jt]s$/i, ""))
    .replace(/^[./\\]+/, "")
    .replace(/[^A-Za-z0-9._-]/g, "_");

export type NestedLoader = (refJson: string) => Promise<Omit<NestedStart, "id">>;

/**
 * Loads nested workflows for one execution of a run. Each distinct ref is read once per execution,
 * so every call of it runs the same code even if the file changes meanwhile.
 */
export function nestedLoader(ctx: NestedContext): NestedLoader {
  const loaded = new Map<string, Promise<LoadedScript>>();
  const dir = join(ctx.runDir, "workflows");

  async function fromCopy(stem: string): Promise<LoadedScript | undefined> {
    const names = await readdir(dir).catch(() => [] as string[]);
    const copy = names.find((n) => n === `${stem}.js` || n === `${stem}.ts`);
    return copy ? loadScriptFile(shownPath(ctx.cwd, join(dir, copy)), ctx.cwd) : undefined;
  }

  async function load(ref: Ref): Promise<LoadedScript> {
    const stem = copyStem(ref);
    const copied = ctx.fromCopies ? await fromCopy(stem) : undefined;
    if (copied) return copied;
    const script = ref.name
      ? await loadWorkflowByName(ref.name, ctx.cwd, ctx.env)
      : await loadScriptFile(shownPath(ctx.cwd, resolve(ctx.scriptDir, ref.scriptPath!)), ctx.cwd);
    ensureDir(dir);
    const ext = script.isTs ? ".ts" : ".js";
    // R03: an older, different copy is kept numbered (x.1.js), like the script's own copies.
    await saveScriptCopy(dir, `${stem}${ext}`, script.source);
    return script;
  }

  return async (refJson) => {
    const ref = JSON.parse(refJson) as Ref;
    const key = JSON.stringify([ref.name, ref.scriptPath]);
    let p = loaded.get(key);
    if (!p) {
      p = load(ref);
      loaded.set(key, p);
    }
    let script: LoadedScript;
    try {
      script = await p;
    } catch (e) {
      const err = e as Error & { format?: () => string };
      throw new NestedWorkflowError(
        err.name === "ScriptError" || err.name === "WorkflowNotFoundError" ? "WorkflowError" : err.name,
        `workflow(${ref.name ? JSON.stringify(ref.name) : `{ scriptPath: ${JSON.stringify(ref.scriptPath)} }`}): ${err.format ? err.format() : err.message}`,
      );
    }
    if (script.usesWorktrees && !ctx.hasWorkspace) {
      throw new NestedWorkflowError(
        "WorkspaceError",
        `workflow(): ${script.displayPath} uses worktree isolation; name isolation: "worktree" in the calling script too, so that weft prepares the repository before the run`,
      );
    }
    const argsJson = ref.args === undefined ? undefined : JSON.stringify(ref.args);
    const schema = script.meta.args;
    if (schema) {
      let v: ReturnType<CompiledSchema["validate"]>;
      try {
        v = compileSchema(schema).validate(ref.args === undefined ? {} : ref.args);
      } catch (e) {
        throw new NestedWorkflowError(
          "ArgsError",
          `${script.displayPath}: meta.args is not a usable schema: ${(e as Error).message}`,
        );
      }
      if (!v.ok) {
        throw new NestedWorkflowError(
          "ArgsError",
          `workflow(): args do not match meta.args of ${script.displayPath}: ${v.errors.join("; ")}`,
        );
      }
    }
    return { code: script.code, displayPath: script.displayPath, args: argsJson };
  };
}

/**
 * The folder `{scriptPath}` refs start from: the script's own, or where weft was started for a
 * script given as source (the library's `{source}`, or an MCP client's inline script, which the
 * server keeps under .weft/scripts/ only so that errors name a file).
 */
export function scriptDirOf(cwd: string, script: LoadedScript, originalDisplayPath?: string): string {
  const path =
    originalDisplayPath && originalDisplayPath !== "<script>"
      ? resolve(cwd, originalDisplayPath)
      : script.absPath;
  if (!path || dirname(path) === join(weftDirOf(cwd), "scripts")) return cwd;
  return dirname(path);
}

export const isCopyIn = (runDir: string, script: LoadedScript) =>
  script.absPath !== undefined && resolve(script.absPath).startsWith(`${resolve(runDir)}/`);
