/**
 * Every write weft makes under `.weft/` goes through here (SPEC R01, README "Security model").
 *
 * An agent with edit permission can change anything in the project, `.weft/` included: it can
 * plant a symbolic link where weft is about to write (`agents/3.json -> ~/.bashrc`), replace a
 * folder of the run with a link to a folder elsewhere, or hard-link a file of the user's into the
 * run. weft runs as the user and outside any agent sandbox, so following such a link would let
 * the agent write where its own permissions do not reach. Hence:
 * - before any write, every component from the `.weft` folder down to the file's folder is
 *   lstat'ed and must be a real directory (`assertRealDirs`);
 * - files are opened with O_NOFOLLOW, so a link at the last component fails the open (ELOOP);
 * - whole-file writes go to a new temp file (O_CREAT|O_EXCL|O_NOFOLLOW, a random name) that is
 *   renamed over the target: a rename replaces a directory entry and never writes into the inode
 *   a planted link or hard link points at;
 * - appends (journal, events, transcripts, detached logs) open once with O_APPEND|O_NOFOLLOW and
 *   refuse anything but a regular file with one link;
 * - `mkdir -p` creates one component at a time and refuses a link on the way.
 * Folders of a path with no `.weft` folder above it (the user's ~/.config/weft, which may well
 * be a link) are not checked; its last component still is.
 *
 * What remains is a race: Node has no openat(), so a component checked here can be swapped for a
 * link between the lstat and the open or rename (README, "Security model").
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  createWriteStream,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  type WriteStream,
  writeSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { StoreError } from "./errors.js";

/** A write refused because a link (or something that is not a folder) is in the way. */
export class UnsafePathError extends StoreError {
  override name = "UnsafePathError";
  constructor(
    message: string,
    /** The component found in the way, absolute. */
    readonly at: string,
  ) {
    super(message);
  }
}

const { O_WRONLY, O_RDONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW, O_NONBLOCK, O_RDWR } = constants;

/** The folder named `.weft` nearest above `path`, or undefined. */
function weftRoot(abs: string): string | undefined {
  const parts = abs.split(sep);
  const i = parts.lastIndexOf(".weft");
  if (i <= 0) return undefined;
  return parts.slice(0, i + 1).join(sep) || sep;
}

/** How a path is named in messages: from the project folder (the one holding `.weft`). */
export function shown(abs: string): string {
  const root = weftRoot(abs);
  return root ? relative(dirname(root), abs) || abs : abs;
}

const linkError = (p: string) => new UnsafePathError(`refusing to write through symlink ${shown(p)}`, p);
/** Not a refusal but the error the system would give (a file where a folder should be). */
const notDirError = (p: string, target: string) =>
  Object.assign(new Error(`ENOTDIR: not a directory, cannot write ${target}: ${p} is not a directory`), {
    code: "ENOTDIR",
    path: p,
  });

/** The folders to check for a write of `target`: from its `.weft` folder (inclusive) down to `dir`. */
function chain(dir: string): string[] {
  const abs = resolve(dir);
  const root = weftRoot(abs);
  // Not under a `.weft` folder: the user's own (~/.config/weft may well be a link), not checked.
  if (!root) return [];
  const out = [root];
  const rest = relative(root, abs);
  if (rest) {
    let p = root;
    for (const part of rest.split(sep)) {
      p = join(p, part);
      out.push(p);
    }
  }
  return out;
}

/**
 * Throws UnsafePathError when any folder from the `.weft` folder down to `dir` is a link or not
 * a directory. A missing folder throws ENOENT as the open would.
 */
export function assertRealDirs(dir: string, target = dir): void {
  for (const p of chain(dir)) {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) throw linkError(p);
    if (!st.isDirectory()) throw notDirError(p, target);
  }
}

/** The folder at `dir`, made one component at a time below the `.weft` folder, never through a link. */
export function ensureDir(dir: string): void {
  const abs = resolve(dir);
  const parts = chain(abs);
  // Above the `.weft` folder (the project itself) is the user's, created as usual.
  mkdirSync(parts.length > 0 ? dirname(parts[0]!) : abs, { recursive: true });
  for (const p of parts) {
    let st = lstatOrNot(p);
    if (!st) {
      try {
        mkdirSync(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      st = lstatSync(p);
    }
    if (st.isSymbolicLink()) throw linkError(p);
    if (!st.isDirectory()) throw notDirError(p, abs);
  }
}

// No exception for a missing name: thrown errors cost more than the lstat (10,000-agent runs).
const lstatOrNot = (p: string) => lstatSync(p, { throwIfNoEntry: false });

/** A link at the last component is named as such, not as "too many levels of symbolic links". */
function explainOpen(path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ELOOP") return linkError(path);
  // O_WRONLY|O_NONBLOCK on a FIFO nobody reads: what an agent planted there, not a disk problem.
  if (code === "ENXIO")
    return new UnsafePathError(`refusing to write ${shown(path)}: it is not a regular file`, path);
  return e as Error;
}

/** The leaf, when it exists, must not be a link either (a rename would only replace it). */
function assertLeaf(path: string): void {
  const st = lstatOrNot(path);
  if (st?.isSymbolicLink()) throw linkError(path);
}

/**
 * A name nobody has used: random per process, then a counter (randomBytes per write cost a
 * quarter of a 10,000-agent run's file writes). An agent that saw one name and plants links at
 * the next ones only makes O_EXCL fail, and the write then retries with a wholly random name.
 */
const PREFIX = randomBytes(6).toString("hex");
let counter = 0;
const tempName = (path: string, fresh = false) =>
  join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${fresh ? randomBytes(9).toString("hex") : `${PREFIX}${++counter}`}.tmp`,
  );

/** Create a new temp file beside `path`; a name taken (a planted link) is retried once, at random. */
function createTemp(path: string): { tmp: string; fd: number } {
  for (const fresh of [false, true]) {
    const tmp = tempName(path, fresh);
    try {
      return { tmp, fd: openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || fresh) throw explainOpen(tmp, e);
    }
  }
  throw new Error("unreachable");
}

function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === "string" ? Buffer.from(data) : data;
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

export interface WriteOptions {
  /** fsync before the rename (default true). */
  sync?: boolean;
}

/**
 * Replace `path` with `data` atomically: a reader or a crash sees the old file or the new one.
 * Never writes into an existing inode (a planted hard link is replaced, not written through).
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  assertRealDirs(dirname(path), path);
  assertLeaf(path);
  const { tmp, fd } = createTemp(path);
  try {
    try {
      writeAll(fd, data);
      if (opts.sync !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
}

/** The same, with the data written and synced off the main thread (run.json, script copies). */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: WriteOptions = {},
): Promise<void> {
  assertRealDirs(dirname(path), path);
  assertLeaf(path);
  let tmp = tempName(path);
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw explainOpen(tmp, e);
    // Taken (a planted link): once more, at random.
    tmp = tempName(path, true);
    try {
      fh = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
    } catch (e2) {
      throw explainOpen(tmp, e2);
    }
  }
  try {
    try {
      await fh.writeFile(data);
      if (opts.sync !== false) await fh.sync();
    } finally {
      await fh.close();
    }
    // Checked again just before the rename: the folders may have changed while the data went out.
    assertRealDirs(dirname(path), path);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
}

/**
 * Write `path` in place (readable copies the journal can rebuild: agent records, task files,
 * artifacts), cheaper than a temp file and a rename. Opened with O_NOFOLLOW and without O_TRUNC,
 * then checked: a file with another name (a hard link to a file elsewhere) or anything but a
 * regular file is refused before a byte of it changes; only then is it emptied and written.
 */
export function writeFileInPlaceSync(path: string, data: string | Uint8Array): void {
  assertRealDirs(dirname(path), path);
  let fd: number;
  try {
    fd = openSync(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644);
  } catch (e) {
    throw explainOpen(path, e);
  }
  try {
    const st = fstatSync(fd);
    assertOneRegularFile(path, st);
    if (st.size > 0) ftruncateSync(fd, 0);
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
}

function assertOneRegularFile(path: string, st: { isFile(): boolean; nlink: number }): void {
  if (!st.isFile())
    throw new UnsafePathError(`refusing to write ${shown(path)}: it is not a regular file`, path);
  if (st.nlink > 1) {
    throw new UnsafePathError(
      `refusing to write through hard link ${shown(path)}: it has ${st.nlink} names, so it may be a file elsewhere`,
      path,
    );
  }
}

/** Create `path` with `data`, failing with EEXIST when anything (a link too) is there already. */
export function createExclusiveSync(path: string, data: string): void {
  assertRealDirs(dirname(path), path);
  let fd: number;
  try {
    fd = openSync(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  } catch (e) {
    throw explainOpen(path, e);
  }
  try {
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
}

/**
 * Open `path` for appending (created when missing) and return its descriptor. Refuses a link, and
 * a FIFO, socket or folder, or a file with more than one name: appending to a hard link of a file elsewhere would
 * write there. O_NONBLOCK: a FIFO planted in its place must not hang the open.
 */
export function openAppendSync(path: string, opts: { read?: boolean } = {}): number {
  assertRealDirs(dirname(path), path);
  let fd: number;
  try {
    fd = openSync(
      path,
      (opts.read ? O_RDWR : O_WRONLY) | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK,
      0o644,
    );
  } catch (e) {
    throw explainOpen(path, e);
  }
  try {
    const st = fstatSync(fd);
    // A FIFO or socket an agent made there would hang or mislead; a character device cannot be
    // made without privileges (and /dev/full is how tests make a full disk).
    if (!st.isFile() && !st.isCharacterDevice()) {
      throw new UnsafePathError(`refusing to write ${shown(path)}: it is not a regular file`, path);
    }
    if (st.nlink > 1) assertOneRegularFile(path, st);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** An append stream on a descriptor from openAppendSync (transcripts). */
export function appendStream(path: string): WriteStream {
  return createWriteStream("", { fd: openAppendSync(path), autoClose: true });
}

/** Rename within `.weft/`, with both folders checked; a link at `to` is replaced, not followed. */
export function renameSafe(from: string, to: string): void {
  assertRealDirs(dirname(from), from);
  assertRealDirs(dirname(to), to);
  renameSync(from, to);
}

/** Remove a file; its folders are checked first (unlink never follows the last component). */
export function unlinkSafe(path: string): void {
  assertRealDirs(dirname(path), path);
  unlinkSync(path);
}

/**
 * Copy a file into `.weft/` (fork, saved workflows): the source is read without following a link
 * at its name and must be a regular file, so a link planted in a source run is not copied along.
 */
export function copyFileSafe(from: string, to: string): void {
  let fd: number;
  try {
    fd = openSync(from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") {
      throw new UnsafePathError(`refusing to copy symlink ${shown(from)}`, from);
    }
    throw e;
  }
  let data: Buffer;
  try {
    if (!fstatSync(fd).isFile())
      throw new UnsafePathError(`refusing to copy ${shown(from)}: not a regular file`, from);
    data = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  writeFileAtomicSync(to, data, { sync: false });
}

/** Is this error a refusal of this module (to report and go on), rather than an I/O failure? */
export const isUnsafePath = (e: unknown): e is UnsafePathError => e instanceof UnsafePathError;
