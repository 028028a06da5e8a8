/**
 * `weft save <run> <name>` (SPEC U03): the run's script, as it last ran, becomes a saved workflow
 * in `.weft/workflows/` (or the user folder with `global`). Never into `.claude/workflows/`.
 */
import { readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { NothingToResumeError, UsageError } from "../api/errors.js";
import { findRun, readRunJson } from "../store/files.js";
import { copyFileSafe, ensureDir } from "../store/safe-write.js";
import { weftDirOf } from "../store/weft-dir.js";
import { userWorkflowsDir } from "./lookup.js";

export interface SaveOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  global?: boolean;
  force?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The script copy the run ran last: `run.json`'s `script`, else `script.js`/`script.ts`. */
async function scriptOfRun(runDir: string): Promise<string> {
  const summary = await readRunJson(runDir);
  if (typeof summary?.script === "string") return join(runDir, summary.script);
  const names = await readdir(runDir).catch(() => [] as string[]);
  const copy = names.find((n) => /^script\.(js|ts|mjs)$/.test(n));
  if (!copy) throw new UsageError(`run directory ${runDir} holds no script copy`);
  return join(runDir, copy);
}

export async function saveWorkflow(runId: string, name: string, opts: SaveOptions): Promise<string> {
  if (!NAME.test(name) || /\.(js|ts|mjs)$/i.test(name)) {
    throw new UsageError(
      `workflow name "${name}" must be letters, digits, ".", "_" or "-", start with a letter or digit, and carry no extension`,
    );
  }
  const runDir = await findRun(weftDirOf(opts.cwd), runId);
  if (!runDir) throw new NothingToResumeError(`no run "${runId}" in .weft/runs`);
  const from = await scriptOfRun(runDir);
  const dir = opts.global ? userWorkflowsDir(opts.env) : join(weftDirOf(opts.cwd), "workflows");
  const ext = extname(from) === ".ts" ? ".ts" : ".js";
  const to = join(dir, `${name}${ext}`);
  // The other extension with the same name would be shadowed or shadow this one: same refusal.
  for (const other of [".js", ".ts", ".mjs"].map((e) => join(dir, `${name}${e}`))) {
    if (!opts.force && (await stat(other).catch(() => undefined))) {
      throw new UsageError(`${other} exists; give --force to overwrite it`);
    }
  }
  try {
    // Never through a link an agent planted in .weft/ (safe-write.ts), nor copying one along.
    ensureDir(dir);
    copyFileSafe(from, to);
  } catch (e) {
    throw new UsageError(`cannot save the workflow to ${to}: ${(e as Error).message}`);
  }
  return to;
}
