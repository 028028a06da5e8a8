/** `--json`: one event per line (docs/events.md). */
import type { Writable } from "node:stream";
import type { Reporter, RunEvent } from "./events.js";
import { LineSink } from "./sink.js";

export class JsonReporter implements Reporter {
  private readonly sink: LineSink;

  constructor(out: Writable) {
    this.sink = new LineSink(out);
  }

  private lastMs = 0;
  private lastAt = "";

  event(e: RunEvent): void {
    // Many events share a millisecond in a large run; format the time once per millisecond.
    const ms = Date.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastAt = new Date(ms).toISOString();
    }
    // Splice the time in rather than copy the event into a new object.
    const json = JSON.stringify(e);
    this.sink.line(`${json.slice(0, -1)},"at":"${this.lastAt}"}`);
  }

  close(): void {
    this.sink.flush();
  }
}
