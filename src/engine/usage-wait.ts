/**
 * C03 `waitForUsageReset`: instead of pausing the run on a subscription usage limit, hold every
 * agent start until the limit resets, then go on. One wait per run at a time; a later limit with
 * a later reset moves it on.
 */

/** The longest wait (C03): a reset further away, or an unknown one, pauses the run as without the setting. */
export const MAX_USAGE_WAIT_MS = 24 * 60 * 60 * 1000;

/** How long to wait for a reset at `resetAt` (ISO time), or undefined when the run should pause. */
export function usageWaitMs(resetAt: string | undefined, now = Date.now()): number | undefined {
  if (!resetAt) return undefined;
  const ms = Date.parse(resetAt) - now;
  // A reset in the past that still fails is not one waiting can fix.
  if (!(ms > 0) || ms > MAX_USAGE_WAIT_MS) return undefined;
  return ms;
}

export class UsageWait {
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private until = 0;

  /** Whether starts are held now. */
  get active(): boolean {
    return this.timer !== undefined;
  }

  /** Hold starts until `at` (epoch ms), or later if a wait already runs past it; `onEnd` when it ends. */
  hold(at: number, onEnd: () => void): void {
    if (this.timer && at <= this.until) return;
    clearTimeout(this.timer);
    this.until = at;
    // Ref'd on purpose: the run is waiting, and the process must stay alive for it.
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        onEnd();
        this.release();
      },
      Math.max(0, at - Date.now()),
    );
  }

  /** Resolves when starts may go on: the wait ended, was cancelled, or `signal` aborted. */
  cleared(signal: AbortSignal): Promise<void> {
    if (!this.timer || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      signal.addEventListener("abort", done, { once: true });
      this.waiters.push(done);
    });
  }

  /** The run ends: no timer left behind, nobody left waiting. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.release();
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
