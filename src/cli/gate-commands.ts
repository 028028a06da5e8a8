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
import { answeredWord, type CheckpointSpec } from "../engine/gate-text.js";
import { answerable, answerValue, readGateState, selectGate } from "../engine/gates.js";
import type { Reporter, RunEvent, RunSummary } from "../report/events.js";
import { forTerminal, jsonForTerminal, forTerminalLine as one } from "../report/terminal-text.js";
import { findRun, readRunJson } from "../store/files.js";
import { liveOwner } from "../store/lock.js";
import { weftDirOf } from "../store/weft-dir.js";
import { type RunFlags, reporterFor } from "./run-command.js";

export interface AnswerFlags {
  reason?: string;
  /** A14: a checkpoint's text or choice. */
  answer?: string;
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
  const request: Extract<ControlRequest, { type: "approve" | "reject" }> = {
    type,
    gate,
    reason: flags.reason,
    ...(flags.answer !== undefined ? { answer: flags.answer } : {}),
  };
  if (!liveOwner(runDir)) {
    // Nobody runs it: check against the journal that this gate waits, and leave the answer on
    // disk for the next owner.
    const picked = selectGate(
      answerable(await readGateState(runDir).catch(() => ({ answers: new Map(), waiting: new Map() }))),
      gate,
    );
    if (typeof picked === "string") throw new UsageError(`run ${runId}: ${picked}`);
    // A14: an answer that does not fit the checkpoint (or a gate) is refused here, not left on disk.
    const fits = answerValue(picked, request, runId);
    if (typeof fits === "string") throw new UsageError(`run ${runId}: ${fits}`);
    await sendControl(runDir, request);
    process.stdout.write(
      `${type === "approve" ? "approval" : "rejection"} of ${picked.checkpoint ? "checkpoint" : "gate"} #${picked.gate} "${one(picked.title)}" recorded; weft resume ${runId} continues from the gate\n`,
    );
    return 0;
  }
  const gates = (((await readRunJson(runDir)) as RunSummary | undefined)?.gates ?? []).map((g) => ({
    gate: g.n,
    title: g.title,
    checkpoint: g.checkpoint,
  }));
  const target = selectGate(gates, gate);
  // Several gates waiting and none named: say which, without sending anything.
  if (gate === undefined && gates.length > 1 && typeof target === "string")
    throw new UsageError(`run ${runId}: ${target}`);
  if (typeof target !== "string") {
    const fits = answerValue(target, request, runId);
    if (typeof fits === "string") throw new UsageError(`run ${runId}: ${fits}`);
  }
  const offset = await sizeOf(join(runDir, "journal.jsonl"));
  const msg = await sendControl(runDir, request);
  const end = Date.now() + (flags.waitMs ?? 15_000);
  while (Date.now() < end) {
    const r = await answerOf(join(runDir, "journal.jsonl"), offset, msg.id);
    if (r?.type === "gate.answered") {
      process.stdout.write(
        `${r.checkpoint ? "checkpoint" : "gate"} #${r.gate} "${one(r.title)}" ${one(answeredWord({ approved: r.approved === true, value: r.value }))} by ${one(r.by)}${r.reason ? `: ${one(r.reason)}` : ""}\n`,
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
  const send = (request: ControlRequest) =>
    sendControl(runDir!, request).catch((e) =>
      output.write(`weft: cannot send the answer: ${forTerminal((e as Error).message)}\n`),
    );
  const next = () => {
    if (closed || asking !== undefined || !runDir) return;
    const g = queue.shift();
    if (!g) return;
    asking = g.n;
    if (g.checkpoint) return askCheckpoint(g, g.checkpoint, "\n");
    const details = g.details === undefined ? "" : `${jsonForTerminal(g.details)}\n`;
    ensure().question(`\n${details}Approve "${one(g.title)}"? [y/N] `, (answer) => {
      if (asking !== g.n) return;
      asking = undefined;
      const yes = /^\s*y(es)?\s*$/i.test(answer);
      void send({ type: yes ? "approve" : "reject", gate: g.n, by: localUser() });
      next();
    });
  };
  // A14: a checkpoint asks by its kind; Enter takes its default where the default is an answer
  // of that kind; an answer that does not fit asks again.
  const askCheckpoint = (g: (typeof queue)[number], c: CheckpointSpec, lead: string) => {
    const d = c.default;
    let question: string;
    if (c.kind === "confirm") {
      question = `${one(g.title)} ${d === true ? "[Y/n]" : d === false ? "[y/N]" : "[y/n]"} `;
    } else if (c.kind === "input") {
      question = `${one(g.title)}${typeof d === "string" ? ` [${one(d)}]` : ""}: `;
    } else {
      const choices = c.choices ?? [];
      const list = choices.map((x, i) => `  ${i + 1}. ${one(x)}\n`).join("");
      const dflt = typeof d === "string" && choices.includes(d) ? ` [${one(d)}]` : "";
      question = `${one(g.title)}\n${list}choose 1-${choices.length}${dflt}: `;
    }
    ensure().question(`${lead}${question}`, (typed) => {
      if (asking !== g.n) return;
      const request = checkpointRequest(c, typed, g.n);
      const fits = request && answerValue({ gate: g.n, title: g.title, checkpoint: c }, request);
      if (!request || typeof fits === "string") {
        askCheckpoint(g, c, c.kind === "confirm" ? "answer y or n: " : "that is not one of the choices: ");
        return;
      }
      asking = undefined;
      void send(request);
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

/** What a line typed at a checkpoint's prompt answers, or undefined when it is no answer of its kind. */
export function checkpointRequest(
  c: CheckpointSpec,
  typed: string,
  gate: number,
): Extract<ControlRequest, { type: "approve" | "reject" }> | undefined {
  const t = typed.trim();
  const by = localUser();
  if (c.kind === "confirm") {
    const yes = /^y(es)?$/i.test(t) || (t === "" && c.default === true);
    const no = /^no?$/i.test(t) || (t === "" && c.default === false);
    return yes ? { type: "approve", gate, by } : no ? { type: "reject", gate, by } : undefined;
  }
  if (t === "" && typeof c.default === "string") return { type: "approve", gate, by, answer: c.default };
  if (c.kind === "select" && t === "") return undefined;
  // An input's text is taken as typed (spaces too); a choice by its text or number.
  return { type: "approve", gate, by, answer: c.kind === "input" ? typed : t };
}

/** The prompt is for a person at a terminal: both ends a TTY, and not `--json`. */
export const promptsAllowed = (json: boolean | undefined) =>
  !json && process.stdin.isTTY === true && process.stderr.isTTY === true;

/** The run's reporter, with the gate prompt when a person is at the terminal. */
export function interactiveReporter(flags: RunFlags): Reporter {
  const r = reporterFor(flags);
  return promptsAllowed(flags.json) ? withGatePrompt(r) : r;
}
