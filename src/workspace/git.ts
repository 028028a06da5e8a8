/** Running git. Worktrees and patches use git itself, whose own locks make parallel use safe. */
import { execFile } from "node:child_process";

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
  opts: { env?: NodeJS.ProcessEnv; input?: string; ok?: (code: number) => boolean } = {},
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
