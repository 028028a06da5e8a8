/**
 * How the sandbox code (worker.ts) talks to the engine: the worker thread's parentPort, or, in a
 * sandbox process (process-entry.ts), the IPC channel to the engine. Both carry the same
 * messages (protocol.ts).
 */
import { parentPort } from "node:worker_threads";
import type { WorkerOut } from "./protocol.js";

export interface SandboxPort {
  postMessage(batch: WorkerOut[]): void;
  on(event: "message", listener: (message: any) => void): unknown;
}

export function sandboxPort(): SandboxPort {
  return parentPort ?? processPort();
}

/**
 * The IPC channel of a sandbox process. A number from the engine is a watchdog ping (S07): it is
 * answered here, and only runs when no script work holds the event loop, so a ping left
 * unanswered past the limit means a slice of script work has run that long.
 */
function processPort(): SandboxPort {
  const send = process.send?.bind(process);
  if (!send) throw new Error("the sandbox runs in a worker thread or a process with an IPC channel");
  return {
    postMessage: (batch) => {
      send(batch);
    },
    on: (_event, listener) => {
      process.on("message", (m: unknown) => {
        if (typeof m === "number") send(m);
        else listener(m);
      });
      // A message that arrives before a listener is lost: the engine holds its own until this.
      send("ready");
    },
  };
}
