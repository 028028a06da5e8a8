/**
 * Prices per million tokens, for backends that report tokens but not cost (D07, C06). The table
 * is a default the user overrides with the `prices` setting; a model with no price costs nothing
 * known, and the run's cost then counts only what was reported.
 */
import type { Usage } from "./types.js";

export interface ModelPrice {
  /** USD per million input tokens that were not served from the cache. */
  input: number;
  /** USD per million output tokens (reasoning tokens are billed as output). */
  output: number;
  /** USD per million cached input tokens; defaults to `input`. */
  cached?: number;
}

export type PriceTable = Record<string, ModelPrice>;

/**
 * List prices as published by the vendors for their current models; kept short on purpose: a
 * stale price is worse than none, and the user's table wins.
 */
export const DEFAULT_PRICES: PriceTable = {
  "gpt-5.5": { input: 1.25, output: 10, cached: 0.125 },
  "gpt-5": { input: 1.25, output: 10, cached: 0.125 },
  "gpt-5-mini": { input: 0.25, output: 2, cached: 0.025 },
  "gpt-5-codex": { input: 1.25, output: 10, cached: 0.125 },
  "claude-opus-4-5": { input: 5, output: 25, cached: 0.5 },
  "claude-sonnet-4-5": { input: 3, output: 15, cached: 0.3 },
  "claude-haiku-4-5": { input: 1, output: 5, cached: 0.1 },
  "gemini-2.5-pro": { input: 1.25, output: 10, cached: 0.31 },
  "gemini-2.5-flash": { input: 0.3, output: 2.5, cached: 0.075 },
};

/** The price of a model: exact name first, then the longest key that prefixes it ("gpt-5" for "gpt-5-2025-08-07"). */
export function priceFor(model: string | undefined, table: PriceTable): ModelPrice | undefined {
  if (!model) return undefined;
  const bare = model.includes("/") ? model.slice(model.lastIndexOf("/") + 1) : model;
  for (const name of [model, bare]) if (table[name]) return table[name];
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if (bare.startsWith(key) && (!best || key.length > best.length)) best = key;
  }
  return best ? table[best] : undefined;
}

/**
 * Cost of a usage at a price. `input` is the uncached input (as weft's Usage counts it, D07);
 * reasoning tokens are output tokens that the backend reported separately.
 */
export function costOf(usage: Usage, price: ModelPrice): number {
  const cached = price.cached ?? price.input;
  return (
    (usage.input * price.input + usage.cached * cached + (usage.output + usage.reasoning) * price.output) /
    1e6
  );
}
