/**
 * `weft ls`, `weft show` (read the run directories) and `weft clean` (removes a run's worktrees).
 * What they print of a run is the script's and the agents' text, read from files an agent may have
 * written: made safe for the terminal (C09) unless `--json`, which prints it exact.
 */
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { NothingToResumeError, UsageError } from "../api/errors.js";
import type { RunSummary } from "../report/events.js";
import { summaryLine } from "../report/plain.js";
import { forTerminal, jsonForTerminal, forTerminalLine as one } from "../report/terminal-text.js";
import { wholeAgentResult } from "../store/excerpt.js";
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
    const line = `${one(r.id).padEnd(32)} ${one(r.status).padEnd(17)} ${one(r.startedAt)}  ${summaryLine(r)}`;
    process.stdout.write(`${forTerminal(line)}\n`);
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
    let record = JSON.parse(text);
    // The record keeps an excerpt of a huge result; the journal has it whole (issue 15).
    if (record?.resultTruncated) {
      const whole = await wholeAgentResult(dir, flags.agent);
      if (whole) {
        const { resultTruncated: _, ...rest } = record;
        record = { ...rest, result: whole.result };
        text = `${JSON.stringify(record, null, 2)}\n`;
      }
    }
    process.stdout.write(flags.json ? text : formatAgent(record));
    return 0;
  }
  const summary = (await readRunJson(dir)) as RunSummary | undefined;
  if (!summary) throw new UsageError(`run ${runId} has no run.json`);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `run ${one(summary.id)} (${one(summary.name)})`,
    `status   ${one(summary.status)}`,
    `started  ${one(summary.startedAt)}${summary.endedAt ? `   ended ${one(summary.endedAt)}` : ""}`,
    `agents   ${Object.entries(summary.agents)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${one(k)} ${n}`)
      .join(", ")}`,
    `tokens   input ${summary.tokens.input}, output ${summary.tokens.output}, cached ${summary.tokens.cached}, reasoning ${summary.tokens.reasoning}`,
    ...summary.refused.map((r) => `refused  ${r.label ? `${one(r.label)}: ` : ""}${one(r.reason)}`),
    ...(summary.error ? [`error    ${forTerminal(summary.error)}`] : []),
    ...(summary.result !== undefined ? [`result   ${jsonForTerminal(summary.result)}`] : []),
  ];
  // The last guard: a number field of a damaged run.json may hold anything.
  process.stdout.write(`${forTerminal(lines.join("\n"))}\n`);
  return 0;
}

/** An agent's record: its prompt, error and result are blocks (newlines kept), the rest one-line. */
function formatAgent(a: Record<string, unknown>): string {
  const u = a.usage as Record<string, number> | undefined;
  const text = (v: unknown) => forTerminal(String(v));
  const field = (v: unknown) => one(String(v));
  const lines = [
    `agent #${field(a.n)}${a.label ? ` ${field(a.label)}` : ""} — ${field(a.status)}`,
    `driver   ${field(a.driver)}${a.model ? `, model ${field(a.model)}` : ""}`,
    `attempts ${field(a.attempts)}, ${field(a.durationMs)} ms`,
    u ? `tokens   input ${u.input}, output ${u.output}, cached ${u.cached}, reasoning ${u.reasoning}` : "",
    `prompt   ${text(a.prompt)}`,
    ...(a.error ? [`error    ${text(a.error)}`] : []),
    ...(a.result !== undefined
      ? [`result   ${typeof a.result === "string" ? text(a.result) : jsonForTerminal(a.result)}`]
      : []),
  ];
  return `${forTerminal(lines.filter(Boolean).join("\n"))}\n`;
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
