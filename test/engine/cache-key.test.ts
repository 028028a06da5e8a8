import { describe, expect, test } from "vitest";
import { callHash, canonicalJson, OccurrenceCounter } from "../../src/engine/cache-key.js";

describe("R03 cache keys of agent calls", () => {
  const schema = { type: "object", properties: { a: { type: "string" }, b: {} }, required: ["a"] };
  const full = {
    schema,
    model: "m",
    effort: "high",
    agentType: "reviewer",
    permissions: "read-only",
    isolation: "worktree@abc123",
    writes: ["src/**"],
    verify: "npm test",
  };

  test("R03 the key is the sha256 of the canonical JSON of the keyed fields", () => {
    expect(callHash("p", {})).toMatch(/^[0-9a-f]{64}$/);
    expect(callHash("p", full)).toBe(callHash("p", { ...full }));
  });

  test("R03 label, phase, driver, timeoutMs, retries and cache do not change the key", () => {
    const noisy = {
      ...full,
      label: "review a.ts",
      phase: "review",
      driver: "command",
      timeoutMs: 5_000,
      retries: 2,
      repairs: 1,
      cache: false,
      command: "./agent.sh",
    };
    expect(callHash("p", noisy)).toBe(callHash("p", full));
  });

  test("R03 the prompt and each keyed option change the key", () => {
    const base = callHash("p", full);
    expect(callHash("q", full)).not.toBe(base);
    const changed: Record<string, unknown> = {
      schema: { ...schema, required: ["b"] },
      model: "other",
      effort: "low",
      agentType: "writer",
      permissions: "full",
      isolation: "worktree@def456",
      writes: ["docs/**"],
      verify: "npm run lint",
    };
    const seen = new Set([base]);
    for (const [k, v] of Object.entries(changed)) {
      const h = callHash("p", { ...full, [k]: v });
      expect(seen.has(h), k).toBe(false);
      seen.add(h);
    }
    // Leaving an option out is a change too.
    expect(callHash("p", { ...full, model: undefined })).not.toBe(base);
  });

  test('R03 permissions: an explicit "edit", the default, keys like no permissions', () => {
    expect(callHash("p", { permissions: "edit" })).toBe(callHash("p", {}));
    expect(callHash("p", { permissions: "read-only" })).not.toBe(callHash("p", {}));
  });

  test("R03 key order in a schema does not matter; array order does", () => {
    const reordered = { required: ["a"], properties: { b: {}, a: { type: "string" } }, type: "object" };
    expect(callHash("p", { schema: reordered })).toBe(callHash("p", { schema }));
    expect(callHash("p", { writes: ["b", "a"] })).not.toBe(callHash("p", { writes: ["a", "b"] }));
  });

  test("R03 canonical JSON sorts keys at every level and drops what JSON.stringify drops", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: undefined }, undefined], e: () => 1 })).toBe(
      '{"a":[{"d":1},null],"b":1}',
    );
    expect(canonicalJson({ z: new Date(0), n: Number.NaN, s: 'é"' })).toBe(
      '{"n":null,"s":"é\\"","z":"1970-01-01T00:00:00.000Z"}',
    );
    expect(canonicalJson([3, "x", null, true])).toBe(JSON.stringify([3, "x", null, true]));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
    // The same object twice, not nested in itself, is not a cycle.
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  test("R03 identical calls are numbered by occurrence, per hash, from 1", () => {
    const c = new OccurrenceCounter();
    expect([c.next("h"), c.next("g"), c.next("h"), c.next("h"), c.next("g")]).toEqual([
      "h#1",
      "g#1",
      "h#2",
      "h#3",
      "g#2",
    ]);
    expect(new OccurrenceCounter().next("h")).toBe("h#1");
  });
});
