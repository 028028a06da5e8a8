/**
 * The sandbox in a worker thread of the engine's process: one wall only (the vm context). Kept
 * behind the same interface as the process host, for comparison (bench) and for
 * `WEFT_SANDBOX=thread`.
 */
import { Worker } from "node:worker_threads";
import { BatchingHost, type PendingSandbox, type SandboxHandlers, type SandboxOptions } from "./host.js";
import type { NestedStart, SandboxInit, WorkerOut } from "./protocol.js";

/** A worker thread takes tens of milliseconds to start: start it before its run is ready. */
export function startThreadSandbox(): PendingSandbox {
  const worker = new Worker(new URL("./worker.js", import.meta.url), {
    // The script gets no Node API, and the worker should not inherit flags like --inspect.
    execArgv: [],
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
    stdout: false,
    stderr: false,
  });
  let exited = false;
  worker.once("exit", () => {
    exited = true;
  });
  return {
    open: (opts, handlers) => new ThreadSandboxHost(opts, handlers, worker),
    discard: () => void worker.terminate(),
    hold: (on) => (on ? worker.ref() : worker.unref()),
    usable: () => !exited,
  };
}

class ThreadSandboxHost extends BatchingHost {
  private readonly busy: Float64Array;
  private readonly watchdog: NodeJS.Timeout;

  constructor(
    opts: SandboxOptions,
    handlers: SandboxHandlers,
    private readonly worker: Worker,
  ) {
    const { scriptTimeMs, spent, ...init } = opts;
    super(spent);
    const shared = new SharedArrayBuffer(8);
    this.busy = new Float64Array(shared);
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

  protected post(message: string | { nested: NestedStart }): void {
    this.worker.postMessage(message);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.watchdog);
    void this.worker.terminate();
  }
}
