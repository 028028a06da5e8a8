/**
 * A scripted model server on loopback for the contract tests (D10): it speaks the wire formats the
 * agent CLIs use (OpenAI Responses, OpenAI Chat Completions, Anthropic Messages, Gemini
 * streamGenerateContent), answers by the rules in rules.ts, and logs every request so a test can
 * check what a CLI sent as well as what it printed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { anthropic } from "./anthropic.js";
import { chat } from "./chat.js";
import { gemini } from "./gemini.js";
import { responses } from "./responses.js";
import {
  type CallReply,
  type Conversation,
  type Decision,
  decide,
  type Reply,
  ServerState,
  scriptedUsage,
} from "./rules.js";

export interface WireFormat {
  name: Conversation["format"];
  matches(method: string, path: string): boolean;
  read(body: Record<string, unknown>, path: string): Conversation;
  /** Writes a successful reply (streamed when the request asked for it). */
  write(res: ServerResponse, decision: Decision, conv: Conversation): void;
  /** Writes a call of a tool by name (a {@link CallReply}); formats without it answer 501. */
  writeCall?(res: ServerResponse, call: CallReply, usage: Decision["usage"], conv: Conversation): void;
  /** Writes an HTTP error in the format's own error shape. */
  writeError(res: ServerResponse, status: number, message: string): void;
  /** Answers a request outside the conversation (a probe, a token count) without the rules; true when it did. */
  aside?(
    method: string,
    path: string,
    body: Record<string, unknown> | undefined,
    res: ServerResponse,
  ): boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  /** The parsed JSON body, when there was one. */
  body?: Record<string, unknown>;
  format?: Conversation["format"];
  conversation?: Conversation;
  reply?: Decision["reply"] | CallReply;
}

export interface ModelServer {
  /** `http://127.0.0.1:PORT`, without a path. */
  url: string;
  port: number;
  requests: LoggedRequest[];
  /** Requests in one of the model formats (not HEAD probes, not model lists). */
  modelRequests(): LoggedRequest[];
  close(): Promise<void>;
}

const FORMATS: WireFormat[] = [responses, chat, anthropic, gemini];

export interface ModelServerOptions {
  /**
   * A test's own model, asked before the markers: for prompts a test cannot put markers in (an
   * example workflow's). Returning undefined leaves the request to the rules.
   */
  respond?(conv: Conversation): Reply | CallReply | undefined;
}

export async function startModelServer(opts: ModelServerOptions = {}): Promise<ModelServer> {
  const state = new ServerState();
  const requests: LoggedRequest[] = [];
  const server = createServer((req, res) => {
    void handle(req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `model server: ${(e as Error).message}` } }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const path = (req.url ?? "/").split("?")[0]!;
    const method = req.method ?? "GET";
    const entry: LoggedRequest = { method, path, headers: req.headers };
    requests.push(entry);
    if (raw) {
      try {
        entry.body = JSON.parse(raw) as Record<string, unknown>;
      } catch {}
    }
    if (FORMATS.some((f) => f.aside?.(method, path, entry.body, res))) return;
    const format = FORMATS.find((f) => f.matches(method, path));
    if (!format || !entry.body) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no route for ${method} ${path}` } }));
      return;
    }
    const conv = format.read(entry.body, path);
    const own = opts.respond?.(conv);
    if (own?.kind === "call") {
      entry.format = format.name;
      entry.conversation = conv;
      entry.reply = own;
      if (own.delayMs) await new Promise((r) => setTimeout(r, own.delayMs));
      if (format.writeCall) format.writeCall(res, own, scriptedUsage(conv.userText), conv);
      else
        format.writeError(
          res,
          501,
          `model server: the ${format.name} format cannot send a named tool call yet`,
        );
      return;
    }
    const decision: Decision = own
      ? { reply: own, usage: scriptedUsage(conv.userText), delayMs: 0 }
      : decide(conv, state);
    entry.format = format.name;
    entry.conversation = conv;
    entry.reply = decision.reply;
    if (decision.delayMs > 0) {
      const gone = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), decision.delayMs);
        res.once("close", () => {
          clearTimeout(t);
          resolve(true);
        });
      });
      if (gone) return;
    }
    if (decision.reply.kind === "error")
      format.writeError(res, decision.reply.status, decision.reply.message);
    else format.write(res, decision, conv);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    modelRequests: () => requests.filter((r) => r.format !== undefined),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes Server-Sent Events: `event:` lines only when a name is given. */
export function sse(res: ServerResponse, events: { event?: string; data: unknown }[]): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  for (const e of events) {
    if (e.event) res.write(`event: ${e.event}\n`);
    res.write(`data: ${typeof e.data === "string" ? e.data : JSON.stringify(e.data)}\n\n`);
  }
  res.end();
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
