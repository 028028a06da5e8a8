/**
 * The sandbox in a child process of its own (S06's second wall): Node's permission model leaves
 * it no file writes, no processes or threads, and reads of its own code only, so a script that
 * escapes the vm context gains little. It talks to the engine over fork's IPC channel.
 *
 * S07 without shared memory: the engine pings, and the process answers only between slices of
 * script work (port.ts), so a ping unanswered for longer than the limit is a slice that long.
 */
import { type ChildProcess, fork } from "node:child_process";
import type { Socket } from "node:net";
import { BatchingHost, type PendingSandbox, type SandboxHandlers, type SandboxOptions } from "./host.js";
import { sandboxCommand } from "./process-flags.js";
import type { NestedStart, SandboxInit, WorkerOut } from "./protocol.js";

/** Start a sandbox process; `open` it when the run is ready. */
export function startProcessSandbox(): PendingSandbox {
  const child = spawnSandboxProcess();
  // The process says "ready" as soon as it listens, maybe long before a run opens it.
  let ready = false;
  const onReady = (m: unknown) => {
    if (m === "ready") ready = true;
  };
  child.on("message", onReady);
  return {
    open: (opts, handlers) => {
      child.off("message", onReady);
      return new ProcessSandboxHost(opts, handlers, child, ready);
    },
    discard: () => void child.kill("SIGKILL"),
    hold: (on) => {
      // The stderr pipe is a socket, which Node types as a plain Readable.
      for (const h of [child, child.channel, child.stderr as unknown as Socket | null]) {
        if (on) h?.ref();
        else h?.unref();
      }
    },
    usable: () => child.exitCode === null && child.signalCode === null && child.connected,
  };
}

export function spawnSandboxProcess(): ChildProcess {
  const { execPath, execArgv, entry } = sandboxCommand();
  const child = fork(entry, [], {
    execPath,
    execArgv,
    // No secrets: of the engine's environment only what the script's dates and Intl read, as
    // they did in a worker thread (fork adds its channel's numbers).
    env: sandboxEnv(),
    // Nothing straight to the user's terminal: stderr (Node's own last words, e.g. out of
    // memory) is kept for the crash message.
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    // Measured with the sandbox's own messages (a batch string in, a call out): "json" 9.5 us
    // per round trip pipelined, "advanced" 17.6 us; and JSON.parse is the smaller attack
    // surface for what a hostile process sends.
    serialization: "json",
  });
  return child;
}

/** Time zone and locale: no secret, and a resume should see the dates the run saw. */
const KEEP = /^(TZ|LANG|LANGUAGE|LC_[A-Z_]+)$/;

export function sandboxEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && KEEP.test(k)) env[k] = v;
  // Windows: without it, Node cannot initialise its random source.
  if (process.platform === "win32" && process.env.SystemRoot) env.SystemRoot = process.env.SystemRoot;
  return env;
}

/** The end of what the process wrote to stderr, printable characters only (it may be hostile). */
const STDERR_TAIL = 1000;

class ProcessSandboxHost extends BatchingHost {
  private readonly watchdog: NodeJS.Timeout;
  /** Messages for the process before it said it listens (a message before that is lost). */
  private queue: unknown[] | undefined = [];
  private ping = 0;
  /** When the unanswered ping `this.ping` went out, or 0 when it was answered. */
  private pingSentAt = 0;
  /** Counts every message from the process, to tell a stuck one from a busy engine. */
  private heard = 0;
  private stderr = "";

  constructor(
    opts: SandboxOptions,
    handlers: SandboxHandlers,
    private readonly child: ChildProcess,
    ready: boolean,
  ) {
    const { scriptTimeMs, spent, ...init } = opts;
    super(spent);
    if (ready) this.queue = undefined;
    this.send(init satisfies Omit<SandboxInit, "busy">);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (s: string) => {
      this.stderr = (this.stderr + s).slice(-STDERR_TAIL);
    });
    child.on("message", (m: unknown) => {
      this.heard++;
      if (this.stopped) return;
      if (typeof m === "number") {
        if (m === this.ping) this.pingSentAt = 0;
      } else if (m === "ready") {
        const queued = this.queue ?? [];
        this.queue = undefined;
        for (const q of queued) this.child.send(q as string);
      } else {
        const batch = checkBatch(m);
        if (batch) handlers.onMessages(batch);
        else this.crash(handlers, new Error("the script's process sent a message weft did not expect"));
      }
    });
    child.on("error", (err) => this.crash(handlers, err));
    child.on("exit", (code, signal) => {
      if (this.stopped) return;
      const said = this.stderr.replace(/[^\x20-\x7e\n]/g, "?").trim();
      const how = signal ? `signal ${signal}` : `code ${code}`;
      this.crash(
        handlers,
        new Error(`the script's process exited unexpectedly (${how})${said ? `: ${said}` : ""}`),
      );
    });
    // Ten checks per limit, between every 20 ms and every 250 ms: stops within ~10-20% of the
    // limit (a ping goes out on one check and is late from the tenth check after it).
    const every = Math.max(20, Math.min(250, Math.floor(scriptTimeMs / 10)));
    this.watchdog = setInterval(() => {
      if (this.queue) return;
      if (this.pingSentAt === 0) {
        this.pingSentAt = Date.now();
        this.child.send(++this.ping);
      } else if (Date.now() - this.pingSentAt > scriptTimeMs) {
        // The answer may be waiting unread behind a busy engine: let the next poll of the event
        // loop read what the process sent, and decide after it.
        const heard = this.heard;
        setImmediate(() => {
          if (this.stopped || this.pingSentAt === 0 || this.heard !== heard) return;
          this.stop();
          handlers.onTimeout(scriptTimeMs);
        });
      }
    }, every);
    this.watchdog.unref();
  }

  private send(message: unknown): void {
    if (this.queue) this.queue.push(message);
    else this.child.send(message as string);
  }

  protected post(message: string | { nested: NestedStart }): void {
    this.send(message);
  }

  private crash(handlers: SandboxHandlers, err: Error): void {
    if (this.stopped) return;
    this.stop();
    handlers.onCrash(err);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.watchdog);
    this.child.kill("SIGKILL");
  }
}

const str = (v: unknown): v is string => typeof v === "string";

/**
 * The process may be under the script's control: take only messages of the shapes the sandbox
 * sends (the same checks as its bridge), so the engine never sees anything else.
 */
function checkBatch(m: unknown): WorkerOut[] | undefined {
  if (!Array.isArray(m)) return undefined;
  for (const o of m as Record<string, unknown>[]) {
    if (typeof o !== "object" || o === null) return undefined;
    switch (o.t) {
      case "call":
        if (typeof o.id !== "number" || !str(o.prompt) || !str(o.opts)) return undefined;
        break;
      case "op":
        if (typeof o.id !== "number" || !str(o.name) || !str(o.args)) return undefined;
        break;
      case "phase":
        if (!str(o.title)) return undefined;
        if (o.budget !== undefined && !(Number.isSafeInteger(o.budget) && (o.budget as number) > 0))
          return undefined;
        break;
      // S06: a timer is a number of ms Node's setTimeout takes (at most 2^31 - 1).
      case "timer":
        if (!Number.isSafeInteger(o.id) || typeof o.ms !== "number" || !(o.ms >= 0 && o.ms <= 2147483647))
          return undefined;
        break;
      case "untimer":
        if (!Number.isSafeInteger(o.id)) return undefined;
        break;
      case "log":
      case "warn":
        if (!str(o.message)) return undefined;
        break;
      case "refused":
        if (!str(o.reason)) return undefined;
        break;
      case "done":
        if (!str(o.result)) return undefined;
        break;
      case "error": {
        const e = o.error as Record<string, unknown> | null;
        if (typeof e !== "object" || e === null || !str(e.name) || !str(e.message) || !str(e.stack))
          return undefined;
        break;
      }
      case "stalled":
        break;
      default:
        return undefined;
    }
  }
  return m as WorkerOut[];
}
