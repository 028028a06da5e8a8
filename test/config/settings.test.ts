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
    scriptTimeMs: 30_000,
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

test("D03 per-driver settings and prices merge across layers by driver and by model; bad entries name the place", () => {
  const cwd = mkdtempSync(join(tmpdir(), "weft-cfg-"));
  mkdirSync(join(cwd, ".weft"));
  mkdirSync(join(cwd, "xdg", "weft"), { recursive: true });
  writeFileSync(
    join(cwd, ".weft", "config.json"),
    JSON.stringify({
      drivers: { codex: { args: ["-c", "x=1"], model: "gpt-5.5" } },
      prices: { a: { input: 1, output: 2 } },
    }),
  );
  writeFileSync(
    join(cwd, "xdg", "weft", "config.json"),
    JSON.stringify({
      drivers: { codex: { bin: "/opt/codex" }, claude: { env: { K: "v" } } },
      prices: { a: { input: 9, output: 9 }, b: { input: 3, output: 4, cached: 1 } },
    }),
  );
  const env = { XDG_CONFIG_HOME: join(cwd, "xdg"), WEFT_PRICES: '{"c": {"input": 5, "output": 6}}' };
  const r = resolveSettings({ cwd, cpus: 2, env });
  // The project's codex entry replaces the user's whole codex entry; claude comes from the user.
  expect(r.settings.drivers).toEqual({
    codex: { args: ["-c", "x=1"], model: "gpt-5.5" },
    claude: { env: { K: "v" } },
  });
  expect(r.settings.prices).toEqual({
    a: { input: 1, output: 2 },
    b: { input: 3, output: 4, cached: 1 },
    c: { input: 5, output: 6 },
  });
  expect(r.sources.prices.where).toContain("WEFT_PRICES over");
  const bad = (drivers: unknown) => {
    writeFileSync(join(cwd, ".weft", "config.json"), JSON.stringify({ drivers }));
    return () => resolveSettings({ cwd, cpus: 2, env: {} });
  };
  expect(bad({ kodex: {} })).toThrow("drivers.kodex: no such driver");
  expect(bad({ codex: { args: "-c x" } })).toThrow("drivers.codex.args must be an array of strings");
  expect(bad({ codex: { flags: [] } })).toThrow('drivers.codex: unknown key "flags"');
  writeFileSync(join(cwd, ".weft", "config.json"), "{}");
  expect(() =>
    resolveSettings({ cwd, cpus: 2, env: { WEFT_PRICES: '{"m": {"input": -1, "output": 1}}' } }),
  ).toThrow("WEFT_PRICES: prices.m must be");
});

test("A03 schema output gets 5 attempts by default (repairs 4); MAX_STRUCTURED_OUTPUT_RETRIES sets the attempts when weft's own settings do not", () => {
  const cwd = mkdtempSync(join(tmpdir(), "weft-cfg-"));
  const env = { XDG_CONFIG_HOME: join(cwd, "xdg") };
  expect(resolveSettings({ cwd, cpus: 2, env }).settings.repairs).toBe(4);
  const cc = resolveSettings({ cwd, cpus: 2, env: { ...env, MAX_STRUCTURED_OUTPUT_RETRIES: "2" } });
  expect(cc.settings.repairs).toBe(1);
  expect(cc.sources.repairs).toEqual({ source: "env", where: "MAX_STRUCTURED_OUTPUT_RETRIES" });
  // weft's own settings win over Claude Code's variable.
  const own = resolveSettings({
    cwd,
    cpus: 2,
    env: { ...env, MAX_STRUCTURED_OUTPUT_RETRIES: "2", WEFT_REPAIRS: "0" },
  });
  expect(own.settings.repairs).toBe(0);
  const bad = resolveSettings({ cwd, cpus: 2, env: { ...env, MAX_STRUCTURED_OUTPUT_RETRIES: "many" } });
  expect(bad.settings.repairs).toBe(4);
  expect(bad.warnings.join()).toContain("MAX_STRUCTURED_OUTPUT_RETRIES must be a whole number");
});
