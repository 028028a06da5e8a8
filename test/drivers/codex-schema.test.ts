/**
 * The strict-mode rewrite of a user's schema for `codex exec --output-schema` and the way back
 * (D06): what OpenAI's strict mode demands of the schema, and that the model's answer to the
 * strict schema, mapped back, validates against the original one (A03).
 */
import { describe, expect, test } from "vitest";
import {
  fromStrictValue,
  type JsonSchema,
  nullable,
  toStrictSchema,
} from "../../src/drivers/codex-schema.js";
import { compileSchema } from "../../src/engine/schema.js";

function strict(schema: JsonSchema): JsonSchema {
  const r = toStrictSchema(schema);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.schema;
}

/** Strict mode's rules, checked on every object node of a converted schema. */
function expectStrict(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) expectStrict(n);
    return;
  }
  if (!node || typeof node !== "object") return;
  const s = node as JsonSchema;
  if (s.properties) {
    expect(s.additionalProperties).toBe(false);
    expect([...(s.required as string[])].sort()).toEqual(Object.keys(s.properties).sort());
  }
  for (const v of Object.values(s)) expectStrict(v);
}

/** The answer to the strict schema validates there, and mapped back it validates against the original. */
function roundTrip(original: JsonSchema, answer: unknown): unknown {
  const s = strict(original);
  expectStrict(s);
  expect(compileSchema(s).validate(answer)).toEqual({ ok: true });
  const back = fromStrictValue(answer, original);
  expect(compileSchema(original).validate(back)).toEqual({ ok: true });
  return back;
}

describe("toStrictSchema", () => {
  test("optional properties become required and nullable; additionalProperties false", () => {
    expect(
      strict({
        type: "object",
        properties: { a: { type: "string" }, b: { type: "integer", description: "count" } },
        required: ["a"],
      }),
    ).toEqual({
      type: "object",
      properties: { a: { type: "string" }, b: { type: ["integer", "null"], description: "count" } },
      required: ["a", "b"],
      additionalProperties: false,
    });
  });

  test("nested objects and arrays of objects are rewritten at every depth", () => {
    const s = strict({
      type: "object",
      properties: {
        meta: { type: "object", properties: { x: { type: "number" } } },
        rows: {
          type: "array",
          items: {
            type: "object",
            properties: {
              id: { type: "string" },
              sub: { type: "object", properties: { y: { type: "boolean" } } },
            },
            required: ["id"],
          },
        },
      },
      required: ["rows"],
    });
    expectStrict(s);
    const props = s.properties as Record<string, JsonSchema>;
    // An optional object becomes nullable itself.
    expect(props.meta!.type).toEqual(["object", "null"]);
    const row = (props.rows!.items as JsonSchema).properties as Record<string, JsonSchema>;
    expect(row.id).toEqual({ type: "string" });
    expect(row.sub!.type).toEqual(["object", "null"]);
  });

  test("an optional enum also accepts null; an enum without a type gets one from its values", () => {
    const s = strict({
      type: "object",
      properties: { level: { enum: ["low", "high"] }, n: { enum: [1, 2] }, mixed: { enum: ["a", 1] } },
      required: ["n", "mixed"],
    });
    const props = s.properties as Record<string, JsonSchema>;
    expect(props.level).toEqual({ enum: ["low", "high", null], type: ["string", "null"] });
    expect(props.n).toEqual({ enum: [1, 2], type: "integer" });
    expect(props.mixed).toEqual({ enum: ["a", 1], type: ["string", "integer"] });
  });

  test("an optional const or $ref is wrapped in anyOf with null", () => {
    const s = strict({
      type: "object",
      properties: { kind: { const: "x" }, item: { $ref: "#/$defs/Item" } },
      $defs: { Item: { type: "object", properties: { v: { type: "string" } } } },
    });
    const props = s.properties as Record<string, JsonSchema>;
    expect(props.kind).toEqual({ anyOf: [{ const: "x" }, { type: "null" }] });
    expect(props.item).toEqual({ anyOf: [{ $ref: "#/$defs/Item" }, { type: "null" }] });
    expect(s.$defs).toEqual({
      Item: {
        type: "object",
        properties: { v: { type: ["string", "null"] } },
        required: ["v"],
        additionalProperties: false,
      },
    });
  });

  test("definitions (draft-07) are converted too, and recursive schemas are fine", () => {
    const s = strict({
      type: "object",
      properties: { root: { $ref: "#/definitions/Node" } },
      required: ["root"],
      definitions: {
        Node: {
          type: "object",
          properties: {
            name: { type: "string" },
            children: { type: "array", items: { $ref: "#/definitions/Node" } },
          },
          required: ["name"],
        },
      },
    });
    expectStrict(s);
    expect((s.properties as JsonSchema).root).toEqual({ $ref: "#/definitions/Node" });
  });

  test("oneOf becomes anyOf; an optional anyOf gets a null branch", () => {
    const s = strict({
      type: "object",
      properties: {
        a: { oneOf: [{ type: "string" }, { type: "number" }] },
        b: { anyOf: [{ type: "string" }, { type: "number" }] },
      },
      required: ["a"],
    });
    const props = s.properties as Record<string, JsonSchema>;
    expect(props.a).toEqual({ anyOf: [{ type: "string" }, { type: "number" }] });
    expect(props.b).toEqual({ anyOf: [{ type: "string" }, { type: "number" }, { type: "null" }] });
  });

  test("an optional property that already accepts null is left as it is", () => {
    const s = strict({ type: "object", properties: { a: { type: ["string", "null"] } } });
    expect((s.properties as JsonSchema).a).toEqual({ type: ["string", "null"] });
    expect(nullable({ anyOf: [{ type: "null" }, { type: "string" }] })).toEqual({
      anyOf: [{ type: "null" }, { type: "string" }],
    });
  });

  test("keywords strict mode rejects but weft checks anyway are dropped; supported ones kept", () => {
    const s = strict({
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: {
        name: { type: "string", minLength: 2, maxLength: 9, pattern: "^[a-z]+$", default: "ab" },
        n: { type: "integer", minimum: 0, maximum: 9 },
        list: { type: "array", items: { type: "string" }, uniqueItems: true, minItems: 1 },
      },
      required: ["name", "n", "list"],
    });
    expect(s).toEqual({
      type: "object",
      properties: {
        name: { type: "string", pattern: "^[a-z]+$" },
        n: { type: "integer", minimum: 0, maximum: 9 },
        list: { type: "array", items: { type: "string" }, minItems: 1 },
      },
      required: ["name", "n", "list"],
      additionalProperties: false,
    });
  });

  test("the input schema is not changed", () => {
    const original = { type: "object", properties: { a: { type: "string" } } };
    const copy = structuredClone(original);
    strict(original);
    expect(original).toEqual(copy);
  });

  test.each([
    ["a non-object root", { type: "array", items: { type: "string" } }, /root must be an object/],
    ["a root anyOf", { anyOf: [{ type: "object", properties: { a: { type: "string" } } }] }, /root/],
    [
      "a free-form map",
      { type: "object", properties: { m: { type: "object", additionalProperties: { type: "number" } } } },
      /additionalProperties/,
    ],
    ["an object without properties", { type: "object", properties: { m: { type: "object" } } }, /free-form/],
    ["allOf", { type: "object", properties: { a: { allOf: [{ type: "string" }] } } }, /"allOf"/],
    ["not", { type: "object", properties: { a: { type: "string", not: { const: "x" } } } }, /"not"/],
    ["if", { type: "object", properties: { a: { type: "string", if: { const: "x" } } } }, /"if"/],
    [
      "patternProperties",
      { type: "object", properties: { a: { type: "string" } }, patternProperties: { x: {} } },
      /"patternProperties"/,
    ],
    [
      "a tuple",
      { type: "object", properties: { t: { type: "array", items: [{ type: "string" }] } } },
      /tuple/,
    ],
    ["an array without items", { type: "object", properties: { t: { type: "array" } } }, /without items/],
    ["any value", { type: "object", properties: { x: {} } }, /without a type/],
    ["a true schema", { type: "object", properties: { x: true } }, /`true`/],
    ["a remote $ref", { type: "object", properties: { x: { $ref: "https://x/s.json" } } }, /local \$refs/],
  ])("refuses %s, saying why", (_what, schema, why) => {
    const r = toStrictSchema(schema as JsonSchema);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(why);
  });
});

describe("fromStrictValue", () => {
  test("removes the nulls of optional properties, keeps required and real values", () => {
    const original = {
      type: "object",
      properties: { a: { type: "string" }, b: { type: "integer" }, c: { type: "string" } },
      required: ["a"],
    };
    expect(roundTrip(original, { a: "x", b: null, c: "y" })).toEqual({ a: "x", c: "y" });
  });

  test("nested objects and arrays of objects", () => {
    const original = {
      type: "object",
      properties: {
        meta: { type: "object", properties: { x: { type: "number" } } },
        rows: {
          type: "array",
          items: {
            type: "object",
            properties: { id: { type: "string" }, note: { type: "string" } },
            required: ["id"],
          },
        },
      },
      required: ["rows"],
    };
    expect(
      roundTrip(original, {
        meta: { x: null },
        rows: [
          { id: "1", note: null },
          { id: "2", note: "n" },
        ],
      }),
    ).toEqual({ meta: {}, rows: [{ id: "1" }, { id: "2", note: "n" }] });
    expect(roundTrip(original, { meta: null, rows: [] })).toEqual({ rows: [] });
  });

  test("a null the original schema accepts is kept", () => {
    const original = { type: "object", properties: { a: { type: ["string", "null"] } } };
    expect(roundTrip(original, { a: null })).toEqual({ a: null });
  });

  test("an optional enum's null is removed", () => {
    const original = { type: "object", properties: { level: { enum: ["low", "high"] } } };
    expect(roundTrip(original, { level: null })).toEqual({});
  });

  test("follows $refs, recursively", () => {
    const original = {
      type: "object",
      properties: { root: { $ref: "#/$defs/Node" } },
      required: ["root"],
      $defs: {
        Node: {
          type: "object",
          properties: {
            name: { type: "string" },
            children: { type: "array", items: { $ref: "#/$defs/Node" } },
          },
          required: ["name"],
        },
      },
    };
    expect(
      roundTrip(original, {
        root: {
          name: "a",
          children: [
            { name: "b", children: null },
            { name: "c", children: [] },
          ],
        },
      }),
    ).toEqual({ root: { name: "a", children: [{ name: "b" }, { name: "c", children: [] }] } });
  });

  test("an anyOf of objects: the nulls are removed by the branch the value belongs to", () => {
    const original = {
      type: "object",
      properties: {
        shape: {
          anyOf: [
            {
              type: "object",
              properties: { radius: { type: "number" }, label: { type: "string" } },
              required: ["radius"],
            },
            {
              type: "object",
              properties: { side: { type: "number" }, color: { type: "string" } },
              required: ["side"],
            },
          ],
        },
      },
      required: ["shape"],
    };
    expect(roundTrip(original, { shape: { side: 2, color: null } })).toEqual({ shape: { side: 2 } });
    expect(roundTrip(original, { shape: { radius: 1, label: null } })).toEqual({ shape: { radius: 1 } });
  });

  test("values outside the schema pass through untouched (weft's validation reports them)", () => {
    const original = { type: "object", properties: { a: { type: "string" } } };
    expect(fromStrictValue({ a: null, extra: null }, original)).toEqual({ extra: null });
    expect(fromStrictValue("not an object", original)).toBe("not an object");
  });
});
