/**
 * Answering gates (SPEC A14): `weft approve <run> [gate]`, `weft reject <run> [gate] --reason`,
 * and the prompt of a foreground `weft run` in a terminal. Every answer goes through the control
 * channel, so the prompt and a `weft approve` from another terminal race safely: the run's owner
 * applies the first and refuses the other with a message. A gate's title and details are the
 * script's text, and an answer's reason and author came through a file: all are made safe for the
 * terminal before they are printed (C09).
 */

import { hostname, userInfo } from "node:os";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { NothingToResumeError, UsageError } from "../api/errors.js";
import { type ControlRequest, sendControl } from "../control/channel.js";
import { answerOf, sizeOf } from "../control/client.js";
import { answerable, readGateState, selectGate } from "../engine/gates.js";
import type { Reporter, RunEvent, RunSummary } from "../report/events.js";
import { forTerminal, jsonForTerminal, forTerminalLine as one } from "../report/terminal-text.js";
import { findRun, readRunJson } from "../store/files.js";
import { liveOwner } from "../store/lock.js";
import { weftDirOf } from "../store/weft-dir.js";
import { type RunFlags, reporterFor } from "./run-command.js";

export interface AnswerFlags {
  reason?: string;
  /** How long to wait for a live owner to record the answer (ms). */
  waitMs?: number;
}

/** A gate named on the command line: `3` or `#3` is a number, anything else a title. */
export function parseGateArg(text: string | undefined): string | number | undefined {
  if (text === undefined) return undefined;
  const m = /^#?(\d+)$/.exec(text.trim());
  return m ? Number(m[1]) : text;
}

/** `weft approve` / `weft reject`: returns the exit code. */
export async function answerCommand(
  type: "approve" | "reject",
  runId: string,
  gateArg: string | undefined,
  flags: AnswerFlags,
): Promise<number> {
  const runDir = await findRun(weftDirOf(process.cwd()), runId);
  if (!runDir)
    throw new NothingToResumeError(`no run "${runId}" in ${join(weftDirOf(process.cwd()), "runs")}`);
  const gate = parseGateArg(gateArg);
  const request: ControlRequest = { type, gate, reason: flags.reason };
  if (!liveOwner(runDir)) {
    // Nobody runs it: check against the journal that this gate waits, and leave the answer on
    // disk for the next owner.
    const picked = selectGate(
      answerable(await readGateState(runDir).catch(() => ({ answers: new Map(), waiting: new Map() }))),
      gate,
    );
    if (typeof picked === "string") throw new UsageError(`run ${runId}: ${picked}`);
    await sendControl(runDir, request);
    process.stdout.write(
      `${type === "approve" ? "approval" : "rejection"} of gate #${picked.gate} "${one(picked.title)}" recorded; weft resume ${runId} continues from the gate\n`,
    );
    return 0;
  }
  if (gate === undefined) {
    // Several gates waiting and none named: say which, without sending anything.
    const gates = ((await readRunJson(runDir)) as RunSummary | undefined)?.gates ?? [];
    const picked = selectGate(
      gates.map((g) => ({ gate: g.n, title: g.title })),
      undefined,
    );
    if (gates.length > 1 && typeof picked === "string") throw new UsageError(`run ${runId}: ${picked}`);
  }
  const offset = await sizeOf(join(runDir, "journal.jsonl"));
  const msg = await sendControl(runDir, request);
  const end = Date.now() + (flags.waitMs ?? 15_000);
  while (Date.now() < end) {
    const r = await answerOf(join(runDir, "journal.jsonl"), offset, msg.id);
    if (r?.type === "gate.answered") {
      process.stdout.write(
        `gate #${r.gate} "${one(r.title)}" ${r.approved ? "approved" : "rejected"} by ${one(r.by)}${r.reason ? `: ${one(r.reason)}` : ""}\n`,
      );
      return 0;
    }
    if (r?.type === "gate.refused") {
      process.stderr.write(`weft: ${forTerminal(r.reason)}\n`);
      return 1;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  process.stdout.write(
    `sent; the run's owner has not recorded it yet (request ${msg.id} waits in ${join(runDir, "control")})\n`,
  );
  return 0;
}

function localUser(): string {
  let name = process.env.USER ?? process.env.LOGNAME;
  try {
    name ??= userInfo().username;
  } catch {}
  return `${name ?? "unknown"}@${hostname()}`;
}

/**
 * A foreground run in a terminal asks about each gate on stderr and reads the answer from stdin,
 * one gate at a time. The answer is sent on the control channel like `weft approve`, so an answer
 * given elsewhere first wins: the prompt then says so and moves on.
 */
export function withGatePrompt(inner: Reporter, input = process.stdin, output = process.stderr): Reporter {
  let runDir: string | undefined;
  let rl: Interface | undefined;
  const queue: Extract<RunEvent, { type: "gate.waiting" }>[] = [];
  let asking: number | undefined;
  let closed = false;

  const ensure = (): Interface => {
    if (!rl) {
      rl = createInterface({ input, output, terminal: true });
      // Raw mode keeps Ctrl-C from the terminal's signal: pass it on, so it stops the run (C04).
      rl.on("SIGINT", () => process.kill(process.pid, "SIGINT"));
    }
    return rl;
  };
  const next = () => {
    if (closed || asking !== undefined || !runDir) return;
    const g = queue.shift();
    if (!g) return;
    asking = g.n;
    const details = g.details === undefined ? "" : `${jsonForTerminal(g.details)}\n`;
    ensure().question(`\n${details}Approve "${one(g.title)}"? [y/N] `, (answer) => {
      if (asking !== g.n) return;
      asking = undefined;
      const yes = /^\s*y(es)?\s*$/i.test(answer);
      sendControl(runDir!, { type: yes ? "approve" : "reject", gate: g.n, by: localUser() }).catch((e) =>
        output.write(`weft: cannot send the answer: ${forTerminal((e as Error).message)}\n`),
      );
      next();
    });
  };
  const close = () => {
    closed = true;
    rl?.close();
    rl = undefined;
    input.pause();
  };

  return {
    event(e) {
      inner.event(e);
      switch (e.type) {
        case "run.started":
          runDir = e.runDir;
          break;
        case "gate.waiting":
          queue.push(e);
          next();
          break;
        case "gate.answered": {
          const i = queue.findIndex((g) => g.n === e.n);
          if (i >= 0) queue.splice(i, 1);
          if (asking === e.n && !e.replayed) {
            // Answered elsewhere while the question was open: drop the question.
            asking = undefined;
            rl?.close();
            rl = undefined;
            output.write(`\n`);
            next();
          }
          break;
        }
        case "run.finished":
          close();
          break;
      }
    },
    close: async () => {
      close();
      await inner.close?.();
    },
  };
}

/** The prompt is for a person at a terminal: both ends a TTY, and not `--json`. */
export const promptsAllowed = (json: boolean | undefined) =>
  !json && process.stdin.isTTY === true && process.stderr.isTTY === true;

/** The run's reporter, with the gate prompt when a person is at the terminal. */
export function interactiveReporter(flags: RunFlags): Reporter {
  const r = reporterFor(flags);
  return promptsAllowed(flags.json) ? withGatePrompt(r) : r;
}
