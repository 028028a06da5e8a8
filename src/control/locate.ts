/** Finding a run from any process: by id (or a unique prefix) under `<cwd>/.weft/runs`, or by its directory. */
import { existsSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../api/errors.js";
import { findRun } from "../store/files.js";
import { weftDirOf } from "../store/weft-dir.js";

export interface RunRef {
  runId: string;
  runDir: string;
}

/** `runIdOrDir`: a run id, a unique prefix of one, or the path of a run directory. */
export async function locateRun(runIdOrDir: string, cwd = process.cwd()): Promise<RunRef> {
  if (isAbsolute(runIdOrDir) || runIdOrDir.includes("/")) {
    const dir = resolve(cwd, runIdOrDir);
    if (existsSync(join(dir, "journal.jsonl")) || existsSync(join(dir, "run.json")))
      return { runId: basename(dir), runDir: dir };
    throw new UsageError(`${runIdOrDir} is not a run directory (it has no journal.jsonl or run.json)`);
  }
  const weftDir = weftDirOf(cwd);
  const dir = await findRun(weftDir, runIdOrDir);
  if (!dir) throw new UsageError(`no run "${runIdOrDir}" in ${join(weftDir, "runs")}`);
  return { runId: basename(dir), runDir: dir };
}
