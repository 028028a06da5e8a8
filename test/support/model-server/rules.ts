/**
 * The scripted model's rules, shared by every wire format. A format adapter reads a request into
 * a {@link Conversation}; {@link decide} picks the reply from markers in the last user text; the
 * adapter writes the reply in its own wire shape. Markers (anywhere in the user text):
 *
 * - `[[reply: TEXT]]`      the final answer is TEXT (default: "ok").
 * - `[[run: CMD]]`         first a shell tool call running CMD (in the shape of the shell tool the
 *                          CLI offered), then, once the tool result comes back, the final answer
 *                          `ran: <first line of the output>` (or the `reply` marker when given).
 * - `[[json: {...}]]`      the final answer is this JSON (sent through the native structured
 *                          output channel when the request has one).
 * - `[[status: N KEY xM]]` answer HTTP N with an error body for the first M requests carrying KEY
 *                          (default M: always); later requests go on as usual.
 * - `[[usage: in=A out=B cached=C reasoning=D]]` the token usage reported on every response.
 * - `[[sleep: MS]]`        hold the response that long before answering (a turn to stop).
 */

export interface Conversation {
  /** Which wire format read the request. */
  format: "responses" | "chat" | "anthropic" | "gemini";
  model?: string;
  /** The text of the last user message that is not a tool result. */
  userText: string;
  /** Set when the last input is a tool result: its output text. */
  toolResult?: string;
  /** Names of the tools the request offers (a tool inside a namespace as `<namespace>/<tool>`). */
  tools: string[];
  /** A structured-output schema the request asks for natively, if any. */
  schema?: unknown;
  /** Whether the request asks for a streamed answer. */
  stream: boolean;
}

export interface ScriptedUsage {
  input: number;
  output: number;
  cached: number;
  reasoning: number;
}

export type Reply =
  | { kind: "text"; text: string }
  /** A structured answer; the adapter sends it natively when the request had a schema. */
  | { kind: "json"; value: unknown; text: string }
  | { kind: "shell"; command: string }
  | { kind: "error"; status: number; message: string };

/**
 * A call of any tool the request offers, by name, with these arguments: a test's own responder
 * sends it (e.g. to an MCP tool). Written by the formats that have `writeCall` (Responses so far).
 */
export interface CallReply {
  kind: "call";
  name: string;
  args: Record<string, unknown>;
  /** The namespace the tool is in, when the request offers it inside one (codex's MCP tools). */
  namespace?: string;
  /** Hold the reply this long first. */
  delayMs?: number;
}

export interface Decision {
  reply: Reply;
  usage: ScriptedUsage;
  delayMs: number;
}

const marker = (text: string, name: string): string | undefined => {
  // The last occurrence wins: a repair prompt may quote the first.
  const re = new RegExp(`\\[\\[${name}:\\s*([\\s\\S]*?)\\]\\]`, "g");
  let found: string | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) found = m[1]!.trim();
  return found;
};

export const DEFAULT_USAGE: ScriptedUsage = { input: 11, output: 7, cached: 0, reasoning: 0 };

export function scriptedUsage(text: string): ScriptedUsage {
  const spec = marker(text, "usage");
  const usage = { ...DEFAULT_USAGE };
  if (!spec) return usage;
  for (const part of spec.split(/\s+/)) {
    const [k, v] = part.split("=");
    const n = Number(v);
    if (!Number.isFinite(n)) continue;
    if (k === "in") usage.input = n;
    else if (k === "out") usage.output = n;
    else if (k === "cached") usage.cached = n;
    else if (k === "reasoning") usage.reasoning = n;
  }
  return usage;
}

/** Requests seen per `[[status]]` key, so "fail twice, then succeed" works across attempts. */
export class ServerState {
  readonly failures = new Map<string, number>();
}

export function decide(conv: Conversation, state: ServerState): Decision {
  const text = conv.userText;
  const usage = scriptedUsage(text);
  const delayMs = Number(marker(text, "sleep") ?? 0) || 0;
  const status = marker(text, "status");
  if (status) {
    const [code, key = "", times] = status.split(/\s+/);
    const seen = state.failures.get(key) ?? 0;
    const limit = times?.startsWith("x") ? Number(times.slice(1)) : Number.POSITIVE_INFINITY;
    if (seen < limit) {
      state.failures.set(key, seen + 1);
      const n = Number(code);
      return { reply: { kind: "error", status: n, message: errorMessage(n, key) }, usage, delayMs };
    }
  }
  const run = marker(text, "run");
  if (run && conv.toolResult === undefined) return { reply: { kind: "shell", command: run }, usage, delayMs };
  const json = marker(text, "json");
  if (json !== undefined) {
    return { reply: { kind: "json", value: JSON.parse(json), text: json }, usage, delayMs };
  }
  const reply = marker(text, "reply");
  if (reply !== undefined) return { reply: { kind: "text", text: reply }, usage, delayMs };
  if (conv.toolResult !== undefined) {
    const first = conv.toolResult.trim().split("\n")[0] ?? "";
    return { reply: { kind: "text", text: `ran: ${first}` }, usage, delayMs };
  }
  return { reply: { kind: "text", text: "ok" }, usage, delayMs };
}

function errorMessage(status: number, key: string): string {
  if (status === 429) return `Rate limit reached (scripted ${key})`;
  if (status >= 500) return `The server had an error (scripted ${key})`;
  if (status === 401) return `Invalid API key (scripted ${key})`;
  return `Bad request: scripted failure ${key}`;
}

/**
 * The shell tools the CLIs offer, and the shape of their arguments. An adapter picks the first
 * one the request offers.
 */
export const SHELL_TOOLS: Record<string, (command: string) => Record<string, unknown>> = {
  exec_command: (command) => ({ cmd: command }),
  shell: (command) => ({ command: ["bash", "-lc", command] }),
  Bash: (command) => ({ command, description: "run the requested command" }),
  bash: (command) => ({ command, description: "run the requested command" }),
  run_shell_command: (command) => ({ command, description: "run the requested command" }),
};

export function shellCall(tools: string[], command: string): { name: string; args: Record<string, unknown> } {
  for (const name of Object.keys(SHELL_TOOLS)) {
    if (tools.includes(name)) return { name, args: SHELL_TOOLS[name]!(command) };
  }
  throw new Error(`the request offers no shell tool I know (offered: ${tools.join(", ") || "none"})`);
}
