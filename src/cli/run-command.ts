/** `weft run` and `weft resume`: thin layers over startWorkflow / startResume. */

import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { UsageError } from "../api/errors.js";
import type { RunHandle, WorkflowResult } from "../api/run-workflow.js";
import { parseSetting, type SettingKey, type Settings } from "../config/settings.js";
import type { Reporter } from "../report/events.js";
import { JsonReporter } from "../report/json.js";
import { PlainReporter } from "../report/plain.js";
import { resultText } from "../report/terminal-text.js";
import { createTreeReporter } from "../report/tree/reporter.js";
import { EXIT, exitCodeFor } from "./exit-codes.js";

export interface RunFlags {
  args?: string;
  driver?: string;
  command?: string;
  concurrency?: string;
  budget?: string;
  maxAgents?: string;
  maxCostUsd?: string;
  /** C06 spells the flag `--max-cost`; U09's rule gives `--max-cost-usd`: both work. */
  maxCost?: string;
  maxListItems?: string;
  repairs?: string;
  retries?: string;
  scriptTimeMs?: string;
  idleTimeoutMs?: string;
  otel?: string;
  killGraceMs?: string;
  verifyRepairs?: string;
  verifyTimeoutMs?: string;
  hookTimeoutMs?: string;
  prefixStaggerMs?: string;
  queue?: string;
  queueName?: string;
  repo?: string;
  json?: boolean;
  resume?: string;
  integrate?: boolean;
  /** The `resume` setting (R03); `--resume` itself names the run to continue. */
  resumeMode?: string;
  waitForUsageReset?: boolean;
}

const SETTING_FLAGS: SettingKey[] = [
  "driver",
  "command",
  "concurrency",
  "budget",
  "maxAgents",
  "maxCostUsd",
  "maxListItems",
  "repairs",
  "retries",
  "scriptTimeMs",
  "idleTimeoutMs",
  "killGraceMs",
  "verifyRepairs",
  "verifyTimeoutMs",
  "hookTimeoutMs",
  "prefixStaggerMs",
  "integrate",
  "otel",
  "waitForUsageReset",
  "queue",
  "queueName",
  "repo",
];

export function settingsFromFlags(flags: RunFlags): Partial<Settings> {
  const out: Record<string, unknown> = {};
  if (flags.maxCost !== undefined) {
    if (flags.maxCostUsd !== undefined) throw new UsageError("give --max-cost or --max-cost-usd, not both");
    flags = { ...flags, maxCostUsd: flags.maxCost };
  }
  if (flags.resumeMode !== undefined) {
    try {
      out.resume = parseSetting("resume", flags.resumeMode, "--resume-mode");
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  for (const key of SETTING_FLAGS) {
    const raw = (flags as Record<string, unknown>)[key];
    if (raw === undefined) continue;
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    try {
      out[key] = parseSetting(key, raw, flag);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  return out as Partial<Settings>;
}

export function parseArgsFlag(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(
      `--args must be JSON: ${(e as Error).message} in ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
}

/** Ink draws no live frames when it thinks it runs in CI (its is-in-ci rule): plain lines there. */
function inCi(env: NodeJS.ProcessEnv): boolean {
  const set = (k: string) => k in env && env[k] !== "0" && env[k] !== "false";
  return set("CI") || set("CONTINUOUS_INTEGRATION");
}

/**
 * U02, the one place that picks how progress is shown: `--json` events on stdout; the live tree
 * when stderr is a terminal; plain lines otherwise (a pipe, a log file, CI, TERM=dumb).
 */
export function reporterFor(flags: RunFlags): Reporter {
  if (!flags.json) {
    const err = process.stderr;
    if (err.isTTY && process.env.TERM !== "dumb" && !inCi(process.env)) return createTreeReporter(err);
    return new PlainReporter(err);
  }
  const json = new JsonReporter(process.stdout);
  return {
    event(e) {
      // R01: `run <id>` is the first line on stderr whatever the output format.
      if (e.type === "run.started") process.stderr.write(`run ${e.runId}\n`);
      json.event(e);
    },
    close: () => json.close(),
  };
}

/**
 * W02: worktrees with changes that were not integrated stay for inspection; the summary says so
 * and how to remove them, or they pile up unseen in `.weft/worktrees/`.
 */
async function keptWorktreesLine(result: WorkflowResult): Promise<void> {
  const dir = join(dirname(dirname(result.runDir)), "worktrees", result.runId);
  const kept = await readdir(dir).then(
    (es) => es.length,
    () => 0,
  );
  if (kept === 0) return;
  process.stderr.write(
    `kept ${kept} worktree${kept === 1 ? "" : "s"} with agents' changes in .weft/worktrees/${result.runId}/: \`weft clean ${result.runId}\` removes them and their branches\n`,
  );
}

/** The signals that stop a run as Ctrl-C does (C04). */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Drive one run in the foreground with Ctrl-C handling (C04); returns the exit code. */
export async function driveRun(start: () => Promise<RunHandle>, flags: RunFlags): Promise<number> {
  let handle: RunHandle | undefined;
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (!handle) {
      if (interrupts > 1) process.exit(130);
      return;
    }
    if (interrupts === 1) {
      process.stderr.write(
        "\nstopping: no new agents; running agents get SIGTERM (Ctrl-C again to kill at once)\n",
      );
      void handle.stop();
    } else {
      handle.killNow();
      process.stderr.write("killed\n");
      process.exit(130);
    }
  };
  // C04: SIGTERM and SIGHUP (the terminal closed, tmux killed) are one Ctrl-C.
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    handle = await start();
    if (interrupts > 0) void handle.stop();
    const result: WorkflowResult = await handle.done;
    if (result.lockLost !== undefined) {
      process.stderr.write(`weft: ${result.lockLost}\n`);
      return EXIT.usage;
    }
    await keptWorktreesLine(result);
    if (!flags.json && result.summary.result !== undefined && result.status !== "failed") {
      // C09: exact into a pipe; made safe for a terminal.
      process.stdout.write(`${resultText(result.summary.result, process.stdout)}\n`);
    }
    return exitCodeFor(result.status, interrupts > 0);
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
}
