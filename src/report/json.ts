/** `--json`: one event per line (docs/events.md). */
import type { Writable } from "node:stream";
import type { Reporter, RunEvent } from "./events.js";
import { LineSink } from "./sink.js";

export class JsonReporter implements Reporter {
  private readonly sink: LineSink;

  constructor(out: Writable) {
    this.sink = new LineSink(out);
  }

  event(e: RunEvent): void {
    this.sink.line(JSON.stringify({ ...e, at: new Date().toISOString() }));
  }

  close(): void {
    this.sink.flush();
  }
}
