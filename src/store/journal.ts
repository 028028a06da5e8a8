/**
 * Append-only JSONL journal with group commit (ARCHITECTURE "Writing fast and safely"): records
 * appended while a datasync is in flight go out together in the next single write and the next
 * single fdatasync. `append` resolves once its record is durable; "finished" means on disk (R02).
 *
 * The bytes of a group are written with one synchronous write(2) on the main thread; only the
 * fdatasync goes to the thread pool. Copying a batch into the page cache takes microseconds, a
 * thread-pool round trip for it would cost more, and with writes never in flight in another
 * thread, `closeSync` on an exit path cannot race an unfinished async write (which could leave
 * records out of order or doubled).
 */
import {
  close,
  closeSync,
  constants,
  fdatasync,
  fdatasyncSync,
  fstat,
  fstatSync,
  ftruncate,
  lstatSync,
  read,
  writeSync,
} from "node:fs";
import { type FileHandle, open as openFile } from "node:fs/promises";
import { promisify } from "node:util";
import { StoreError } from "./errors.js";
import { checkRecord } from "./journal-schema.js";
import { isUnsafePath, openAppendSync } from "./safe-write.js";

const fstatAsync = promisify(fstat);
const ftruncateAsync = promisify(ftruncate);
const readAsync = promisify(read);
const closeAsync = promisify(close);

interface Group {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers that do not need durability drop the promise; that must never be an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function rejected(e: Error): Promise<never> {
  const p = Promise.reject(e);
  p.catch(() => {});
  return p;
}

/** write(2) may write less than asked (a full disk writes what fits first): loop until all is out. */
function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

export interface JournalStats {
  /** Records serialised (append and write). */
  records: number;
  /** write(2) calls, one per group. */
  writes: number;
  /** fdatasync calls that completed. */
  syncs: number;
}

export class JournalWriter {
  /** Serialised records not yet written, in append order. */
  private pending: string[] = [];
  /** Who waits for `pending` (and for a flush) to be durable; one promise per group, not per record. */
  private group: Group | undefined;
  /** The group whose fdatasync is in flight. */
  private inflight: Group | undefined;
  private scheduled = false;
  private syncing = false;
  /** Bytes written since the last datasync started. */
  private unsynced = false;
  private error: Error | undefined;
  private failed: Promise<never> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly counts: JournalStats = { records: 0, writes: 0, syncs: 0 };
  private fence: (() => boolean) | undefined;

  private constructor(
    readonly path: string,
    private fd: number,
    /** The file this writer appends to; another one at `path` means the journal was replaced. */
    private readonly ino: number,
  ) {}

  /**
   * An agent may rename the journal away and plant a link (or another file) at its name: the
   * records would then go to a file the next resume never reads. One lstat per write group
   * (not per record) notices, and the run stops with the reason rather than lose its record.
   */
  private replaced(): boolean {
    let why: string | undefined;
    try {
      const st = lstatSync(this.path);
      if (st.isSymbolicLink()) why = "it was replaced by a symbolic link";
      else if (st.ino !== this.ino) why = "it was replaced by another file";
    } catch {
      why = "it was moved or removed";
    }
    if (!why) return false;
    this.fail(new Error(`${why} while the run went on; refusing to write the run's record anywhere else`));
    return true;
  }

  /**
   * Open for appending, creating the file if needed. Always repairs the tail first: a torn last
   * line (kill -9 mid-write) or an unparsable last line is cut off, so new records start on a
   * fresh line and `readJournal` never meets the damage in the middle later. Only the process
   * holding the run's lock opens its journal, so cutting is safe.
   */
  static async open(path: string): Promise<JournalWriter> {
    let fd: number;
    try {
      // Never through a link, nor a hard link of a file elsewhere (safe-write.ts): the journal
      // is the run's record, and a planted one refuses the run (exit 2, E02).
      fd = openAppendSync(path, { read: true });
    } catch (e) {
      if (isUnsafePath(e)) throw new StoreError(`cannot open journal: ${e.message}`, { cause: e });
      throw new Error(`cannot open journal ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      await repairTail(fd);
    } catch (e) {
      await closeAsync(fd).catch(() => {});
      throw new Error(`cannot repair journal ${path}: ${(e as Error).message}`, { cause: e });
    }
    return new JournalWriter(path, fd, fstatSync(fd).ino);
  }

  /**
   * R05: `holds` is asked before every write; once it says no (another process took the run's
   * lock over), this journal writes nothing more and every append rejects.
   */
  setFence(holds: () => boolean): void {
    this.fence = holds;
  }

  private fenced(): boolean {
    if (!this.fence || this.fence()) return false;
    this.fail(new Error("this process no longer holds the run's lock"));
    return true;
  }

  /** Counters for tests and benchmarks: how well appends were grouped. */
  get stats(): Readonly<JournalStats> {
    return { ...this.counts };
  }

  /**
   * Append a record; resolves once it is written and fdatasync'd. The record is serialised now, so
   * the order of calls is the order in the file. After an I/O error every append rejects with it.
   * A record JSON cannot express (a cycle, a BigInt) throws here, at the caller's line.
   */
  append(record: object): Promise<void> {
    if (this.error) return this.failed!;
    if (this.closed) return rejected(new Error(`journal ${this.path} is closed`));
    this.pending.push(`${JSON.stringify(record)}\n`);
    this.counts.records++;
    this.group ??= newGroup();
    this.kick();
    return this.group.promise;
  }

  /**
   * Append without waiting for durability (phases, logs, agent starts) and without a promise.
   * The bytes reach the file with the next group, so they survive a kill -9 of this process; the
   * next durable append or flush covers them against a machine crash. An I/O error surfaces at
   * the next append, flush or close. Dropped once the journal is closed.
   */
  write(record: object): void {
    if (this.error || this.closed) return;
    this.pending.push(`${JSON.stringify(record)}\n`);
    this.counts.records++;
    this.kick();
  }

  /** Resolves once everything appended or written so far is durable. */
  flush(): Promise<void> {
    if (this.error) return this.failed!;
    if (this.fd < 0 || (!this.pending.length && !this.unsynced && !this.syncing && !this.group)) {
      return Promise.resolve();
    }
    this.group ??= newGroup();
    this.kick();
    return this.group.promise;
  }

  /** Flush, then close. Rejects with the first I/O error, if any, after closing the file. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = this.flush().finally(async () => {
        if (this.fd < 0) return;
        const fd = this.fd;
        this.fd = -1;
        await closeAsync(fd);
      });
    }
    return this.closing;
  }

  /**
   * For exit paths (a 'exit' handler, a second Ctrl-C): write what is pending and datasync it
   * synchronously, then close. Throws the I/O error, if any.
   */
  closeSync(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    this.closed = true;
    try {
      if (this.error) throw this.error;
      if (this.fenced() || this.replaced()) throw this.error;
      if (this.pending.length > 0) {
        writeAll(fd, this.pending.join(""));
        this.pending = [];
        this.counts.writes++;
      }
      fdatasyncSync(fd);
      this.counts.syncs++;
      this.unsynced = false;
      // This sync covers the group whose async sync is still in flight, too.
      this.inflight?.resolve();
      this.group?.resolve();
      this.group = undefined;
    } catch (e) {
      this.fail(e as Error);
      throw this.error;
    } finally {
      try {
        closeSync(fd);
      } catch {}
    }
  }

  private kick(): void {
    if (this.scheduled || this.syncing) return;
    this.scheduled = true;
    // Start at the end of this turn of the event loop, not now: everything appended in the same
    // turn (several agents finishing together) joins the same write and sync.
    setImmediate(this.cycle);
  }

  private readonly cycle = (): void => {
    this.scheduled = false;
    if (this.fd < 0 || this.error) return;
    const group = this.group;
    this.group = undefined;
    if (this.pending.length > 0) {
      if (this.fenced() || this.replaced()) {
        group?.reject(this.error!);
        return;
      }
      const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join("");
      this.pending = [];
      try {
        writeAll(this.fd, text);
      } catch (e) {
        this.fail(e as Error, group);
        return;
      }
      this.counts.writes++;
      this.unsynced = true;
    }
    // Only notes in this group: they are in the page cache, which a kill -9 does not lose; the next
    // durable append's sync covers them, so no sync is spent on them alone.
    if (!group) return;
    if (!this.unsynced) {
      group.resolve();
      return;
    }
    this.syncing = true;
    this.unsynced = false;
    this.inflight = group;
    const fd = this.fd;
    fdatasync(fd, (err) => {
      this.syncing = false;
      this.inflight = undefined;
      // closeSync ran meanwhile: it synced and settled this group itself.
      if (this.fd !== fd) return;
      if (err) {
        this.fail(err, group);
        return;
      }
      this.counts.syncs++;
      group.resolve();
      if (this.pending.length > 0 || this.group) this.kick();
    });
  };

  private fail(e: Error, group?: Group): void {
    this.error ??= new Error(`cannot write journal ${this.path}: ${e.message}`, { cause: e });
    this.failed ??= rejected(this.error);
    group?.reject(this.error);
    this.group?.reject(this.error);
    this.group = undefined;
    this.pending = [];
  }
}

const CHUNK = 64 * 1024;

/** Position just after the last "\n" before `end`, or 0. Reads backwards in chunks. */
async function lineStart(fd: number, end: number): Promise<number> {
  const buf = Buffer.allocUnsafe(CHUNK);
  let pos = end;
  while (pos > 0) {
    const from = Math.max(0, pos - CHUNK);
    const { bytesRead } = await readAsync(fd, buf, 0, pos - from, from);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl >= 0) return from + nl + 1;
    pos = from;
  }
  return 0;
}

/** Cut an unterminated or unparsable last line, the same line `readJournal` would skip. */
async function repairTail(fd: number): Promise<void> {
  const { size } = await fstatAsync(fd);
  if (size === 0) return;
  const last = Buffer.alloc(1);
  await readAsync(fd, last, 0, 1, size - 1);
  if (last[0] !== 0x0a) {
    await ftruncateAsync(fd, await lineStart(fd, size));
    return;
  }
  const start = await lineStart(fd, size - 1);
  if (start === size - 1) return; // An empty line: nothing to judge.
  const line = Buffer.allocUnsafe(size - 1 - start);
  await readAsync(fd, line, 0, line.length, start);
  try {
    JSON.parse(line.toString("utf8"));
  } catch {
    await ftruncateAsync(fd, start);
  }
}

/** A journal line that is not a well-formed record, anywhere but a torn last line (R02, R07). */
export class JournalDamageError extends StoreError {
  override name = "JournalDamageError";
  constructor(
    readonly path: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`journal ${path} is damaged at line ${line}: ${problem}`);
  }
}

export interface ReadJournalOptions {
  /**
   * May turn a line into a record without JSON.parse (resume reads every line of a 10,000-agent
   * run, and most lines only need a field or two); returning undefined parses it. A record it
   * returns is trusted: it must only answer lines whose whole shape it has checked.
   */
  cheap?: (line: string) => object | undefined;
  /** What is wrong with a parsed record (R07); default `checkRecord`; false reads any JSON. */
  check?: ((record: unknown) => string | undefined) | false;
}

/**
 * Read a journal. An unterminated or unparsable last line is what kill -9 (or a crash of the
 * machine) leaves: it is skipped and `tornTail` says so. An unparsable line anywhere else, or a
 * line that parses but is not a well-formed record (R07), is damage the journal cannot explain:
 * a JournalDamageError naming the file and the line. A journal that is a symbolic link, or not a
 * regular file (a FIFO would hang the read), is refused: an agent may edit `.weft/` (D05).
 * Errors reading the file (ENOENT included) are passed on with their code.
 */
export async function readJournal(
  path: string,
  opts: ReadJournalOptions = {},
): Promise<{ records: any[]; tornTail: boolean }> {
  const text = await readRegularFile(path);
  const cheap = opts.cheap;
  const check = opts.check === undefined ? checkRecord : opts.check;
  const lines = text.split("\n");
  // The text after the last newline is either "" or a torn record.
  let tornTail = (lines.pop() ?? "") !== "";
  const records: any[] = [];
  const last = lines.length - 1;
  for (let i = 0; i <= last; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    const quick = cheap?.(line);
    if (quick) {
      records.push(quick);
      continue;
    }
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      if (i === last && !tornTail) {
        tornTail = true;
        continue;
      }
      throw new JournalDamageError(path, i + 1, "not JSON");
    }
    const problem = check ? check(record) : undefined;
    if (problem) throw new JournalDamageError(path, i + 1, problem);
    records.push(record);
  }
  return { records, tornTail };
}

/** The whole file, refusing a symbolic link or anything but a regular file. */
async function readRegularFile(path: string): Promise<string> {
  let fh: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO planted in its place returns at once instead of waiting for a writer.
    fh = await openFile(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") {
      throw new StoreError(`journal ${path} is a symbolic link; weft does not read its journal through one`, {
        cause: e,
      });
    }
    throw e;
  }
  try {
    if (!(await fh.stat()).isFile()) throw new StoreError(`journal ${path} is not a regular file`);
    return await fh.readFile("utf8");
  } finally {
    await fh.close();
  }
}
