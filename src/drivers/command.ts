/**
 * The command driver (SPEC D09, to the letter): any program, run by `sh -c` in the agent's cwd,
 * in its own process group (D08), the full prompt on stdin, WEFT_* variables, stdout as the answer.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { finished } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { isGroupAlive, spawnInGroup, terminateGroup } from "./process.js";
import type {
  AgentOutcome,
  AgentTask,
  Driver,
  DriverCapabilities,
  DriverRunContext,
  Usage,
} from "./types.js";

export interface CommandDriverOptions {
  /** The program, as a string for `sh -c`; `task.command` overrides it per call. */
  command?: string;
  /** Between SIGTERM and SIGKILL when stopping the group (C04); default 5000. */
  killGraceMs?: number;
}

export const NO_COMMAND_MESSAGE =
  'the command driver needs a command: set --command, WEFT_COMMAND or "command" in .weft/config.json';

/** How many trailing stderr lines make the error of a failed agent (D09). */
const STDERR_LINES = 20;
/** Enough stderr to hold STDERR_LINES ordinary lines, without keeping a chatty program's whole log. */
const STDERR_KEEP = 16_384;
/**
 * After the command exits and its group is gone, the pipes close at once unless a process that
 * left the group (setsid) still holds them; waiting for it longer would hang the agent.
 */
const PIPE_DRAIN_MS = 1000;

/** Variables that D09 sets only when the call has them: inherited ones must not leak through. */
const OPTIONAL_VARS = ["WEFT_SCHEMA_FILE", "WEFT_AGENT_LABEL", "WEFT_AGENT_PHASE", "WEFT_MODEL"] as const;

const zeroUsage = (): Usage => ({ input: 0, output: 0, cached: 0, reasoning: 0 });

export class CommandDriver implements Driver {
  readonly name = "command";
  /** D09: a command's failures cannot be classified, so they are retried only when asked. */
  readonly defaultRetries = 0;
  // A command gets the model as WEFT_MODEL; effort, agent types and permissions it cannot be told.
  readonly capabilities: DriverCapabilities = {
    model: true,
    effort: false,
    agentType: false,
    permissions: ["edit"],
  };
  private readonly command: string | undefined;
  private readonly killGraceMs: number;

  constructor(opts: CommandDriverOptions = {}) {
    this.command = opts.command;
    this.killGraceMs = opts.killGraceMs ?? 5000;
  }

  async run(task: AgentTask, ctx: DriverRunContext): Promise<AgentOutcome> {
    const command = task.command || this.command;
    if (!command) throw new Error(NO_COMMAND_MESSAGE);
    // Stopped before it started: nothing to start, nothing to kill.
    if (ctx.signal.aborted) return { status: "stopped", usage: zeroUsage() };

    const files = await writeTaskFiles(task);
    if (ctx.signal.aborted) return { status: "stopped", usage: zeroUsage() };

    const transcript = createWriteStream(task.transcriptPath, { flags: "a" });
    // The transcript is a record for people; failing to write it must not fail the agent.
    transcript.on("error", () => {});
    let ended: Ended;
    try {
      ended = await runInGroup(command, task, commandEnv(task, files), transcript, ctx, this.killGraceMs);
    } finally {
      transcript.end();
      await finished(transcript).catch(() => {});
    }

    // D09: the usage file is read after exit whatever the exit code; absent means unknown (0).
    const read = await readUsage(files.usage);
    if (read.usage) ctx.onEvent({ type: "usage", usage: read.usage });
    const outcome = toOutcome(ended, task);
    outcome.usage = read.usage ?? zeroUsage();
    if (outcome.status === "failed") {
      if (read.problem) outcome.error = `${outcome.error}\n(${read.problem})`;
      ctx.onEvent({ type: "error", message: outcome.error ?? "failed" });
    }
    return outcome;
  }
}

interface TaskFiles {
  task: string;
  usage: string;
  schema?: string;
}

/** Writes the D09 files into `<runDir>/tasks/`, and makes sure the transcript's folder exists. */
async function writeTaskFiles(task: AgentTask): Promise<TaskFiles> {
  const dir = join(task.runDir, "tasks");
  await Promise.all([
    mkdir(dir, { recursive: true }),
    mkdir(dirname(task.transcriptPath), { recursive: true }),
  ]);
  const files: TaskFiles = {
    task: join(dir, `${task.index}-${task.attempt}.prompt.txt`),
    usage: join(dir, `${task.index}-${task.attempt}.usage.json`),
  };
  if (task.schema) files.schema = join(dir, `${task.index}.schema.json`);
  await Promise.all([
    // Verbatim, no added newline (D09).
    writeFile(files.task, task.userPrompt),
    // "A path that does not exist yet": a leftover from an earlier run of this attempt would be
    // read as this run's usage.
    rm(files.usage, { force: true }),
    files.schema ? writeFile(files.schema, JSON.stringify(task.schema, null, 2)) : undefined,
  ]);
  return files;
}

/** The user's environment, the call's extras, then the D09 variables over both. */
function commandEnv(task: AgentTask, files: TaskFiles): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...task.env };
  for (const k of OPTIONAL_VARS) delete env[k];
  env.WEFT_TASK_FILE = files.task;
  env.WEFT_USAGE_FILE = files.usage;
  env.WEFT_RUN_ID = task.runId;
  env.WEFT_AGENT_INDEX = String(task.index);
  env.WEFT_ATTEMPT = String(task.attempt);
  if (files.schema) env.WEFT_SCHEMA_FILE = files.schema;
  if (task.label !== undefined) env.WEFT_AGENT_LABEL = task.label;
  if (task.phase !== undefined) env.WEFT_AGENT_PHASE = task.phase;
  if (task.model !== undefined) env.WEFT_MODEL = task.model;
  return env;
}

/** How the process ended: on its own, or because weft ended it (and why). */
type Ended =
  | { kind: "spawn-error"; message: string }
  | {
      kind: "exit" | "stopped" | "timeout" | "idle";
      code: number | null;
      signal: NodeJS.Signals | null;
      stdout: string;
      stderrTail: string;
    };

function runInGroup(
  command: string,
  task: AgentTask,
  env: NodeJS.ProcessEnv,
  transcript: WriteStream,
  ctx: DriverRunContext,
  killGraceMs: number,
): Promise<Ended> {
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawnInGroup>;
    try {
      // /bin/sh rather than a PATH lookup: the command must not depend on the agent's PATH to start.
      child = spawnInGroup("/bin/sh", ["-c", command], { cwd: task.cwd, env, stdin: "pipe" });
    } catch (e) {
      // Some spawn failures (ENOTDIR for a cwd that is a file) throw instead of emitting.
      void spawnErrorMessage(e, task.cwd).then((message) => resolve({ kind: "spawn-error", message }));
      return;
    }
    const pgid = child.pid;
    // A program that does not read its prompt closes the pipe early: that is fine (D09).
    child.stdin?.on("error", () => {});
    if (pgid === undefined) {
      // The start failed; the reason follows as an "error" event.
      child.once("error", (e) => {
        for (const s of [child.stdin, child.stdout, child.stderr]) s?.destroy();
        void spawnErrorMessage(e, task.cwd).then((message) => resolve({ kind: "spawn-error", message }));
      });
      return;
    }
    // After a successful start "error" only reports failed signals, which are handled by pgid.
    child.on("error", () => {});
    // Right away, so the engine records the group before anything else can happen (R02).
    ctx.onEvent({ type: "started", pid: pgid, pgid });

    const stdout = child.stdout!;
    const stderr = child.stderr!;
    const out: Buffer[] = [];
    const outText = new StringDecoder("utf8");
    const errText = new StringDecoder("utf8");
    let stderrTail = "";
    let partialLine = "";
    let reason: "stopped" | "timeout" | "idle" | undefined;
    let stopping: Promise<void> | undefined;
    let exited = false;

    const stop = (why: "stopped" | "timeout" | "idle") => {
      if (reason || exited) return;
      reason = why;
      stopping = terminateGroup(pgid, killGraceMs);
    };
    const onAbort = () => stop("stopped");
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    // An abort from inside onEvent("started") came before the listener.
    if (ctx.signal.aborted) stop("stopped");
    const whole =
      task.timeoutMs && task.timeoutMs > 0 ? setTimeout(() => stop("timeout"), task.timeoutMs) : undefined;
    const idle =
      task.idleTimeoutMs && task.idleTimeoutMs > 0
        ? setTimeout(() => stop("idle"), task.idleTimeoutMs)
        : undefined;

    const record = (stream: "stdout" | "stderr", data: string) => {
      if (data) transcript.write(`${JSON.stringify({ t: Date.now(), stream, data })}\n`);
    };
    const emitLine = (line: string) => {
      const text = line.endsWith("\r") ? line.slice(0, -1) : line;
      if (text.trim()) ctx.onEvent({ type: "text", text });
    };
    // Only the new chunk is searched for a newline, so long lines cost linear time.
    const emitLines = (s: string) => {
      const nl = s.lastIndexOf("\n");
      if (nl < 0) {
        partialLine += s;
        return;
      }
      const block = partialLine + s.slice(0, nl);
      partialLine = s.slice(nl + 1);
      for (const line of block.split("\n")) emitLine(line);
    };

    stdout.on("data", (d: Buffer) => {
      // refresh() re-arms the same timer: cheaper than a new one per chunk.
      if (!reason) idle?.refresh();
      out.push(d);
      const s = outText.write(d);
      record("stdout", s);
      emitLines(s);
    });
    stderr.on("data", (d: Buffer) => {
      if (!reason) idle?.refresh();
      const s = errText.write(d);
      record("stderr", s);
      stderrTail += s;
      if (stderrTail.length > 2 * STDERR_KEEP) stderrTail = stderrTail.slice(-STDERR_KEEP);
    });
    child.stdin!.end(task.prompt);

    let closed = false;
    let onClosed: (() => void) | undefined;
    child.once("close", () => {
      closed = true;
      onClosed?.();
    });

    child.once("exit", async (code, signal) => {
      exited = true;
      clearTimeout(whole);
      clearTimeout(idle);
      ctx.signal.removeEventListener("abort", onAbort);
      // Processes left in the group outlived the command. The group is the agent's (R02, C04),
      // and the agent is over, so they end with it rather than linger unowned.
      if (!stopping && isGroupAlive(pgid)) stopping = terminateGroup(pgid, killGraceMs);
      if (stopping) await stopping;
      if (!closed) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, PIPE_DRAIN_MS);
          onClosed = () => {
            clearTimeout(t);
            r();
          };
        });
      }
      // Whatever still holds the pipes is outside the group: stop reading, so those handles do not
      // keep weft's event loop alive.
      if (!closed) {
        stdout.destroy();
        stderr.destroy();
      }
      const outRest = outText.end();
      record("stdout", outRest);
      emitLines(outRest);
      // The last line counts when the stream ends without a newline.
      emitLine(partialLine);
      const errRest = errText.end();
      record("stderr", errRest);
      stderrTail += errRest;
      transcript.write(`${JSON.stringify({ t: Date.now(), exit: code, signal })}\n`);
      resolve({
        kind: reason ?? "exit",
        code,
        signal,
        stdout: Buffer.concat(out).toString("utf8").trimEnd(),
        stderrTail,
      });
    });
  });
}

function toOutcome(ended: Ended, task: AgentTask): AgentOutcome {
  if (ended.kind === "spawn-error") return { status: "failed", error: ended.message, transient: false };
  const { code, stdout: text } = ended;
  switch (ended.kind) {
    case "stopped":
      return { status: "stopped", text, exitCode: code };
    case "timeout":
      return {
        status: "failed",
        text,
        exitCode: code,
        error: `timed out after ${task.timeoutMs} ms (timeoutMs)`,
        transient: false,
      };
    case "idle":
      return {
        status: "failed",
        text,
        exitCode: code,
        error: `no output for ${task.idleTimeoutMs} ms (idleTimeoutMs)`,
        transient: false,
      };
  }
  if (code === 0) return { status: "completed", text, exitCode: 0 };
  const lines = ended.stderrTail.trimEnd().split("\n").slice(-STDERR_LINES).join("\n").trim();
  const error = ended.signal
    ? `command killed by ${ended.signal}${lines ? `\n${lines}` : ""}`
    : lines || `command exited with code ${code}`;
  // D09: weft cannot classify a command's failure, so it never calls one transient.
  return { status: "failed", text, exitCode: code, error, transient: false };
}

async function spawnErrorMessage(e: unknown, cwd: string): Promise<string> {
  const err = e as NodeJS.ErrnoException;
  // Node reports a missing cwd as "spawn /bin/sh ENOENT", which points at the wrong thing.
  try {
    const st = await stat(cwd);
    if (!st.isDirectory()) return `cannot start the command: its working directory ${cwd} is not a directory`;
  } catch {
    return `cannot start the command: its working directory ${cwd} does not exist`;
  }
  return `cannot start the command in ${cwd}: ${err.message ?? String(e)}`;
}

/** The usage a program reported (D09), or why it could not be read; absent is neither. */
async function readUsage(path: string): Promise<{ usage?: Usage; problem?: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return {};
  }
  let u: unknown;
  try {
    u = JSON.parse(text);
  } catch (e) {
    return { problem: `WEFT_USAGE_FILE is not JSON: ${(e as Error).message}` };
  }
  if (typeof u !== "object" || u === null || Array.isArray(u)) {
    return { problem: 'WEFT_USAGE_FILE is not an object like {"input":n,"output":n}' };
  }
  const o = u as Record<string, unknown>;
  const n = (k: string) => {
    const v = o[k];
    return typeof v === "number" && Number.isFinite(v) ? v : 0;
  };
  const usage: Usage = {
    input: n("input"),
    output: n("output"),
    cached: n("cached"),
    reasoning: n("reasoning"),
  };
  if (typeof o.costUsd === "number" && Number.isFinite(o.costUsd)) usage.costUsd = o.costUsd;
  return { usage };
}
