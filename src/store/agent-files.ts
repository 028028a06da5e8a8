/**
 * Writes agents/<n>.json. The journal is the record of truth (fsync'd); these files are a
 * readable copy, so they are not synced. They are written in batches once per tick with
 * synchronous calls: one promise-based open/write/close per file costs three thread-pool round
 * trips, which at 10,000 agents was a fifth of the engine's time (bench/run.mjs). A writer thread
 * of its own was measured too: no faster on two cores (file creation is kernel time either way)
 * and ~15 MB more memory.
 */
import { closeSync, openSync, writeSync } from "node:fs";

export class AgentFiles {
  private queue: [number, unknown][] = [];
  private scheduled = false;
  private error: Error | undefined;

  constructor(private readonly dir: string) {}

  write(n: number, record: unknown): void {
    this.queue.push([n, record]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const [n, record] of batch) {
      try {
        const fd = openSync(`${this.dir}/${n}.json`, "w");
        try {
          writeSync(fd, `${JSON.stringify(record, null, 2)}\n`);
        } finally {
          closeSync(fd);
        }
      } catch (e) {
        this.error ??= e as Error;
      }
    }
  }

  /** Writes what is queued; throws the first write error. */
  async drain(): Promise<void> {
    this.flush();
    if (this.error) throw new Error(`cannot write agent records in ${this.dir}: ${this.error.message}`);
  }
}
