/**
 * X02: the tree an agent on a worker starts from, and its changes back.
 *
 * The driving side snapshots its working tree as it is when the task is sent (base commit plus
 * a binary patch of everything uncommitted, untracked files included, through a private index so
 * the user's index is never touched). A worker keeps one clone per repository, checks the base
 * out in a fresh worktree, applies the patch, commits that as the start, runs the agent, and
 * diffs against the start: exactly the agent's changes, nothing of the user's.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TreeSpec } from "../task.js";

const MAX_BUFFER = 512 * 1024 * 1024;
/**
 * weft's own folder never travels either way: it holds the run's journal and every run's records.
 * It is never staged, and the diff leaves out anything tracked there.
 */
const EXCLUDE_WEFT = ":(exclude).weft";
/** `git add -A` without weft's folder; naming an ignored folder in a pathspec is an error to git. */
async function addAll(cwd: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const ignored = await git(cwd, ["check-ignore", "-q", ".weft"], env).then(
    () => true,
    () => false,
  );
  await git(cwd, ignored ? ["add", "-A"] : ["add", "-A", "--", ".", EXCLUDE_WEFT], env);
}

export class TreeError extends Error {}

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      {
        cwd,
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...env },
        maxBuffer: MAX_BUFFER,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (err) reject(new TreeError(`git ${args[0]}: ${(stderr || err.message).trim()}`));
        else resolve(stdout);
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The repository workers should clone: `--repo`, else the `origin` remote, else this path. */
export async function repoOf(cwd: string, given?: string): Promise<string> {
  if (given) return given;
  const top = (await git(cwd, ["rev-parse", "--show-toplevel"])).trim();
  const origin = await git(top, ["remote", "get-url", "origin"]).catch(() => "");
  return origin.trim() || top;
}

/** The working tree as it is now, as base + patch. */
export async function snapshotTree(cwd: string, repo: string): Promise<TreeSpec> {
  const top = (await git(cwd, ["rev-parse", "--show-toplevel"])).trim();
  const base = (await git(top, ["rev-parse", "--verify", "HEAD^{commit}"])).trim();
  const dir = await mkdtemp(join(tmpdir(), "weft-index-"));
  try {
    const env = { GIT_INDEX_FILE: join(dir, "index") };
    await git(top, ["read-tree", "HEAD"], env);
    await git(top, ["add", "-A"], env);
    const patch = await git(
      top,
      ["diff", "--cached", "--binary", "--no-color", "--no-ext-diff", "HEAD"],
      env,
    );
    return { repo, base, patch };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Paths a patch changes (both sides of a rename). */
export function filesOf(patch: string): string[] {
  const out = new Set<string>();
  for (const m of patch.matchAll(/^diff --git a\/(.+?) b\/(.+)$/gm)) {
    out.add(m[1]!);
    out.add(m[2]!);
  }
  return [...out];
}

/** The driving side: an agent's changes onto the working tree; a conflict names the files. */
export async function applyToTree(cwd: string, patch: string): Promise<void> {
  if (!patch) return;
  // A patch from elsewhere never writes weft's own records (a worker is another trust domain).
  const own = filesOf(patch).filter((f) => f === ".weft" || f.startsWith(".weft/"));
  if (own.length > 0)
    throw new TreeError(`its changes touch weft's own folder (${own.join(", ")}); nothing was applied`);
  const top = (await git(cwd, ["rev-parse", "--show-toplevel"])).trim();
  const dir = await mkdtemp(join(tmpdir(), "weft-patch-"));
  const file = join(dir, "agent.patch");
  try {
    await writeFile(file, patch);
    try {
      await git(top, ["apply", "--check", "--binary", "--whitespace=nowarn", file]);
    } catch (e) {
      throw new TreeError(
        `its changes do not apply to the working tree (${filesOf(patch).join(", ")}): ${(e as Error).message}`,
      );
    }
    await git(top, ["apply", "--binary", "--whitespace=nowarn", file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Git commands on one clone one at a time: worktree bookkeeping is not safe to race. */
const locks = new Map<string, Promise<unknown>>();
function serial<T>(key: string, f: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.then(f, f);
  locks.set(
    key,
    next.catch(() => {}),
  );
  return next;
}

export interface PreparedTree {
  path: string;
  /** The agent's changes since the start (binary patch, "" when none). */
  changes(): Promise<string>;
  remove(): Promise<void>;
}

/** The worker side: a fresh worktree of `tree` under `workdir`. */
export async function prepareTree(workdir: string, tree: TreeSpec, name: string): Promise<PreparedTree> {
  const clone = join(workdir, "repos", createHash("sha256").update(tree.repo).digest("hex").slice(0, 16));
  const path = join(workdir, "trees", name.replace(/[^A-Za-z0-9._-]/g, "_"));
  await serial(clone, async () => {
    if (!existsSync(join(clone, ".git"))) {
      await mkdir(join(workdir, "repos"), { recursive: true });
      await git(workdir, ["clone", "--quiet", "--no-checkout", "--", tree.repo, clone]);
    }
    const has = await git(clone, ["cat-file", "-e", `${tree.base}^{commit}`]).then(
      () => true,
      () => false,
    );
    if (!has) {
      await git(clone, ["fetch", "--quiet", "origin"]).catch(() => {});
      const now = await git(clone, ["cat-file", "-e", `${tree.base}^{commit}`]).then(
        () => true,
        () => false,
      );
      if (!now) await git(clone, ["fetch", "--quiet", "origin", tree.base]);
    }
    await rm(path, { recursive: true, force: true });
    await git(clone, ["worktree", "prune"]);
    await mkdir(join(workdir, "trees"), { recursive: true });
    await git(clone, ["worktree", "add", "--quiet", "--detach", path, tree.base]);
  });
  const id = ["-c", "user.name=weft", "-c", "user.email=weft@localhost", "-c", "commit.gpgsign=false"];
  if (tree.patch) {
    const file = `${path}.start.patch`;
    await writeFile(file, tree.patch);
    try {
      await git(path, ["apply", "--binary", "--whitespace=nowarn", file]);
    } finally {
      await rm(file, { force: true });
    }
  }
  await git(path, ["add", "-A"]);
  await git(path, [
    ...id,
    "commit",
    "--quiet",
    "--allow-empty",
    "--no-verify",
    "-m",
    "weft: the tree the agent starts from",
  ]);
  const start = (await git(path, ["rev-parse", "HEAD"])).trim();
  return {
    path,
    async changes() {
      await addAll(path);
      return git(path, [
        "diff",
        "--cached",
        "--binary",
        "--no-color",
        "--no-ext-diff",
        start,
        "--",
        ".",
        EXCLUDE_WEFT,
      ]);
    },
    remove: () =>
      serial(clone, async () => {
        await git(clone, ["worktree", "remove", "--force", path]).catch(() =>
          rm(path, { recursive: true, force: true }),
        );
      }),
  };
}
