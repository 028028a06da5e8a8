/**
 * Writes agents/<n>.json. The journal is the record of truth (fsync'd); these files are a
 * readable copy, so they are written in the background with a small pool instead of being
 * synced, and drained before the run ends.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

const POOL = 8;

export class AgentFiles {
  private queue: [number, unknown][] = [];
  private active = 0;
  private error: Error | undefined;
  private waiters: (() => void)[] = [];

  constructor(private readonly dir: string) {}

  write(n: number, record: unknown): void {
    this.queue.push([n, record]);
    this.pump();
  }

  private pump(): void {
    while (this.active < POOL && this.queue.length > 0) {
      const [n, record] = this.queue.pop()!;
      this.active++;
      writeFile(join(this.dir, `${n}.json`), `${JSON.stringify(record, null, 2)}\n`)
        .catch((e: Error) => {
          this.error ??= e;
        })
        .finally(() => {
          this.active--;
          this.pump();
          if (this.active === 0 && this.queue.length === 0) for (const w of this.waiters.splice(0)) w();
        });
    }
  }

  /** Resolves when every file is written; rejects with the first write error. */
  async drain(): Promise<void> {
    if (this.active > 0 || this.queue.length > 0) await new Promise<void>((r) => this.waiters.push(r));
    if (this.error) throw new Error(`cannot write agent records in ${this.dir}: ${this.error.message}`);
  }
}
