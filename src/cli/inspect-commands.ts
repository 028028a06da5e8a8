/** `weft ls`, `weft show` (read the run directories) and `weft clean` (removes a run's worktrees). */
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { NothingToResumeError, UsageError } from "../api/errors.js";
import type { RunSummary } from "../report/events.js";
import { summaryLine } from "../report/plain.js";
import { findRun, listRuns, readRunJson } from "../store/files.js";
import { Workspace } from "../workspace/workspace.js";

const weftDir = () => join(process.cwd(), ".weft");

export async function lsCommand(flags: { json?: boolean }): Promise<number> {
  const runs = (await listRuns(weftDir()).catch(() => [])) as RunSummary[];
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
    return 0;
  }
  if (runs.length === 0) {
    process.stdout.write("no runs in .weft/runs\n");
    return 0;
  }
  for (const r of runs) {
    process.stdout.write(
      `${r.id.padEnd(32)} ${String(r.status).padEnd(17)} ${r.startedAt}  ${summaryLine(r)}\n`,
    );
  }
  return 0;
}

export async function showCommand(runId: string, flags: { agent?: number; json?: boolean }): Promise<number> {
  const dir = await findRun(weftDir(), runId);
  if (!dir) throw new NothingToResumeError(`no run "${runId}" in .weft/runs`);
  if (flags.agent !== undefined) {
    let text: string;
    try {
      text = await readFile(join(dir, "agents", `${flags.agent}.json`), "utf8");
    } catch {
      throw new UsageError(`run ${runId} has no record of agent ${flags.agent}`);
    }
    process.stdout.write(flags.json ? text : formatAgent(JSON.parse(text)));
    return 0;
  }
  const summary = (await readRunJson(dir)) as RunSummary | undefined;
  if (!summary) throw new UsageError(`run ${runId} has no run.json`);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `run ${summary.id} (${summary.name})`,
    `status   ${summary.status}`,
    `started  ${summary.startedAt}${summary.endedAt ? `   ended ${summary.endedAt}` : ""}`,
    `agents   ${Object.entries(summary.agents)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
    `tokens   input ${summary.tokens.input}, output ${summary.tokens.output}, cached ${summary.tokens.cached}, reasoning ${summary.tokens.reasoning}`,
    ...summary.refused.map((r) => `refused  ${r.label ? `${r.label}: ` : ""}${r.reason}`),
    ...(summary.error ? [`error    ${summary.error}`] : []),
    ...(summary.result !== undefined ? [`result   ${JSON.stringify(summary.result, null, 2)}`] : []),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

function formatAgent(a: Record<string, unknown>): string {
  const u = a.usage as Record<string, number> | undefined;
  return `${[
    `agent #${a.n}${a.label ? ` ${a.label}` : ""} — ${a.status}`,
    `driver   ${a.driver}${a.model ? `, model ${a.model}` : ""}`,
    `attempts ${a.attempts}, ${a.durationMs} ms`,
    u ? `tokens   input ${u.input}, output ${u.output}, cached ${u.cached}, reasoning ${u.reasoning}` : "",
    `prompt   ${a.prompt}`,
    ...(a.error ? [`error    ${a.error}`] : []),
    ...(a.result !== undefined
      ? [`result   ${typeof a.result === "string" ? a.result : JSON.stringify(a.result, null, 2)}`]
      : []),
  ]
    .filter(Boolean)
    .join("\n")}\n`;
}

export async function cleanCommand(runId: string): Promise<number> {
  const dir = await findRun(weftDir(), runId);
  if (!dir) throw new NothingToResumeError(`no run "${runId}" in .weft/runs`);
  const id = basename(dir);
  const { worktrees, branches } = await Workspace.clean(process.cwd(), weftDir(), id);
  process.stdout.write(
    `removed ${worktrees} worktree${worktrees === 1 ? "" : "s"} and ${branches} branch${branches === 1 ? "" : "es"} of ${id}\n`,
  );
  return 0;
}
