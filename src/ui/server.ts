/**
 * `weft ui` (U08): a local dashboard over the run directories of one project. node:http and a
 * page of plain JavaScript shipped in the package (ui/): no framework to build, nothing fetched
 * from the network. Live views are server-sent events: the run page gets events.jsonl as it grows
 * (raw lines, never parsed here, so a large run costs the server little), the runs page a fresh
 * list when a run.json changes.
 */
import { execFile } from "node:child_process";
import { open, readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ControlRequest } from "../control/channel.js";
import { type ControlOutcome, controlRun } from "../control/client.js";
import { createDriver } from "../drivers/registry.js";
import type { Driver } from "../drivers/types.js";
import { CompareError, compareRuns, executionsOf } from "./compare.js";
import { agentDetail, listRuns, NotFound, runDetail, runDirOf } from "./data.js";
import { Guard, newToken, TOKEN_COOKIE } from "./guard.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The page's files: `ui/` at the package root (dist/ui/server.js → ../../ui). */
const ASSETS = resolve(here, "..", "..", "ui");
const CLI = resolve(here, "..", "cli", "main.js");

const STATIC: Record<string, string> = {
  "/app.js": "text/javascript; charset=utf-8",
  "/app.css": "text/css; charset=utf-8",
};

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-store",
};

export interface UiOptions {
  /** The project whose `.weft/runs` the dashboard shows. */
  cwd: string;
  host?: string;
  /** 0 (default): a free port. */
  port?: number;
  token?: string;
}

export interface UiServer {
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const POLL_MS = 250;

export async function startUi(o: UiOptions): Promise<UiServer> {
  const host = o.host ?? "127.0.0.1";
  const token = o.token ?? newToken();
  const streams = new Set<ServerResponse>();
  let guard: Guard | undefined;
  const drivers = new Map<string, Driver | undefined>();
  const driverOf = (name: string) => {
    if (!drivers.has(name)) {
      let d: Driver | undefined;
      try {
        d = name === "command" ? undefined : createDriver(name, { killGraceMs: 0 });
      } catch {
        d = undefined;
      }
      drivers.set(name, d);
    }
    return drivers.get(name);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      if (!res.headersSent) send(res, e instanceof NotFound ? 404 : 500, { error: e.message });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const g = guard!;
    if (!g.hostOk(req)) return send(res, 421, { error: "this server does not serve that host name" });
    const url = new URL(req.url ?? "/", "http://x");
    const via = g.tokenOf(req, url);
    if (!via) {
      return send(res, 401, {
        error: "weft ui needs its token: open the URL that `weft ui` printed (http://…/?token=…)",
      });
    }
    const path = url.pathname;
    if (req.method === "POST") {
      if (!g.mutationOk(req))
        return send(res, 403, { error: "a change needs the token in the X-Weft-Token header" });
      const m = /^\/api\/runs\/([^/]+)\/control$/.exec(path);
      if (!m) return send(res, 404, { error: "no such action" });
      const body = await readBody(req);
      return send(res, 200, await control(o.cwd, decodeURIComponent(m[1]!), body));
    }
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "GET or POST" });

    if (path === "/" || path === "/index.html") {
      // The page needs the token for its POSTs; it is only ever sent to a request that had it.
      const html = (await readFile(join(ASSETS, "index.html"), "utf8")).replace("{{TOKEN}}", token);
      const headers: Record<string, string> = { "content-type": "text/html; charset=utf-8" };
      // The first load brings the token in the URL; from then on the page's requests carry the
      // cookie (EventSource cannot set headers), and the page drops the token from its address.
      if (via === "query")
        headers["set-cookie"] = `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
      return sendRaw(res, 200, html, headers);
    }
    const type = STATIC[path];
    if (type) return sendRaw(res, 200, await readFile(join(ASSETS, path.slice(1))), { "content-type": type });

    if (path === "/api/runs") return send(res, 200, await listRuns(o.cwd));
    if (path === "/api/runs/stream") return streamRuns(req, res);
    if (path === "/api/compare") {
      const a = url.searchParams.get("a") ?? "";
      const b = url.searchParams.get("b") ?? a;
      const num = (k: string) => {
        const v = url.searchParams.get(k);
        return v === null || v === "" ? undefined : Number(v);
      };
      try {
        return send(res, 200, await compareRuns(o.cwd, a, b, num("ea"), num("eb")));
      } catch (e) {
        if (e instanceof CompareError) return send(res, 404, { error: e.message });
        throw e;
      }
    }
    let m = /^\/api\/runs\/([^/]+)$/.exec(path);
    if (m) return send(res, 200, await runDetail(o.cwd, decodeURIComponent(m[1]!)));
    m = /^\/api\/runs\/([^/]+)\/events$/.exec(path);
    if (m) return streamEvents(req, res, join(runDirOf(o.cwd, decodeURIComponent(m[1]!)), "events.jsonl"));
    m = /^\/api\/runs\/([^/]+)\/executions$/.exec(path);
    if (m) {
      const list = await executionsOf(o.cwd, decodeURIComponent(m[1]!));
      return send(
        res,
        200,
        list.map((x) => ({ ...x.exec, calls: x.calls.length })),
      );
    }
    m = /^\/api\/runs\/([^/]+)\/agents\/(\d+)$/.exec(path);
    if (m) return send(res, 200, await agentDetail(o.cwd, decodeURIComponent(m[1]!), Number(m[2]), driverOf));
    return send(res, 404, { error: "not found" });
  }

  function openStream(req: IncomingMessage, res: ServerResponse): { closed: () => boolean } {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": "text/event-stream",
      connection: "keep-alive",
    });
    res.write("retry: 1000\n\n");
    streams.add(res);
    let closed = false;
    const end = () => {
      closed = true;
      streams.delete(res);
    };
    req.on("close", end);
    res.on("close", end);
    return { closed: () => closed };
  }

  async function write(res: ServerResponse, text: string): Promise<void> {
    if (!res.write(text))
      await new Promise<void>((r) => res.once("drain", () => r()).once("close", () => r()));
  }

  async function streamEvents(req: IncomingMessage, res: ServerResponse, file: string): Promise<void> {
    const s = openStream(req, res);
    let offset = 0;
    let carry = Buffer.alloc(0);
    const buf = Buffer.alloc(1024 * 1024);
    let lastBeat = Date.now();
    while (!s.closed()) {
      const fh = await open(file, "r").catch(() => undefined);
      let n = 0;
      if (fh) {
        try {
          const size = (await fh.stat()).size;
          // The file was replaced or cut (a new events.jsonl): start again from its beginning.
          if (size < offset) {
            offset = 0;
            carry = Buffer.alloc(0);
            await write(res, "event: reset\ndata: {}\n\n");
          }
          if (size > offset) n = (await fh.read(buf, 0, buf.length, offset)).bytesRead;
        } finally {
          await fh.close();
        }
      }
      if (n > 0) {
        offset += n;
        const chunk = Buffer.concat([carry, buf.subarray(0, n)]);
        const cut = chunk.lastIndexOf(10);
        if (cut < 0) {
          carry = chunk;
          continue;
        }
        carry = Buffer.from(chunk.subarray(cut + 1));
        // One SSE message per read: each event line a data line (the client splits on "\n").
        const body = chunk.toString("utf8", 0, cut).replaceAll("\r", "");
        await write(res, `event: events\ndata: ${body.split("\n").join("\ndata: ")}\n\n`);
        if (n === buf.length) continue;
        await write(res, "event: caught-up\ndata: {}\n\n");
      }
      if (Date.now() - lastBeat > 15_000) {
        lastBeat = Date.now();
        await write(res, ": beat\n\n");
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async function streamRuns(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const s = openStream(req, res);
    let last = "";
    let beat = 0;
    while (!s.closed()) {
      const json = JSON.stringify(await listRuns(o.cwd));
      // Elapsed times change every poll; send when something else did, or every 5 s for the clock.
      const shape = json.replace(/"elapsedMs":\d+/g, "");
      if (shape !== last || ++beat >= 5) {
        last = shape;
        beat = 0;
        await write(res, `event: runs\ndata: ${json}\n\n`);
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }

  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(o.port ?? 0, host, () => {
      server.off("error", fail);
      ok();
    });
  });
  const port = (server.address() as AddressInfo).port;
  guard = new Guard(token, host, port);
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/?token=${token}`,
    token,
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of streams) s.destroy();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, code: number, value: unknown): void {
  sendRaw(res, code, JSON.stringify(value), { "content-type": "application/json; charset=utf-8" });
}

function sendRaw(
  res: ServerResponse,
  code: number,
  body: string | Buffer,
  headers: Record<string, string>,
): void {
  res.writeHead(code, { ...SECURITY_HEADERS, ...headers });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new Error("request body too large");
    chunks.push(c as Buffer);
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    return v && typeof v === "object" && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

export interface ControlAnswer {
  state: ControlOutcome["state"] | "started" | "failed";
  outcome: string;
  runId?: string;
}

/** The page's buttons, answered as the CLI answers the same command. */
async function control(cwd: string, id: string, body: Record<string, unknown>): Promise<ControlAnswer> {
  const runDir = runDirOf(cwd, id);
  await stat(join(runDir, "journal.jsonl")).catch(() => {
    throw new NotFound(`no run ${id}`);
  });
  const from = "weft ui";
  const action = body.action;
  const reason =
    typeof body.reason === "string" && body.reason.trim() ? body.reason.slice(0, 2000) : undefined;
  const agent = typeof body.agent === "number" || typeof body.agent === "string" ? body.agent : undefined;
  const gate = typeof body.gate === "number" || typeof body.gate === "string" ? body.gate : undefined;
  let request: ControlRequest;
  switch (action) {
    case "stop":
    case "pause":
      request = { type: action };
      break;
    case "stop-agent":
    case "restart-agent":
      if (agent === undefined)
        return { state: "refused", outcome: `${action} needs an agent (number or label)` };
      request = { type: action, agent };
      break;
    case "approve":
    case "reject":
      request = {
        type: action,
        by: from,
        ...(gate !== undefined ? { gate } : {}),
        ...(reason ? { reason } : {}),
      };
      break;
    case "resume":
      return detached(cwd, ["resume", id, "--detach"]);
    case "fork": {
      if (agent === undefined) return { state: "refused", outcome: "fork needs the agent to start from" };
      return detached(cwd, ["fork", id, "--from", String(agent), "--detach"]);
    }
    default:
      return { state: "refused", outcome: `no action ${JSON.stringify(action)}` };
  }
  const r = await controlRun(runDir, request, { cwd, from, waitMs: 5_000 });
  return { state: r.state, outcome: r.outcome, runId: r.runId };
}

/** Resume and fork start a run of their own, in the background, as `weft … --detach` does. */
function detached(cwd: string, args: string[]): Promise<ControlAnswer> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const runId = /^run (\S+)/m.exec(stderr)?.[1];
      if (err && !runId) {
        const said = stderr.trim().split("\n").slice(-3).join(" ").trim();
        done({ state: "failed", outcome: said || err.message });
        return;
      }
      done({ state: "started", outcome: `started run ${runId ?? stdout.trim()} in the background`, runId });
    });
  });
}
