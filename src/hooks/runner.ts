/**
 * Runs the `hooks` setting's commands (hooks/config.ts) on run events, as a reporter: it sees the
 * events every surface sees and never holds up the engine. Each command runs `sh -c <command>` in
 * the run's directory, in a process group of its own, with the event as JSON on stdin and
 * WEFT_RUN_ID, WEFT_RUN_DIR and WEFT_EVENT in its environment.
 *
 * - Off the hot path: `event()` only queues; commands start on a later turn of the event loop, at
 *   most 4 at once, at most 1000 waiting (more are dropped, counted in one warning).
 * - A failure (exit code, signal, a program that cannot start) or a timeout (`hookTimeoutMs`) is a
 *   warning naming the hook and the command; nothing a hook does fails or stops the run.
 * - At the run's end, running and waiting hooks get `graceMs` more; then the rest are killed and
 *   dropped, with a warning. A `runFinished` hook jumps the queue so that it gets that time.
 * - Settings are read once, before the run starts: a run's agents that write `.weft/config.json`
 *   cannot add hooks to the run they are part of. At the end the project file is read again, and
 *   a change to its hooks is a warning, since the next run would run them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { killGroup } from "../drivers/process.js";
import type { Reporter, RunEvent } from "../report/events.js";
import type { HookName, Hooks } from "./config.js";

const AT_ONCE = 4;
const MAX_WAITING = 1000;

const EVENT_HOOK: Partial<Record<RunEvent["type"], HookName>> = {
  "run.started": "runStarted",
  "run.finished": "runFinished",
  "agent.finished": "agentFinished",
  "gate.waiting": "gateWaiting",
  breaker: "breaker",
};

interface Job {
  hook: HookName;
  command: string;
  input: string;
}

export interface HookRunnerOptions {
  hooks: Hooks;
  runId: string;
  runDir: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** How long hooks may go on once the run has ended. */
  graceMs: number;
  /** The project's config file, whose hooks are compared at the end with those at the start. */
  projectConfig: string;
  /** Where warnings go (the run's reporter). */
  warn(message: string): void;
}

/** The `hooks` value of a config file as text, for comparison; "" when none or unreadable. */
function hooksText(path: string): string {
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as { hooks?: unknown };
    return v && typeof v === "object" && v.hooks !== undefined ? JSON.stringify(v.hooks) : "";
  } catch {
    return "";
  }
}

const lastLine = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .pop()
    ?.slice(0, 200);

export class HookRunner implements Reporter {
  private readonly waiting: Job[] = [];
  private readonly running = new Set<ChildProcess>();
  private dropped = 0;
  private closed = false;
  /** Set once the grace is over: what the killed hooks report then is not news. */
  private ended = false;
  private scheduled = false;
  private readonly projectHooksAtStart: string;
  private idle?: () => void;

  constructor(private readonly o: HookRunnerOptions) {
    this.projectHooksAtStart = hooksText(o.projectConfig);
  }

  event(e: RunEvent): void {
    const hook = EVENT_HOOK[e.type];
    if (!hook) return;
    const commands = this.o.hooks[hook];
    if (!commands || commands.length === 0) return;
    // A resume's cached answers are not agents finishing.
    if (e.type === "agent.finished" && e.cached) return;
    const input = `${JSON.stringify({ hook, runId: this.o.runId, runDir: this.o.runDir, cwd: this.o.cwd, at: new Date().toISOString(), ...e })}\n`;
    for (const command of commands) {
      const job = { hook, command, input };
      if (hook === "runFinished") this.waiting.unshift(job);
      else if (this.waiting.length >= MAX_WAITING) {
        if (this.dropped++ === 0)
          this.o.warn(`hooks: more than ${MAX_WAITING} hook commands waiting; later ones are dropped`);
      } else this.waiting.push(job);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.pump();
      });
    }
  }

  private pump(): void {
    while (this.running.size < AT_ONCE && this.waiting.length > 0) this.start(this.waiting.shift()!);
    if (this.running.size === 0 && this.waiting.length === 0) this.idle?.();
  }

  private start(job: Job): void {
    const what = `hook ${job.hook} \`${job.command}\``;
    let child: ChildProcess;
    try {
      child = spawn("sh", ["-c", job.command], {
        cwd: this.o.cwd,
        env: { ...this.o.env, WEFT_RUN_ID: this.o.runId, WEFT_RUN_DIR: this.o.runDir, WEFT_EVENT: job.hook },
        stdio: ["pipe", "ignore", "pipe"],
        detached: true,
      });
    } catch (e) {
      this.o.warn(`${what} could not start: ${(e as Error).message}`);
      return;
    }
    this.running.add(child);
    let stderr = "";
    let timedOut = false;
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    // A hook that does not read its stdin is not an error.
    child.stdin?.on("error", () => {});
    child.stdin?.end(job.input);
    const timer = setTimeout(() => {
      timedOut = true;
      this.kill(child);
    }, this.o.timeoutMs);
    timer.unref();
    const done = (message?: string) => {
      clearTimeout(timer);
      if (!this.running.delete(child)) return;
      if (message && !this.ended) this.o.warn(`${what} ${message}`);
      this.pump();
    };
    child.on("error", (e) => done(`could not start: ${e.message}`));
    child.on("close", (code, signal) => {
      if (timedOut) done(`timed out after ${this.o.timeoutMs} ms and was killed`);
      else if (code !== 0) {
        const tail = lastLine(stderr);
        done(`failed: ${code === null ? `killed by ${signal}` : `exit ${code}`}${tail ? `: ${tail}` : ""}`);
      } else done();
    });
  }

  private kill(child: ChildProcess): void {
    if (child.pid === undefined) return;
    killGroup(child.pid, "SIGTERM");
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) killGroup(child.pid!, "SIGKILL");
    }, 1000).unref();
  }

  /** At the run's end: let hooks finish within the grace, then kill the rest; report a changed project file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((r) => setImmediate(r));
    this.pump();
    if (this.running.size > 0 || this.waiting.length > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.o.graceMs);
        this.idle = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    this.idle = undefined;
    this.ended = true;
    const left = this.waiting.length;
    this.waiting.length = 0;
    const killed = this.running.size;
    for (const c of this.running) this.kill(c);
    if (killed + left > 0) {
      this.o.warn(
        `hooks: the run ended; ${killed} hook command(s) still running after ${this.o.graceMs} ms were killed${left > 0 ? `, ${left} not started were dropped` : ""}`,
      );
    }
    if (this.dropped > 0) this.o.warn(`hooks: ${this.dropped} hook command(s) were dropped (queue full)`);
    const now = hooksText(this.o.projectConfig);
    if (now !== this.projectHooksAtStart) {
      this.o.warn(
        `the hooks in ${relative(this.o.cwd, this.o.projectConfig)} changed during this run (agents with edit permission can write that file); this run did not run them, every later weft run in this project will, as you: check them (now ${now || "none"})`,
      );
    }
  }

  /** Kill everything now (a second Ctrl-C). */
  killNow(): void {
    this.closed = true;
    this.ended = true;
    this.waiting.length = 0;
    for (const c of this.running) this.kill(c);
  }
}
