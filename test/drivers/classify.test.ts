/** C02, C03: how backend failures are classed, and D07/C06 prices. */
import { expect, test } from "vitest";
import { classifyFailure, usageResetAt } from "../../src/drivers/classify.js";
import { costOf, DEFAULT_PRICES, type PriceTable, priceFor } from "../../src/drivers/prices.js";

test("C02 rate limits, server errors and network failures are transient", () => {
  expect(classifyFailure("anything", 429)).toBe("transient");
  expect(classifyFailure("anything", 503)).toBe("transient");
  expect(classifyFailure("stream disconnected before completion: error sending request")).toBe("transient");
  expect(classifyFailure("API Error: 529 Overloaded")).toBe("transient");
  expect(classifyFailure("fetch failed: ECONNREFUSED 127.0.0.1:9")).toBe("transient");
  expect(classifyFailure("Rate limit reached for gpt-5.5")).toBe("transient");
});

test("C03 quota, billing and credential failures are fatal, even when sent as HTTP 429", () => {
  expect(classifyFailure("You exceeded your current quota, please check your plan", 429)).toBe("fatal");
  expect(classifyFailure("insufficient_quota")).toBe("fatal");
  expect(classifyFailure("Your credit balance is too low to access the Anthropic API")).toBe("fatal");
  expect(classifyFailure("anything", 401)).toBe("fatal");
  expect(classifyFailure("Invalid API key · Please run /login")).toBe("fatal");
});

test("C02 other client errors are permanent: retrying fails the same way", () => {
  expect(classifyFailure("Bad request: unknown parameter", 400)).toBe("permanent");
  expect(classifyFailure("model not found", 404)).toBe("permanent");
  expect(classifyFailure("the prompt is too long")).toBe("permanent");
});

test("C06 prices: exact model, then the longest prefix, provider prefixes ignored; cached and reasoning priced", () => {
  const table: PriceTable = { ...DEFAULT_PRICES, "gpt-5": { input: 1, output: 10, cached: 0.1 } };
  expect(priceFor("gpt-5", table)).toEqual({ input: 1, output: 10, cached: 0.1 });
  expect(priceFor("gpt-5-2025-08-07", table)).toBe(table["gpt-5"]);
  expect(priceFor("gpt-5-mini-2025", table)).toBe(table["gpt-5-mini"]);
  expect(priceFor("openai/gpt-5", table)).toBe(table["gpt-5"]);
  expect(priceFor("unknown-model", table)).toBeUndefined();
  expect(priceFor(undefined, table)).toBeUndefined();
  // 1M uncached in, 1M cached, 1M out + 1M reasoning (billed as output).
  const usage = { input: 1e6, cached: 1e6, output: 1e6, reasoning: 1e6 };
  expect(costOf(usage, { input: 1, output: 10, cached: 0.1 })).toBeCloseTo(1 + 0.1 + 20);
  expect(costOf(usage, { input: 2, output: 3 })).toBeCloseTo(2 + 2 + 6);
});

test("C03 subscription usage limits are quota failures in every shape the CLIs print them, with their reset time", () => {
  for (const m of [
    "Claude AI usage limit reached|1798761600",
    "You've hit your limit · resets 3pm (Europe/Berlin)",
    "You've hit your usage limit. Upgrade to Pro or try again at 9:41 PM.",
    "You have exhausted your daily quota on this model.",
    "No API key found for anthropic. Use /login or set an API key environment variable.",
  ]) {
    expect(classifyFailure(m, 429), m).toBe("fatal");
    expect(classifyFailure(m), m).toBe("fatal");
  }
  expect(usageResetAt("Claude AI usage limit reached|1798761600")).toBe("2027-01-01T00:00:00.000Z");
  const now = new Date(2026, 11, 2, 16, 30);
  const at = new Date(usageResetAt("You've hit your limit · resets 3pm", now)!);
  // 3 pm has passed today: the next 3 pm, tomorrow.
  expect([at.getDate(), at.getHours(), at.getMinutes()]).toEqual([3, 15, 0]);
  const later = new Date(usageResetAt("try again at 9:41 PM.", now)!);
  expect([later.getDate(), later.getHours(), later.getMinutes()]).toEqual([2, 21, 41]);
  expect(usageResetAt("Rate limit reached for gpt-5.5")).toBeUndefined();
  expect(usageResetAt("resets in 3 units")).toBeUndefined();
});
