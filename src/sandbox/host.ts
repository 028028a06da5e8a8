/**
 * Engine side of the sandbox: starts the worker, batches deliveries into it, and stops a
 * script stuck in synchronous work (S07).
 */
import { Worker } from "node:worker_threads";
import type { Delivery, SandboxInit, WorkerOut } from "./protocol.js";

export interface SandboxHandlers {
  onMessages(messages: WorkerOut[]): void;
  /** The script ran synchronous code longer than the limit and was stopped. */
  onTimeout(limitMs: number): void;
  /** The worker died for a reason of its own (out of memory, a bug in weft). */
  onCrash(error: Error): void;
}

export interface SandboxOptions extends Omit<SandboxInit, "busy"> {
  scriptTimeMs: number;
}

export class SandboxHost {
  private readonly worker: Worker;
  private readonly busy: Float64Array;
  private readonly watchdog: NodeJS.Timeout;
  private results: Delivery["results"] = [];
  private spent: Delivery["spent"];
  private flushScheduled = false;
  private stopped = false;

  constructor(opts: SandboxOptions, handlers: SandboxHandlers) {
    const { scriptTimeMs, ...init } = opts;
    const shared = new SharedArrayBuffer(8);
    this.busy = new Float64Array(shared);
    this.worker = new Worker(new URL("./worker.js", import.meta.url), {
      workerData: { ...init, busy: shared } satisfies SandboxInit,
      // The script gets no Node API, but the worker itself should not inherit flags like --inspect.
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    this.worker.on("message", (messages: WorkerOut[]) => {
      if (!this.stopped) handlers.onMessages(messages);
    });
    this.worker.on("error", (err) => {
      if (this.stopped) return;
      this.stop();
      handlers.onCrash(err);
    });
    this.worker.on("exit", (code) => {
      if (this.stopped) return;
      this.stopped = true;
      clearInterval(this.watchdog);
      handlers.onCrash(new Error(`the script's worker exited unexpectedly (code ${code})`));
    });
    // Ten checks per limit, between every 20 ms and every 250 ms: stops within ~10% of the limit.
    const every = Math.max(20, Math.min(250, Math.floor(scriptTimeMs / 10)));
    this.watchdog = setInterval(() => {
      const since = this.busy[0] ?? 0;
      if (since > 0 && Date.now() - since > scriptTimeMs) {
        this.stop();
        handlers.onTimeout(scriptTimeMs);
      }
    }, every);
    this.watchdog.unref();
  }

  /** Queue a result for the script; results of one tick go in as one batch. */
  deliver(result: Delivery["results"][number], spent?: Delivery["spent"]): void {
    if (this.stopped) return;
    this.results.push(result);
    if (spent) this.spent = spent;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.stopped || this.results.length === 0) return;
    // Each result value is already JSON text: splice it in rather than encode it a second time.
    let json = '{"results":[';
    for (let i = 0; i < this.results.length; i++) {
      const r = this.results[i]!;
      if (i > 0) json += ",";
      json += r.ok
        ? `{"id":${r.id},"ok":true${r.value === undefined ? "" : `,"value":${r.value}`}}`
        : `{"id":${r.id},"ok":false,"error":${JSON.stringify(r.error)}}`;
    }
    json += `],"spent":${JSON.stringify(this.spent ?? null)}}`;
    this.results = [];
    this.worker.postMessage(json);
  }

  /** Stop the script at once (it may be inside an infinite loop). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.watchdog);
    void this.worker.terminate();
  }
}
