/**
 * Writers in isolation (SPEC W01–W06, R04): one git worktree per agent on branch
 * `weft/<run>/<n>`, started from the run's base commit plus every patch integrated before it;
 * the agent's diff saved as a patch; integration applies patches to the main working tree, each
 * one whole or not at all.
 *
 * Integrated patches are also chained as commits made with fixed author, committer and dates,
 * so the tree a worktree starts from has an id that is the same when a resume replays the same
 * integrations (it is part of the agent's cache key, R03).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { assertRealDirs, ensureDir, writeFileAtomic } from "../store/safe-write.js";
import { GitError, git, gitRetrying } from "./git.js";
import { settleIndex } from "./settle.js";
import { ABSENT, statesAt, workingStates } from "./tree-state.js";

const execFileAsync = promisify(execFile);

export class WorkspaceError extends Error {
  override name = "WorkspaceError";
}

export interface Worktree {
  n: number;
  path: string;
  branch: string;
  /** Commit the worktree started from. */
  start: string;
}

export interface ChangedFile {
  status: string;
  path: string;
}

export interface PatchInfo {
  n: number;
  label?: string;
  /** Absolute path of the patch file. */
  patch: string;
  files: ChangedFile[];
}

export interface IntegrateResult {
  applied: { n: number; label?: string; files: string[] }[];
  conflicts: { n: number; label?: string; files: string[]; error: string }[];
}

const FIXED = {
  GIT_AUTHOR_NAME: "weft",
  GIT_AUTHOR_EMAIL: "weft@localhost",
  GIT_COMMITTER_NAME: "weft",
  GIT_COMMITTER_EMAIL: "weft@localhost",
  GIT_AUTHOR_DATE: "1970-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "1970-01-01T00:00:00Z",
};

/**
 * `rm -rf` deletes a 5,000-file tree in about 0.1 s here, node's fs.rm in 0.25 to 0.33 s, and 32 of
 * those at once would also fill libuv's 4 threads that the journal's fdatasync waits for.
 */
async function removeTree(path: string): Promise<void> {
  // `rm -rf` removes a link at `path` itself, but follows one above it: an agent could have
  // turned `.weft/worktrees/<run>` into a link to a folder of the user's (safe-write.ts).
  try {
    assertRealDirs(dirname(path), path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return; // Nothing there to remove.
    throw e;
  }
  try {
    await execFileAsync("rm", ["-rf", "--", path]);
  } catch {
    await rm(path, { recursive: true, force: true });
  }
}

/** Removed worktrees forgotten in one turn (see Workspace.forget). */
const FORGET_BATCH = 64;

export class Workspace {
  /** Head of the chain of integrated patches (starts at the base commit). */
  private head: string;
  /**
   * git's worktree bookkeeping one at a time: run side by side, `git worktree add` reads another
   * add's half-written admin files ("failed to read .git/worktrees/N/commondir") and a failed add
   * leaves its branch behind. Only the bookkeeping takes turns; checking files out and deleting
   * them, which is nearly all of the time, runs side by side (measured with bench/worktrees.mjs).
   */
  private admin: Promise<unknown> = Promise.resolve();

  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const next = this.admin.then(f, f);
    this.admin = next.catch(() => {});
    return next;
  }

  private constructor(
    readonly root: string,
    readonly base: string,
    private readonly runId: string,
    private readonly dir: string,
  ) {
    this.head = base;
  }

  /** W06: outside a git repository (or one without a commit) this fails, before any agent starts. */
  static async open(cwd: string, weftDir: string, runId: string, recordedBase?: string): Promise<Workspace> {
    let root: string;
    try {
      root = (await git(["rev-parse", "--show-toplevel"], cwd)).stdout.trim();
    } catch {
      throw new WorkspaceError(
        `isolation: "worktree" needs a git repository, and ${cwd} is not inside one (run \`git init\` and commit first)`,
      );
    }
    let base = recordedBase;
    if (!base) {
      try {
        base = (await git(["rev-parse", "--verify", "HEAD^{commit}"], root)).stdout.trim();
      } catch {
        throw new WorkspaceError(
          `isolation: "worktree" needs a commit to start from, and ${root} has none yet`,
        );
      }
    }
    const dir = join(weftDir, "worktrees", runId);
    // Never through a link an agent planted (safe-write.ts): git would check worktrees out there.
    ensureDir(dir);
    if (recordedBase) await Workspace.forgetRemoved(root, runId);
    return new Workspace(root, base, runId, dir);
  }

  /**
   * On resume: an execution that ended without its run's end (kill -9, a crash) leaves the
   * worktrees it removed but had not yet forgotten (see forget): registrations whose folders are
   * gone, and their branches. A branch of this run with no worktree is one of those; kept
   * worktrees (changed, not integrated) still have theirs.
   */
  private static async forgetRemoved(root: string, runId: string): Promise<void> {
    await git(["worktree", "prune"], root, { ok: () => true });
    const list = await git(["worktree", "list", "--porcelain"], root);
    const live = new Set(
      list.stdout
        .split("\n")
        .filter((l) => l.startsWith("branch refs/heads/"))
        .map((l) => l.slice("branch refs/heads/".length)),
    );
    const stale = (
      await git(["branch", "--list", "--format=%(refname:short)", `weft/${runId}/*`], root)
    ).stdout
      .split("\n")
      .filter((b) => b && !live.has(b));
    if (stale.length > 0) await gitRetrying(["branch", "-D", ...stale], root, { ok: () => true });
  }

  /** `weft clean`: remove every worktree and branch a run left (kept changes, crashed agents). */
  static async clean(
    cwd: string,
    weftDir: string,
    runId: string,
  ): Promise<{ worktrees: number; branches: number }> {
    const dir = join(weftDir, "worktrees", runId);
    let root: string;
    try {
      root = (await git(["rev-parse", "--show-toplevel"], cwd)).stdout.trim();
    } catch {
      await removeTree(dir);
      return { worktrees: 0, branches: 0 };
    }
    const list = await git(["worktree", "list", "--porcelain"], root);
    const paths = list.stdout
      .split("\n")
      .filter((l) => l.startsWith("worktree "))
      .map((l) => l.slice("worktree ".length))
      .filter((p) => p.startsWith(`${dir}/`));
    // Twice --force: a `git worktree add` killed midway leaves its registration locked.
    for (const p of paths)
      await git(["worktree", "remove", "--force", "--force", p], root, { ok: () => true });
    await removeTree(dir);
    await git(["worktree", "prune"], root, { ok: () => true });
    const branches = (
      await git(["branch", "--list", "--format=%(refname:short)", `weft/${runId}/*`], root)
    ).stdout
      .split("\n")
      .filter(Boolean);
    if (branches.length > 0) await git(["branch", "-D", ...branches], root);
    return { worktrees: paths.length, branches: branches.length };
  }

  /** The commit a worktree started now would start from. */
  get start(): string {
    return this.head;
  }

  /** Creations still waiting for their registration: checkouts to come (see settleIndex). */
  private registering = 0;
  /** How long one registration takes, smoothed over the last few. */
  private registerMs = 0;

  /** `start`: the commit to start from (R03: the one the call's key names); default the head now. */
  async create(n: number, start = this.head): Promise<Worktree> {
    const wt = { n, path: join(this.dir, String(n)), branch: `weft/${this.runId}/${n}`, start };
    // An agent may have replaced the run's worktree folder with a link since the run started.
    assertRealDirs(this.dir);
    // Registration only (admin files, branch, HEAD): no files written, so the turn is short.
    const add = () =>
      gitRetrying(
        ["worktree", "add", "--quiet", "--no-checkout", "-b", wt.branch, wt.path, wt.start],
        this.root,
      );
    this.registering++;
    try {
      await this.exclusive(async () => {
        const t0 = performance.now();
        try {
          await add();
          this.registerMs = this.registerMs * 0.75 + (performance.now() - t0) * 0.25;
        } catch {
          // A crashed earlier execution left this agent's worktree or branch behind: clear, retry once.
          await this.clear(wt);
          await add();
        }
      });
    } finally {
      this.registering--;
    }
    // The checkout touches only this worktree's index and files, so it needs no turn. A crash
    // here leaves a registered worktree under this run's folder, which `weft clean` removes.
    try {
      await git(["read-tree", "-m", "-u", "HEAD"], wt.path);
      if (this.registering > 0) await settleIndex(wt.path, this.registering * this.registerMs);
    } catch (e) {
      await this.remove(wt).catch(() => {});
      throw e;
    }
    return wt;
  }

  /** W02: the agent's diff (new, deleted and binary files included) against where it started. */
  async diff(wt: Worktree, patchPath: string): Promise<ChangedFile[]> {
    // Most agents of a large fan-out change nothing or little: look before staging everything.
    // `--branch` names the commit HEAD is on ("# branch.oid"): an agent may have committed.
    const status = await git(["status", "--porcelain=v2", "--branch", "--untracked-files=all"], wt.path);
    const lines = status.stdout.split("\n").filter(Boolean);
    const head = lines.find((l) => l.startsWith("# branch.oid "))?.slice("# branch.oid ".length);
    if (head === wt.start && lines.every((l) => l.startsWith("# "))) return [];
    await git(["add", "-A"], wt.path);
    const names = await git(["diff", "--cached", "--name-status", "--no-renames", wt.start], wt.path);
    const files = names.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [status, ...rest] = l.split("\t");
        return { status: status!, path: rest.join("\t") };
      });
    if (files.length > 0) {
      const patch = await git(
        ["diff", "--cached", "--binary", "--full-index", "--no-renames", wt.start],
        wt.path,
      );
      await writeFileAtomic(patchPath, patch.stdout, { sync: false });
    }
    return files;
  }

  /**
   * Delete the files side by side with other work; git's record of the worktree and its branch
   * are dropped later, many at a time (flush). `git worktree remove --force` would scan the whole
   * tree again first, and --force discards its changes all the same.
   */
  async remove(wt: Worktree): Promise<void> {
    await removeTree(wt.path);
    this.forgetting.add(wt.branch);
    if (this.forgetting.size >= FORGET_BATCH) this.forget();
  }

  /** Branches of removed worktrees waiting for their turn to be forgotten. */
  private forgetting = new Set<string>();
  private batch?: Promise<void>;
  private forgotten: Promise<void> = Promise.resolve();

  /**
   * Forget every worktree removed so far: one `git worktree prune` and one `git branch -D` for all
   * of them. Each is two processes, and starting a process costs the event loop 6 to 18 ms here
   * (node forks itself), so a removal does not wait for it: it waits for the next batch of
   * FORGET_BATCH removals or the run's end. A crash before leaves registrations whose folders are
   * gone and branches, which a resume (forgetRemoved) or `weft clean` removes.
   */
  private forget(): Promise<void> {
    this.batch ??= this.exclusive(async () => {
      this.batch = undefined;
      const branches = [...this.forgetting];
      this.forgetting.clear();
      if (branches.length === 0) return;
      await git(["worktree", "prune"], this.root, { ok: () => true });
      await gitRetrying(["branch", "-D", ...branches], this.root, { ok: () => true });
    });
    const batch = this.batch;
    this.forgotten = this.forgotten.then(() => batch.catch(() => {}));
    return batch;
  }

  /** At the run's end: forget the worktrees removed since the last batch (see forget). */
  async flush(): Promise<void> {
    if (this.forgetting.size > 0) this.forget();
    await this.forgotten;
  }

  /** Forget a worktree whose files are gone and its branch. */
  private async unregister(wt: Worktree): Promise<void> {
    // prune drops the record of every worktree whose folder is gone; adds in progress are locked.
    await git(["worktree", "prune"], this.root, { ok: () => true });
    await gitRetrying(["branch", "-D", wt.branch], this.root, { ok: () => true });
  }

  /**
   * What a crashed execution left of this agent's worktree: a registration that a `git worktree
   * add` killed midway leaves locked ("initializing"), which prune skips and a single --force
   * does not remove.
   */
  private async clear(wt: Worktree): Promise<void> {
    await git(["worktree", "remove", "--force", "--force", wt.path], this.root, { ok: () => true });
    await removeTree(wt.path);
    await this.unregister(wt);
  }

  /** Apply `patch` on top of commit `onto` in a scratch index; returns the new commit. */
  private async chain(patch: string, message: string, onto: string): Promise<string> {
    const tmp = await mkdtemp(join(tmpdir(), "weft-index-"));
    try {
      const env = { ...FIXED, GIT_INDEX_FILE: join(tmp, "index") };
      await git(["read-tree", onto], this.root, { env });
      await git(["apply", "--cached", "--binary", patch], this.root, { env });
      const tree = (await git(["write-tree"], this.root, { env })).stdout.trim();
      return (await git(["commit-tree", tree, "-p", onto, "-m", message], this.root, { env })).stdout.trim();
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * W04: apply patches to the main working tree in agent order, each whole or not at all.
   * `already` are agents integrated by an earlier execution of this run (R04): their patches are
   * in the main tree already, so only the integration chain is rebuilt for them.
   *
   * Crash-safe by construction: every patch is first chained onto the integration head in a
   * scratch index (a patch that does not apply there is a conflict), which gives each changed
   * file the versions it passes through. A file of the main tree that is at one of those versions
   * is weft's to set; then every such file is set to its final version. A kill anywhere in
   * between leaves files at chain versions only, so the resume recognises what is already there
   * and finishes it: nothing applied twice, and the resume never refuses its own half-done work.
   * A file at no chain version was changed by the user: integrate() refuses, naming those files
   * (other changes of the tree are left alone), unless `allowDirty` asks to apply over them.
   */
  async integrate(
    patches: PatchInfo[],
    opts: { allowDirty?: boolean; already?: Set<number> } = {},
  ): Promise<IntegrateResult> {
    const result: IntegrateResult = { applied: [], conflicts: [] };
    const todo = [...patches].sort((a, b) => a.n - b.n);
    let head = this.head;
    const chainHeads = [head];
    const steps: { p: PatchInfo; files: string[] }[] = [];
    for (const p of todo) {
      const files = p.files.map((f) => f.path);
      const message = `weft ${this.runId} agent ${p.n}`;
      if (opts.already?.has(p.n)) {
        head = await this.chain(p.patch, message, head);
        chainHeads.push(head);
        result.applied.push({ n: p.n, label: p.label, files });
        continue;
      }
      try {
        head = await this.chain(p.patch, message, head);
      } catch (e) {
        const error = e instanceof GitError ? e.message.replace(/^git apply[^:]*: /, "") : String(e);
        result.conflicts.push({ n: p.n, label: p.label, files, error });
        continue;
      }
      chainHeads.push(head);
      steps.push({ p, files });
    }
    const files = [...new Set(steps.flatMap((s) => s.files))];
    const versions = await Promise.all(chainHeads.map((c) => statesAt(this.root, c, files)));
    const final = versions.at(-1)!;
    const now = await workingStates(this.root, files);
    const theirs = files.filter((f) => !versions.some((v) => v.get(f) === now.get(f)));
    if (theirs.length > 0) {
      if (!opts.allowDirty) {
        throw new WorkspaceError(
          `integrate() refuses to change files that have uncommitted changes of your own in the working tree: ${theirs.slice(0, 10).join(", ")}${theirs.length > 10 ? `, and ${theirs.length - 10} more` : ""}; commit or stash them, or call integrate(undefined, { allowDirty: true }) to apply the patches over them`,
        );
      }
      return this.applyOverChanges(todo, opts.already);
    }
    const stale = files.filter((f) => now.get(f) !== final.get(f));
    const gone = stale.filter((f) => final.get(f) === ABSENT);
    const set = stale.filter((f) => final.get(f) !== ABSENT);
    if (set.length > 0) {
      await git(
        ["--literal-pathspecs", "restore", `--source=${head}`, "--worktree", "--", ...set],
        this.root,
      );
    }
    for (const f of gone) await rm(join(this.root, f), { force: true });
    this.head = head;
    for (const s of steps) result.applied.push({ n: s.p.n, label: s.p.label, files: s.files });
    result.applied.sort((a, b) => a.n - b.n);
    return result;
  }

  /** allowDirty over the user's own changes: `git apply` of each patch onto the working tree. */
  private async applyOverChanges(todo: PatchInfo[], already?: Set<number>): Promise<IntegrateResult> {
    const result: IntegrateResult = { applied: [], conflicts: [] };
    for (const p of todo) {
      const files = p.files.map((f) => f.path);
      const message = `weft ${this.runId} agent ${p.n}`;
      if (already?.has(p.n)) {
        this.head = await this.chain(p.patch, message, this.head);
        result.applied.push({ n: p.n, label: p.label, files });
        continue;
      }
      try {
        // Check against both the main tree and the chain before changing either.
        await git(["apply", "--check", "--binary", p.patch], this.root);
        const next = await this.chain(p.patch, message, this.head);
        await git(["apply", "--binary", p.patch], this.root);
        this.head = next;
        result.applied.push({ n: p.n, label: p.label, files });
      } catch (e) {
        const error = e instanceof GitError ? e.message.replace(/^git apply[^:]*: /, "") : String(e);
        result.conflicts.push({ n: p.n, label: p.label, files, error });
      }
    }
    return result;
  }
}
