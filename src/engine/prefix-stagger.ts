/**
 * Shared-prefix stagger (Claude Code 2.1.229's CLAUDE_CODE_WORKFLOW_PREFIX_STAGGER_MS): sibling
 * agents that would send the same long prompt prefix to the same model wait until the first of
 * them has had its first event from the backend (by then the backend has read the prompt and
 * written its prompt cache), at most `ms`, so the others read that cache instead of each paying
 * to write it. A fan-out of 50 agents over one large context otherwise writes the cache 50 times.
 *
 * Only prompts long enough to be cached count (providers cache from about 1,024 tokens; 4,096
 * characters is a conservative stand-in), and the agents must agree on everything that makes a
 * backend's cache entry: driver, model, effort, agent type, schema, and the prefix itself.
 */
import { createHash } from "node:crypto";
import type { AgentJob } from "./agent-runner.js";

/** How much of the prompt is the shared prefix, and the shortest prompt worth staggering. */
export const PREFIX_CHARS = 4_096;

interface Leader {
  warmed: Promise<void>;
  resolve: () => void;
  done: boolean;
}

export class PrefixStagger {
  private readonly leaders = new Map<string, Leader>();
  /** The leader of each key, by agent number, until its first event. */
  private readonly leading = new Map<number, Leader>();

  constructor(private readonly ms: number) {}

  /**
   * Resolves when `job` may start: at once for the first agent of its prefix (it becomes the
   * leader) and for agents nothing is shared with; otherwise when the leader has warmed the
   * cache, `ms` has passed, or `signal` aborts.
   */
  async hold(job: AgentJob, signal: AbortSignal): Promise<void> {
    if (this.ms <= 0 || job.prompt.length < PREFIX_CHARS) return;
    const key = keyOf(job);
    const leader = this.leaders.get(key);
    if (!leader) {
      let resolve!: () => void;
      const warmed = new Promise<void>((r) => {
        resolve = r;
      });
      const l: Leader = { warmed, resolve, done: false };
      l.resolve = () => {
        l.done = true;
        resolve();
      };
      this.leaders.set(key, l);
      this.leading.set(job.n, l);
      return;
    }
    if (leader.done || signal.aborted) return;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    await Promise.race([
      leader.warmed,
      new Promise<void>((r) => {
        timer = setTimeout(r, this.ms);
      }),
      new Promise<void>((r) => {
        onAbort = () => r();
        signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }

  /** The backend's first event for agent `n` (or its end): its followers may go. */
  warmed(n: number): void {
    const l = this.leading.get(n);
    if (!l) return;
    this.leading.delete(n);
    l.resolve();
  }
}

function keyOf(job: AgentJob): string {
  return createHash("sha256")
    .update(
      JSON.stringify([
        job.driver.name,
        job.opts.model ?? null,
        job.opts.effort ?? null,
        job.opts.agentType ?? null,
        job.schema?.schema ?? null,
        job.prompt.slice(0, PREFIX_CHARS),
      ]),
    )
    .digest("hex");
}
