/**
 * The gemini driver (D02): `gemini -o stream-json -m <model> --prompt=<prompt>` from
 * @google/gemini-cli (flags and events checked against 0.61.0). Its stream is `init{session_id,
 * model}`, `message{role, content, delta}`, `tool_use{tool_name, tool_id, parameters}`,
 * `tool_result{tool_id, status, output, error}`, `error{severity, message}` and a last
 * `result{status, error?, stats}`.
 */
import { join } from "node:path";
import { writeFileInPlaceSync } from "../store/safe-write.js";
import { CliDriver, type Invocation, num, obj, type StreamState, str } from "./cli-driver.js";
import { type Ended, lastLines } from "./group-run.js";
import type { AgentTask, DriverCapabilities, DriverEvent, Permissions, Usage } from "./types.js";

/** What one run's stream needs to remember beyond the shared {@link StreamState}. */
interface GeminiStream {
  /** Tool names by call id: a `tool_result` names only the id. */
  tools: Map<string, string>;
  /** The next assistant text starts a new message (a tool ran since the last one). */
  fresh: boolean;
  /** The last `error` event of severity "error": a failed result does not always repeat it. */
  lastError?: string;
}

const streams = new WeakMap<StreamState, GeminiStream>();

function streamOf(state: StreamState): GeminiStream {
  let s = streams.get(state);
  if (!s) {
    s = { tools: new Map(), fresh: false };
    streams.set(state, s);
  }
  return s;
}

/**
 * Built-in tools that write files or run commands. Under read-only they are denied by an admin
 * policy: gemini-cli then leaves them out of the request, and refuses a call to them anyway.
 */
const WRITE_TOOLS = ["run_shell_command", "write_file", "replace", "save_memory"];

const READ_ONLY_POLICY = `# weft: permissions "read-only" (written by the gemini driver)
[[rule]]
toolName = ${JSON.stringify(WRITE_TOOLS)}
decision = "deny"
priority = 999
denyMessage = "This agent is read-only (weft permissions \\"read-only\\"): it may not write files or run commands."
`;

/**
 * A15: gemini-cli's own sub-agents (tools the model calls, on by default: `experimental.enableAgents`)
 * would fan out outside weft's concurrency and budget. Denied at every permission level by the
 * same admin-tier policy, which also leaves them out of the request.
 */
const SUBAGENT_TOOLS = ["invoke_agent", "codebase_investigator", "cli_help", "generalist", "browser_agent"];

const NO_SUBAGENTS_POLICY = `# weft: agents start no sub-agents of their own (written by the gemini driver)
[[rule]]
toolName = ${JSON.stringify(SUBAGENT_TOOLS)}
decision = "deny"
priority = 999
denyMessage = "Sub-agents are off inside a weft workflow: the workflow script starts agents."
`;

/**
 * Permissions (D05) as gemini-cli's approval modes. Headless gemini-cli denies every tool its
 * policy would ask about (its built-in non-interactive rules), so nothing waits for an answer:
 * - read-only: the default mode offers only the read-only tools; the default mode alone would let
 *   a user's own allow rules or `tools.allowed` settings through, so an admin-tier policy (it
 *   outranks user and workspace rules) denies the writing tools too. gemini-cli ignores
 *   `--admin-policy` when the machine has its own policies in /etc/gemini-cli/policies; the
 *   default mode still withholds them then.
 * - edit: `auto_edit` approves write_file and replace on paths inside the workspace (gemini's
 *   allowed-path check) and web_fetch; the shell runs only where the user's own policy rules or
 *   `tools.allowed` allow that command, as in the default mode. Not "yolo": that approves every
 *   tool, a blanket shell.
 * - full: "yolo", every tool approved.
 */
async function permissionArgs(permissions: Permissions, dir: string): Promise<string[]> {
  const mode = permissions === "edit" ? "auto_edit" : permissions === "full" ? "yolo" : "default";
  const policy = join(dir, `gemini-${permissions}.toml`);
  writeFileInPlaceSync(
    policy,
    permissions === "read-only" ? `${READ_ONLY_POLICY}\n${NO_SUBAGENTS_POLICY}` : NO_SUBAGENTS_POLICY,
  );
  return ["--approval-mode", mode, "--admin-policy", policy];
}

/** gemini-cli's usage: `input_tokens` counts the cached tokens, and reasoning is not broken out. */
function usageOf(stats: Record<string, unknown>): Usage {
  const prompt = num(stats.input_tokens);
  const cached = num(stats.cached);
  const output = num(stats.output_tokens);
  return {
    input: Math.max(0, prompt - cached),
    output,
    cached,
    // Google's total counts the thoughts (and tool-use prompt tokens, 0 for gemini-cli's own tools)
    // on top of prompt and candidates; gemini-cli reports only the total.
    reasoning: Math.max(0, num(stats.total_tokens) - prompt - output),
  };
}

/** The model that did the work: the one with the most output (utility calls use small models). */
function mainModel(stats: Record<string, unknown>): string | undefined {
  const models = obj(stats.models);
  if (!models) return undefined;
  let best: string | undefined;
  let most = -1;
  for (const [name, m] of Object.entries(models)) {
    const out = num(obj(m)?.output_tokens);
    if (out > most) {
      best = name;
      most = out;
    }
  }
  return best;
}

/** gemini-cli's exit codes for failures of its own set-up, which no retry fixes. */
const SETUP_EXITS: Record<number, string> = {
  41: "authentication failed",
  42: "invalid input",
  44: "sandbox failed",
  52: "invalid configuration",
  55: "the folder is not trusted (trust it, set GEMINI_CLI_TRUST_WORKSPACE=true, or add --skip-trust to drivers.gemini.args)",
};

const RPC_STATUS: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/**
 * An API failure as gemini-cli words it: `[API Error: <Google's error JSON>]` for most 4xx,
 * `[API Error: <message> (Status: <RPC status>)]`, or `[API Error: <message>]` plus a fixed
 * "Please wait and try again later" note for a 429. Returns a readable message and the status.
 */
function apiError(message: string): { message: string; status?: number } {
  const start = message.indexOf("{");
  if (message.startsWith("[API Error") && start >= 0) {
    try {
      const body = obj(obj(JSON.parse(message.slice(start, message.lastIndexOf("}") + 1)))?.error);
      const code = typeof body?.code === "number" ? body.code : undefined;
      const text = str(body?.message);
      if (text) {
        const rpc = str(body?.status);
        return {
          message: `gemini API error ${code ?? ""}${rpc ? ` ${rpc}` : ""}: ${text}`.replace(/ {2}/, " "),
          status: code,
        };
      }
    } catch {}
  }
  const rpc = /\(Status: ([A-Z_]+)\)/.exec(message)?.[1];
  if (rpc && RPC_STATUS[rpc]) return { message, status: RPC_STATUS[rpc] };
  if (message.includes("Please wait and try again later")) return { message, status: 429 };
  return { message };
}

export class GeminiDriver extends CliDriver {
  readonly name = "gemini";
  readonly npmPackage = "@google/gemini-cli";
  /**
   * effort: gemini-cli has no flag or environment variable for it. Its thinking budget is set
   * only in settings files (`modelConfigs`): the user's own, the project's, or system files that
   * gemini-cli reads only when root owns them and their folders, so a driver cannot supply one.
   * agentType: no named agents to pick on the command line (its subagents are tools the model calls).
   */
  readonly capabilities: DriverCapabilities = {
    model: true,
    effort: false,
    agentType: false,
    permissions: ["read-only", "edit", "full"],
  };

  protected async invocation(task: AgentTask, dir: string, extra: string[]): Promise<Invocation> {
    const args = ["--output-format", "stream-json"];
    // Always given when known: without it gemini-cli's "auto" model asks a router model first.
    if (task.model) args.push("--model", task.model);
    args.push(...(await permissionArgs(task.permissions, dir)));
    // D06: gemini-cli has no structured-output flag; the prompt carries the schema and weft
    // extracts and validates the JSON. `=` keeps a prompt that starts with "-" a value.
    args.push(...extra, `--prompt=${task.prompt}`);
    return { args };
  }

  protected read(event: Record<string, unknown>, state: StreamState, emit: (e: DriverEvent) => void): void {
    const s = streamOf(state);
    switch (event.type) {
      case "init":
        state.sessionId = str(event.session_id) ?? state.sessionId;
        state.model = str(event.model) ?? state.model;
        return;
      case "message":
        this.message(event, state, s, emit);
        return;
      case "tool_use": {
        const name = str(event.tool_name) ?? "tool";
        const id = str(event.tool_id);
        if (id) s.tools.set(id, name);
        s.fresh = true;
        emit({ type: "tool_call", name, input: event.parameters });
        return;
      }
      case "tool_result": {
        const id = str(event.tool_id);
        const isError = event.status === "error";
        const output = str(event.output) ?? str(obj(event.error)?.message);
        s.fresh = true;
        emit({ type: "tool_result", name: id ? s.tools.get(id) : undefined, output, isError });
        return;
      }
      case "error": {
        // Warnings (a loop detected, a blocked hook) leave the turn going; they stay in the transcript.
        const message = str(event.message);
        if (event.severity === "error" && message) {
          s.lastError = message;
          emit({ type: "error", message });
        }
        return;
      }
      case "result":
        this.result(event, state, s, emit);
        return;
    }
  }

  /** Assistant text comes in deltas; a tool call in between starts the next message. */
  private message(
    event: Record<string, unknown>,
    state: StreamState,
    s: GeminiStream,
    emit: (e: DriverEvent) => void,
  ) {
    if (event.role !== "assistant") return;
    const text = str(event.content);
    if (!text) return;
    if (s.fresh || event.delta !== true) state.text = "";
    s.fresh = false;
    state.text += text;
    emit({ type: "text", text });
  }

  private result(
    event: Record<string, unknown>,
    state: StreamState,
    s: GeminiStream,
    emit: (e: DriverEvent) => void,
  ) {
    const stats = obj(event.stats);
    if (stats) {
      state.usage = usageOf(stats);
      state.model = mainModel(stats) ?? state.model;
      emit({ type: "usage", usage: state.usage });
    }
    if (event.status === "error") {
      const message = str(obj(event.error)?.message) ?? s.lastError ?? "gemini reported an error";
      state.error = apiError(message);
    }
  }

  /**
   * What only the exit code tells. gemini-cli exits with the HTTP status of a failed request (so
   * 503 becomes exit code 247) without always naming it in the stream (a bare 5xx message); and
   * its own set-up failures (auth, config, an untrusted folder) come with no stream at all, which
   * the base would take for a crash worth retrying.
   */
  protected override async settle(
    state: StreamState,
    _task: AgentTask,
    _dir: string,
    ended?: Ended,
  ): Promise<void> {
    if (ended?.kind !== "exit" || ended.code === null) return;
    const code = ended.code;
    if (state.error) {
      if (state.error.status === undefined && code >= 144 && state.error.message.startsWith("[API Error")) {
        state.error.status = code + 256;
      }
      return;
    }
    const what = SETUP_EXITS[code];
    if (!what) return;
    const stderr = lastLines(ended.stderrTail, 10);
    state.error = {
      message: `gemini: ${what} (exit code ${code})${stderr ? `:\n${stderr}` : ""}`,
      // Every later agent would fail alike: an auth failure stops the run (C03).
      status: code === 41 ? 401 : undefined,
    };
  }
}
