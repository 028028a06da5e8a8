/**
 * The command driver (SPEC D09, to the letter): any program, run by `sh -c` in the agent's cwd,
 * in its own process group, prompt on stdin, WEFT_* variables, stdout as the answer.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { spawnInGroup, terminateGroup } from "./process.js";
import type {
  AgentOutcome,
  AgentTask,
  Driver,
  DriverCapabilities,
  DriverRunContext,
  Usage,
} from "./types.js";

export interface CommandDriverOptions {
  command?: string;
  /** Between SIGTERM and SIGKILL when stopping (C04). */
  killGraceMs?: number;
}

const STDERR_LINES = 20;

export class CommandDriver implements Driver {
  readonly name = "command";
  readonly defaultRetries = 0;
  // A command gets the model as WEFT_MODEL; effort, agent types and permissions it cannot be told.
  readonly capabilities: DriverCapabilities = {
    model: true,
    effort: false,
    agentType: false,
    permissions: ["edit"],
  };

  constructor(private readonly opts: CommandDriverOptions = {}) {}

  async run(task: AgentTask, ctx: DriverRunContext): Promise<AgentOutcome> {
    const command = task.command ?? this.opts.command;
    if (!command) {
      throw new Error(
        'the command driver needs a command: set --command, WEFT_COMMAND or "command" in .weft/config.json',
      );
    }
    const tasks = join(task.runDir, "tasks");
    const taskFile = join(tasks, `${task.index}-${task.attempt}.prompt.txt`);
    const usageFile = join(tasks, `${task.index}-${task.attempt}.usage.json`);
    await writeFile(taskFile, task.userPrompt);
    await rm(usageFile, { force: true });
    const env: NodeJS.ProcessEnv = { ...process.env, ...task.env };
    for (const k of ["WEFT_SCHEMA_FILE", "WEFT_AGENT_LABEL", "WEFT_AGENT_PHASE", "WEFT_MODEL"]) delete env[k];
    env.WEFT_TASK_FILE = taskFile;
    env.WEFT_USAGE_FILE = usageFile;
    env.WEFT_RUN_ID = task.runId;
    env.WEFT_AGENT_INDEX = String(task.index);
    env.WEFT_ATTEMPT = String(task.attempt);
    if (task.schema) {
      const schemaFile = join(tasks, `${task.index}.schema.json`);
      await writeFile(schemaFile, JSON.stringify(task.schema, null, 2));
      env.WEFT_SCHEMA_FILE = schemaFile;
    }
    if (task.label !== undefined) env.WEFT_AGENT_LABEL = task.label;
    if (task.phase !== undefined) env.WEFT_AGENT_PHASE = task.phase;
    if (task.model !== undefined) env.WEFT_MODEL = task.model;

    const transcript = createWriteStream(task.transcriptPath, { flags: "a" });
    transcript.on("error", () => {});
    const result = await this.spawn(command, task, env, transcript, ctx);
    const usage = await readUsage(usageFile);
    if (usage) ctx.onEvent({ type: "usage", usage });
    await new Promise<void>((r) => transcript.end(r));
    return { ...result, usage: usage ?? { input: 0, output: 0, cached: 0, reasoning: 0 } };
  }

  private spawn(
    command: string,
    task: AgentTask,
    env: NodeJS.ProcessEnv,
    transcript: WriteStream,
    ctx: DriverRunContext,
  ): Promise<AgentOutcome> {
    return new Promise((resolve) => {
      let child: ReturnType<typeof spawnInGroup>;
      try {
        child = spawnInGroup("sh", ["-c", command], { cwd: task.cwd, env, stdin: "pipe" });
      } catch (e) {
        resolve({
          status: "failed",
          error: `cannot start the command: ${(e as Error).message}`,
          transient: false,
        });
        return;
      }
      const pgid = child.pid;
      const out: Buffer[] = [];
      let errTail = "";
      let lineBuf = "";
      let ended: "stopped" | "timeout" | "idle" | undefined;
      let stopping: Promise<void> | undefined;
      const stop = (why: "stopped" | "timeout" | "idle") => {
        if (ended || pgid === undefined) return;
        ended = why;
        stopping = terminateGroup(pgid, this.opts.killGraceMs ?? 5000);
      };
      const onAbort = () => stop("stopped");
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      const timeout = task.timeoutMs ? setTimeout(() => stop("timeout"), task.timeoutMs) : undefined;
      let idle: NodeJS.Timeout | undefined;
      const touch = () => {
        if (!task.idleTimeoutMs) return;
        clearTimeout(idle);
        idle = setTimeout(() => stop("idle"), task.idleTimeoutMs);
      };
      touch();
      const record = (stream: "stdout" | "stderr", data: string) =>
        transcript.write(`${JSON.stringify({ t: Date.now(), stream, data })}\n`);

      child.on("spawn", () => {
        if (pgid !== undefined) ctx.onEvent({ type: "started", pid: pgid, pgid });
        if (ctx.signal.aborted) stop("stopped");
      });
      child.stdout!.on("data", (d: Buffer) => {
        out.push(d);
        touch();
        const s = d.toString("utf8");
        record("stdout", s);
        lineBuf += s;
        const nl = lineBuf.lastIndexOf("\n");
        if (nl >= 0) {
          for (const line of lineBuf.slice(0, nl).split("\n"))
            if (line) ctx.onEvent({ type: "text", text: line });
          lineBuf = lineBuf.slice(nl + 1);
        }
      });
      child.stderr!.on("data", (d: Buffer) => {
        touch();
        const s = d.toString("utf8");
        record("stderr", s);
        errTail = (errTail + s).slice(-16_384);
      });
      // A program that does not read its stdin closes the pipe: that is fine (D09).
      child.stdin!.on("error", () => {});
      child.stdin!.end(task.prompt);

      let spawnError: Error | undefined;
      child.on("error", (e) => {
        spawnError = e;
      });
      child.on("close", async (code, signal) => {
        ctx.signal.removeEventListener("abort", onAbort);
        clearTimeout(timeout);
        clearTimeout(idle);
        if (stopping) await stopping;
        transcript.write(`${JSON.stringify({ t: Date.now(), exit: code, signal })}\n`);
        const text = Buffer.concat(out).toString("utf8").trimEnd();
        if (ended === "stopped") return resolve({ status: "stopped", text, exitCode: code });
        if (ended === "timeout") {
          return resolve({
            status: "failed",
            error: `timed out after ${task.timeoutMs} ms (timeoutMs)`,
            transient: false,
          });
        }
        if (ended === "idle") {
          return resolve({
            status: "failed",
            error: `no output for ${task.idleTimeoutMs} ms (idleTimeoutMs)`,
            transient: false,
          });
        }
        if (spawnError) {
          return resolve({
            status: "failed",
            error: `cannot start the command: ${spawnError.message}`,
            transient: false,
          });
        }
        if (code === 0) return resolve({ status: "completed", text, exitCode: 0 });
        const lines = errTail.trimEnd().split("\n").slice(-STDERR_LINES).join("\n").trim();
        const error = signal
          ? `command killed by ${signal}${lines ? `: ${lines}` : ""}`
          : lines || `command exited with code ${code}`;
        resolve({ status: "failed", error, exitCode: code, transient: false });
      });
    });
  }
}

async function readUsage(path: string): Promise<Usage | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const u = JSON.parse(text) as Record<string, unknown>;
    const n = (k: string) => (typeof u[k] === "number" && Number.isFinite(u[k]) ? (u[k] as number) : 0);
    const usage: Usage = {
      input: n("input"),
      output: n("output"),
      cached: n("cached"),
      reasoning: n("reasoning"),
    };
    if (typeof u.costUsd === "number" && Number.isFinite(u.costUsd)) usage.costUsd = u.costUsd;
    return usage;
  } catch {
    // Not JSON: usage unknown, as if absent (D09).
    return undefined;
  }
}
