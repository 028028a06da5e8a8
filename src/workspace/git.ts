/** Running git. Worktrees and patches use git itself, whose own locks make parallel use safe. */
import { execFile } from "node:child_process";
import { setPriority } from "node:os";

export class GitError extends Error {
  override name = "GitError";
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Run git; rejects with GitError (the command and its stderr) unless `ok` accepts the exit code. */
export function git(
  args: string[],
  cwd: string,
  opts: {
    env?: NodeJS.ProcessEnv;
    input?: string;
    ok?: (code: number) => boolean;
    /** Bulk work (checkouts, scans) that may wait for the short commands others take turns on. */
    background?: boolean;
  } = {},
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      { cwd, env: { ...process.env, ...opts.env }, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        if (err && typeof err.code !== "number") {
          reject(new GitError(`git ${args[0]}: ${err.message}`));
          return;
        }
        if (code !== 0 && !(opts.ok?.(code) ?? false)) {
          reject(
            new GitError(`git ${args.join(" ")} failed in ${cwd}: ${stderr.trim() || `exit code ${code}`}`),
          );
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (opts.background) lowerPriority(child.pid);
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/**
 * git's worktree commands are not safe to run side by side: one `worktree add` can read another's
 * half-written admin files ("failed to read .git/worktrees/N/commondir"), and ref updates meet
 * each other's lock files. Those failures are retried after a short random pause.
 */
const RACE =
  /failed to read .*(commondir|gitdir)|\.lock': File exists|cannot lock ref|Unable to create .*\.lock/;

export async function gitRetrying(
  args: string[],
  cwd: string,
  opts: Parameters<typeof git>[2] = {},
): Promise<GitResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await git(args, cwd, opts);
    } catch (e) {
      if (attempt >= 10 || !(e instanceof GitError) || !RACE.test(e.message)) throw e;
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * attempt));
    }
  }
}

/**
 * Worktree bookkeeping takes turns (one `git worktree add` at a time), so with 32 checkouts
 * running beside it each add got a 16th of a core and the queue of adds set the pace (123 ms per
 * add instead of 34 ms, measured with bench/worktrees.mjs). Lowering the bulk work's priority
 * lets the short commands in turn run first; the bulk gets the processor whenever they wait.
 */
export const BACKGROUND_NICE = 10;

export function lowerPriority(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, BACKGROUND_NICE);
  } catch {
    // Already exited, or the system does not allow it: run at normal priority.
  }
}
