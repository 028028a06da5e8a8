/**
 * Who may talk to `weft ui` (U08). The server binds to loopback, but any web page the user opens
 * can send requests to loopback ports, and a DNS-rebinding page can even read the answers. So:
 * - every request carries the run's random token (the URL's `?token=` on the first load, then a
 *   SameSite=Strict, HttpOnly cookie; or the `X-Weft-Token` header);
 * - the `Host` header must name this server (a rebinding page sends its own host name);
 * - a request that changes something is a POST with the token in the header, which a cross-site
 *   form cannot set, and its `Origin`, when present, must be this server;
 * - no CORS headers are ever sent, so other origins cannot read responses.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const TOKEN_COOKIE = "weft_token";
export const TOKEN_HEADER = "x-weft-token";

export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

export class Guard {
  private readonly hosts: Set<string>;

  constructor(
    readonly token: string,
    host: string,
    port: number,
  ) {
    const names = new Set([host.toLowerCase()]);
    if (isLoopback(host)) for (const n of ["127.0.0.1", "localhost", "[::1]"]) names.add(n);
    this.hosts = new Set(
      [...names].map((n) => `${n.includes(":") && !n.startsWith("[") ? `[${n}]` : n}:${port}`),
    );
  }

  /** The Host header names this server. */
  hostOk(req: IncomingMessage): boolean {
    const h = req.headers.host?.toLowerCase();
    return h !== undefined && this.hosts.has(h);
  }

  /** Where the request's token came from, or undefined when it has none that matches. */
  tokenOf(req: IncomingMessage, url: URL): "query" | "cookie" | "header" | undefined {
    const header = req.headers[TOKEN_HEADER];
    if (typeof header === "string" && this.same(header)) return "header";
    const query = url.searchParams.get("token");
    if (query !== null && this.same(query)) return "query";
    const cookie = cookieOf(req, TOKEN_COOKIE);
    if (cookie !== undefined && this.same(cookie)) return "cookie";
    return undefined;
  }

  /** A POST may change things only with the header token and, when sent, this server's Origin. */
  mutationOk(req: IncomingMessage): boolean {
    const header = req.headers[TOKEN_HEADER];
    if (typeof header !== "string" || !this.same(header)) return false;
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    try {
      return this.hosts.has(new URL(origin).host.toLowerCase());
    } catch {
      return false;
    }
  }

  private same(given: string): boolean {
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
