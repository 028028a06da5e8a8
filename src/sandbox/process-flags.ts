/**
 * The command line of a sandbox process (S06's second wall), in one place so the tests check the
 * flags the host really uses.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The files the sandbox process loads: its entry, the modules it imports, and the package.json
 * that says they are ES modules. Nothing else is readable in it. */
const FILES = [
  "process-entry.js",
  "port.js",
  "worker.js",
  "bootstrap-source.js",
  "bootstrap-helpers.js",
  "../script/wrapper.js",
];

export interface SandboxCommand {
  /** The program to start, and the arguments before the entry (fork's execPath and execArgv). */
  execPath: string;
  execArgv: string[];
  entry: string;
}

let cached: SandboxCommand | undefined;

/**
 * Node's flags for a sandbox process. The permission model leaves it no file writes, no child
 * processes, no worker threads, no native addons, no WASI and no inspector, and reads only of
 * the files it loads; code generation from strings is off in its own realm too, so an escape from
 * the vm context finds no `Function` that compiles text. Node 20 calls the switch
 * --experimental-permission, later versions --permission.
 */
export function sandboxNodeFlags(): string[] {
  return sandboxCommand().nodeFlags;
}

function build(): SandboxCommand & { nodeFlags: string[] } {
  const here = realpathSync(dirname(fileURLToPath(import.meta.url)));
  const files = FILES.map((f) => join(here, f));
  const pkg = join(here, "..", "..", "package.json");
  // Node reads the nearest package.json to learn that .js files are ES modules.
  if (existsSync(pkg)) files.push(pkg);
  const flags = process.allowedNodeEnvironmentFlags;
  const nodeFlags = [
    flags.has("--permission") ? "--permission" : "--experimental-permission",
    ...files.map((f) => `--allow-fs-read=${f}`),
    "--disallow-code-generation-from-strings",
    // As the worker thread had: a small young generation, and a bound on the heap (the
    // default of a worker on a 64-bit machine).
    "--max-semi-space-size=1",
    "--max-old-space-size=4096",
    // The permission model is experimental on Node 20: its warning would only fill the pipe.
    "--disable-warning=ExperimentalWarning",
  ];
  const entry = join(here, "process-entry.js");
  // Linux: the kernel kills the sandbox when the engine dies, even one stuck in a loop that
  // never reads the closed channel (PR_SET_PDEATHSIG, set by util-linux's setpriv before it
  // starts node). Absolute paths only: never a program found on PATH.
  const setpriv =
    process.platform === "linux" ? ["/usr/bin/setpriv", "/bin/setpriv"].find(hasPdeathsig) : undefined;
  if (setpriv)
    return {
      execPath: setpriv,
      execArgv: ["--pdeathsig", "KILL", "--", process.execPath, ...nodeFlags],
      entry,
      nodeFlags,
    };
  return { execPath: process.execPath, execArgv: nodeFlags, entry, nodeFlags };
}

/** setpriv of util-linux 2.33 and later knows --pdeathsig (its help text is in the binary:
 * reading it costs far less than starting it to ask). */
function hasPdeathsig(path: string): boolean {
  try {
    return readFileSync(path).includes("--pdeathsig");
  } catch {
    return false;
  }
}

export function sandboxCommand(): SandboxCommand & { nodeFlags: string[] } {
  cached ??= build();
  return cached as SandboxCommand & { nodeFlags: string[] };
}
