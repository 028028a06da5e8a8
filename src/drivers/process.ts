/** Child processes in their own process group (SPEC D08), so a stop reaches every descendant. */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export function spawnInGroup(
  file: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; stdin: "pipe" | "ignore" },
): ChildProcess {
  // detached: the child leads a new process group (pgid = pid).
  return spawn(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: [opts.stdin, "pipe", "pipe"],
  });
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

/**
 * Whether any process of the group still runs. kill(-pgid, 0) also succeeds for zombies, and an
 * orphaned agent whose weft was killed stays a zombie wherever nothing reaps it (a container
 * whose PID 1 does not), so on Linux the group's members are looked up in /proc.
 */
export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => d.charCodeAt(0) <= 57);
  } catch {
    return true;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    // Fields after the command name: state (3), ppid (4), pgrp (5).
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[2]) === pgid && f[0] !== "Z" && f[0] !== "X") return true;
  }
  return false;
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
