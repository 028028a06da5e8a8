/** Messages between the engine (main thread) and the sandbox worker. Plain data only. */

export interface SandboxInit {
  /** Script body with the original positions (see script/load.ts). */
  code: string;
  /** Path as the user gave it; used as the file name in stack traces (E01). */
  displayPath: string;
  /** JSON string of the run's args, or undefined when none were given (A09). */
  args?: string;
  cwd: string;
  maxListItems: number;
  budget: number | null;
  maxAgents: number | null;
  maxCostUsd: number | null;
  /**
   * Shared Float64Array[1]: the time a slice of synchronous script work began, 0 when idle (S07).
   * Worker thread only: a sandbox process answers pings instead (port.ts).
   */
  busy?: SharedArrayBuffer;
}

export type WorkerOut =
  | { t: "call"; id: number; prompt: string; opts: string }
  /** A weft operation other than an agent, e.g. integrate() (W04); args as JSON. */
  | { t: "op"; id: number; name: string; args: string }
  /** `budget`: the phase's token sub-budget, from phase(title, { budget }). */
  | { t: "phase"; title: string; budget?: number }
  /** S06: the script's setTimeout(fn, ms); the engine answers call `id` when it is due. */
  | { t: "timer"; id: number; ms: number }
  /** clearTimeout of a timer not yet due. */
  | { t: "untimer"; id: number }
  | { t: "log"; message: string }
  | { t: "warn"; message: string }
  /** A13/C06: a limit the sandbox checks itself (maxListItems) refused a call. */
  | { t: "refused"; reason: string }
  | { t: "done"; result: string }
  | { t: "error"; error: { name: string; message: string; stack: string } }
  /** The script waits, but nothing it waits on is pending: it can never go on. */
  | { t: "stalled" };

/** Engine to worker: compile a nested workflow's code (A11) and start it for pending call `id`. */
export interface NestedStart {
  id: number;
  code: string;
  /** File name in its stack traces (E01). */
  displayPath: string;
  /** JSON of its args, or undefined when none were given. */
  args?: string;
}

export interface Delivery {
  results: { id: number; ok: boolean; value?: string; error?: { name: string; message: string } }[];
  spent?: { tokens: number; agents: number; costUsd: number };
}
