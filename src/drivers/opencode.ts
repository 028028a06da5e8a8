/**
 * The opencode driver (D02): `opencode run --format json`, one JSON event per line: step_start,
 * text{part}, tool_use{part}, step_finish{part{tokens, cost}}, reasoning, error{error}. Every
 * event carries the sessionID. Measured against opencode-ai 1.18.33.
 *
 * Three things about `opencode run` shape this driver:
 * - It joins its message arguments after wrapping each one that contains a space in double quotes
 *   (inner quotes escaped), so a prompt given as an argument reaches the model quoted and with
 *   `\"` in every JSON example. A message read from stdin goes through as it is, so the prompt is
 *   written to stdin, then end of file.
 * - A new session without a title costs one more model request (a title generator) that carries
 *   the whole prompt: `--title` names the session and saves that request.
 * - An unknown or subagent-only `--agent` is a warning on stderr and a fall back to the default
 *   agent; the driver fails such a turn instead of passing it off as the agent asked for.
 */
import { CliDriver, type Invocation, num, obj, type StreamState, str } from "./cli-driver.js";
import type { Ended } from "./group-run.js";
import type { AgentTask, DriverCapabilities, DriverEvent, Permissions, Usage } from "./types.js";

/**
 * opencode's permission rules for `bash` and `edit` (edit covers its edit, write and patch tools)
 * per weft level (D05). In `run`, a rule left at "ask" is rejected automatically (nothing waits);
 * `--auto` (full) approves every ask that is not denied, such as reaching outside the project.
 *
 * The rules are objects, not strings: OPENCODE_PERMISSION is deep-merged over the user's config,
 * so an object keeps the user's own patterns (`"git *": "allow"`, `"rm *": "deny"`) and only sets
 * the catch-all "*", where a string would replace them all. opencode takes the last matching rule,
 * and the merge keeps the user's key order, so under "edit" the user's bash allow rules win when
 * their `permission.bash` starts with its own "*" (opencode's documented pattern); without one,
 * weft's "*" comes last and asks (so: refuses) every command.
 * - read-only: strings, so no user rule survives: no edits, no shell (both tools are then left
 *   out of the request).
 * - edit: edits allowed; a command runs only if the user's own bash rules allow it.
 * - full: edits and every command the user's rules do not explicitly deny.
 * At every level `task` (opencode's sub-agents) is denied (A15): fan-out is the script's, within
 * weft's limits.
 */
const PERMISSION_RULES: Record<Permissions, Record<string, string | Record<string, string>>> = {
  "read-only": { edit: "deny", bash: "deny", task: "deny" },
  edit: { edit: { "*": "allow" }, bash: { "*": "ask" }, task: "deny" },
  full: { edit: { "*": "allow" }, bash: { "*": "allow" }, task: "deny" },
};

export class OpenCodeDriver extends CliDriver {
  readonly name = "opencode";
  readonly npmPackage = "opencode-ai";
  readonly capabilities: DriverCapabilities = {
    model: true,
    // `--variant`: the model's reasoning-effort variants (high, low, ...). opencode ignores a
    // variant the model does not define, without a word.
    effort: true,
    agentType: true,
    permissions: ["read-only", "edit", "full"],
  };

  protected invocation(task: AgentTask, _dir: string, extra: string[]): Invocation {
    // Its errors on stderr: opencode retries a failed model request on its own for a minute or
    // more and says so only in its log, never in the JSON stream (see readStderr).
    const args = ["run", "--format", "json", "--print-logs", "--log-level=ERROR", ...extra];
    // `--dir`: opencode takes its directory from $PWD (inherited from weft) before the process cwd.
    args.push(`--dir=${task.cwd}`, `--title=${title(task)}`);
    // provider/model, as opencode names them.
    if (task.model) args.push(`--model=${task.model}`);
    if (task.effort) args.push(`--variant=${task.effort}`);
    if (task.agentType) args.push(`--agent=${task.agentType}`);
    if (task.permissions === "full") args.push("--auto");
    return {
      args,
      env: { OPENCODE_PERMISSION: this.permission(task), ...this.continueOnDeny(task) },
      stdin: task.prompt,
    };
  }

  /**
   * OPENCODE_PERMISSION is merged over every config layer (global, project, OPENCODE_CONFIG_CONTENT),
   * so weft's level decides bash and edit as PERMISSION_RULES says; the user's own
   * OPENCODE_PERMISSION is merged with weft's rules the way opencode merges it over the config, so
   * its rules for other tools, and its bash and edit patterns, are kept alike. Agent-specific rules
   * in an agent's own config still come after it in opencode's rule order.
   */
  private permission(task: AgentTask): string {
    // An invalid value: opencode itself skips it with a warning; so does weft.
    const base = this.userJson(task, "OPENCODE_PERMISSION").value;
    const merged: Record<string, unknown> = { ...base };
    for (const [tool, rule] of Object.entries(PERMISSION_RULES[task.permissions])) {
      const own = obj(base[tool]);
      // As opencode's deep merge does: objects merge key by key (the user's order kept, weft's "*"
      // set in place), anything else is replaced.
      merged[tool] = own && typeof rule === "object" ? { ...own, ...rule } : rule;
    }
    return JSON.stringify(merged);
  }

  /**
   * Under "edit" a command no rule allows is refused, and opencode then ends the whole turn (the
   * model gets no word of it): `experimental.continue_loop_on_deny` hands the refusal to the model
   * instead, which can go on without that command. Set in OPENCODE_CONFIG_CONTENT, merged into the
   * user's own value, which wins if it sets the key itself.
   */
  private continueOnDeny(task: AgentTask): Record<string, string> {
    if (task.permissions !== "edit") return {};
    const { value: base, invalid } = this.userJson(task, "OPENCODE_CONFIG_CONTENT");
    // Not JSON: opencode reports it itself; weft's key must not hide that.
    if (invalid) return {};
    const experimental = { continue_loop_on_deny: true, ...obj(base.experimental) };
    return { OPENCODE_CONFIG_CONTENT: JSON.stringify({ ...base, experimental }) };
  }

  /** The user's JSON object in one of opencode's variables: the call's, the driver setting's, or weft's environment. */
  private userJson(task: AgentTask, name: string): { value: Record<string, unknown>; invalid: boolean } {
    const given = task.env?.[name] ?? this.config.env?.[name] ?? process.env[name];
    if (!given) return { value: {}, invalid: false };
    try {
      return { value: obj(JSON.parse(given)) ?? {}, invalid: false };
    } catch {
      return { value: {}, invalid: true };
    }
  }

  /**
   * U02: opencode's log line for a model request that failed and is retried, e.g.
   * `level=ERROR ... message="stream error" ... small=false ... error.error="AI_APICallError: Cannot
   * connect to API: ..."`, becomes the agent's activity. `small=true` is the session-title request,
   * not the agent's work.
   */
  protected override readStderr(line: string, _state: StreamState, emit: (e: DriverEvent) => void): void {
    if (!line.includes('message="stream error"') || line.includes("small=true")) return;
    const m = /error\.error="((?:[^"\\]|\\.)*)"/.exec(line);
    const why = (m?.[1] ?? "the model request failed").replace(/ \(cause: .*\)$/, "");
    // First, as the activity line is cut to its first 120 characters.
    emit({ type: "error", message: `opencode retries: ${why}` });
  }

  protected read(event: Record<string, unknown>, state: StreamState, emit: (e: DriverEvent) => void): void {
    state.sessionId = str(event.sessionID) ?? state.sessionId;
    const part = obj(event.part);
    switch (event.type) {
      case "text":
        readText(part, state, emit);
        return;
      case "tool_use":
        readTool(part, emit);
        return;
      case "step_finish": {
        const usage = usageOf(part);
        addUsage(state.usage, usage);
        emit({ type: "usage", usage });
        return;
      }
      case "error":
        state.error = errorOf(obj(event.error));
        return;
    }
  }

  /** The agent fall back is only on stderr. */
  protected override async settle(
    state: StreamState,
    task: AgentTask,
    _dir: string,
    ended?: Ended,
  ): Promise<void> {
    if (!task.agentType || !ended || ended.kind !== "exit") return;
    const line = ended.stderrTail.split("\n").find((l) => /agent ".*" (not found|is a subagent)/.test(l));
    if (line) {
      state.error = {
        message: `opencode ran its default agent instead of "${task.agentType}": ${stripAnsi(line).replace(/^!\s*/, "").trim()}`,
      };
    }
  }
}

/** The session title: weft's run and agent, so the session is easy to find in opencode. */
function title(task: AgentTask): string {
  const what = task.label ?? task.userPrompt.replace(/\s+/g, " ").trim().slice(0, 50);
  return `weft ${task.runId} #${task.index}${what ? `: ${what}` : ""}`;
}

/** Text parts arrive finished; the answer is the text of the last assistant message. */
const lastMessage = new WeakMap<StreamState, string>();
function readText(
  part: Record<string, unknown> | undefined,
  state: StreamState,
  emit: (e: DriverEvent) => void,
): void {
  const text = str(part?.text);
  if (!text) return;
  const message = str(part?.messageID) ?? "";
  state.text = lastMessage.get(state) === message && state.text ? `${state.text}\n${text}` : text;
  lastMessage.set(state, message);
  emit({ type: "text", text });
}

/** A tool part is printed once, finished (completed or error): both the call and its result. */
function readTool(part: Record<string, unknown> | undefined, emit: (e: DriverEvent) => void): void {
  const name = str(part?.tool) ?? "tool";
  const st = obj(part?.state);
  emit({ type: "tool_call", name, input: st?.input });
  const failed = st?.status === "error";
  emit({ type: "tool_result", name, output: str(failed ? st?.error : st?.output), isError: failed });
}

/**
 * step_finish tokens: `input` without the cache reads and writes, `output` without the reasoning,
 * `reasoning` and `cache.read` on their own: weft's convention already, except that cache writes
 * (input not served from the cache) count as input. `cost` is priced from opencode's model table;
 * 0 means it knew no price (a custom provider's model), left out so that weft's prices apply.
 */
function usageOf(part: Record<string, unknown> | undefined): Usage {
  const tokens = obj(part?.tokens);
  const cache = obj(tokens?.cache);
  const usage: Usage = {
    input: num(tokens?.input) + num(cache?.write),
    output: num(tokens?.output),
    cached: num(cache?.read),
    reasoning: num(tokens?.reasoning),
  };
  const cost = num(part?.cost);
  if (cost > 0) usage.costUsd = cost;
  return usage;
}

function addUsage(sum: Usage, u: Usage): void {
  sum.input += u.input;
  sum.output += u.output;
  sum.cached += u.cached;
  sum.reasoning += u.reasoning;
  if (u.costUsd !== undefined) sum.costUsd = (sum.costUsd ?? 0) + u.costUsd;
}

/** `{name, data{message, statusCode?}}`: APIError carries the HTTP status, the others a message. */
function errorOf(error: Record<string, unknown> | undefined): { message: string; status?: number } {
  const data = obj(error?.data);
  const name = str(error?.name) ?? "error";
  const message = str(data?.message) ?? name;
  const status = num(data?.statusCode) || undefined;
  return { message: name === "APIError" || message.includes(name) ? message : `${name}: ${message}`, status };
}

function stripAnsi(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are control characters.
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}
