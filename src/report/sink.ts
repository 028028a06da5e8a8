/**
 * Buffered line output: lines of one tick go out in one write, so a 10,000-agent run does not
 * make 20,000 syscalls.
 */
import type { Writable } from "node:stream";

export class LineSink {
  private buf: string[] = [];
  private scheduled = false;

  constructor(private readonly out: Writable) {}

  line(text: string): void {
    this.buf.push(text);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.buf.length === 0) return;
    const text = `${this.buf.join("\n")}\n`;
    this.buf = [];
    this.out.write(text);
  }
}
