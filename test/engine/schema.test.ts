import { describe, expect, test } from "vitest";
import { callHash, canonicalJson, OccurrenceCounter } from "../../dist/engine/cache-key.js";
import { extractJsonObject } from "../../dist/engine/extract-json.js";
import { compileSchema, repairInstructions, SchemaError } from "../../dist/engine/schema.js";

const obj = (props: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: "object",
  properties: props,
  required: Object.keys(props),
  ...extra,
});

describe("schema", () => {
  test("A03 schemas that can never be satisfied are refused before any agent, with where", () => {
    const never: [unknown, RegExp][] = [
      [obj({ a: false }), /\/properties\/a is the schema false/],
      [obj({ a: { not: {} } }), /"not" of a schema that accepts everything/],
      [obj({ a: { enum: [] } }), /empty enum/],
      [obj({ a: { type: "string", enum: [1, 2] } }), /no enum value has type string/],
      [obj({ a: { type: "number", const: "x" } }), /const "x" is not of type number/],
      [obj({ a: { type: "number", minimum: 5, maximum: 1 } }), /minimum 5 > maximum 1/],
      [obj({ a: { type: "number", exclusiveMinimum: 1, maximum: 1 } }), /minimum 1 > maximum 1/],
      [obj({ a: { type: "string", minLength: 3, maxLength: 2 } }), /minLength 3 > maxLength 2/],
      [obj({ a: { type: "array", minItems: 2, maxItems: 1 } }), /minItems 2 > maxItems 1/],
      [obj({ a: { type: "array", minItems: 1, items: false } }), /\/items is the schema false/],
      [obj({ a: { allOf: [{ type: "string" }, { type: "number" }] } }), /types that never overlap/],
      [obj({ a: { anyOf: [false, { type: [] }] } }), /every anyOf branch/],
      [{ type: "object", required: ["x"], additionalProperties: false, properties: {} }, /requires "x"/],
      [{ type: "object", minProperties: 2, maxProperties: 1 }, /minProperties 2 > maxProperties 1/],
    ];
    for (const [schema, why] of never) {
      expect(() => compileSchema(schema), JSON.stringify(schema)).toThrow(SchemaError);
      expect(() => compileSchema(schema)).toThrow(why);
    }
  });

  test("A03 look-alikes that can be satisfied are accepted", () => {
    const fine = [
      obj({ a: { type: "number", minimum: 1, maximum: 1 } }),
      obj({ a: { type: "integer", enum: [1, "x"] } }),
      obj({ a: { type: "number", const: 3 } }),
      obj({ a: { anyOf: [false, { type: "string" }] } }),
      obj({ a: { allOf: [{ type: ["string", "null"] }, { type: "null" }] } }),
      { type: "object", required: ["x"], additionalProperties: false, properties: { x: {} } },
      { type: "object", required: ["x1"], additionalProperties: false, patternProperties: { "^x\\d$": {} } },
      obj({ a: { type: "array", items: false } }),
    ];
    for (const schema of fine) expect(() => compileSchema(schema), JSON.stringify(schema)).not.toThrow();
  });

  test("A03 the root must be an object schema and valid JSON Schema", () => {
    expect(() => compileSchema({ type: "array" })).toThrow(/root must be an object schema/);
    expect(() => compileSchema({ type: "object", properties: { a: { type: "nope" } } })).toThrow(
      /invalid JSON Schema/,
    );
    expect(() => compileSchema([])).toThrow(/must be a JSON Schema object/);
  });

  test("A03 validation errors name the path for the repair prompt", () => {
    const s = compileSchema({
      ...obj({ n: { type: "number" }, tags: { type: "array", items: { type: "string" } } }),
      additionalProperties: false,
    });
    expect(s.validate({ n: 1, tags: ["a"] })).toEqual({ ok: true });
    const bad = s.validate({ n: "1", tags: [2], extra: true });
    expect(bad.ok).toBe(false);
    const errors = bad.ok ? [] : bad.errors;
    expect(errors).toEqual(
      expect.arrayContaining([
        "/n: must be number",
        "/tags/0: must be string",
        "(root): must not have additional property 'extra'",
      ]),
    );
    expect(repairInstructions(errors, "invalid")).toContain("- /n: must be number");
    expect(
      s.validate({ tags: [] }).ok ? [] : (s.validate({ tags: [] }) as { errors: string[] }).errors,
    ).toContain("(root): must have required property 'n'");
  });
});

describe("JSON extraction", () => {
  test("D09 the whole output, else the last fenced block, else the last balanced object", () => {
    expect(extractJsonObject(' {"a":1} \n')).toEqual({ ok: true, value: { a: 1 } });
    expect(extractJsonObject('Here:\n```json\n{"a":1}\n```\nand\n```\n{"a":2}\n```\ndone')).toEqual({
      ok: true,
      value: { a: 2 },
    });
    expect(extractJsonObject('I think {"a": {"b": "}"}} is right, not {"c":1} {oops')).toEqual({
      ok: true,
      value: { c: 1 },
    });
    expect(extractJsonObject('text {"s": "brace } and \\" quote {"} end')).toEqual({
      ok: true,
      value: { s: 'brace } and " quote {' },
    });
    expect(extractJsonObject("[1, 2]")).toEqual({ ok: false });
    expect(extractJsonObject("no json here")).toEqual({ ok: false });
    // A fenced block that is not an object falls through to the balanced-object rule.
    expect(extractJsonObject('{"x":1}\n```\nnot json\n```')).toEqual({ ok: true, value: { x: 1 } });
  });

  test("D09 a megabyte of prose with stray braces is handled quickly", () => {
    const text = `${"word } { ".repeat(100_000)}{"ok":true}`;
    expect(extractJsonObject(text)).toEqual({ ok: true, value: { ok: true } });
    expect(extractJsonObject("} {x ".repeat(250_000))).toEqual({ ok: false });
  });
});

describe("cache keys", () => {
  test("R03 label, phase, driver, timeoutMs and retries do not change the key; the rest does", () => {
    const base = callHash("p", { schema: { type: "object", properties: { a: {}, b: {} } } });
    expect(callHash("p", { schema: { properties: { b: {}, a: {} }, type: "object" } })).toBe(base);
    expect(callHash("p", { permissions: "edit" })).toBe(callHash("p", {}));
    for (const other of [
      callHash("q", {}),
      callHash("p", { model: "m" }),
      callHash("p", { effort: "high" }),
      callHash("p", { agentType: "a" }),
      callHash("p", { permissions: "read-only" }),
      callHash("p", { isolation: "worktree" }),
      callHash("p", { writes: ["a"] }),
      callHash("p", { verify: "npm test" }),
    ]) {
      expect(other).not.toBe(callHash("p", {}));
    }
    const extra = { label: "l", phase: "x", driver: "command", timeoutMs: 5, retries: 2 } as Record<
      string,
      unknown
    >;
    expect(callHash("p", extra)).toBe(callHash("p", {}));
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: undefined }] })).toBe('{"a":[{"d":1}],"b":1}');
  });

  test("R03 identical calls are numbered by occurrence", () => {
    const c = new OccurrenceCounter();
    expect([c.next("h"), c.next("g"), c.next("h")]).toEqual(["h#1", "g#1", "h#2"]);
  });
});
