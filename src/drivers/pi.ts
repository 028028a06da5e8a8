/**
 * The pi driver (D02): `pi -p --mode json`, one JSON event per line (session, agent_start,
 * turn_start, message_start|update|end, tool_execution_start|update|end, turn_end, agent_end).
 * Measured against @mariozechner/pi-coding-agent 0.73.1.
 *
 * pi exits 0 even when the model API failed: the failure is only in the stream, as an assistant
 * message with `stopReason: "error"` and an `errorMessage` such as "429 Rate limit reached". So
 * the error is read from the events, with the HTTP status taken from the message's leading code.
 */
import { CliDriver, type Invocation, num, obj, type StreamState, str } from "./cli-driver.js";
import type { AgentTask, DriverCapabilities, DriverEvent, Permissions, Usage } from "./types.js";

/**
 * pi's thinking levels (`--thinking`, checked in `pi --help`), with the names other CLIs use for
 * the ends of the scale. Any other value goes through as given: pi warns about it on stderr and
 * keeps its default, so the user sees why it had no effect.
 */
const THINKING_ALIASES: Record<string, string> = { none: "off", max: "xhigh" };

/**
 * Read-only: only pi's read-type built-in tools (read, grep, find, ls). `--tools` is an allowlist
 * over built-in, extension and custom tools alike, so bash, edit, write and any extension tool
 * (which could write) are gone: a model that asks for one is refused by pi ("Tool bash not found").
 * pi has no sandbox, so nothing below the tool level can be enforced.
 */
const READ_ONLY_TOOLS = "read,grep,find,ls";

/**
 * Edit: the read-type tools plus pi's two file tools. pi has no allow rules and no sandbox, so the
 * only way to keep "edit" from being a blanket shell (D05) is to leave bash out; extension tools,
 * which may run anything, are left out by the same allowlist. A shell is "full".
 */
const EDIT_TOOLS = "read,grep,find,ls,edit,write";

export class PiDriver extends CliDriver {
  readonly name = "pi";
  readonly npmPackage = "@mariozechner/pi-coding-agent";
  // pi has no sandbox: each level is the set of tools offered (see toolArgs).
  readonly capabilities: DriverCapabilities = {
    model: true,
    effort: true,
    agentType: false,
    permissions: ["read-only", "edit", "full"],
  };

  protected invocation(task: AgentTask, _dir: string, extra: string[]): Invocation {
    // The user's args first: the call's own options come later and win (pi keeps the last value).
    const args = ["-p", "--mode", "json", ...extra];
    // `provider/id` (or a pattern pi resolves against its models).
    if (task.model) args.push("--model", task.model);
    if (task.effort) args.push("--thinking", THINKING_ALIASES[task.effort] ?? task.effort);
    args.push(...toolArgs(task.permissions));
    args.push(promptArg(task.prompt));
    return { args };
  }

  protected read(event: Record<string, unknown>, state: StreamState, emit: (e: DriverEvent) => void): void {
    switch (event.type) {
      case "session":
        state.sessionId = str(event.id) ?? state.sessionId;
        return;
      case "message_end":
        readMessage(obj(event.message), state, emit);
        return;
      case "tool_execution_start":
        emit({ type: "tool_call", name: str(event.toolName) ?? "tool", input: event.args });
        return;
      case "tool_execution_end":
        emit({
          type: "tool_result",
          name: str(event.toolName),
          output: textOf(obj(event.result)?.content),
          isError: event.isError === true,
        });
        return;
      case "auto_retry_start":
        // pi's own retry of a failed request (settings retry.enabled): the failure is not the
        // outcome (a later message may succeed), but it is worth seeing while it waits.
        emit({
          type: "error",
          message: `pi retries (attempt ${num(event.attempt)}/${num(event.maxAttempts)}): ${str(event.errorMessage) ?? "request failed"}`,
        });
        return;
    }
  }
}

/** `--tools` for a permission level (D05). */
function toolArgs(permissions: Permissions): string[] {
  switch (permissions) {
    case "read-only":
      return ["--tools", READ_ONLY_TOOLS];
    case "edit":
      return ["--tools", EDIT_TOOLS];
    case "full":
      // No allowlist: pi's defaults (read, bash, edit, write) and the user's extension tools.
      return [];
  }
}

/**
 * pi has no `--` separator: an argument starting with "@" is read as a file to include and one
 * starting with "-" as an option. A leading space keeps such a prompt a message.
 */
function promptArg(prompt: string): string {
  return /^[@-]/.test(prompt) ? ` ${prompt}` : prompt;
}

/** One finished message: an assistant message carries the text, usage, model, or the API error. */
function readMessage(
  message: Record<string, unknown> | undefined,
  state: StreamState,
  emit: (e: DriverEvent) => void,
): void {
  if (message?.role !== "assistant") return;
  const usage = usageOf(obj(message.usage));
  addUsage(state.usage, usage);
  emit({ type: "usage", usage });
  const provider = str(message.provider);
  const model = str(message.model);
  if (model) state.model = provider ? `${provider}/${model}` : model;
  const stop = str(message.stopReason);
  if (stop === "error" || stop === "aborted") {
    const text = str(message.errorMessage) ?? `pi: the request ended with stopReason "${stop}"`;
    state.error = { message: text, status: httpStatus(text) };
    return;
  }
  // A message after a failed one means pi's own retry got through: the turn goes on.
  state.error = undefined;
  const text = textOf(message.content);
  if (text) {
    state.text = text;
    emit({ type: "text", text });
  }
}

/**
 * pi's usage: `input` excludes cache reads and cache writes, `output` includes the reasoning
 * tokens (pi-ai adds OpenAI's completion_tokens as they are and reports no reasoning count), and
 * `cost.total` is priced from pi's own model table. Cache writes are input that was not served
 * from the cache, so weft counts them as input. A cost of 0 means pi knew no price for the model
 * (a custom model in models.json): it is left out so that weft's price table applies.
 */
function usageOf(u: Record<string, unknown> | undefined): Usage {
  const usage: Usage = {
    input: num(u?.input) + num(u?.cacheWrite),
    output: num(u?.output),
    cached: num(u?.cacheRead),
    reasoning: 0,
  };
  const cost = num(obj(u?.cost)?.total);
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

/** The text parts of a content list (thinking and tool calls left out). */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => {
      const p = obj(part);
      return p?.type === "text" ? (str(p.text) ?? "") : "";
    })
    .filter((t) => t !== "")
    .join("\n");
}

/** pi-ai passes the OpenAI/Anthropic SDK's message on, which starts with the HTTP status. */
function httpStatus(message: string): number | undefined {
  const m = /^(?:[A-Za-z]*Error:\s*)?([1-5]\d\d)\b/.exec(message);
  return m ? Number(m[1]) : undefined;
}
