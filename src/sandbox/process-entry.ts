/**
 * Entry of a sandbox process (S06's second wall): the same vm context as a worker thread
 * (worker.ts), in a process Node's permission model confines (process-flags.ts), spoken to over
 * the IPC channel (port.ts). Assume the vm is escaped: what an escape finds here is this process.
 */
import "./worker.js";

// The engine is gone (or closed the channel): nothing can use this process any more. A process
// stuck in a loop never gets here; on Linux the kernel kills it (see process-flags.ts).
process.on("disconnect", () => process.exit(0));

// Ctrl-C reaches the terminal's whole process group, this process too: the engine decides how a
// run stops (first Ctrl-C: stop the agents and end the run), and stops this process itself.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const) process.on(signal, () => {});

// The permission model does not cover signals: without these, an escape could send SIGUSR1 to
// the engine (or any Node process of the user), which opens its inspector, and then drive it
// over the network. Nothing here sends signals or loads native code.
for (const name of ["kill", "_kill", "_debugProcess", "_debugEnd", "dlopen", "binding", "_linkedBinding"]) {
  Reflect.deleteProperty(process, name);
}
