/**
 * Engine side of the sandbox: starts the worker, batches deliveries into it, and stops a
 * script stuck in synchronous work (S07).
 */
import { Worker } from "node:worker_threads";
import type { Delivery, NestedStart, SandboxInit, WorkerOut } from "./protocol.js";

export interface SandboxHandlers {
  onMessages(messages: WorkerOut[]): void;
  /** The script ran synchronous code longer than the limit and was stopped. */
  onTimeout(limitMs: number): void;
  /** The worker died for a reason of its own (out of memory, a bug in weft). */
  onCrash(error: Error): void;
}

export interface SandboxOptions extends Omit<SandboxInit, "busy"> {
  scriptTimeMs: number;
  /** What the script's `budget` shows; read once per delivered batch. */
  spent: () => NonNullable<Delivery["spent"]>;
}

/**
 * Start a sandbox worker before its run is ready: a worker thread takes tens of milliseconds to
 * start, which a resume can overlap with reading the journal.
 */
export function spawnSandboxWorker(): Worker {
  return new Worker(new URL("./worker.js", import.meta.url), {
    // The script gets no Node API, and the worker should not inherit flags like --inspect.
    execArgv: [],
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
    stdout: false,
    stderr: false,
  });
}

export class SandboxHost {
  private readonly worker: Worker;
  private readonly busy: Float64Array;
  private readonly watchdog: NodeJS.Timeout;
  private results: Delivery["results"] = [];
  private readonly spent: () => NonNullable<Delivery["spent"]>;
  private flushScheduled = false;
  private stopped = false;

  /** `worker`: one started earlier with spawnSandboxWorker(), or none to start it now. */
  constructor(opts: SandboxOptions, handlers: SandboxHandlers, worker?: Worker) {
    const { scriptTimeMs, spent, ...init } = opts;
    this.spent = spent;
    const shared = new SharedArrayBuffer(8);
    this.busy = new Float64Array(shared);
    this.worker = worker ?? spawnSandboxWorker();
    this.worker.postMessage({ ...init, busy: shared } satisfies SandboxInit);
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
  deliver(result: Delivery["results"][number]): void {
    if (this.stopped) return;
    this.results.push(result);
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
    json += `],"spent":${JSON.stringify(this.spent())}}`;
    this.results = [];
    this.worker.postMessage(json);
  }

  /** A11: run a nested workflow's code in the script's context for the pending call `n.id`. */
  startNested(n: NestedStart): void {
    if (this.stopped) return;
    this.worker.postMessage({ nested: n });
  }

  /** Stop the script at once (it may be inside an infinite loop). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.watchdog);
    void this.worker.terminate();
  }
}
