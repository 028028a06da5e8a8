/**
 * `weft stop`, `weft pause`, `weft status`, `weft logs`, `weft attach` (U01, C04, C05, C08): a
 * run seen and steered from any terminal, through its directory (control channel, run.json,
 * events.jsonl, lock). Thin layers over src/control and src/report/event-log.ts.
 * What they print of a run (its name, a gate's title, an agent's label in an outcome, the result)
 * is made safe for the terminal (C09); `--json` prints it exact.
 */
import { existsSync } from "node:fs";
import { UsageError } from "../api/errors.js";
import type { ControlRequest } from "../control/channel.js";
import { controlRun } from "../control/client.js";
import { locateRun } from "../control/locate.js";
import { type RunStatusView, runStatus, runStatuses } from "../control/status.js";
import { eventsFile, readEvents } from "../report/event-log.js";
import type { Reporter } from "../report/events.js";
import { PlainReporter, seconds } from "../report/plain.js";
import {
  forTerminal,
  forTerminalUnder,
  forTerminalLine as one,
  resultText,
} from "../report/terminal-text.js";
import { readRunJson } from "../store/files.js";
import { liveOwner } from "../store/lock.js";
import { EXIT, exitCodeFor } from "./exit-codes.js";
import { interactiveReporter } from "./gate-commands.js";
import { STOP_SIGNALS } from "./run-command.js";

/** `3` or `#3` is an agent number, anything else a label. */
export function parseAgentArg(text: string): number | string {
  const m = /^#?(\d+)$/.exec(text.trim());
  if (m) return Number(m[1]);
  if (!text.trim()) throw new UsageError("--agent needs an agent number or label");
  return text;
}

async function send(runId: string, request: ControlRequest): Promise<number> {
  const r = await controlRun(runId, request);
  switch (r.state) {
    case "applied":
      process.stdout.write(`${forTerminal(r.outcome)}\n`);
      return EXIT.completed;
    case "pending":
      process.stdout.write(`${forTerminal(r.outcome)}\n`);
      return EXIT.completed;
    case "not-running":
      throw new UsageError(r.outcome);
    default:
      process.stderr.write(`weft: ${forTerminal(r.outcome)}\n`);
      return EXIT.failed;
  }
}

/** `weft stop <run> [--agent <n|label>]`. */
export function stopCommand(runId: string, flags: { agent?: string }): Promise<number> {
  if (flags.agent === undefined) return send(runId, { type: "stop" });
  return send(runId, { type: "stop-agent", agent: parseAgentArg(flags.agent) });
}

/** `weft restart <run> --agent <n|label>`: the running agent's attempt is stopped and the same call starts again. */
export function restartCommand(runId: string, flags: { agent?: string }): Promise<number> {
  if (flags.agent === undefined) {
    throw new UsageError("weft restart needs --agent <n|label>: the running agent to start again");
  }
  return send(runId, { type: "restart-agent", agent: parseAgentArg(flags.agent) });
}

/** `weft pause <run>`. */
export function pauseCommand(runId: string): Promise<number> {
  return send(runId, { type: "pause" });
}

const num = (n: number) => n.toLocaleString("en-US");
const tokensOf = (t: RunStatusView["tokens"]) => t.input + t.output + t.reasoning;

function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return seconds(ms);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(s % 60).padStart(2, "0")}s`;
}

function stateWords(v: RunStatusView): string {
  if (v.orphaned) return `${one(v.status)}, but no process owns it (it died): weft resume ${v.runId}`;
  return one(v.status);
}

const ORDER = ["running", "queued", "completed", "cached", "failed", "stopped"];

function detail(v: RunStatusView): string[] {
  const counts = [
    ...ORDER.filter((k) => v.agents[k]),
    ...Object.keys(v.agents).filter((k) => !ORDER.includes(k) && v.agents[k]),
  ].map((k) => `${v.agents[k]} ${one(k)}`);
  const lines = [
    `run ${one(v.runId)} (${one(v.name)}): ${stateWords(v)}`,
    `  agents   ${v.done}/${v.total} done${counts.length ? ` · ${counts.join(", ")}` : ""}`,
    `  tokens   ${num(tokensOf(v.tokens))}${v.tokens.cached ? ` (${num(v.tokens.cached)} cached input)` : ""} · $${v.costUsd.toFixed(4)}`,
    `  elapsed  ${clock(v.elapsedMs)}`,
    `  process  ${v.owner ? `pid ${v.owner.pid}${v.owner.hostname ? ` on ${one(v.owner.hostname)}` : ""}` : "none"}`,
  ];
  if (v.gate)
    lines.push(
      `  waiting at gate "${one(v.gate.title)}" (#${v.gate.n}): weft approve ${one(v.runId)} / weft reject ${one(v.runId)}`,
    );
  if (v.error && v.status !== "running") lines.push(forTerminalUnder("  ", v.error));
  if (v.usageResetAt && v.status === "paused") {
    lines.push(`  usage limit resets at ${one(v.usageResetAt)}: weft resume ${one(v.runId)} after that`);
  } else if (v.usageResetAt && v.status === "running") {
    // C03 waitForUsageReset: the run goes on by itself at the reset.
    lines.push(`  waiting for the usage limit to reset at ${one(v.usageResetAt)}; the run goes on then`);
  }
  // The last guard: a number field of a damaged run.json may hold anything.
  return lines.map(forTerminal);
}

function oneLine(v: RunStatusView): string {
  const parts = [
    one(v.runId),
    stateWords(v),
    `${v.done}/${v.total} agents`,
    `${num(tokensOf(v.tokens))} tokens`,
    `$${v.costUsd.toFixed(4)}`,
    clock(v.elapsedMs),
    v.owner ? `pid ${v.owner.pid}` : "no process",
  ];
  if (v.gate) parts.push(`waiting at gate "${one(v.gate.title)}"`);
  return forTerminal(parts.join("  "));
}

/** `weft status [<run>] [--json]`. */
export async function statusCommand(
  runId: string | undefined,
  flags: { json?: boolean; all?: boolean },
): Promise<number> {
  if (runId !== undefined) {
    const v = await runStatus(runId);
    process.stdout.write(flags.json ? `${JSON.stringify(v, null, 2)}\n` : `${detail(v).join("\n")}\n`);
    return EXIT.completed;
  }
  const list = await runStatuses({ all: flags.all });
  if (flags.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  else if (list.length === 0)
    process.stdout.write(
      `no run is running, waiting or paused${flags.all ? "" : " (weft status --all, or weft ls, lists every run)"}\n`,
    );
  else process.stdout.write(`${list.map(oneLine).join("\n")}\n`);
  return EXIT.completed;
}

/** `weft logs <run> [--follow] [--json]`: the event stream as plain lines, or as stored. */
export async function logsCommand(
  runId: string,
  flags: { follow?: boolean; json?: boolean },
): Promise<number> {
  const { runDir, runId: id } = await locateRun(runId);
  if (!flags.follow && !existsSync(eventsFile(runDir))) {
    process.stderr.write(
      `weft: run ${id} has no events.jsonl (it was made by an older weft); weft show ${id} shows its summary\n`,
    );
    return EXIT.failed;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  const plain: Reporter | undefined = flags.json ? undefined : new PlainReporter(process.stdout);
  try {
    for await (const e of readEvents(runDir, {
      follow: flags.follow,
      ended: () => !liveOwner(runDir),
      signal: stop.signal,
    })) {
      if (plain) plain.event(e);
      else process.stdout.write(`${JSON.stringify(e)}\n`);
    }
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    await plain?.close?.();
  }
  return EXIT.completed;
}

/**
 * `weft attach <run>`: the live view of a run another process drives, from events.jsonl (this
 * execution from its start, then as it grows), through the same reporter `weft run` uses. Ctrl-C
 * detaches; the run goes on. Ends with the run's exit code when it ends.
 */
export async function attachCommand(runId: string, flags: { json?: boolean }): Promise<number> {
  const { runDir, runId: id } = await locateRun(runId);
  const reporter = interactiveReporter({ json: flags.json });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  let status: string | undefined;
  let result: unknown;
  try {
    for await (const e of readEvents(runDir, {
      follow: true,
      lastExecution: true,
      ended: () => !liveOwner(runDir),
      signal: stop.signal,
    })) {
      reporter.event(e);
      if (e.type === "run.finished") {
        status = e.status;
        // events.jsonl keeps an excerpt of a huge result; run.json has it whole.
        result = e.resultTruncated ? (await readRunJson(runDir))?.result : e.summary.result;
      }
    }
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    await reporter.close?.();
  }
  if (stop.signal.aborted) {
    process.stderr.write(
      `\ndetached from run ${id}; it goes on (weft attach ${id} to watch again, weft stop ${id} to stop it)\n`,
    );
    return EXIT.completed;
  }
  if (status) {
    // As `weft run` in the foreground: the script's result on stdout.
    if (!flags.json && result !== undefined && status !== "failed")
      process.stdout.write(`${resultText(result, process.stdout)}\n`);
    return exitCodeFor(status as Parameters<typeof exitCodeFor>[0], false);
  }
  const v = await runStatus(runDir);
  process.stderr.write(
    `weft: the process that ran ${id} is gone and recorded no end (status ${v.status}): weft resume ${id} continues it\n`,
  );
  return v.status === "paused" || v.status === "waiting" ? EXIT.paused : EXIT.failed;
}
