/** W05: verification commands run in the agent's worktree, each in its own process group. */
import { spawnInGroup, terminateGroup } from "../drivers/process.js";
import { unwatchGroup, watchGroup } from "../drivers/reaper.js";

export interface VerifyResult {
  ok: boolean;
  /** The command that failed, or the last one run. */
  command: string;
  exitCode: number | null;
  /** Its output (stdout and stderr interleaved), the last 16 KB. */
  output: string;
}

const KEEP = 16_384;

export async function runVerify(
  commands: string[],
  cwd: string,
  opts: { timeoutMs: number; killGraceMs: number; signal: AbortSignal },
): Promise<VerifyResult> {
  let last: VerifyResult = { ok: true, command: "", exitCode: 0, output: "" };
  for (const command of commands) {
    last = await runOne(command, cwd, opts);
    if (!last.ok) return last;
  }
  return last;
}

function runOne(
  command: string,
  cwd: string,
  opts: { timeoutMs: number; killGraceMs: number; signal: AbortSignal },
): Promise<VerifyResult> {
  return new Promise((resolve) => {
    const child = spawnInGroup("sh", ["-c", command], { cwd, env: process.env, stdin: "ignore" });
    // R02: a verify command dies with weft too.
    if (child.pid !== undefined) watchGroup(child.pid);
    let output = "";
    let why: string | undefined;
    let stopping: Promise<void> | undefined;
    const add = (d: Buffer) => {
      output = (output + d.toString("utf8")).slice(-KEEP);
    };
    child.stdout!.on("data", add);
    child.stderr!.on("data", add);
    const stop = (reason: string) => {
      if (why || child.pid === undefined) return;
      why = reason;
      stopping = terminateGroup(child.pid, opts.killGraceMs);
    };
    const timer = setTimeout(
      () => stop(`timed out after ${opts.timeoutMs} ms (setting verifyTimeoutMs)`),
      opts.timeoutMs,
    );
    const onAbort = () => stop("stopped");
    opts.signal.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      why ??= `cannot run: ${e.message}`;
    });
    child.on("close", async (code) => {
      clearTimeout(timer);
      opts.signal.removeEventListener("abort", onAbort);
      if (stopping) await stopping;
      if (child.pid !== undefined) unwatchGroup(child.pid);
      const ok = code === 0 && !why;
      resolve({ ok, command, exitCode: code, output: why ? `${output}\n[${why}]` : output });
    });
  });
}
