/** Run directories under .weft/ (SPEC R01): the only code besides the journal that writes there. */
import { randomInt } from "node:crypto";
import { lstat, readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { StoreError } from "./errors.js";
import {
  createExclusiveSync,
  ensureDir,
  isUnsafePath,
  renameSafe,
  shown,
  UnsafePathError,
  writeFileAtomic,
  writeFileAtomicSync,
} from "./safe-write.js";
import { weftDirOf } from "./weft-dir.js";

export { StoreError };

/**
 * Write JSON atomically: a temp file in the same folder (rename is only atomic within one file
 * system), renamed over the target, so a reader or a crash sees the old file or the new one.
 * `sync: false` skips the fsync for files the journal can rebuild (run.json while a run goes on);
 * the final write of a run syncs. The folder itself is not fsync'd: after a machine crash the
 * rename may be lost, which leaves the previous complete file, never a torn one. Never through a
 * link (safe-write.ts).
 */
export async function writeJsonAtomic(
  path: string,
  value: unknown,
  opts: { sync?: boolean } = {},
): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, { sync: opts.sync !== false });
}

export function writeJsonAtomicSync(path: string, value: unknown): void {
  writeFileAtomicSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

const ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * R01: meta.name lowercased, other characters made "-", leading "." and "-" removed ("run" when
 * nothing is left), then "-" and 6 random characters. So an id never starts with "-" (read as a
 * flag by every command) or "." (hidden, and refused by findRun as a path), and a name with no
 * ASCII letters or digits ("日本語") gives "run-xxxxxx", not "----xxxxxx".
 */
export function newRunId(name: string): string {
  let suffix = "";
  for (let i = 0; i < 6; i++) suffix += ID_CHARS[randomInt(ID_CHARS.length)];
  const stem = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, "-")
    .replace(/^[.-]+/, "");
  return `${stem || "run"}-${suffix}`;
}

function explain(path: string, e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case "EEXIST":
    case "ENOTDIR":
      // A file in the way is found and named before this; here it is e.g. a dangling symlink.
      return `${path} or a folder above it exists and is not a directory`;
    case "EACCES":
    case "EPERM":
      return `no permission to write ${path}`;
    case "ENOSPC":
      return `no space left on the device for ${path}`;
    case "EROFS":
      return `${path} is on a read-only file system`;
    default:
      return `${path}: ${e.message}`;
  }
}

async function mkdirChecked(path: string): Promise<void> {
  try {
    ensureDir(path);
  } catch (e) {
    // A link on the way is named as such (safe-write.ts); exit 2 like any refused start (E02).
    if (isUnsafePath(e)) throw new StoreError(`cannot create run directory: ${e.message}`, { cause: e });
    // Name the component that is in the way, not just the leaf.
    let p = path;
    for (;;) {
      const st = await lstat(p).catch(() => undefined);
      if (st && !st.isDirectory()) {
        const what = st.isFile() ? "a file" : "something else";
        throw new StoreError(`cannot create run directory: ${p} is ${what}, not a directory`, { cause: e });
      }
      const up = dirname(p);
      if (up === p) break;
      p = up;
    }
    throw new StoreError(`cannot create run directory: ${explain(path, e as NodeJS.ErrnoException)}`, {
      cause: e,
    });
  }
}

/** Create `runs/` in the `.weft/` that `cwd` uses (see weft-dir.ts); returns the `.weft` path. */
export async function ensureRunsDir(cwd: string): Promise<string> {
  const weft = weftDirOf(cwd);
  await mkdirChecked(join(weft, "runs"));
  // Run files and worktrees are not the project's content: keep them out of `git status`.
  try {
    createExclusiveSync(join(weft, ".gitignore"), "*\n");
  } catch {}
  return weft;
}

export const runDirPath = (weftDir: string, id: string) => join(weftDir, "runs", id);

export async function createRunDir(weftDir: string, id: string): Promise<string> {
  const dir = runDirPath(weftDir, id);
  for (const sub of ["agents", "transcripts", "tasks", "patches"]) await mkdirChecked(join(dir, sub));
  return dir;
}

/**
 * An existing run's directory must be a real directory, and so must `.weft` and `.weft/runs`: an
 * agent may have replaced it with a link to a folder elsewhere, where the run would then write.
 */
export async function assertRunDir(runDir: string): Promise<void> {
  for (const p of [dirname(dirname(runDir)), dirname(runDir), runDir]) {
    const st = await lstat(p).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      throw new UnsafePathError(
        `refusing to use run directory ${shown(runDir)}: ${shown(p)} is a symbolic link, and weft does not write through one`,
        p,
      );
    }
  }
}

/** Save the script as run; an older different copy is kept as script.1.js, script.2.js, ... (R03). */
export async function saveScriptCopy(runDir: string, baseName: string, source: string): Promise<string> {
  const path = join(runDir, baseName);
  const old = await readFile(path, "utf8").catch(() => undefined);
  if (old === source) return path;
  if (old !== undefined) {
    const dot = baseName.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [baseName.slice(0, dot), baseName.slice(dot)] : [baseName, ""];
    let n = 1;
    while (await lstat(join(runDir, `${stem}.${n}${ext}`)).catch(() => undefined)) n++;
    renameSafe(path, join(runDir, `${stem}.${n}${ext}`));
  }
  // Atomic, so a crash never leaves a half-written script where resume looks for it.
  await writeFileAtomic(path, source);
  return path;
}

export async function readRunJson(runDir: string): Promise<any | undefined> {
  try {
    return JSON.parse(await readFile(join(runDir, "run.json"), "utf8"));
  } catch {
    return undefined;
  }
}

/** Every run with a run.json, newest first. */
export async function listRuns(weftDir: string): Promise<any[]> {
  const ids = await readdir(join(weftDir, "runs")).catch(() => [] as string[]);
  const runs = (await Promise.all(ids.map((id) => readRunJson(runDirPath(weftDir, id))))).filter(Boolean);
  // ISO times sort as text; a run.json without one goes last.
  const at = (r: any) => (typeof r.startedAt === "string" ? r.startedAt : "");
  return runs.sort((a, b) => at(b).localeCompare(at(a)));
}

/** R01: more than one run starts with the prefix given; the message lists them. */
export class AmbiguousRunError extends StoreError {
  override name = "AmbiguousRunError";
}

/** Newest first by run.json's startedAt (a run without one goes last), as `weft ls` lists them. */
async function newestFirst(weftDir: string, ids: string[]): Promise<string[]> {
  const at = await Promise.all(
    ids.map(async (id) => {
      const s = await readRunJson(runDirPath(weftDir, id));
      return typeof s?.startedAt === "string" ? s.startedAt : "";
    }),
  );
  return ids
    .map((id, i) => ({ id, at: at[i]! }))
    .sort((a, b) => b.at.localeCompare(a.at))
    .map((r) => r.id);
}

/**
 * A run directory by exact id, unique prefix, or `last` (R01: the newest run, unless a run is
 * called that). A prefix that several runs start with is an AmbiguousRunError naming them.
 */
export async function findRun(weftDir: string, idOrPrefix: string): Promise<string | undefined> {
  if (!idOrPrefix || idOrPrefix.includes("/") || idOrPrefix.startsWith(".")) return undefined;
  const ids = (await readdir(join(weftDir, "runs")).catch(() => [] as string[])).filter(
    (id) => !id.startsWith("."),
  );
  if (ids.includes(idOrPrefix)) return runDirPath(weftDir, idOrPrefix);
  if (idOrPrefix === "last") {
    const newest = (await newestFirst(weftDir, ids))[0];
    return newest === undefined ? undefined : runDirPath(weftDir, newest);
  }
  const matches = ids.filter((id) => id.startsWith(idOrPrefix));
  if (matches.length > 1) {
    const sorted = await newestFirst(weftDir, matches);
    const shown = sorted.slice(0, 10).join(", ");
    throw new AmbiguousRunError(
      `run id "${idOrPrefix}" is ambiguous: ${matches.length} runs start with it (${shown}${matches.length > 10 ? ", ..." : ""}); give more of the id`,
    );
  }
  return matches.length === 1 ? runDirPath(weftDir, matches[0]!) : undefined;
}
