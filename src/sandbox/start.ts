/**
 * Which sandbox a run gets, started as early as the run knows it needs one. The process sandbox
 * (S06's second wall) is the default; `WEFT_SANDBOX=thread` runs the script in a worker thread
 * of the engine instead (the vm context is then the only wall).
 */
import type { PendingSandbox } from "./host.js";
import { startProcessSandbox } from "./process-host.js";
import { startThreadSandbox } from "./thread-host.js";

export type SandboxKind = "process" | "thread";

export function sandboxKind(): SandboxKind {
  return process.env.WEFT_SANDBOX === "thread" ? "thread" : "process";
}

function startOf(kind: SandboxKind): PendingSandbox {
  return kind === "thread" ? startThreadSandbox() : startProcessSandbox();
}

/** One sandbox started ahead of the run that will take it, unused until then. */
let spare: { kind: SandboxKind; sandbox: PendingSandbox } | undefined;
let taken = 0;

/**
 * Start the next run's sandbox now, e.g. before the CLI has loaded the engine. An unused spare
 * keeps nothing alive: the process exits as if it were not there, and a sandbox process whose
 * engine is gone ends itself.
 */
export function prestartSandbox(kind: SandboxKind = sandboxKind()): void {
  if (spare) return;
  const sandbox = startOf(kind);
  sandbox.hold(false);
  spare = { kind, sandbox };
}

/** The sandbox for a run that starts now: the spare when there is one. */
export function startSandbox(kind: SandboxKind = sandboxKind()): PendingSandbox {
  taken++;
  let sandbox: PendingSandbox | undefined;
  if (spare?.kind === kind && spare.sandbox.usable()) sandbox = spare.sandbox;
  else spare?.sandbox.discard();
  spare = undefined;
  sandbox ??= startOf(kind);
  sandbox.hold(true);
  // A process that starts a second run (the library, weft mcp) will likely start more: keep the
  // next one's sandbox warm, so a run's fixed cost does not include a process start.
  if (taken >= 2) prestartSandbox(kind);
  return sandbox;
}
