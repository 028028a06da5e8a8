/**
 * The command driver (SPEC D09, to the letter): any program, run by `sh -c` in the agent's cwd,
 * in its own process group (D08), the full prompt on stdin, WEFT_* variables, stdout as the answer.
 */
import { unlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { agentResultPointer, EXCERPT_CHARS } from "../store/excerpt.js";
import { writeFileInPlaceSync } from "../store/safe-write.js";
import { type Ended, lastLines, runInGroup } from "./group-run.js";
import { ensureDirs, openTranscript, refusalsReported } from "./run-files.js";
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

/** Variables that D09 sets only when the call has them: inherited ones must not leak through. */
const OPTIONAL_VARS = ["WEFT_SCHEMA_FILE", "WEFT_AGENT_LABEL", "WEFT_AGENT_PHASE", "WEFT_MODEL"] as const;

const zeroUsage = (): Usage => ({ input: 0, output: 0, cached: 0, reasoning: 0 });

export class CommandDriver implements Driver {
  readonly name = "command";
  /** D09: a command's failures cannot be classified, so they are retried only when asked. */
  readonly defaultRetries = 0;
  // A command gets the model as WEFT_MODEL and the permissions as WEFT_PERMISSIONS (D09): told,
  // not enforced, so the engine warns once per run and checks a worktree agent's diff. Effort
  // and agent types it cannot be told.
  readonly capabilities: DriverCapabilities = {
    model: true,
    effort: false,
    agentType: false,
    permissions: ["read-only", "edit", "full"],
    advisoryPermissions: true,
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

    const files = refusalsReported(ctx, () => writeTaskFiles(task));
    if (ctx.signal.aborted) return { status: "stopped", usage: zeroUsage() };

    const transcript = openTranscript(task.transcriptPath, ctx);
    let ended: Ended;
    try {
      ended = await runInGroup({
        // /bin/sh rather than a PATH lookup: the command must not depend on the agent's PATH to start.
        file: "/bin/sh",
        args: ["-c", command],
        cwd: task.cwd,
        env: commandEnv(task, files),
        stdin: task.prompt,
        transcript,
        ctx,
        killGraceMs: this.killGraceMs,
        timeoutMs: task.timeoutMs,
        idleTimeoutMs: task.idleTimeoutMs,
        keepStdout: true,
        what: "the command",
        // stdout is the answer, which the journal keeps whole: the transcript keeps its start.
        transcriptLimit: {
          total: EXCERPT_CHARS,
          note: `stdout past ${EXCERPT_CHARS} characters is not kept here; a completed agent's whole answer is in ${agentResultPointer(task.runId, task.index)}`,
        },
        onLine: (text) => ctx.onEvent({ type: "text", text }),
      });
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

/**
 * Writes the D09 files into `<runDir>/tasks/`, never through a link an agent planted there: a
 * refused prompt file fails the agent with the refusal (it cannot run without its task file).
 */
function writeTaskFiles(task: AgentTask): TaskFiles {
  const dir = join(task.runDir, "tasks");
  ensureDirs(dir);
  const files: TaskFiles = {
    task: join(dir, `${task.index}-${task.attempt}.prompt.txt`),
    usage: join(dir, `${task.index}-${task.attempt}.usage.json`),
  };
  if (task.schema) files.schema = join(dir, `${task.index}.schema.json`);
  // Verbatim, no added newline (D09).
  writeFileInPlaceSync(files.task, task.userPrompt);
  // "A path that does not exist yet": a leftover from an earlier run of this attempt would be
  // read as this run's usage. (unlink removes a planted link itself, never its target.)
  try {
    unlinkSync(files.usage);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  if (files.schema) writeFileInPlaceSync(files.schema, JSON.stringify(task.schema, null, 2));
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
  // Always set, so an inherited WEFT_PERMISSIONS never stands for this agent's.
  env.WEFT_PERMISSIONS = task.permissions;
  if (files.schema) env.WEFT_SCHEMA_FILE = files.schema;
  if (task.label !== undefined) env.WEFT_AGENT_LABEL = task.label;
  if (task.phase !== undefined) env.WEFT_AGENT_PHASE = task.phase;
  if (task.model !== undefined) env.WEFT_MODEL = task.model;
  return env;
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
        error: `no output for ${task.idleTimeoutMs} ms (stallMs, setting idleTimeoutMs)`,
        transient: false,
        stalled: true,
      };
  }
  if (code === 0) return { status: "completed", text, exitCode: 0 };
  const lines = lastLines(ended.stderrTail, STDERR_LINES);
  const error = ended.signal
    ? `command killed by ${ended.signal}${lines ? `\n${lines}` : ""}`
    : lines || `command exited with code ${code}`;
  // D09: weft cannot classify a command's failure, so it never calls one transient.
  return { status: "failed", text, exitCode: code, error, transient: false };
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
