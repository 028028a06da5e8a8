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

export function startSandbox(kind: SandboxKind = sandboxKind()): PendingSandbox {
  return kind === "thread" ? startThreadSandbox() : startProcessSandbox();
}
