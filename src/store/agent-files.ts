/**
 * Writes agents/<n>.json. The journal is the record of truth (fsync'd); these files are a
 * readable copy, so they are not synced. Each is written synchronously as its agent finishes:
 * a promise-based open/write/close costs three thread-pool round trips per file, which at 10,000
 * agents was a fifth of the engine's time, and a writer thread of its own was no faster on two
 * cores (file creation is kernel time either way) and used ~15 MB more (bench/run.mjs). Writing
 * at once rather than in batches also lets the record die young instead of being promoted.
 *
 * Never written through a link or hard link an agent planted (safe-write.ts); a refused record
 * is reported through `onRefused` and the run goes on.
 */
import { isUnsafePath, writeFileInPlaceSync } from "./safe-write.js";

export class AgentFiles {
  private error: Error | undefined;

  constructor(
    private readonly dir: string,
    private readonly onRefused: (message: string) => void = () => {},
  ) {}

  write(n: number, record: unknown): void {
    try {
      writeFileInPlaceSync(`${this.dir}/${n}.json`, `${JSON.stringify(record, null, 2)}\n`);
    } catch (e) {
      if (isUnsafePath(e)) this.onRefused(e.message);
      else this.error ??= e as Error;
    }
  }

  /** Throws the first write error, if any. */
  async drain(): Promise<void> {
    if (this.error) throw new Error(`cannot write agent records in ${this.dir}: ${this.error.message}`);
  }
}
