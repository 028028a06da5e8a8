/**
 * The pinned agent CLIs of the contract tests (D10), installed on first use into a cache folder
 * outside the checkout and the user install (`$WEFT_CLI_CACHE`, default ~/.cache/weft/clis), and
 * reused by later runs on the same machine. Wire details move between releases: bump a version
 * only together with the tests that pin its behaviour.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const CLIS = {
  codex: { pkg: "@openai/codex", version: "0.169.0", bin: "codex" },
  claude: { pkg: "@anthropic-ai/claude-code", version: "2.1.197", bin: "claude" },
  pi: { pkg: "@mariozechner/pi-coding-agent", version: "0.73.1", bin: "pi" },
  opencode: { pkg: "opencode-ai", version: "1.18.33", bin: "opencode" },
  gemini: { pkg: "@google/gemini-cli", version: "0.61.0", bin: "gemini" },
} as const;

export type CliName = keyof typeof CLIS;
export const CLI_NAMES = Object.keys(CLIS) as CliName[];

export function cliCacheDir(): string {
  return process.env.WEFT_CLI_CACHE || join(homedir(), ".cache", "weft", "clis");
}

function installDir(name: CliName): string {
  const c = CLIS[name];
  return join(cliCacheDir(), `${name}-${c.version}`);
}

/** Path of the installed CLI's executable (whether or not it is installed yet). */
export function cliBin(name: CliName): string {
  return join(installDir(name), "node_modules", ".bin", CLIS[name].bin);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Installs the pinned release unless the cache has it. A lock folder keeps two test processes
 * from installing into one folder at once; a lock older than the longest install is stale.
 */
export async function ensureCli(name: CliName): Promise<string> {
  const dir = installDir(name);
  const done = join(dir, ".installed");
  if (existsSync(done)) return cliBin(name);
  mkdirSync(cliCacheDir(), { recursive: true });
  const lock = `${dir}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(done)) return cliBin(name);
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      await sleep(500);
    }
  }
  try {
    if (existsSync(done)) return cliBin(name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), '{"private":true}\n');
    const c = CLIS[name];
    try {
      await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", `${c.pkg}@${c.version}`], {
        cwd: dir,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 15 * 60_000,
      });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`installing ${c.pkg}@${c.version} into ${dir} failed: ${err.stderr || err.message}`);
    }
    if (!existsSync(cliBin(name))) throw new Error(`${c.pkg}@${c.version} installed no ${c.bin} executable`);
    writeFileSync(done, `${new Date().toISOString()}\n`);
    return cliBin(name);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
