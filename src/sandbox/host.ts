/**
 * Engine side of the sandbox: what the engine sees of it (SandboxHost), and the batching both
 * implementations share. The script runs in a child process under Node's permission model
 * (process-host.ts, the default: S06's second wall) or in a worker thread (thread-host.ts).
 */
import type { Delivery, NestedStart, SandboxInit, WorkerOut } from "./protocol.js";

export interface SandboxHandlers {
  onMessages(messages: WorkerOut[]): void;
  /** The script ran synchronous code longer than the limit and was stopped. */
  onTimeout(limitMs: number): void;
  /** The sandbox died for a reason of its own (out of memory, a bug in weft). */
  onCrash(error: Error): void;
}

export interface SandboxOptions extends Omit<SandboxInit, "busy"> {
  scriptTimeMs: number;
  /** What the script's `budget` shows; read once per delivered batch. */
  spent: () => NonNullable<Delivery["spent"]>;
}

export interface SandboxHost {
  /** Queue a result for the script; results of one tick go in as one batch. */
  deliver(result: Delivery["results"][number]): void;
  /** A11: run a nested workflow's code in the script's context for the pending call `n.id`. */
  startNested(n: NestedStart): void;
  /** Stop the script at once (it may be inside an infinite loop). */
  stop(): void;
}

/** A sandbox started before its run is ready (its start-up overlaps reading the journal). */
export interface PendingSandbox {
  open(opts: SandboxOptions, handlers: SandboxHandlers): SandboxHost;
  /** The run did not start: end the sandbox. */
  discard(): void;
  /** Whether it keeps the engine's process alive: not while it waits unused as a spare. */
  hold(on: boolean): void;
  /** Still alive, so a run can use it. */
  usable(): boolean;
}

/** The delivery batching of both hosts: `post` sends one batch, a JSON string (type Delivery). */
export abstract class BatchingHost implements SandboxHost {
  private results: Delivery["results"] = [];
  private flushScheduled = false;
  protected stopped = false;

  constructor(private readonly spent: () => NonNullable<Delivery["spent"]>) {}

  protected abstract post(message: string | { nested: NestedStart }): void;
  abstract stop(): void;

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
    this.post(json);
  }

  startNested(n: NestedStart): void {
    if (this.stopped) return;
    this.post({ nested: n });
  }
}
