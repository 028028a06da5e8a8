/**
 * The warning before a large run (issue 17 item 9): Claude Code warns before a workflow whose
 * estimate passes 1.5 M tokens; weft does the same from `weft plan`'s estimate, in `weft plan`
 * and when `weft run` starts a run.
 */
import type { Plan } from "./analyze.js";

export const LARGE_RUN_TOKENS = 1_500_000;

const num = (n: number) => n.toLocaleString("en-US");

/** The warning for this estimate, or undefined when it is at or under the threshold. */
export function largeRunWarning(estimate: Plan["estimate"]): string | undefined {
  if (estimate.tokens <= LARGE_RUN_TOKENS) return undefined;
  const agents = `${estimate.agents.exact ? "" : "about "}${num(estimate.agents.n)} agents`;
  return `large run: the estimate is ~${num(estimate.tokens)} tokens (${agents} × ${num(estimate.tokensPerAgent)}), over ${num(LARGE_RUN_TOKENS)}; \`weft plan\` shows how it is counted`;
}
