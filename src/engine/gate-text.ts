/**
 * A14: how a waiting gate or checkpoint is shown and answered, shared by the engine (refusal
 * messages), the progress reporters and the CLI. No imports: the reporters load it too.
 */

/** What a checkpoint() asks, as the sandbox checked it. */
export interface CheckpointSpec {
  kind: "confirm" | "input" | "select";
  choices?: string[];
  default?: unknown;
  headless: "default" | "abort";
  timeoutMs?: number;
}

/** How a person answers a waiting gate or checkpoint from a shell (progress lines, the tree). */
export function answerHint(runId: string, n: number, checkpoint?: CheckpointSpec): string {
  if (checkpoint?.kind === "input") return `weft approve ${runId} ${n} --answer <text>`;
  if (checkpoint?.kind === "select") {
    const c = checkpoint.choices ?? [];
    return `weft approve ${runId} ${n} --answer <${c.length <= 4 ? c.join("|") : `choice or 1-${c.length}`}>`;
  }
  return `weft approve ${runId} ${n} / weft reject ${runId} ${n}`;
}

/** "approved", "rejected", or for a checkpoint with a value, "answered <value>". */
export function answeredWord(a: { approved: boolean; value?: unknown; checkpoint?: unknown }): string {
  if (!a.approved) return "rejected";
  if (a.value === undefined || a.value === true) return "approved";
  return `answered ${JSON.stringify(a.value)}`;
}
