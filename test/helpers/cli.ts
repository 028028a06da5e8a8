/** Run the built CLI (dist/) as a user would, in a temporary project folder. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const WEFT_BIN = join(root, "dist", "cli", "main.js");
export const AGENT = join(root, "test", "fixtures", "agent.mjs");
/** The command-driver setting that runs the fixture agent. */
export const AGENT_CMD = `node ${AGENT}`;

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function project(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "weft-test-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** A clean environment: no WEFT_* from the outside, a private XDG config folder. */
export function cleanEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("WEFT_")) env[k] = v;
  env.XDG_CONFIG_HOME = join(dir, ".xdg");
  return { ...env, ...extra };
}

export function startWeft(args: string[], dir: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [WEFT_BIN, ...args], { cwd: dir, env: cleanEnv(dir, env), stdio: "pipe" });
}

export function collect(child: ChildProcess): Promise<Result> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** Start `weft <args>` in the background; resolves once it printed its run id (R01's first line). */
export async function startRunning(dir: string, args: string[], env: Record<string, string> = {}) {
  const child = startWeft(args, dir, env);
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const done = collect(child);
  const id = await until(() => /^run (\S+)/m.exec(stderr)?.[1]);
  return { id, done, child };
}

export function weft(args: string[], dir: string, env: Record<string, string> = {}): Promise<Result> {
  return collect(startWeft(args, dir, env));
}

/** `weft run <script> --command <fixture agent>` plus extra flags. */
export function runScript(
  dir: string,
  script: string,
  flags: string[] = [],
  env: Record<string, string> = {},
) {
  return weft(["run", script, "--command", AGENT_CMD, ...flags], dir, env);
}

export function runIdOf(r: Result): string {
  const m = /^run (\S+)/m.exec(r.stderr);
  if (!m) throw new Error(`no run id in stderr:\n${r.stderr}`);
  return m[1]!;
}

export function runJson(dir: string, id: string): any {
  return JSON.parse(readFileSync(join(dir, ".weft", "runs", id, "run.json"), "utf8"));
}

export function journal(dir: string, id: string): any[] {
  return readFileSync(join(dir, ".weft", "runs", id, "journal.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

export const meta = (name = "t") => `export const meta = { name: "${name}", description: "test" }\n`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `f` returns something truthy (exceptions count as "not yet"). */
export async function until<T>(f: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    let v: T | undefined;
    try {
      v = f();
    } catch {
      // Not there yet.
    }
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await sleep(25);
  }
}

/** A project folder that is a git repository with one commit of `files` (and the script). */
export function gitProject(files: Record<string, string>): string {
  const dir = project({ "README.md": "project\n", ...files });
  const run = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "pipe" });
  run("init", "-q");
  run("config", "user.email", "test@example.com");
  run("config", "user.name", "test");
  run("add", "-A");
  run("commit", "-qm", "base");
  return dir;
}

export function gitOut(dir: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: dir, encoding: "utf8" });
}

/**
 * The watcher that kills a dead weft's agents (src/drivers/reaper.ts): the child of weft `pid`
 * that runs sh with the watch loop (Linux: read from /proc).
 */
export function reaperOf(pid: number): number | undefined {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid && readFileSync(`/proc/${d}/cmdline`, "utf8").includes("groups=")) return Number(d);
    } catch {}
  }
  return undefined;
}
