/**
 * Writes agents/<n>.json. The journal is the record of truth (fsync'd); these files are a
 * readable copy, so they are not synced, and they are written by a thread of their own: creating
 * a file costs ~30 µs on this kind of disk, which at 10,000 agents was a third of the engine's
 * time on the main thread (bench/run.mjs). The main thread only serialises and posts a batch per tick.
 */
import { Worker } from "node:worker_threads";

const WRITER = `
const { parentPort } = require("node:worker_threads");
const { openSync, writeSync, closeSync } = require("node:fs");
let error;
parentPort.on("message", (m) => {
  if (m.drain) { parentPort.postMessage({ drained: m.drain, error }); return; }
  for (let i = 0; i < m.paths.length; i++) {
    try {
      const fd = openSync(m.paths[i], "w");
      try { writeSync(fd, m.texts[i]); } finally { closeSync(fd); }
    } catch (e) { error = error || String(e && e.message || e); }
  }
});
`;

export class AgentFiles {
  private paths: string[] = [];
  private texts: string[] = [];
  private scheduled = false;
  private worker: Worker | undefined;
  private drains = new Map<number, (error: string | undefined) => void>();
  private nextDrain = 1;

  constructor(private readonly dir: string) {}

  write(n: number, record: unknown): void {
    this.paths.push(`${this.dir}/${n}.json`);
    this.texts.push(`${JSON.stringify(record, null, 2)}\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private writer(): Worker {
    if (!this.worker) {
      this.worker = new Worker(WRITER, { eval: true });
      this.worker.unref();
      this.worker.on("message", (m: { drained: number; error?: string }) => {
        this.drains.get(m.drained)?.(m.error);
        this.drains.delete(m.drained);
      });
    }
    return this.worker;
  }

  private flush(): void {
    this.scheduled = false;
    if (this.paths.length === 0) return;
    this.writer().postMessage({ paths: this.paths, texts: this.texts });
    this.paths = [];
    this.texts = [];
  }

  /** Resolves when everything written so far is on disk; rejects with the first write error. */
  async drain(): Promise<void> {
    this.flush();
    if (!this.worker) return;
    const worker = this.worker;
    const id = this.nextDrain++;
    const error = await new Promise<string | undefined>((resolve) => {
      this.drains.set(id, resolve);
      worker.postMessage({ drain: id });
    });
    await worker.terminate();
    this.worker = undefined;
    if (error) throw new Error(`cannot write agent records in ${this.dir}: ${error}`);
  }
}
