/**
 * OpenAI Chat Completions (`POST .../chat/completions`), streamed or not: pi
 * (`openai-completions`) and opencode (`@ai-sdk/openai-compatible`) speak it.
 */
import type { WireFormat } from "./index.js";
import { json, sse } from "./index.js";
import { shellCall } from "./rules.js";

type Msg = { role?: string; content?: unknown; tool_call_id?: string };

/** Text of a message's content, which is a string or a list of parts. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((p) =>
        p && typeof p === "object" && typeof (p as { text?: unknown }).text === "string"
          ? (p as { text: string }).text
          : "",
      )
      .join("\n");
  }
  return "";
}

let seq = 0;

/** opencode's title generator: its system prompt says what it is. */
function isTitleRequest(body: Record<string, unknown>): boolean {
  const messages = (Array.isArray(body.messages) ? body.messages : []) as Msg[];
  const system = messages.find((m) => m.role === "system");
  return textOf(system?.content).startsWith("You are a title generator");
}

/**
 * The shell call in the shape of the tool the CLI offered. A CLI run read-only may offer no shell
 * tool at all (pi with `--tools read,...`): the scripted model then asks for `bash` anyway, as a
 * real model sometimes does, so that the test sees the CLI refuse it rather than a server error.
 */
function shellCallOrRefused(
  tools: string[],
  command: string,
): { name: string; args: Record<string, unknown> } {
  try {
    return shellCall(tools, command);
  } catch {
    return { name: "bash", args: { command } };
  }
}

export const chat: WireFormat = {
  name: "chat",
  matches: (method, path) => method === "POST" && path.endsWith("/chat/completions"),
  aside(method, path, body, res) {
    // opencode names a new session with one more request to the model, which carries the whole
    // prompt: answered with a title here, outside the rules, so that its markers (a scripted
    // failure, a sleep) act only on the agent's own requests. weft passes --title, so it is rare.
    if (method !== "POST" || !path.endsWith("/chat/completions") || !body || !isTitleRequest(body))
      return false;
    const usage = { input: 0, output: 0, cached: 0, reasoning: 0 };
    chat.write(
      res,
      { reply: { kind: "text", text: "weft session" }, usage, delayMs: 0 },
      chat.read(body, path),
    );
    return true;
  },
  read(body) {
    const messages = (Array.isArray(body.messages) ? body.messages : []) as Msg[];
    const last = messages[messages.length - 1];
    const user = [...messages].reverse().find((m) => m.role === "user");
    const tools = (Array.isArray(body.tools) ? body.tools : [])
      .map((t: { function?: { name?: string } }) => t.function?.name)
      .filter((n): n is string => typeof n === "string");
    const rf = body.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined;
    return {
      format: "chat",
      model: typeof body.model === "string" ? body.model : undefined,
      userText: textOf(user?.content),
      toolResult: last?.role === "tool" ? textOf(last.content) : undefined,
      tools,
      schema: rf?.type === "json_schema" ? rf.json_schema?.schema : undefined,
      stream: body.stream === true,
    };
  },
  write(res, { reply, usage }, conv) {
    const id = `chatcmpl-${++seq}`;
    const model = conv.model ?? "mock-model";
    const created = Math.floor(Date.now() / 1000);
    const wireUsage = {
      // OpenAI counts cached tokens inside prompt_tokens and reasoning inside completion_tokens.
      prompt_tokens: usage.input + usage.cached,
      completion_tokens: usage.output + usage.reasoning,
      total_tokens: usage.input + usage.cached + usage.output + usage.reasoning,
      prompt_tokens_details: { cached_tokens: usage.cached },
      completion_tokens_details: { reasoning_tokens: usage.reasoning },
    };
    let message: Record<string, unknown>;
    let finish: string;
    if (reply.kind === "shell") {
      const call = shellCallOrRefused(conv.tools, reply.command);
      message = {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: `call_${seq}`,
            type: "function",
            function: { name: call.name, arguments: JSON.stringify(call.args) },
          },
        ],
      };
      finish = "tool_calls";
    } else {
      message = { role: "assistant", content: reply.kind === "error" ? "" : reply.text };
      finish = "stop";
    }
    if (!conv.stream) {
      json(res, 200, {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [{ index: 0, message, finish_reason: finish }],
        usage: wireUsage,
      });
      return;
    }
    const chunk = (
      delta: Record<string, unknown>,
      finish_reason: string | null,
      extra: Record<string, unknown> = {},
    ) => ({
      data: {
        id,
        object: "chat.completion.chunk",
        created,
        model,
        choices: [{ index: 0, delta, finish_reason }],
        ...extra,
      },
    });
    const events: { data: unknown }[] = [chunk({ role: "assistant", content: "" }, null)];
    if (message.tool_calls) {
      const tc = (message.tool_calls as Record<string, unknown>[])[0]!;
      events.push(chunk({ tool_calls: [{ index: 0, ...tc }] }, null));
    } else {
      events.push(chunk({ content: message.content }, null));
    }
    events.push(chunk({}, finish));
    events.push({
      data: { id, object: "chat.completion.chunk", created, model, choices: [], usage: wireUsage },
    });
    sse(res, [...events, { data: "[DONE]" }]);
  },
  writeError(res, status, message) {
    json(res, status, {
      error: { message, type: status === 429 ? "rate_limit_exceeded" : "invalid_request_error", code: null },
    });
  },
};
