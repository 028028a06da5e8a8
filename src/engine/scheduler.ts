/**
 * FIFO queue with a concurrency cap (SPEC A12): calls over the cap wait in call order.
 * A head index instead of Array#shift keeps a 10,000-call queue linear.
 */
export class Scheduler {
  private queue: (() => Promise<void>)[] = [];
  private head = 0;
  private running = 0;
  private closed = false;

  constructor(private readonly limit: number) {}

  get waiting(): number {
    return this.queue.length - this.head;
  }

  get active(): number {
    return this.running;
  }

  submit(job: () => Promise<void>): void {
    if (this.closed) return;
    this.queue.push(job);
    this.pump();
  }

  /** Start nothing more; queued jobs are dropped (the run is stopping). */
  close(): number {
    this.closed = true;
    const dropped = this.waiting;
    this.queue = [];
    this.head = 0;
    return dropped;
  }

  private pump(): void {
    while (!this.closed && this.running < this.limit && this.head < this.queue.length) {
      const job = this.queue[this.head]!;
      this.queue[this.head++] = undefined as never;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.running++;
      job().finally(() => {
        this.running--;
        this.pump();
      });
    }
  }
}
