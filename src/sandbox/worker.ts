/**
 * Sandbox worker: runs one workflow script in a vm context inside a worker thread.
 *
 * Why a worker: `vm`'s timeout does not cover promise continuations (measured on Node 20: an
 * infinite loop in a `.then` callback hangs the process whatever the timeout), and most script
 * code runs in continuations. From a worker the engine can always stop the script with
 * `worker.terminate()`, which interrupts even `while (true) {}` (S07).
 */
import vm from "node:vm";
import { NESTED_PREFIX, SCRIPT_PREFIX, SCRIPT_SUFFIX } from "../script/wrapper.js";
import { BOOTSTRAP_SOURCE } from "./bootstrap-source.js";
import { sandboxPort } from "./port.js";
import type { NestedStart, SandboxInit, WorkerOut } from "./protocol.js";

const port = sandboxPort();
// The worker may be started before its run is ready (to overlap its start-up with reading the
// journal): the first message is the SandboxInit, every later one a batch of results.
let busy: Float64Array<ArrayBufferLike> = new Float64Array(1);
let bridge: Bridge;

let outbox: WorkerOut[] = [];
let flushScheduled = false;
let finished = false;

interface Bridge {
  deliver(json: string): void;
  start(body: unknown): void;
  startNested(id: number, body: unknown, args: string | undefined): void;
  /** A rejection of the script's that nothing handled: read and reported inside the context. */
  unhandled(reason: unknown): void;
  pendingCount(): number;
}

/**
 * S06: a value the script controls must never reach Node's own reporting (the fatal-exception
 * path and unhandled-rejection warnings format and inspect it in this realm, with this realm's
 * objects). The bridge catches everything itself; these are the second guard, and they never
 * read what they caught.
 */
function guarded(call: () => void): void {
  try {
    call();
  } catch {
    bridgeFailed();
  }
}
function bridgeFailed(): void {
  if (finished) return;
  finished = true;
  outbox.push({
    t: "error",
    error: {
      name: "BridgeError",
      message: "weft's sandbox bridge failed (were weft's globals replaced?)",
      stack: "",
    },
  });
  schedule();
}
process.on("unhandledRejection", (reason) => guarded(() => bridge.unhandled(reason)));
process.on("uncaughtException", () => bridgeFailed());

// Runs after the current macrotask and all its microtasks: the end of a slice of script work.
function endOfSlice(): void {
  flushScheduled = false;
  busy[0] = 0;
  // Every agent() call registers itself before it is sent, so no pending call means nothing
  // can ever resume the script.
  let waiting = 1;
  try {
    waiting = bridge.pendingCount();
  } catch {
    bridgeFailed();
  }
  if (!finished && waiting === 0) {
    outbox.push({ t: "stalled" });
  }
  const batch = outbox;
  outbox = [];
  if (batch.length > 0) port.postMessage(batch);
}

function schedule(): void {
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(endOfSlice);
  }
}

function beginSlice(): void {
  busy[0] = Date.now();
  schedule();
}

// The single door out of the context: primitives in, nothing out, never throws into the script.
function send(kind: unknown, payload: unknown, opts?: unknown, id?: unknown): void {
  try {
    // The script can replace globals inside its context: accept primitives only.
    if (finished || typeof kind !== "string") return;
    if (typeof payload !== "string") {
      if (kind !== "done" && kind !== "error") return;
      finished = true;
      outbox.push({
        t: "error",
        error: {
          name: "BridgeError",
          message: "the script's result could not be read (were weft's globals replaced?)",
          stack: "",
        },
      });
      schedule();
      return;
    }
    if (
      (kind === "call" || kind === "op" || kind === "timer") &&
      (typeof opts !== "string" || typeof id !== "number")
    )
      return;
    switch (kind) {
      case "call":
        outbox.push({ t: "call", id: id as number, prompt: payload, opts: opts as string });
        break;
      case "op":
        outbox.push({ t: "op", id: id as number, name: payload, args: opts as string });
        break;
      case "phase": {
        // A budget arrives as the text of a positive whole number (the bootstrap checked it).
        const budget = typeof opts === "string" && opts !== "" ? Number(opts) : undefined;
        outbox.push(
          budget !== undefined && Number.isSafeInteger(budget) && budget > 0
            ? { t: "phase", title: payload, budget }
            : { t: "phase", title: payload },
        );
        break;
      }
      case "timer": {
        const ms = Number(payload);
        outbox.push({ t: "timer", id: id as number, ms: Number.isFinite(ms) && ms >= 0 ? ms : 1 });
        break;
      }
      case "untimer": {
        const n = Number(payload);
        if (Number.isSafeInteger(n)) outbox.push({ t: "untimer", id: n });
        break;
      }
      case "log":
        outbox.push({ t: "log", message: payload });
        break;
      case "warn":
        outbox.push({ t: "warn", message: payload });
        break;
      case "refused":
        outbox.push({ t: "refused", reason: payload });
        break;
      case "done":
        finished = true;
        outbox.push({ t: "done", result: payload });
        break;
      case "error":
        finished = true;
        outbox.push({ t: "error", error: JSON.parse(payload) });
        break;
    }
    schedule();
  } catch {
    // A malformed message can only come from our own bootstrap; dropping it beats crashing.
  }
}

const context = vm.createContext(Object.create(null), {
  name: "weft workflow",
  codeGeneration: { strings: false, wasm: false },
});
const bootstrapFactory = new vm.Script(BOOTSTRAP_SOURCE, { filename: "weft:bootstrap" }).runInContext(
  context,
);

function boot(init: SandboxInit): void {
  // A sandbox process has no memory shared with the engine: its watchdog pings (port.ts).
  if (init.busy) busy = new Float64Array(init.busy);
  bridge = bootstrapFactory(
    send,
    JSON.stringify({
      args: init.args,
      cwd: init.cwd,
      maxListItems: init.maxListItems,
      budget: init.budget,
      maxAgents: init.maxAgents,
      maxCostUsd: init.maxCostUsd,
    }),
  ) as Bridge;
  beginSlice();
  try {
    // The wrapper line is numbered 0 so the script's first line is line 1 (E01).
    const body = new vm.Script(SCRIPT_PREFIX + init.code + SCRIPT_SUFFIX, {
      filename: init.displayPath,
      lineOffset: -1,
    }).runInContext(context);
    guarded(() => bridge.start(body));
  } catch (e) {
    const err = e as Error;
    send("error", JSON.stringify({ name: err.name, message: err.message, stack: String(err.stack ?? "") }));
  }
}

/**
 * A11: a nested workflow's body, compiled like the script (its own file name, so its errors point
 * into it) with `args` and `workflow` as parameters that shadow the run's globals.
 */
function startNested(n: NestedStart): void {
  beginSlice();
  let body: unknown;
  try {
    body = new vm.Script(NESTED_PREFIX + n.code + SCRIPT_SUFFIX, {
      filename: n.displayPath,
      lineOffset: -1,
    }).runInContext(context);
  } catch (e) {
    const error = { name: (e as Error).name, message: `${n.displayPath}: ${(e as Error).message}` };
    guarded(() => bridge.deliver(JSON.stringify({ results: [{ id: n.id, ok: false, error }] })));
    return;
  }
  guarded(() => bridge.startNested(n.id, body, n.args));
}

// The engine sends each batch as one JSON string (type Delivery): one parse, in the context.
port.on("message", (m: SandboxInit | { nested: NestedStart } | string) => {
  if (typeof m !== "string" && "nested" in m) return startNested(m.nested);
  if (typeof m !== "string") return boot(m);
  beginSlice();
  guarded(() => bridge.deliver(m));
});
