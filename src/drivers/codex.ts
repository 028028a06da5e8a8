/**
 * The codex driver (D02): `codex exec --json`, which prints one JSON event a line:
 * `thread.started{thread_id}`, `turn.started`, `item.started|item.updated|item.completed{item}`
 * (agent messages, shell commands, file changes, MCP calls, web searches), and
 * `turn.completed{usage}` or `turn.failed{error}`; `error{message}` events come before a failure
 * and also as notices while codex retries a request itself ("Reconnecting... 1/5").
 *
 * Measured against @openai/codex 0.169.0.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { writeFileInPlaceSync } from "../store/safe-write.js";
import { CliDriver, type Invocation, num, obj, type StreamState, str } from "./cli-driver.js";
import { fromStrictValue, toStrictSchema } from "./codex-schema.js";
import type { Ended } from "./group-run.js";
import type { AgentTask, DriverCapabilities, DriverEvent, Permissions } from "./types.js";

/**
 * D05: codex's own sandbox modes (Landlock/seccomp or bubblewrap on Linux, Seatbelt on macOS).
 * `codex exec` sets its approval policy to "never" itself (unless the user's config picks the
 * auto-review reviewer), so nothing waits for an answer: a command the sandbox refuses fails and
 * the model sees the failure. Under "edit" (workspace-write) a command runs, but it can write only
 * inside the workspace (and the temp folders) and has no network unless the user's own config sets
 * `sandbox_workspace_write.network_access`; what reaches past that is what the user's own rules
 * (`~/.codex/rules`) allow. So the shell is bounded as file edits are, not a blanket one.
 */
const SANDBOX: Record<Permissions, string> = {
  "read-only": "read-only",
  edit: "workspace-write",
  full: "danger-full-access",
};

/** What one stream saw besides the StreamState: kept per run, the driver object is shared. */
interface CodexStream {
  /** Tool items already announced as a tool_call (item.started comes before item.completed). */
  announced: Set<string>;
  /** The last `error` event: a failure only if the turn does not complete after it. */
  lastError?: string;
  completed: boolean;
}

const streams = new WeakMap<StreamState, CodexStream>();

function streamOf(state: StreamState): CodexStream {
  let s = streams.get(state);
  if (!s) {
    s = { announced: new Set(), completed: false };
    streams.set(state, s);
  }
  return s;
}

export class CodexDriver extends CliDriver {
  readonly name = "codex";
  readonly npmPackage = "@openai/codex";
  readonly capabilities: DriverCapabilities = {
    model: true,
    // `-c model_reasoning_effort=<level>`: sent as the request's `reasoning.effort`.
    effort: true,
    // codex exec has no named agents to pick from the command line.
    agentType: false,
    permissions: ["read-only", "edit", "full"],
  };

  protected async invocation(task: AgentTask, dir: string, extra: string[]): Promise<Invocation> {
    // --skip-git-repo-check: weft runs agents wherever the user started it, repository or not.
    // -C: codex's workspace (the sandbox's writable root) is this folder, whatever the process cwd.
    const args = ["exec", "--json", "--skip-git-repo-check", "-C", task.cwd];
    if (task.model) args.push("-m", task.model);
    // Passed as given: codex sends any string on, and the API answers an unknown level with a 400
    // that names it (codex 0.169 knows none, minimal, low, medium, high, xhigh).
    if (task.effort !== undefined) args.push("-c", `model_reasoning_effort=${tomlString(task.effort)}`);
    args.push("-s", SANDBOX[task.permissions]);
    // A15: codex's own sub-agent tools (spawn_agent and the rest) would fan out outside weft's
    // limits: both generations of the feature are turned off (`codex features list` names them).
    args.push("--disable", "multi_agent", "--disable", "multi_agent_v2");
    if (task.permissions === "edit") {
      for (const d of await gitDirsOfWorktree(task.cwd)) args.push("--add-dir", d);
    }
    if (task.schema) {
      const strict = toStrictSchema(task.schema);
      // D06: native structured output where strict mode can express the schema; otherwise the
      // prompt's instructions and weft's own extraction and validation do the work (A03).
      if (strict.ok) {
        const file = join(dir, "output-schema.json");
        writeFileInPlaceSync(file, `${JSON.stringify(strict.schema, null, 2)}\n`);
        args.push("--output-schema", file);
      }
    }
    // `--` ends the options: a prompt starting with "-" would otherwise read as one.
    args.push(...extra, "--", task.prompt);
    return { args };
  }

  protected read(event: Record<string, unknown>, state: StreamState, emit: (e: DriverEvent) => void): void {
    const stream = streamOf(state);
    switch (event.type) {
      case "thread.started":
        state.sessionId = str(event.thread_id) ?? state.sessionId;
        return;
      case "item.started":
      case "item.updated":
      case "item.completed":
        readItem(obj(event.item), event.type === "item.completed", state, stream, emit);
        return;
      case "turn.completed":
        readUsage(obj(event.usage), state, emit);
        stream.completed = true;
        stream.lastError = undefined;
        return;
      case "turn.failed":
        state.error = apiError(
          str(obj(event.error)?.message) ?? stream.lastError ?? "codex: the turn failed",
        );
        return;
      case "error": {
        // Also a notice while codex retries on its own ("Reconnecting... waiting for network"): it
        // decides only if the turn then fails. Shown as the agent's activity meanwhile, so an
        // agent that cannot reach its model says so instead of looking silent for minutes.
        const message = str(event.message);
        if (message) {
          stream.lastError = message;
          emit({ type: "error", message });
        }
        return;
      }
    }
  }

  protected override async settle(
    state: StreamState,
    task: AgentTask,
    _dir: string,
    ended?: Ended,
  ): Promise<void> {
    const stream = streamOf(state);
    // An `error` with no `turn.failed` after it (codex ended early): the error is the reason.
    if (!state.error && !stream.completed && stream.lastError && ended?.kind === "exit") {
      state.error = apiError(stream.lastError);
    }
    if (task.schema && state.text && toStrictSchema(task.schema).ok) {
      // The final message is the JSON for the strict schema: map it back to the user's schema.
      try {
        state.object = fromStrictValue(JSON.parse(state.text), task.schema);
      } catch {
        // Not JSON after all: weft extracts and validates from the text, and repairs (A03).
      }
    }
    // codex's events do not say which model answered; its session file does.
    if (!state.model && state.sessionId)
      state.model = await sessionModel(this.codexHome(task), state.sessionId);
  }

  /** CODEX_HOME as the CLI will see it (the same layering as the process environment). */
  private codexHome(task: AgentTask): string {
    const env = { ...process.env, ...this.config.env, ...task.env };
    return env.CODEX_HOME || join(env.HOME || homedir(), ".codex");
  }
}

/** A TOML string for `-c key=value` (codex parses the value as TOML, else takes it raw). */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

function readItem(
  item: Record<string, unknown> | undefined,
  done: boolean,
  state: StreamState,
  stream: CodexStream,
  emit: (e: DriverEvent) => void,
): void {
  if (!item) return;
  const id = str(item.id) ?? "";
  const call = toolCall(item);
  if (call) {
    // A command refused by the sandbox comes only as item.completed: announce it then.
    if (!stream.announced.has(id)) {
      stream.announced.add(id);
      emit({ type: "tool_call", ...call });
    }
    if (done) emit({ type: "tool_result", name: call.name, ...toolResult(item) });
    return;
  }
  if (item.type === "agent_message" && done) {
    const text = str(item.text);
    if (text) {
      emit({ type: "text", text });
      // The last assistant message is the answer.
      state.text = text;
    }
  }
}

/** The tool call an item stands for, if it is one. */
function toolCall(item: Record<string, unknown>): { name: string; input?: unknown } | undefined {
  switch (item.type) {
    case "command_execution":
      return { name: "shell", input: { command: str(item.command) } };
    case "file_change":
      return { name: "apply_patch", input: { changes: item.changes } };
    case "mcp_tool_call":
      return { name: `${str(item.server) ?? "mcp"}.${str(item.tool) ?? "tool"}`, input: item.arguments };
    case "web_search":
      return { name: "web_search", input: { query: str(item.query) } };
    default:
      return undefined;
  }
}

function toolResult(item: Record<string, unknown>): { output?: string; isError?: boolean } {
  switch (item.type) {
    case "command_execution": {
      const code = item.exit_code;
      return {
        output: str(item.aggregated_output),
        isError: item.status === "failed" || (typeof code === "number" && code !== 0),
      };
    }
    case "mcp_tool_call": {
      const error = str(obj(item.error)?.message);
      return error
        ? { output: error, isError: true }
        : { output: JSON.stringify(item.result ?? null), isError: item.status === "failed" };
    }
    default:
      return { isError: item.status === "failed" };
  }
}

/**
 * D07: codex reports OpenAI's convention (cached input inside input_tokens, reasoning inside
 * output_tokens); weft's Usage keeps the four apart. A turn's usage sums its requests.
 */
function readUsage(
  usage: Record<string, unknown> | undefined,
  state: StreamState,
  emit: (e: DriverEvent) => void,
): void {
  if (!usage) return;
  const cached = num(usage.cached_input_tokens);
  const reasoning = num(usage.reasoning_output_tokens);
  const turn = {
    input: Math.max(0, num(usage.input_tokens) - cached),
    output: Math.max(0, num(usage.output_tokens) - reasoning),
    cached,
    reasoning,
  };
  state.usage = {
    input: state.usage.input + turn.input,
    output: state.usage.output + turn.output,
    cached: state.usage.cached + turn.cached,
    reasoning: state.usage.reasoning + turn.reasoning,
  };
  emit({ type: "usage", usage: turn });
}

/**
 * codex words an API failure in a few ways; the HTTP status, where it can be told, lets
 * classify.ts sort transient from fatal (C02, C03):
 * - `unexpected status 401 Unauthorized: <body>, url: ...` (most statuses);
 * - `exceeded retry limit, last status: 429 Too Many Requests` (a status it retries);
 * - the raw JSON error body for a 400 (`{"error":{"message":..., "type":"invalid_request_error"}}`);
 * - fixed texts for a 5xx ("We're currently experiencing high demand...") and for usage limits.
 */
export function apiError(message: string): { message: string; status?: number } {
  const body = errorBody(message);
  if (body) {
    const status =
      body.type === "invalid_request_error" ? 400 : body.type === "server_error" ? 500 : undefined;
    return { message: body.message, status };
  }
  const m = /\b(?:unexpected status|last status:?)\s+(\d{3})\b/i.exec(message);
  if (m) return { message, status: Number(m[1]) };
  if (/experiencing high demand/i.test(message)) return { message, status: 500 };
  // ChatGPT-plan usage limits and workspace credits: no retry helps until someone pays.
  if (/hit your usage limit|usage not included|out of credits|credit limit|spend cap/i.test(message)) {
    return { message, status: 402 };
  }
  return { message };
}

function errorBody(message: string): { message: string; type?: string } | undefined {
  if (!message.trimStart().startsWith("{")) return undefined;
  try {
    const error = obj(obj(JSON.parse(message))?.error);
    const text = str(error?.message);
    return text ? { message: text, type: str(error?.type) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The git folders an agent needs to write to for `git add` and `git commit` in a linked worktree
 * (weft's isolation: "worktree", W01), which are outside the worktree: codex's workspace-write
 * sandbox allows writes only under the workspace, and it keeps a workspace's git folder read-only
 * on purpose (it resolves the worktree's `.git` file to `<repo>/.git/worktrees/<n>`), so without
 * these an agent's commit fails with "Unable to create .../index.lock: Read-only file system".
 * Only what a commit writes is opened: the worktree's own admin folder (index, HEAD, its logs),
 * and the repository's objects, refs and ref logs. The repository's hooks and config stay
 * read-only, so that an agent cannot plant a hook that weft's or the user's next git command
 * would run outside the sandbox. A plain repository needs nothing: its `.git` is inside the
 * workspace and stays protected there, as codex intends.
 */
export async function gitDirsOfWorktree(cwd: string): Promise<string[]> {
  const gitdir = await linkedGitDir(cwd);
  if (!gitdir) return [];
  const common = await readFile(join(gitdir, "commondir"), "utf8").then(
    (c) => resolve(gitdir, c.trim()),
    () => undefined,
  );
  const dirs = [gitdir, ...(common ? ["objects", "refs", "logs"].map((d) => join(common, d)) : [])];
  const present = await Promise.all(
    dirs.map((d) =>
      stat(d).then(
        (s) => s.isDirectory(),
        () => false,
      ),
    ),
  );
  return dirs.filter((_, i) => present[i]);
}

/** The admin folder a linked worktree's `.git` file points to, found from any folder inside it. */
async function linkedGitDir(cwd: string): Promise<string | undefined> {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const dotGit = join(dir, ".git");
    const kind = await stat(dotGit).then(
      (s) => (s.isDirectory() ? "dir" : "file"),
      () => undefined,
    );
    // A .git folder: a plain repository (its own worktree), nothing outside to open.
    if (kind === "dir") return undefined;
    if (kind === "file") {
      const m = /^gitdir:\s*(.+)$/m.exec(await readFile(dotGit, "utf8"));
      return m ? resolve(dir, m[1]!.trim()) : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The model a session ran with, from its rollout file
 * (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl`, whose `turn_context` lines
 * carry the model); undefined when it cannot be found.
 */
async function sessionModel(codexHome: string, sessionId: string): Promise<string | undefined> {
  const now = new Date();
  // The folder is the session's local start date: today's, or yesterday's just after midnight.
  for (const d of [now, new Date(now.getTime() - 86_400_000)]) {
    const folder = join(
      codexHome,
      "sessions",
      String(d.getFullYear()),
      String(d.getMonth() + 1).padStart(2, "0"),
      String(d.getDate()).padStart(2, "0"),
    );
    const names = await readdir(folder).catch(() => [] as string[]);
    const name = names.find((n) => n.endsWith(`${sessionId}.jsonl`));
    if (!name) continue;
    const text = await readFile(join(folder, name), "utf8");
    for (const line of text.split("\n")) {
      if (!line.includes('"turn_context"')) continue;
      try {
        const model = str(obj(obj(JSON.parse(line))?.payload)?.model);
        if (model) return model;
      } catch {}
    }
    return undefined;
  }
  return undefined;
}
