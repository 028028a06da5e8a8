/**
 * What the five agent-CLI drivers share (D02, D07, D08, C01–C03): start the CLI in its own process
 * group with stdin from /dev/null, read its JSON-lines stream into normalised events and a
 * {@link StreamState}, and turn how it ended into an outcome whose failures are classified. A
 * driver file supplies only its CLI's flags and its event format. Usage without a reported cost
 * is priced by the engine, for every driver alike (prices.ts).
 */
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { agentResultPointer, EXCERPT_CHARS } from "../store/excerpt.js";
import { classifyFailure } from "./classify.js";
import { type Ended, lastLines, runInGroup } from "./group-run.js";
import type { PriceTable } from "./prices.js";
import { ensureDirs, openTranscript, refusalsReported } from "./run-files.js";
import type {
  AgentOutcome,
  AgentTask,
  Driver,
  DriverCapabilities,
  DriverEvent,
  DriverRunContext,
  Usage,
} from "./types.js";

/** Per-driver settings (`drivers.<name>` in .weft/config.json). */
export interface CliDriverConfig {
  /** The program; default the CLI's usual name, looked up on PATH. */
  bin?: string;
  /** Extra arguments, placed where the CLI takes its options (before the prompt). */
  args?: string[];
  /** Extra environment for the CLI, over the user's own. */
  env?: Record<string, string>;
  /** The model for agents whose call names none; absent: the CLI's own default. */
  model?: string;
  /** The effort for agents whose call names none (Claude Code's CLAUDE_CODE_EFFORT_LEVEL lands here). */
  effort?: string;
  /**
   * `model` for every agent of this driver, whatever the call or its agent type says (Claude
   * Code's CLAUDE_CODE_SUBAGENT_MODEL_FORCE); without `model`, calls' models are dropped and the
   * CLI's own default runs, as Claude Code then runs its session model.
   */
  forceModel?: boolean;
  /** Between SIGTERM and SIGKILL when stopping the group (C04); default 5000. */
  killGraceMs?: number;
  /** Prices per million tokens for this driver's models, over the `prices` setting (the engine prices usage). */
  prices?: PriceTable;
}

/** The driver's default model and effort for a call that names none, or its forced model. */
function withDefaults(given: AgentTask, config: CliDriverConfig): AgentTask {
  const model = config.forceModel ? config.model : (given.model ?? config.model);
  const effort = given.effort ?? config.effort;
  if (model === given.model && effort === given.effort) return given;
  return { ...given, model, effort };
}

/** What a CLI's stream said, filled in by its driver's event reader. */
export class StreamState {
  /** The final answer (the last assistant message). */
  text = "";
  /** A structured answer the CLI produced natively (D06). */
  object?: unknown;
  usage: Usage = { input: 0, output: 0, cached: 0, reasoning: 0 };
  model?: string;
  sessionId?: string;
  /** The error the CLI reported; the turn failed even if it exited 0 (pi does). */
  error?: { message: string; status?: number };
  /** Whether the model produced anything: a crash before any output is worth a retry (C02). */
  output = false;
}

export interface Invocation {
  args: string[];
  env?: Record<string, string>;
  /**
   * Written to the CLI's stdin, then end of file, for a CLI that cannot take the prompt verbatim
   * as an argument (opencode quotes arguments that contain spaces); absent: /dev/null.
   */
  stdin?: string;
}

/** How the CLI reports its own version, for `weft doctor`. */
export const VERSION_ARGS = ["--version"];

const zeroUsage = (): Usage => ({ input: 0, output: 0, cached: 0, reasoning: 0 });

export abstract class CliDriver implements Driver {
  abstract readonly name: string;
  abstract readonly capabilities: DriverCapabilities;
  /** The npm package that provides the CLI, for "not found" messages and `weft doctor`. */
  abstract readonly npmPackage: string;
  /** Transient failures are retried (C02): 3 retries, so at most 4 starts. */
  readonly defaultRetries = 3;
  protected readonly config: CliDriverConfig;

  constructor(config: CliDriverConfig = {}) {
    this.config = config;
  }

  /** The program to start. */
  get bin(): string {
    return this.config.bin ?? this.name;
  }

  /**
   * The CLI's arguments and extra environment for this task. `dir` is a folder of the run where
   * the driver may write files (a schema, a last-message file); `extra` are the user's args.
   */
  protected abstract invocation(
    task: AgentTask,
    dir: string,
    extra: string[],
  ): Promise<Invocation> | Invocation;

  /** Reads one JSON event of the CLI's stream into `state`, emitting normalised events. */
  protected abstract read(
    event: Record<string, unknown>,
    state: StreamState,
    emit: (e: DriverEvent) => void,
  ): void;

  /** A line the CLI wrote on stderr (its log, its warnings); most drivers leave them to the transcript. */
  protected readStderr?(line: string, state: StreamState, emit: (e: DriverEvent) => void): void;

  /**
   * A transcript this driver wrote, read back as normalised events (U08: the dashboard shows an
   * agent's turns, not the backend's raw JSON). Lines that are not events are skipped.
   */
  eventsOf(transcript: string): DriverEvent[] {
    const out: DriverEvent[] = [];
    const state = new StreamState();
    for (const line of transcript.split("\n")) {
      if (!line.trim()) continue;
      let ev: unknown;
      try {
        ev = JSON.parse(line);
      } catch {
        continue;
      }
      if (!ev || typeof ev !== "object" || Array.isArray(ev)) continue;
      try {
        this.read(ev as Record<string, unknown>, state, (e) => out.push(e));
      } catch {
        // One odd event does not hide the rest.
      }
    }
    return out;
  }

  /**
   * After the stream: a last chance to fix up the state (e.g. read an output file, or read an
   * HTTP status that a CLI reports only as its exit code).
   */
  protected async settle(
    _state: StreamState,
    _task: AgentTask,
    _dir: string,
    _ended?: Ended,
  ): Promise<void> {}

  async run(given: AgentTask, ctx: DriverRunContext): Promise<AgentOutcome> {
    const task = withDefaults(given, this.config);
    if (ctx.signal.aborted) return { status: "stopped", usage: zeroUsage() };
    const dir = join(task.runDir, "tasks", `${task.index}-${task.attempt}`);
    refusalsReported(ctx, () => ensureDirs(dir));
    const inv = await this.invocation(task, dir, this.config.args ?? []);
    if (ctx.signal.aborted) return { status: "stopped", usage: zeroUsage() };

    const state = new StreamState();
    const emit = (e: DriverEvent) => {
      if (e.type === "text" || e.type === "tool_call") state.output = true;
      ctx.onEvent(e);
    };
    const transcript = openTranscript(task.transcriptPath, ctx);
    let ended: Ended;
    try {
      ended = await runInGroup({
        file: this.bin,
        args: inv.args,
        cwd: task.cwd,
        env: this.env(task, inv),
        // D08: an open stdin pipe makes codex wait forever; a prompt on stdin ends with EOF.
        stdin: inv.stdin ?? null,
        transcript,
        ctx,
        killGraceMs: this.config.killGraceMs ?? 5000,
        timeoutMs: task.timeoutMs,
        idleTimeoutMs: task.idleTimeoutMs,
        what: this.name,
        onStderrLine: this.readStderr ? (line) => this.readStderr?.(line, state, emit) : undefined,
        // Every event is kept, a huge one (an answer of many MB, which the journal keeps whole) cut.
        transcriptLimit: {
          line: EXCERPT_CHARS,
          note: `events longer than ${EXCERPT_CHARS} characters are cut here; a completed agent's whole answer is in ${agentResultPointer(task.runId, task.index)}`,
        },
        onLine: (line) => {
          let ev: unknown;
          try {
            ev = JSON.parse(line);
          } catch {
            // Not an event: CLIs print the odd warning on stdout; the transcript has it.
            return;
          }
          if (ev && typeof ev === "object" && !Array.isArray(ev)) {
            this.read(ev as Record<string, unknown>, state, emit);
          }
        },
      });
    } finally {
      transcript.end();
      await finished(transcript).catch(() => {});
    }
    await this.settle(state, task, dir, ended).catch(() => {});
    const outcome = this.outcome(ended, state, task);
    if (outcome.status === "failed") ctx.onEvent({ type: "error", message: outcome.error ?? "failed" });
    return outcome;
  }

  /** The user's environment, the driver's settings, the call's extras, then the D09 variables. */
  private env(task: AgentTask, inv: Invocation): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.config.env, ...task.env, ...inv.env };
    env.WEFT_RUN_ID = task.runId;
    env.WEFT_AGENT_INDEX = String(task.index);
    // A15: with these set, `weft` refuses to start a workflow inside the agent.
    env.WEFT_ATTEMPT = String(task.attempt);
    return env;
  }

  private outcome(ended: Ended, state: StreamState, task: AgentTask): AgentOutcome {
    const usage = state.usage;
    const model = state.model ?? task.model;
    const base = { usage, model, sessionId: state.sessionId };
    if (ended.kind === "spawn-error") {
      const missing = /ENOENT/.test(ended.message) && !/working directory/.test(ended.message);
      return {
        ...base,
        status: "failed",
        error: missing
          ? `${this.bin} was not found on PATH: install it with \`npm install -g ${this.npmPackage}\`, or set drivers.${this.name}.bin in .weft/config.json`
          : ended.message,
        // Every later agent would fail the same way.
        fatal: missing,
        transient: false,
      };
    }
    const exitCode = ended.code;
    switch (ended.kind) {
      case "stopped":
        return { ...base, status: "stopped", text: state.text, exitCode };
      case "timeout":
        return {
          ...base,
          status: "failed",
          exitCode,
          transient: false,
          error: `timed out after ${task.timeoutMs} ms (timeoutMs)`,
        };
      case "idle":
        return {
          ...base,
          status: "failed",
          exitCode,
          transient: false,
          stalled: true,
          error: `no event from ${this.name} for ${task.idleTimeoutMs} ms (stallMs, setting idleTimeoutMs)`,
        };
    }
    const stderr = lastLines(ended.stderrTail, 20);
    if (state.error) {
      return this.failure(base, exitCode, state.error.message, state.error.status);
    }
    if (exitCode !== 0) {
      const why = ended.signal
        ? `${this.name} was killed by ${ended.signal}`
        : `${this.name} exited with code ${exitCode}`;
      const failed = this.failure(base, exitCode, stderr ? `${why}:\n${stderr}` : why);
      // C02: a crash before any output is worth another start, unless it names its reason.
      if (!state.output && failed.transient === false && !failed.fatal) failed.transient = true;
      return failed;
    }
    if (!state.text && state.object === undefined) {
      return {
        ...base,
        status: "failed",
        exitCode,
        transient: false,
        error: `${this.name} ended without an answer`,
      };
    }
    return { ...base, status: "completed", text: state.text.trimEnd(), object: state.object, exitCode };
  }

  private failure(
    base: Partial<AgentOutcome>,
    exitCode: number | null,
    message: string,
    status?: number,
  ): AgentOutcome {
    const kind = classifyFailure(message, status);
    return {
      ...base,
      status: "failed",
      exitCode,
      error: message,
      transient: kind === "transient",
      fatal: kind === "fatal",
    };
  }
}

/** Reads a string field; the CLIs' events are untyped JSON. */
export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Reads a finite number field, else 0. */
export function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/** Reads an object field. */
export function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
