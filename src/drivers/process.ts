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
  const members = groupMembers(pgid);
  // No /proc (macOS): trust the signal probe.
  return members === undefined || members.length > 0;
}

/** The fields of /proc/<pid>/stat weft reads; undefined where it cannot be read. */
export interface ProcStat {
  state: string;
  pgrp: number;
  /** Clock ticks since boot (field 22): with the pid, it names one process for good. */
  startTime: string;
}

export function readProcStat(pid: number | "self"): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces and parentheses): state, ppid, pgrp, ...
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: f[0] ?? "", pgrp: Number(f[2]), startTime: f[19] ?? "" };
}

/**
 * The live (not zombie) members of a group, from /proc; undefined without /proc. kill(-pgid, 0)
 * also succeeds for zombies, and an orphaned agent whose weft was killed stays a zombie wherever
 * nothing reaps it (a container whose PID 1 does not).
 */
function groupMembers(pgid: number): ProcStat[] | undefined {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => d.charCodeAt(0) <= 57);
  } catch {
    return undefined;
  }
  const out: ProcStat[] = [];
  for (const pid of pids) {
    const st = readProcStat(Number(pid));
    if (st && st.pgrp === pgid && st.state !== "Z" && st.state !== "X") out.push(st);
  }
  return out;
}

/** An agent's process group as the journal records it (R02): the leader's start time names it. */
export interface GroupLease {
  pgid: number;
  startTime?: string;
}

/**
 * R02: whether a recorded group may be killed: it is still alive and still the agent's. A journal
 * is data an agent with edit permission could have written, so a pgid <= 1 (kill(-1) is every
 * process of the user, kill(-0) weft's own group), weft's own group, or a group whose leader is
 * another process than the one recorded (the pid was reused) is never killed; without a recorded
 * start time (an older journal) nothing can be checked and the group is left alone.
 * A group whose leader has exited but whose members live on is still the agent's when its members
 * started after the recorded leader: Linux does not hand out a pid while a group of that id
 * exists, so another group of the same id would need the old one gone entirely first and a new
 * leader of that pid started and exited since; that is the case this cannot tell apart.
 * Without /proc (macOS) only the pgid checks apply.
 */
export function leaseStillOurs(lease: GroupLease): boolean {
  const { pgid, startTime } = lease;
  if (!Number.isSafeInteger(pgid) || pgid <= 1 || pgid === process.pid) return false;
  const self = readProcStat("self");
  if (self === undefined) return isGroupAlive(pgid);
  if (self.pgrp === pgid || startTime === undefined) return false;
  const members = groupMembers(pgid) ?? [];
  const leader = readProcStat(pgid);
  if (leader && leader.state !== "Z" && leader.state !== "X") return leader.startTime === startTime;
  return members.length > 0 && members.every((m) => Number(m.startTime) >= Number(startTime));
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
