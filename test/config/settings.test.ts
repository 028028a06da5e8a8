import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { defaultConcurrency, envName, flagName, resolveSettings } from "../../dist/config/settings.js";

test("U09 layers: flags > env > run > project > user > defaults, with where each came from", () => {
  const cwd = mkdtempSync(join(tmpdir(), "weft-cfg-"));
  mkdirSync(join(cwd, ".weft"));
  mkdirSync(join(cwd, "xdg", "weft"), { recursive: true });
  writeFileSync(
    join(cwd, ".weft", "config.json"),
    JSON.stringify({ repairs: 1, retries: 1, maxAgents: 9, colour: 1 }),
  );
  writeFileSync(join(cwd, "xdg", "weft", "config.json"), JSON.stringify({ maxAgents: 5, maxListItems: 10 }));
  const r = resolveSettings({
    cwd,
    cpus: 2,
    env: { XDG_CONFIG_HOME: join(cwd, "xdg"), WEFT_RETRIES: "2", WEFT_BUDGET: "100" },
    stored: { retries: 3, concurrency: 7, budget: 50 },
    flags: { budget: 10 },
  });
  expect(r.settings).toMatchObject({
    budget: 10,
    retries: 2,
    concurrency: 7,
    repairs: 1,
    maxAgents: 9,
    maxListItems: 10,
    scriptTimeMs: 10_000,
  });
  expect(r.sources.budget.source).toBe("flag");
  expect(r.sources.retries).toEqual({ source: "env", where: "WEFT_RETRIES" });
  expect(r.sources.concurrency.source).toBe("run");
  expect(r.sources.maxListItems.source).toBe("user");
  expect(r.warnings.join()).toContain('unknown setting "colour"');
  expect(() => resolveSettings({ cwd, cpus: 2, env: { WEFT_MAX_AGENTS: "-1" } })).toThrow(
    "WEFT_MAX_AGENTS: maxAgents must be a positive integer",
  );
  writeFileSync(join(cwd, ".weft", "config.json"), "{ nope");
  expect(() => resolveSettings({ cwd, cpus: 2, env: {} })).toThrow(/config\.json is not valid JSON/);
});

test("A12 default concurrency is min(16, max(4, cpus)); names follow the conventions", () => {
  expect([1, 2, 8, 64].map(defaultConcurrency)).toEqual([4, 4, 8, 16]);
  expect(envName("maxCostUsd")).toBe("WEFT_MAX_COST_USD");
  expect(flagName("maxCostUsd")).toBe("--max-cost-usd");
});
