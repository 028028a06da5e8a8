/**
 * Google Gemini generateContent (`POST /v1beta/models/<model>:streamGenerateContent?alt=sse` and
 * `:generateContent`), as the @google/genai SDK inside gemini-cli sends it. The model name is in
 * the URL path, not the body. Tool results come back as `functionResponse` parts of a user turn.
 */
import type { WireFormat } from "./index.js";
import { json, sse } from "./index.js";
import { type Conversation, type ScriptedUsage, shellCall } from "./rules.js";

type Part = {
  text?: string;
  thought?: boolean;
  functionCall?: { name?: string; args?: unknown };
  functionResponse?: { name?: string; response?: Record<string, unknown> };
};
type Content = { role?: string; parts?: Part[] };

const ROUTE = /\/models\/([^/:]+):(streamGenerateContent|generateContent)$/;

/** The shell tool of gemini-cli; asked for even when withheld (see `toolCall`). */
const GEMINI_SHELL = "run_shell_command";

const partsOf = (c: Content | undefined): Part[] => (Array.isArray(c?.parts) ? c.parts : []);

/**
 * What a tool returned: gemini-cli sends `{output}` on success and `{error}` on failure, the
 * output wrapped in `<untrusted_context>` tags, which a model reads past.
 */
function responseText(part: Part): string {
  const r = part.functionResponse?.response;
  if (!r) return "";
  const text =
    typeof r.output === "string" ? r.output : typeof r.error === "string" ? r.error : JSON.stringify(r);
  return text.replace(/<\/?untrusted_context>\n?/g, "");
}

/**
 * The shell call the model makes. A real model may ask for a tool the CLI did not offer; a CLI
 * that withheld its shell (read-only) must then refuse it, which is what the D05 test checks.
 */
function toolCall(tools: string[], command: string): { name: string; args: Record<string, unknown> } {
  try {
    return shellCall(tools, command);
  } catch {
    return { name: GEMINI_SHELL, args: { command, description: "run the requested command" } };
  }
}

/** Google counts cached tokens inside promptTokenCount and thoughts apart from candidates. */
function usageMetadata(u: ScriptedUsage) {
  return {
    promptTokenCount: u.input + u.cached,
    candidatesTokenCount: u.output,
    cachedContentTokenCount: u.cached,
    thoughtsTokenCount: u.reasoning,
    totalTokenCount: u.input + u.cached + u.output + u.reasoning,
  };
}

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

let seq = 0;

export const gemini: WireFormat = {
  name: "gemini",
  matches: (method, path) => method === "POST" && ROUTE.test(path),
  read(body, path): Conversation {
    const m = ROUTE.exec(path);
    const contents = (Array.isArray(body.contents) ? body.contents : []) as Content[];
    const last = contents[contents.length - 1];
    const isToolResult = (c: Content | undefined) => partsOf(c).some((p) => p.functionResponse);
    // The user's own words: the last user turn that is not a batch of tool results.
    const user = [...contents].reverse().find((c) => c.role === "user" && !isToolResult(c));
    const tools = (Array.isArray(body.tools) ? body.tools : []).flatMap(
      (t: { functionDeclarations?: { name?: string }[] }) =>
        (t.functionDeclarations ?? []).map((f) => f.name).filter((n): n is string => typeof n === "string"),
    );
    const gc = (body.generationConfig ?? {}) as Record<string, unknown>;
    return {
      format: "gemini",
      model: m?.[1],
      userText: partsOf(user)
        .map((p) => (typeof p.text === "string" ? p.text : ""))
        .join("\n"),
      toolResult:
        last?.role === "user" && isToolResult(last)
          ? partsOf(last)
              .filter((p) => p.functionResponse)
              .map(responseText)
              .join("\n")
          : undefined,
      tools,
      schema: gc.responseJsonSchema ?? gc.responseSchema,
      stream: m?.[2] === "streamGenerateContent",
    };
  },
  write(res, { reply, usage }, conv) {
    const responseId = `gemini-${++seq}`;
    const modelVersion = conv.model ?? "gemini-mock";
    const parts: Part[] = [];
    // A thinking model sends its thoughts as parts marked `thought`; they are not the answer.
    if (usage.reasoning > 0) parts.push({ text: "Thinking about the request.", thought: true });
    if (reply.kind === "shell") {
      parts.push({ functionCall: toolCall(conv.tools, reply.command) });
    } else if (reply.kind !== "error") {
      parts.push({ text: reply.text });
    }
    const final = {
      candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }],
      usageMetadata: usageMetadata(usage),
      modelVersion,
      responseId,
    };
    if (!conv.stream) {
      json(res, 200, final);
      return;
    }
    // Streamed text comes in pieces: split the answer so a reader must join the deltas.
    const last = parts[parts.length - 1];
    if (typeof last?.text === "string" && !last.thought && last.text.length > 1) {
      const cut = Math.ceil(last.text.length / 2);
      const chunk = (p: Part[]) => ({
        candidates: [{ content: { role: "model", parts: p }, index: 0 }],
        modelVersion,
        responseId,
      });
      const tail = [{ text: last.text.slice(cut) }];
      sse(res, [
        { data: chunk([...parts.slice(0, -1), { text: last.text.slice(0, cut) }]) },
        {
          data: {
            ...final,
            candidates: [{ ...final.candidates[0]!, content: { role: "model", parts: tail } }],
          },
        },
      ]);
      return;
    }
    sse(res, [{ data: final }]);
  },
  writeError(res, status, message) {
    json(res, status, { error: { code: status, message, status: STATUS_NAMES[status] ?? "UNKNOWN" } });
  },
};
