/**
 * `weft ls`, `weft show` (read the run directories) and `weft clean` (removes a run's worktrees).
 * What they print of a run is the script's and the agents' text, read from files an agent may have
 * written: made safe for the terminal (C09) unless `--json`, which prints it exact.
 */
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { NothingToResumeError, UsageError } from "../api/errors.js";
import type { RunSummary } from "../report/events.js";
import { summaryLine } from "../report/plain.js";
import { forTerminal, jsonForTerminal, forTerminalLine as one } from "../report/terminal-text.js";
import { wholeAgentResult } from "../store/excerpt.js";
import { findRun, listRuns, readRunJson, runDirPath } from "../store/files.js";
import { liveOwner } from "../store/lock.js";
import { weftDirOf } from "../store/weft-dir.js";
import { Workspace } from "../workspace/workspace.js";
import { parseAgentArg } from "./control-commands.js";

const weftDir = () => weftDirOf(process.cwd());

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
    // A run that says "running" while no process owns it died without recording its end.
    const died =
      typeof r.id === "string" &&
      (r.status === "running" || (r.status === "waiting" && !r.endedAt)) &&
      !liveOwner(runDirPath(weftDir(), r.id));
    const status = died ? "died" : one(r.status);
    const tail = died
      ? ` · its process died while it was ${one(r.status)}: weft resume ${one(r.id)} continues it`
      : "";
    const line = `${one(r.id).padEnd(32)} ${status.padEnd(17)} ${one(r.startedAt)}  ${summaryLine(r, died ? "died" : r.status)}${tail}`;
    process.stdout.write(`${forTerminal(line)}\n`);
  }
  return 0;
}

/** The records of the run's finished agents (agents/<n>.json), by number. */
async function agentRecords(dir: string): Promise<Record<string, unknown>[]> {
  const names = (await readdir(join(dir, "agents")).catch(() => [] as string[])).filter((n) =>
    /^[1-9]\d*\.json$/.test(n),
  );
  const records = await Promise.all(
    names.map(async (n) => {
      try {
        const r = JSON.parse(await readFile(join(dir, "agents", n), "utf8"));
        return r && typeof r === "object" && !Array.isArray(r) ? (r as Record<string, unknown>) : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return records.filter((r) => r !== undefined).sort((a, b) => Number(a.n) - Number(b.n));
}

/** U01: one line per agent: number, state, tokens, label (or the start of its prompt). */
function agentLine(a: Record<string, unknown>): string {
  const u = a.usage as Record<string, number> | undefined;
  const tokens = u ? (Number(u.input) || 0) + (Number(u.output) || 0) + (Number(u.reasoning) || 0) : 0;
  const name =
    typeof a.label === "string" && a.label
      ? a.label
      : `${String(a.prompt ?? "")
          .split("\n")[0]!
          .slice(0, 60)}`;
  return `  ${`#${one(String(a.n))}`.padEnd(6)} ${one(String(a.status)).padEnd(10)} ${`${tokens.toLocaleString("en-US")} tokens`.padStart(16)}  ${one(name)}`;
}

/** The record keeps an excerpt of a huge result; the journal has it whole (issue 15). */
async function withWholeResult(dir: string, record: any): Promise<any> {
  if (!record?.resultTruncated || typeof record.n !== "number") return record;
  const whole = await wholeAgentResult(dir, record.n);
  if (!whole) return record;
  const { resultTruncated: _, ...rest } = record;
  return { ...rest, result: whole.result };
}

export async function showCommand(runId: string, flags: { agent?: string; json?: boolean }): Promise<number> {
  const dir = await findRun(weftDir(), runId);
  if (!dir) throw new NothingToResumeError(`no run "${runId}" in .weft/runs`);
  if (flags.agent !== undefined) {
    // As `weft stop --agent` and `weft fork --from`: a number, or a label (every agent with it).
    const which = parseAgentArg(flags.agent);
    if (typeof which === "number") {
      let text: string;
      try {
        text = await readFile(join(dir, "agents", `${which}.json`), "utf8");
      } catch {
        throw new UsageError(`run ${basename(dir)} has no record of agent ${which}`);
      }
      const record = await withWholeResult(dir, JSON.parse(text));
      process.stdout.write(flags.json ? `${JSON.stringify(record, null, 2)}\n` : formatAgent(record));
      return 0;
    }
    const all = await agentRecords(dir);
    const picked = await Promise.all(
      all.filter((a) => a.label === which).map((a) => withWholeResult(dir, a)),
    );
    if (picked.length === 0) {
      const labels = [...new Set(all.map((a) => a.label).filter((l) => typeof l === "string" && l))].slice(
        0,
        10,
      );
      throw new UsageError(
        `run ${basename(dir)} has no agent labelled ${JSON.stringify(which)}${labels.length ? ` (labels: ${labels.map(String).join(", ")})` : ""}; name an agent by number or label`,
      );
    }
    // --json: the record itself for one agent, a list when the label names several.
    if (flags.json)
      process.stdout.write(`${JSON.stringify(picked.length === 1 ? picked[0] : picked, null, 2)}\n`);
    else process.stdout.write(picked.map(formatAgent).join("\n"));
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
  const agents = await agentRecords(dir);
  if (agents.length > 0)
    lines.push(`agents of the run (weft show ${one(summary.id)} --agent <n|label> for one):`);
  for (const a of agents) lines.push(agentLine(a));
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
