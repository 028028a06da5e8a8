/**
 * What a phase gives its agents: a default model (S01 `meta.phases[].model`, over `meta.model`)
 * and a token sub-budget (`phase(title, { budget })`, as the Pi ports have it).
 */
import type { WorkflowMeta } from "../script/meta.js";

/** S01: the model an agent gets when neither the call nor its agent type names one. */
export function defaultModel(meta: WorkflowMeta, phase: string | undefined): string | undefined {
  if (phase !== undefined && Array.isArray(meta.phases)) {
    // The last declaration of a title wins, as in the script's own reading of a list.
    const p = meta.phases.findLast((x) => x.title === phase);
    if (p?.model !== undefined) return p.model;
  }
  return typeof meta.model === "string" ? meta.model : undefined;
}

/**
 * Token sub-budgets of phases (A10's unit: generated tokens), counted per phase over the agents
 * this execution started in it, including what running ones reported so far. Declaring a budget
 * again (a phase in a loop) gives it a fresh allowance from what the phase spent until then.
 */
export class PhaseBudgets {
  private readonly spent = new Map<string, number>();
  private readonly limits = new Map<string, { budget: number; base: number }>();

  declare(title: string, budget: number): void {
    this.limits.set(title, { budget, base: this.spent.get(title) ?? 0 });
  }

  /** Tokens an agent of `phase` generated (a running agent's report, or the rest at its end). */
  add(phase: string | undefined, tokens: number): void {
    if (phase === undefined || tokens === 0 || !this.limits.has(phase)) return;
    this.spent.set(phase, (this.spent.get(phase) ?? 0) + tokens);
  }

  /** Why an agent of `phase` may not start, or undefined. */
  refusal(phase: string | undefined): string | undefined {
    if (phase === undefined) return undefined;
    const l = this.limits.get(phase);
    if (!l) return undefined;
    const used = (this.spent.get(phase) ?? 0) - l.base;
    if (used < l.budget) return undefined;
    return `phase ${JSON.stringify(phase)} token budget reached: ${used} of ${l.budget} generated tokens spent (phase(title, { budget }))`;
  }
}
