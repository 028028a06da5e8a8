/**
 * `weft run --detach` and `weft resume --detach` (U01): the run goes on in a process of its own
 * (its own session, so closing the terminal does not reach it; stdin closed; stdout and stderr
 * in files of the run directory), and this command returns once the run has started.
 *
 * The child is `weft` again with the same arguments minus `--detach`. It writes `run <id>` as its
 * first line on stderr once the run exists (R01); the parent reads the child's stderr file
 * through its own descriptor until that line comes or the child exits. A new run's directory does
 * not exist before the child creates it, so its output starts in `.weft/detached/` and the child
 * moves the files into the run directory when the run starts (a rename keeps the open files).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { locateRun } from "../control/locate.js";
import type { Reporter } from "../report/events.js";
import { ensureRunsDir } from "../store/files.js";
import { ensureDir, openAppendSync, renameSafe } from "../store/safe-write.js";
import { EXIT } from "./exit-codes.js";

/** The environment variable that tells a detached child where its output files start. */
const LOG_ENV = "WEFT_DETACHED_LOG";

export const OUT_LOG = "stdout.log";
export const ERR_LOG = "stderr.log";

/** This command's arguments without `--detach`: what the child runs. */
export const detachedArgs = (): string[] => process.argv.slice(2).filter((a) => a !== "--detach");

/**
 * Start `weft <args>` detached and wait until its run has started. `resume`: the run being
 * resumed, whose directory gets the output at once; absent for a new run.
 */
export async function startDetached(args: string[], opts: { resume?: string } = {}): Promise<number> {
  const cwd = process.cwd();
  // An unknown run is the child's to report ("nothing to resume"), like any other start error.
  const runDir = opts.resume
    ? await locateRun(opts.resume, cwd).then(
        (r) => r.runDir,
        () => undefined,
      )
    : undefined;
  let outPath: string;
  let errPath: string;
  let prefix: string | undefined;
  if (runDir) {
    outPath = join(runDir, OUT_LOG);
    errPath = join(runDir, ERR_LOG);
  } else {
    const dir = join(await ensureRunsDir(cwd), "detached");
    ensureDir(dir);
    prefix = join(dir, `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`);
    outPath = `${prefix}.${OUT_LOG}`;
    errPath = `${prefix}.${ERR_LOG}`;
  }
  // Never through a link an agent planted in the run directory (safe-write.ts): refused, exit 2.
  const out = openAppendSync(outPath);
  let err: number;
  try {
    err = openAppendSync(errPath);
  } catch (e) {
    closeSync(out);
    throw e;
  }
  // Read through descriptors of our own: the child may rename the files meanwhile.
  const errRead = openSync(errPath, "r");
  const outRead = openSync(outPath, "r");
  const errStart = statSync(errPath).size;
  const outStart = statSync(outPath).size;
  const env = { ...process.env };
  if (prefix) env[LOG_ENV] = prefix;
  else delete env[LOG_ENV];
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  try {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
      cwd,
      env,
      detached: true,
      stdio: ["ignore", out, err],
    });
    child.on("error", (e) => {
      spawnError = e;
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
    });
    child.unref();
  } finally {
    closeSync(out);
    closeSync(err);
  }
  try {
    let seen = "";
    let pos = errStart;
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(errRead, buf, 0, buf.length, pos);
      if (n > 0) {
        pos += n;
        seen += buf.toString("utf8", 0, n);
        const m = /^run (\S+)[^\n]*\n/m.exec(seen);
        if (m) {
          const id = m[1]!;
          process.stderr.write(`run ${id}\n`);
          process.stdout.write(`${id}\n`);
          return EXIT.completed;
        }
        continue;
      }
      if (spawnError) throw spawnError;
      if (exit) {
        // It ended before its run started (a script error, a refused lock...): say what it said.
        process.stderr.write(seen);
        process.stdout.write(readAll(outRead, outStart));
        if (prefix) for (const p of [outPath, errPath]) tryUnlink(p);
        return exit.code ?? EXIT.failed;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    closeSync(errRead);
    closeSync(outRead);
  }
}

function readAll(fd: number, from: number): string {
  const parts: Buffer[] = [];
  const buf = Buffer.alloc(64 * 1024);
  let pos = from;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n <= 0) break;
    parts.push(Buffer.from(buf.subarray(0, n)));
    pos += n;
  }
  return Buffer.concat(parts).toString("utf8");
}

function tryUnlink(p: string): void {
  try {
    unlinkSync(p);
  } catch {}
}

/**
 * In the detached child: once the run exists, its output files move into the run directory.
 * Returns the reporter unchanged when this process is not a detached child.
 */
export function detachedChildReporter(inner: Reporter): Reporter {
  const prefix = process.env[LOG_ENV];
  if (!prefix) return inner;
  // Not inherited by agents, nor by a run this one starts.
  delete process.env[LOG_ENV];
  let moved = false;
  return {
    event(e) {
      if (e.type === "run.started" && !moved) {
        moved = true;
        try {
          renameSafe(`${prefix}.${OUT_LOG}`, join(e.runDir, OUT_LOG));
          renameSafe(`${prefix}.${ERR_LOG}`, join(e.runDir, ERR_LOG));
        } catch {
          // Left in .weft/detached: the run goes on, its output is still written there.
        }
      }
      inner.event(e);
    },
    close: () => inner.close?.(),
  };
}
