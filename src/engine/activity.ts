/**
 * An agent's last activity (U02): one short line per driver event worth showing (a tool call, a
 * line of text, an error), throttled per agent so that a chatty backend does not flood the event
 * stream, the JSON output or the terminal. Not journaled: the transcript keeps everything.
 */
import type { DriverEvent } from "../drivers/types.js";

/** At most one activity event per agent in this many milliseconds. */
export const ACTIVITY_INTERVAL_MS = 250;
const MAX_LINE = 120;

/** White space collapsed, cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** The start of a prompt, for agents that have no label: its first non-empty line. */
export function promptStart(prompt: string, max = 80): string {
  const first = prompt.split("\n").find((l) => l.trim() !== "") ?? "";
  return oneLine(first, max);
}

// The field that names what a tool call acts on, in the spellings the backends use.
const ARG_KEYS = [
  "command",
  "cmd",
  "file_path",
  "filePath",
  "path",
  "pattern",
  "query",
  "url",
  "description",
];

function toolArg(input: unknown): string {
  if (input === undefined || input === null) return "";
  if (typeof input === "string") return input;
  if (typeof input !== "object") return String(input);
  const o = input as Record<string, unknown>;
  for (const k of ARG_KEYS) {
    const v = o[k];
    if (typeof v === "string" && v.trim() !== "") return v;
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join(" ");
  }
  try {
    return JSON.stringify(input);
  } catch {
    return "";
  }
}

/** The line a driver event shows as last activity, or undefined for events that show nothing. */
export function activityOf(e: DriverEvent): string | undefined {
  switch (e.type) {
    case "tool_call": {
      const arg = oneLine(toolArg(e.input), MAX_LINE);
      return oneLine(arg ? `${e.name} ${arg}` : e.name, MAX_LINE);
    }
    case "text": {
      const lines = e.text.split("\n").filter((l) => l.trim() !== "");
      const last = lines[lines.length - 1];
      return last === undefined ? undefined : oneLine(last, MAX_LINE);
    }
    case "error":
      return oneLine(`error: ${e.message}`, MAX_LINE);
    default:
      return undefined;
  }
}

export interface Activity {
  text: string;
  /** The model the backend says it runs, from its start event. */
  model?: string;
}

/**
 * Leading and trailing throttle for one agent attempt: the first line goes out at once, later
 * ones at most every `intervalMs`, and the newest line of a burst is sent when the interval ends.
 * `close()` drops what is pending, so no activity follows the attempt's end.
 */
export class ActivityThrottle {
  private last = Number.NEGATIVE_INFINITY;
  private pending?: Activity;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly emit: (a: Activity) => void,
    private readonly intervalMs = ACTIVITY_INTERVAL_MS,
  ) {}

  push(a: Activity): void {
    // A model the backend reported outlives the line it came with.
    if (this.pending?.model && !a.model) a = { ...a, model: this.pending.model };
    const wait = this.last + this.intervalMs - Date.now();
    if (wait <= 0 && !this.timer) {
      this.send(a);
      return;
    }
    this.pending = a;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        const p = this.pending;
        this.pending = undefined;
        if (p) this.send(p);
      }, wait);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private send(a: Activity): void {
    this.last = Date.now();
    this.emit(a);
  }
}
