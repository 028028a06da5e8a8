/** Child processes in their own process group (SPEC D08), so a stop reaches every descendant. */
import { type ChildProcess, spawn } from "node:child_process";

export function spawnInGroup(
  file: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; stdin: "pipe" | "ignore" },
): ChildProcess {
  // detached: the child leads a new process group (pgid = pid).
  return spawn(file, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: [opts.stdin, "pipe", "pipe"] });
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** SIGTERM to the group, SIGKILL after `graceMs` if anything is left; resolves when it is gone. */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  killGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  let wait = 5;
  while (isGroupAlive(pgid)) {
    if (Date.now() >= deadline) {
      killGroup(pgid, "SIGKILL");
      for (let i = 0; i < 200 && isGroupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 5));
      return;
    }
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 100);
  }
}
