/**
 * The warning before a large run (issue 17 item 9): Claude Code warns before a workflow whose
 * estimate passes 1.5 M tokens; weft does the same from `weft plan`'s estimate, in `weft plan`
 * and when `weft run` starts a run.
 */
import type { LoadedScript } from "../script/load.js";
import { type Plan, planScript } from "./analyze.js";

export const LARGE_RUN_TOKENS = 1_500_000;

const num = (n: number) => n.toLocaleString("en-US");

/** The warning for this estimate, or undefined when it is at or under the threshold. */
export function largeRunWarning(estimate: Plan["estimate"]): string | undefined {
  if (estimate.tokens <= LARGE_RUN_TOKENS) return undefined;
  const agents = `${estimate.agents.exact ? "" : "about "}${num(estimate.agents.n)} agents`;
  return `large run: the estimate is ~${num(estimate.tokens)} tokens (${agents} × ${num(estimate.tokensPerAgent)}), over ${num(LARGE_RUN_TOKENS)}; \`weft plan\` shows how it is counted`;
}

/** The warning for a run about to start with these args; a script the planner cannot read gets none. */
export function estimateWarning(script: LoadedScript, argsJson: string | undefined): string | undefined {
  try {
    const args = argsJson === undefined ? undefined : JSON.parse(argsJson);
    return largeRunWarning(planScript(script, { args, argsGiven: argsJson !== undefined }).estimate);
  } catch {
    return undefined;
  }
}
