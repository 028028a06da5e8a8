/** `weft report <run>` (U07): render a run's human artifacts again from its journal. */
import { join } from "node:path";
import { NothingToResumeError } from "../api/errors.js";
import { renderArtifacts } from "../report/artifacts/write.js";
import { ensureRunsDir, findRun } from "../store/files.js";
import { shownPath } from "../workflows/lookup.js";

export async function reportCommand(runId: string): Promise<number> {
  const cwd = process.cwd();
  const weftDir = await ensureRunsDir(cwd);
  const runDir = await findRun(weftDir, runId);
  if (!runDir) throw new NothingToResumeError(`no run "${runId}" in ${join(weftDir, "runs")}`);
  let stats: Awaited<ReturnType<typeof renderArtifacts>>;
  try {
    stats = await renderArtifacts(runDir);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT")
      throw new NothingToResumeError(`run "${runId}" has no journal.jsonl in ${shownPath(cwd, runDir)}`);
    throw e;
  }
  const dir = shownPath(cwd, runDir);
  for (const m of stats.refused) process.stderr.write(`weft: warning: ${m}\n`);
  process.stdout.write(
    `rendered ${stats.files} file(s) for ${stats.agents} agent(s) in ${dir}: plan.md, state.json, packets/, results/, integration.md, final-report.md\n`,
  );
  return 0;
}
