/** Child processes in their own process group (SPEC D08), so a stop reaches every descendant. */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export interface SpawnInGroupOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** D08: CLI drivers give /dev/null ("ignore"); the command driver a pipe with the prompt (D09). */
  stdin: "pipe" | "ignore";
}

/**
 * Starts `file` as the leader of a new process group (pgid = pid), with stdout and stderr piped.
 * The child is not unref'd: the caller waits for it, and its handle closes by itself when it
 * exits. Pipes that a surviving descendant inherited would keep the event loop alive, so callers
 * that stop waiting for them destroy them (the command driver does, after ending the group).
 */
export function spawnInGroup(file: string, args: string[], opts: SpawnInGroupOptions): ChildProcess {
  return spawn(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: [opts.stdin, "pipe", "pipe"],
  });
}

/** Signals every process of the group; a group that is already gone is not an error. */
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
 * whose PID 1 does not), so on Linux the group's members are looked up in /proc. The cheap
 * signal probe comes first: in the common case (group gone) nothing is read.
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
    // No /proc (macOS): trust the signal probe.
    return true;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    // Fields after the command name (which may hold spaces and parentheses): state, ppid, pgrp.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[2]) === pgid && f[0] !== "Z" && f[0] !== "X") return true;
  }
  return false;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * SIGTERM to the group, SIGKILL after `graceMs` if any member remains (C04); resolves when the
 * group is gone, or shortly after the SIGKILL (which cannot be refused) if /proc lags behind.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  killGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  // Most programs exit within milliseconds of SIGTERM: poll fast first, then back off.
  let wait = 5;
  while (isGroupAlive(pgid)) {
    const left = deadline - Date.now();
    if (left <= 0) {
      killGroup(pgid, "SIGKILL");
      for (let i = 0; i < 200 && isGroupAlive(pgid); i++) await sleep(5);
      return;
    }
    await sleep(Math.min(wait, left));
    wait = Math.min(wait * 2, 100);
  }
}
