/**
 * The claude driver (D02): Claude Code's print mode, `claude -p --output-format stream-json
 * --verbose`, which prints one JSON event a line: `system/init` (session id, model), `assistant`
 * and `user` messages (text, tool calls, tool results), and a closing `result` with the answer,
 * the structured output, the usage and the cost as claude itself counted them.
 */
import { CliDriver, type Invocation, num, obj, type StreamState, str } from "./cli-driver.js";
import type { AgentTask, DriverCapabilities, DriverEvent, Permissions, Usage } from "./types.js";

/** The levels `claude --effort` takes; anything else it warns about on stderr and ignores. */
const EFFORTS = ["low", "medium", "high", "xhigh", "max"];
/** weft's other drivers know "minimal"; claude's lowest level is the nearest it has. */
const EFFORT_ALIASES: Record<string, string> = { minimal: "low" };

/** The tools that change files without a shell; a read-only agent is not offered them at all. */
const EDIT_TOOLS = "Edit,Write,NotebookEdit";

export class ClaudeDriver extends CliDriver {
  readonly name = "claude";
  readonly npmPackage = "@anthropic-ai/claude-code";
  readonly capabilities: DriverCapabilities = {
    model: true,
    // `--effort`: sent as the API's `output_config.effort` to the models that have one.
    effort: true,
    // `--agent <name>`: a built-in agent (Explore, Plan, ...) or one of .claude/agents.
    agentType: true,
    permissions: ["read-only", "edit", "full"],
    // A02: Claude Code's own built-in types; weft's definitions of them serve the other backends.
    builtinAgentTypes: ["general-purpose", "Explore", "Plan"],
  };

  protected invocation(task: AgentTask, _dir: string, extra: string[]): Invocation {
    const args = ["-p", "--output-format", "stream-json", "--verbose"];
    if (task.model) args.push("--model", task.model);
    if (task.effort !== undefined) args.push("--effort", effortLevel(task.effort));
    if (task.agentType) args.push("--agent", task.agentType);
    args.push(...permissionArgs(task.permissions));
    // D06: claude offers the model a StructuredOutput tool with this schema and validates its input.
    if (task.schema) args.push("--json-schema", JSON.stringify(task.schema));
    // `--` ends the options: a variadic option in `extra` (`--add-dir a b`) would otherwise take
    // the prompt as one more value, and a prompt starting with "-" would read as an option.
    args.push(...extra, "--", task.prompt);
    return { args, env: permissionEnv(task.permissions) };
  }

  protected read(event: Record<string, unknown>, state: StreamState, emit: (e: DriverEvent) => void): void {
    switch (event.type) {
      case "system":
        if (event.subtype === "init") {
          state.sessionId = str(event.session_id) ?? state.sessionId;
          state.model = str(event.model) ?? state.model;
        }
        return;
      case "assistant":
        readAssistant(event, state, emit);
        return;
      case "user":
        readToolResults(event, state, emit);
        return;
      case "result":
        readResult(event, state, emit);
        return;
    }
  }
}

function effortLevel(effort: string): string {
  const level = effort.toLowerCase();
  const mapped = EFFORT_ALIASES[level] ?? level;
  // claude would only warn on stderr and run at its default: refuse instead of ignoring the option.
  if (!EFFORTS.includes(mapped)) {
    throw new Error(`claude: effort "${effort}" is not one of minimal, ${EFFORTS.join(", ")}`);
  }
  return mapped;
}

/**
 * D05 through claude's permission system (it has no sandbox: allowed tools run on the host). In
 * print mode nobody can answer a permission prompt, so a tool use that would ask is denied (it
 * shows in the result's `permission_denials`) and the turn goes on: nothing waits.
 * - read-only: the file-editing tools are not offered, and `dontAsk` refuses every tool use that
 *   is not pre-approved, so a shell write is denied while claude's own read-only commands (ls,
 *   cat, grep, git log, ...) still run. A user's own allow rules in their settings still apply.
 * - edit: what Claude Code gives its own workflow agents: `acceptEdits` accepts file edits inside
 *   the working directories (and the file commands mkdir, touch, rm, rmdir, mv, cp, sed on paths
 *   there), and any other shell command runs only if the user's own allow rules (their settings'
 *   `permissions.allow`, which claude reads itself) permit it. No blanket `Bash`: a shell that runs
 *   anything is "full", asked for by name.
 * - full: no permission checks at all.
 */
function permissionArgs(permissions: Permissions): string[] {
  switch (permissions) {
    case "read-only":
      return ["--permission-mode", "dontAsk", `--disallowedTools=${EDIT_TOOLS},${FANOUT_TOOLS}`];
    case "edit":
      return ["--permission-mode", "acceptEdits", `--disallowedTools=${FANOUT_TOOLS}`];
    case "full":
      // Deny rules hold in bypassPermissions too.
      return ["--permission-mode", "bypassPermissions", `--disallowedTools=${FANOUT_TOOLS}`];
  }
}

/**
 * A15: Claude Code's own fan-out tools, which it forbids to its own workflow agents: `Workflow`
 * (dynamic workflows, up to 1,000 native agents) and `Agent` (sub-agents; `Task` is its older
 * name). Left on, one agent() could start agents outside weft's concurrency, budget and agent
 * caps. `CLAUDE_CODE_DISABLE_WORKFLOWS=1` turns workflows off as well.
 */
const FANOUT_TOOLS = "Workflow,Agent,Task";

/**
 * claude refuses `bypassPermissions` to root unless IS_SANDBOX=1 (containers and CI run as root);
 * the caller asked for full permissions explicitly, so the variable says so on its behalf. (claude
 * also reads it to keep retrying repeated 529s instead of giving up early; only "full" sets it.)
 */
function permissionEnv(permissions: Permissions): Record<string, string> {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const env: Record<string, string> = { CLAUDE_CODE_DISABLE_WORKFLOWS: "1" };
  if (permissions === "full" && root) env.IS_SANDBOX = "1";
  return env;
}

/** Names of the tool calls seen per stream, so a tool result can say which tool it answers. */
const toolNames = new WeakMap<StreamState, Map<string, string>>();

function blocks(message: Record<string, unknown> | undefined): Record<string, unknown>[] {
  const content = message?.content;
  return Array.isArray(content) ? content.map(obj).filter((b) => b !== undefined) : [];
}

function readAssistant(
  event: Record<string, unknown>,
  state: StreamState,
  emit: (e: DriverEvent) => void,
): void {
  const message = obj(event.message);
  const model = str(message?.model);
  // claude's own messages (model "<synthetic>") are not the model's words: an API failure comes
  // as one with an `error` field, and the `result` event after it has the error with its status.
  if (model === "<synthetic>") {
    const text = textBlocks(message).join("\n");
    if (event.error !== undefined && text) state.error = { message: text };
    return;
  }
  if (model) state.model = model;
  const texts = textBlocks(message);
  for (const block of blocks(message)) {
    if (block.type === "text") {
      const text = str(block.text);
      if (text) emit({ type: "text", text });
    } else if (block.type === "tool_use") {
      const name = str(block.name) ?? "tool";
      const id = str(block.id);
      if (id) {
        const names = toolNames.get(state) ?? new Map<string, string>();
        names.set(id, name);
        toolNames.set(state, names);
      }
      emit({ type: "tool_call", name, input: block.input });
    }
  }
  // The last assistant message so far; the `result` event gives the final answer itself.
  if (texts.length > 0) state.text = texts.join("\n");
}

function textBlocks(message: Record<string, unknown> | undefined): string[] {
  return blocks(message)
    .filter((b) => b.type === "text")
    .map((b) => str(b.text) ?? "")
    .filter((t) => t !== "");
}

function readToolResults(
  event: Record<string, unknown>,
  state: StreamState,
  emit: (e: DriverEvent) => void,
): void {
  for (const block of blocks(obj(event.message))) {
    if (block.type !== "tool_result") continue;
    const id = str(block.tool_use_id);
    emit({
      type: "tool_result",
      name: id ? toolNames.get(state)?.get(id) : undefined,
      output: resultText(block.content),
      isError: block.is_error === true,
    });
  }
}

/** A tool result's content: a string, or content blocks of which the text ones count. */
function resultText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  return content
    .map((b) => str(obj(b)?.text))
    .filter((t) => t !== undefined)
    .join("\n");
}

function readResult(
  event: Record<string, unknown>,
  state: StreamState,
  emit: (e: DriverEvent) => void,
): void {
  state.sessionId = str(event.session_id) ?? state.sessionId;
  const usage = resultUsage(event);
  if (usage) {
    state.usage = usage;
    emit({ type: "usage", usage });
  }
  if (event.is_error === true) {
    state.error = resultError(event);
    return;
  }
  const text = str(event.result);
  // C03: a subscription limit can come back as a "successful" turn whose text is the banner.
  if (text !== undefined && /^Claude AI usage limit reached\|\d+\s*$/.test(text.trim())) {
    state.error = { message: text.trim() };
    return;
  }
  // The turn succeeded after all (claude retried a failed request itself).
  state.error = undefined;
  if (text !== undefined && text !== "") state.text = text;
  // D06: with --json-schema, the input claude validated for its StructuredOutput tool.
  if (event.structured_output !== undefined && event.structured_output !== null) {
    state.object = event.structured_output;
  }
}

/**
 * D07: the session's usage from claude's own report. `modelUsage` has every model the turn used
 * (side requests to a small model included), which is also what `total_cost_usd` prices; `usage`
 * is only the main loop's. Anthropic's `input_tokens` excludes cache reads (weft's `cached`) and
 * cache writes, which are uncached input, so they are added to `input`. Anthropic counts thinking
 * inside `output_tokens` and reports no split, so `reasoning` stays 0 and `output` includes it.
 */
function resultUsage(event: Record<string, unknown>): Usage | undefined {
  const perModel = obj(event.modelUsage);
  const cost = typeof event.total_cost_usd === "number" ? { costUsd: event.total_cost_usd } : {};
  if (perModel && Object.keys(perModel).length > 0) {
    const usage: Usage = { input: 0, output: 0, cached: 0, reasoning: 0, ...cost };
    for (const m of Object.values(perModel).map(obj)) {
      usage.input += num(m?.inputTokens) + num(m?.cacheCreationInputTokens);
      usage.output += num(m?.outputTokens);
      usage.cached += num(m?.cacheReadInputTokens);
    }
    return usage;
  }
  const u = obj(event.usage);
  if (!u) return undefined;
  return {
    input: num(u.input_tokens) + num(u.cache_creation_input_tokens),
    output: num(u.output_tokens),
    cached: num(u.cache_read_input_tokens),
    reasoning: 0,
    ...cost,
  };
}

/** An error result: an API error (with its HTTP status), or a turn claude gave up on. */
function resultError(event: Record<string, unknown>): { message: string; status?: number } {
  const status = typeof event.api_error_status === "number" ? event.api_error_status : undefined;
  const errors = Array.isArray(event.errors) ? event.errors.filter((e) => typeof e === "string") : [];
  const text = str(event.result);
  const subtype = str(event.subtype) ?? "error";
  const message = [text, ...errors].filter((m) => m).join("\n") || `claude ended with ${subtype}`;
  return { message: subtype === "success" ? message : `${message} (${subtype})`, status };
}
