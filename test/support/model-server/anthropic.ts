/**
 * Anthropic Messages (`POST /v1/messages`, claude sends `?beta=true`), streamed or not: the claude
 * CLI speaks it (pi's `anthropic-messages` too). Also the requests around the conversation that
 * must not count as model turns: the `HEAD /` probe claude sends first, and token counting.
 */
import type { ServerResponse } from "node:http";
import type { WireFormat } from "./index.js";
import { json, sse } from "./index.js";
import { type Conversation, type Decision, type ScriptedUsage, shellCall } from "./rules.js";

type Block = { type?: string; text?: unknown; content?: unknown };
type Msg = { role?: string; content?: unknown };

/** claude's tool for native structured output (`--json-schema`): the answer is its input. */
export const STRUCTURED_OUTPUT_TOOL = "StructuredOutput";

/** A message's content as blocks: Anthropic accepts a plain string too. */
function blocks(content: unknown): Block[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? (content.filter((b) => b && typeof b === "object") as Block[]) : [];
}

function textOf(content: unknown): string {
  return blocks(content)
    .map((b) => (b.type === "text" && typeof b.text === "string" ? b.text : ""))
    .filter((t) => t !== "")
    .join("\n");
}

const isToolResult = (m: Msg) => m.role === "user" && blocks(m.content).some((b) => b.type === "tool_result");

/** A tool result's output: a string, or text blocks. */
function toolResultText(m: Msg): string {
  const results = blocks(m.content).filter((b) => b.type === "tool_result");
  return results.map((b) => (typeof b.content === "string" ? b.content : textOf(b.content))).join("\n");
}

let seq = 0;

/** Anthropic's error `type` for an HTTP status, as the real API names them. */
function errorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 402) return "billing_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status === 529) return "overloaded_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

/**
 * Anthropic counts neither overlap weft avoids: `input_tokens` already excludes the cache
 * (`cache_read_input_tokens`), but `output_tokens` includes the thinking tokens, with no split.
 */
function wireUsage(usage: ScriptedUsage) {
  return {
    input_tokens: usage.input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: usage.cached,
    output_tokens: usage.output + usage.reasoning,
  };
}

type Content =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown };

/** The reply as content blocks, and why the turn stopped. */
function content(reply: Decision["reply"], conv: Conversation): { blocks: Content[]; stop: string } {
  const id = `toolu_${String(++seq).padStart(6, "0")}`;
  if (reply.kind === "shell") {
    const call = shellCall(conv.tools, reply.command);
    return { blocks: [{ type: "tool_use", id, name: call.name, input: call.args }], stop: "tool_use" };
  }
  // Native structured output: call the tool once; after its result comes back, end the turn.
  if (reply.kind === "json" && conv.schema !== undefined && conv.toolResult === undefined) {
    return {
      blocks: [{ type: "tool_use", id, name: STRUCTURED_OUTPUT_TOOL, input: reply.value }],
      stop: "tool_use",
    };
  }
  return { blocks: [{ type: "text", text: reply.kind === "error" ? "" : reply.text }], stop: "end_turn" };
}

/** The stream of one message, in the real API's order. */
function events(id: string, model: string, out: { blocks: Content[]; stop: string }, usage: ScriptedUsage) {
  const u = wireUsage(usage);
  const list: { event: string; data: unknown }[] = [];
  const add = (event: string, data: Record<string, unknown>) =>
    list.push({ event, data: { type: event, ...data } });
  add("message_start", {
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // The opening usage: the whole input, and the first output token, as the API sends it.
      usage: { ...u, output_tokens: 1 },
    },
  });
  out.blocks.forEach((b, index) => {
    if (b.type === "text") {
      add("content_block_start", { index, content_block: { type: "text", text: "" } });
      add("content_block_delta", { index, delta: { type: "text_delta", text: b.text } });
    } else {
      add("content_block_start", {
        index,
        content_block: { type: "tool_use", id: b.id, name: b.name, input: {} },
      });
      add("content_block_delta", {
        index,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(b.input) },
      });
    }
    add("content_block_stop", { index });
  });
  add("message_delta", { delta: { stop_reason: out.stop, stop_sequence: null }, usage: u });
  add("message_stop", {});
  return list;
}

/** A rough token count for `count_tokens`: about four characters a token, as Anthropic's own rule of thumb. */
function countTokens(body: Record<string, unknown>): number {
  return Math.max(1, Math.ceil(JSON.stringify(body).length / 4));
}

export const anthropic: WireFormat = {
  name: "anthropic",
  matches: (method, path) => method === "POST" && /\/v1\/messages$/.test(path),
  aside(
    method: string,
    path: string,
    body: Record<string, unknown> | undefined,
    res: ServerResponse,
  ): boolean {
    // claude's connectivity probe before its first request: the server is there.
    if (method === "HEAD" && path === "/") {
      res.writeHead(200);
      res.end();
      return true;
    }
    if (method === "POST" && /\/v1\/messages\/count_tokens$/.test(path)) {
      json(res, 200, { input_tokens: countTokens(body ?? {}) });
      return true;
    }
    return false;
  },
  read(body) {
    // claude puts `role: "system"` entries inside `messages`; they are not the conversation.
    const messages = ((Array.isArray(body.messages) ? body.messages : []) as Msg[]).filter(
      (m) => m && typeof m === "object" && m.role !== "system",
    );
    const last = messages[messages.length - 1];
    const user = [...messages].reverse().find((m) => m.role === "user" && !isToolResult(m));
    const toolList = (Array.isArray(body.tools) ? body.tools : []) as {
      name?: unknown;
      input_schema?: unknown;
    }[];
    const tools = toolList.map((t) => t?.name).filter((n): n is string => typeof n === "string");
    const structured = toolList.find((t) => t?.name === STRUCTURED_OUTPUT_TOOL);
    return {
      format: "anthropic",
      model: typeof body.model === "string" ? body.model : undefined,
      userText: textOf(user?.content),
      toolResult: last && isToolResult(last) ? toolResultText(last) : undefined,
      tools,
      schema: structured ? (structured.input_schema ?? {}) : undefined,
      stream: body.stream === true,
    };
  },
  write(res, { reply, usage }, conv) {
    const id = `msg_${String(++seq).padStart(6, "0")}`;
    const model = conv.model ?? "claude-mock";
    const out = content(reply, conv);
    if (!conv.stream) {
      json(res, 200, {
        id,
        type: "message",
        role: "assistant",
        model,
        content: out.blocks,
        stop_reason: out.stop,
        stop_sequence: null,
        usage: wireUsage(usage),
      });
      return;
    }
    sse(res, events(id, model, out, usage));
  },
  writeError(res, status, message) {
    json(res, status, { type: "error", error: { type: errorType(status), message } });
  },
};
