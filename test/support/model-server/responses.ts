/**
 * OpenAI Responses (`POST .../responses`), streamed as Server-Sent Events the way the real API
 * does: codex speaks only this format (its `wire_api = "responses"`), and reads the stream in the
 * real order: `response.created`, then per output item `response.output_item.added` and
 * `response.output_item.done`, then `response.completed` with the usage. A non-streamed request
 * gets the finished response object.
 */
import type { ServerResponse } from "node:http";
import type { WireFormat } from "./index.js";
import { json, sse } from "./index.js";
import type { CallReply, Conversation, Decision } from "./rules.js";
import { shellCall } from "./rules.js";

type Item = Record<string, unknown> & { type?: string; role?: string; content?: unknown };

/** Text of an input item's content: a string or a list of `input_text`/`output_text` parts. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((p) =>
      p && typeof p === "object" && typeof (p as { text?: unknown }).text === "string"
        ? (p as { text: string }).text
        : "",
    )
    .join("\n");
}

/**
 * The output of a `function_call_output` (or `custom_tool_call_output`) item: a string, or a
 * list of content parts in newer clients.
 */
function outputOf(item: Item): string {
  return textOf(item.output);
}

/** A tool's name: `function` and `custom` tools carry it at the top level in this format. */
function toolName(tool: unknown): string | undefined {
  const t = tool as { name?: unknown; type?: unknown } | null;
  if (t && typeof t.name === "string") return t.name;
  // A tool of a type of its own (codex's `tool_search`) is named by its type.
  if (t && t.type === "tool_search") return "tool_search";
  return undefined;
}

/**
 * The tools inside namespaces (codex groups an MCP server's tools in one), from the request's
 * tools and from the outputs of codex's tool_search, as `<namespace>/<tool>`.
 */
function namespacedTools(body: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (tools: unknown) => {
    for (const t of Array.isArray(tools) ? tools : []) {
      const ns = t as { type?: unknown; name?: unknown; tools?: unknown };
      if (ns?.type !== "namespace" || typeof ns.name !== "string") continue;
      for (const sub of Array.isArray(ns.tools) ? ns.tools : []) {
        const name = (sub as { name?: unknown })?.name;
        if (typeof name === "string") out.push(`${ns.name}/${name}`);
      }
    }
  };
  walk(body.tools);
  for (const item of Array.isArray(body.input) ? (body.input as Item[]) : []) {
    if (item.type === "tool_search_output") walk(item.tools);
  }
  return out;
}

let seq = 0;

function schemaOf(body: Record<string, unknown>): unknown {
  const format = (body.text as { format?: { type?: string; schema?: unknown } } | undefined)?.format;
  return format?.type === "json_schema" ? format.schema : undefined;
}

/** The output item for a decision: an assistant message, or a function call to the shell tool. */
function outputItem(decision: Decision, conv: Conversation, n: number): Item {
  const { reply } = decision;
  if (reply.kind === "shell") return functionCall(shellCall(conv.tools, reply.command), n);
  const text = reply.kind === "error" ? "" : reply.text;
  return {
    type: "message",
    id: `msg_${n}`,
    role: "assistant",
    status: "completed",
    content: [{ type: "output_text", text, annotations: [] }],
  };
}

function functionCall(
  call: { name: string; args: Record<string, unknown>; namespace?: string },
  n: number,
): Item {
  return {
    type: "function_call",
    id: `fc_${n}`,
    call_id: `call_${n}`,
    name: call.name,
    ...(call.namespace !== undefined ? { namespace: call.namespace } : {}),
    arguments: JSON.stringify(call.args),
    status: "completed",
  };
}

/** OpenAI's convention: cached tokens are inside input_tokens, reasoning inside output_tokens. */
function wireUsage(usage: Decision["usage"]) {
  const input = usage.input + usage.cached;
  const output = usage.output + usage.reasoning;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage.reasoning },
    total_tokens: input + output,
  };
}

function writeStream(res: ServerResponse, response: Record<string, unknown>, item: Item): void {
  const inProgress = { ...response, status: "in_progress", output: [], usage: null };
  const events: { event: string; data: Record<string, unknown> }[] = [
    { event: "response.created", data: { type: "response.created", response: inProgress } },
    {
      event: "response.output_item.added",
      data: {
        type: "response.output_item.added",
        output_index: 0,
        item: item.type === "message" ? { ...item, status: "in_progress", content: [] } : item,
      },
    },
  ];
  if (item.type === "message") {
    // The text as one delta, as a streaming client expects before the item is done.
    const text = textOf(item.content);
    events.push({
      event: "response.output_text.delta",
      data: {
        type: "response.output_text.delta",
        item_id: item.id,
        output_index: 0,
        content_index: 0,
        delta: text,
      },
    });
  }
  events.push(
    {
      event: "response.output_item.done",
      data: { type: "response.output_item.done", output_index: 0, item },
    },
    { event: "response.completed", data: { type: "response.completed", response } },
  );
  sse(
    res,
    events.map((e, i) => ({ event: e.event, data: { ...e.data, sequence_number: i } })),
  );
}

function writeItem(
  res: ServerResponse,
  item: Item,
  n: number,
  usage: Decision["usage"],
  conv: Conversation,
): void {
  const response = {
    id: `resp_${n}`,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status: "completed",
    model: conv.model ?? "mock-model",
    output: [item],
    usage: wireUsage(usage),
  };
  if (conv.stream) writeStream(res, response, item);
  else json(res, 200, response);
}

export const responses: WireFormat = {
  name: "responses",
  matches: (method, path) => method === "POST" && path.endsWith("/responses"),
  read(body) {
    const input = (Array.isArray(body.input) ? body.input : []) as Item[];
    const last = input[input.length - 1];
    const user = [...input].reverse().find((m) => m.type === "message" && m.role === "user");
    const isResult =
      last?.type === "function_call_output" ||
      last?.type === "custom_tool_call_output" ||
      last?.type === "tool_search_output";
    const tools = (Array.isArray(body.tools) ? body.tools : [])
      .map(toolName)
      .filter((n): n is string => n !== undefined)
      .concat(namespacedTools(body));
    return {
      format: "responses",
      model: typeof body.model === "string" ? body.model : undefined,
      userText: typeof body.input === "string" ? body.input : textOf(user?.content),
      toolResult: isResult && last ? outputOf(last) : undefined,
      tools,
      schema: schemaOf(body),
      stream: body.stream === true,
    };
  },
  write(res, decision, conv) {
    const n = ++seq;
    writeItem(res, outputItem(decision, conv, n), n, decision.usage, conv);
  },
  writeCall(res, call: CallReply, usage, conv) {
    const n = ++seq;
    // codex's `tool_search` (deferred MCP tools) is a tool of its own type, run by the client.
    const item =
      call.name === "tool_search"
        ? { type: "tool_search_call", call_id: `search_${n}`, execution: "client", arguments: call.args }
        : functionCall(call, n);
    writeItem(res, item, n, usage, conv);
  },
  writeError(res, status, message) {
    // OpenAI's error shape; the type and code tell rate limits from bad requests and bad keys.
    const type =
      status === 429
        ? "rate_limit_exceeded"
        : status === 401
          ? "invalid_request_error"
          : status >= 500
            ? "server_error"
            : "invalid_request_error";
    const code = status === 429 ? "rate_limit_exceeded" : status === 401 ? "invalid_api_key" : null;
    json(res, status, { error: { message, type, param: null, code } });
  },
};
