/**
 * Append-only JSONL journal with group commit: records appended while a write+fdatasync is in
 * flight go out together in the next single write and sync (ARCHITECTURE "Writing fast and
 * safely"). `append` resolves once its record is durable; "finished" means on disk (R02).
 */
import { closeSync, fdatasyncSync, writeSync } from "node:fs";
import { type FileHandle, open, readFile } from "node:fs/promises";

export class JournalWriter {
  private pending: string[] = [];
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private error: Error | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}

  /** Open for appending. A torn last line (kill -9 mid-write) is cut off first, so new records start on a fresh line. */
  static async open(path: string): Promise<JournalWriter> {
    let fh: FileHandle;
    try {
      fh = await open(path, "a+");
    } catch (e) {
      throw new Error(`cannot open journal ${path}: ${(e as Error).message}`);
    }
    const { size } = await fh.stat();
    const last = Buffer.alloc(1);
    if (size > 0 && (await fh.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a) {
      const text = await readFile(path, "utf8");
      {
        const keep = Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1));
        await fh.truncate(keep);
      }
    }
    return new JournalWriter(path, fh);
  }

  /**
   * Append without waiting for it to be durable (phases, logs, agent starts): no promise per
   * record. A later append's durability covers it, and an I/O error fails the next append.
   */
  write(record: object): void {
    if (this.error || this.closed) return;
    this.pending.push(`${JSON.stringify(record)}\n`);
    if (!this.flushing) this.flushing = this.drain();
  }

  append(record: object): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (this.closed) return Promise.reject(new Error(`journal ${this.path} is closed`));
    this.pending.push(`${JSON.stringify(record)}\n`);
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    // Callers that do not need durability drop the promise; never let that be an unhandled rejection.
    p.catch(() => {});
    if (!this.flushing) this.flushing = this.drain();
    return p;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0 && !this.error) {
      const text = this.pending.join("");
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        await this.fh.write(text);
        await this.fh.datasync();
        for (const w of waiters) w.resolve();
      } catch (e) {
        this.error = new Error(`cannot write journal ${this.path}: ${(e as Error).message}`);
        for (const w of [...waiters, ...this.waiters]) w.reject(this.error);
        this.waiters = [];
      }
    }
    this.flushing = undefined;
  }

  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.error) throw this.error;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.fh.close();
  }

  /** For exit paths (second Ctrl-C): write whatever is pending synchronously. */
  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.pending.length > 0) {
        writeSync(this.fh.fd, this.pending.join(""));
        this.pending = [];
      }
      fdatasyncSync(this.fh.fd);
      closeSync(this.fh.fd);
    } catch {
      // Exiting anyway; what reached the file is what a resume will see.
    }
  }
}

/**
 * Read a journal. An unterminated or unparsable last line is what kill -9 leaves: it is skipped.
 * `cheap` may turn a line into a record without JSON.parse (resume reads every line of a
 * 10,000-agent run, and most lines only need a field or two); returning undefined parses it.
 */
export async function readJournal(
  path: string,
  cheap?: (line: string) => object | undefined,
): Promise<{ records: any[]; tornTail: boolean }> {
  const text = await readFile(path, "utf8");
  const lines = text.split("\n");
  let tornTail = false;
  // The text after the last newline is either "" or a torn record.
  const tail = lines.pop() ?? "";
  if (tail !== "") tornTail = true;
  const records: any[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    const quick = cheap?.(line);
    if (quick) {
      records.push(quick);
      continue;
    }
    try {
      records.push(JSON.parse(line));
    } catch {
      if (i === lines.length - 1 && !tornTail) {
        tornTail = true;
        continue;
      }
      throw new Error(`journal ${path} is damaged at line ${i + 1}: not JSON`);
    }
  }
  return { records, tornTail };
}
