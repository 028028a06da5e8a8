import { describe, expect, test } from "vitest";
import {
  compileSchema,
  repairInstructions,
  SchemaError,
  schemaInstructions,
} from "../../src/engine/schema.js";

/** An object schema whose listed properties are all required. */
const obj = (props: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: "object",
  properties: props,
  required: Object.keys(props),
  ...extra,
});

function refusal(schema: unknown): string {
  try {
    compileSchema(schema);
  } catch (e) {
    expect(e).toBeInstanceOf(SchemaError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(schema)}`);
}

function errorsOf(schema: unknown, value: unknown): string[] {
  const v = compileSchema(schema).validate(value);
  return v.ok ? [] : v.errors;
}

describe("A03 schemas that can never be satisfied are refused before any agent starts", () => {
  const never: [string, unknown, string][] = [
    ["the root is the schema false", false, "(root) is the schema false"],
    ["a required property is the schema false", obj({ a: false }), "/properties/a is the schema false"],
    [
      "items is false with minItems > 0",
      obj({ a: { type: "array", minItems: 1, items: false } }),
      "/properties/a/items is the schema false",
    ],
    ["not: {}", obj({ a: { not: {} } }), '/properties/a has "not" of a schema that accepts everything'],
    ["not: true", obj({ a: { not: true } }), '/properties/a has "not" of a schema that accepts everything'],
    ["an empty enum", obj({ a: { enum: [] } }), "/properties/a has an empty enum"],
    [
      "a const of another type",
      obj({ a: { type: "number", const: "x" } }),
      '/properties/a: const "x" is not of type "number"',
    ],
    [
      "every enum value of another type",
      obj({ a: { type: "string", enum: [1, 2, null] } }),
      '/properties/a: no enum value is of type "string"',
    ],
    ["type: []", obj({ a: { type: [] } }), '/properties/a has an empty "type" list'],
    [
      "minimum > maximum",
      obj({ age: { type: "integer", minimum: 10, maximum: 5 } }),
      "/properties/age has minimum 10 > maximum 5",
    ],
    [
      "exclusiveMinimum >= maximum",
      obj({ a: { type: "number", exclusiveMinimum: 1, maximum: 1 } }),
      "/properties/a has exclusiveMinimum 1 >= maximum 1",
    ],
    [
      "minimum >= exclusiveMaximum",
      obj({ a: { type: "number", minimum: 3, exclusiveMaximum: 3 } }),
      "/properties/a has minimum 3 >= exclusiveMaximum 3",
    ],
    [
      "the tighter of minimum and exclusiveMinimum above maximum",
      obj({ a: { type: "number", minimum: 10, exclusiveMinimum: 0, maximum: 5 } }),
      "/properties/a has minimum 10 > maximum 5",
    ],
    [
      "an integer range holding no integer",
      obj({ a: { type: "integer", minimum: 1.2, maximum: 1.8 } }),
      "/properties/a has no integer between minimum 1.2 and maximum 1.8",
    ],
    [
      "minLength > maxLength",
      obj({ a: { type: "string", minLength: 3, maxLength: 2 } }),
      "/properties/a has minLength 3 > maxLength 2",
    ],
    [
      "minItems > maxItems",
      obj({ a: { type: "array", minItems: 2, maxItems: 1 } }),
      "/properties/a has minItems 2 > maxItems 1",
    ],
    [
      "minProperties > maxProperties",
      { type: "object", minProperties: 2, maxProperties: 1 },
      "(root) has minProperties 2 > maxProperties 1",
    ],
    [
      "more required properties than maxProperties",
      { type: "object", required: ["a", "b"], maxProperties: 1 },
      "(root) requires 2 properties but has maxProperties 1",
    ],
    [
      "a required key that additionalProperties: false forbids",
      { type: "object", required: ["x"], additionalProperties: false, properties: { y: {} } },
      '(root) requires "x" but additionalProperties is false and "x" is not a listed property',
    ],
    [
      "a required key named like an Object.prototype member that additionalProperties: false forbids",
      { type: "object", required: ["constructor"], additionalProperties: false, properties: {} },
      '(root) requires "constructor" but additionalProperties is false',
    ],
    [
      "a required key matched by no patternProperties with additionalProperties: false",
      { type: "object", required: ["y1"], additionalProperties: false, patternProperties: { "^x\\d$": {} } },
      '(root) requires "y1" but additionalProperties is false',
    ],
    [
      "a required key that only an unsatisfiable additionalProperties allows",
      { type: "object", required: ["x"], additionalProperties: { not: {} } },
      '/additionalProperties has "not" of a schema that accepts everything',
    ],
    [
      "a required property whose schema is unsatisfiable, deep down",
      obj({ a: obj({ b: { type: "string", minLength: 5, maxLength: 1 } }) }),
      "/properties/a/properties/b has minLength 5 > maxLength 1",
    ],
    [
      "a required key whose patternProperties schema is unsatisfiable",
      { type: "object", required: ["x1"], patternProperties: { "^x": { type: [] } } },
      '/patternProperties/^x has an empty "type" list',
    ],
    [
      "allOf members with disjoint types",
      obj({ a: { allOf: [{ type: "string" }, { type: "number" }] } }),
      "/properties/a has allOf members whose types never overlap",
    ],
    [
      "a type disjoint from its allOf member",
      obj({ a: { type: "string", allOf: [{ type: "boolean" }] } }),
      "/properties/a allows no kind of value",
    ],
    [
      "an unsatisfiable allOf member",
      obj({ a: { allOf: [{}, { type: "number", minimum: 2, maximum: 1 }] } }),
      "/properties/a/allOf/1 has minimum 2 > maximum 1",
    ],
    [
      "anyOf whose every branch is unsatisfiable",
      obj({ a: { anyOf: [false, { type: [] }] } }),
      "/properties/a: every anyOf branch can never be satisfied (/properties/a/anyOf/0 is the schema false",
    ],
    [
      "oneOf whose every branch is unsatisfiable",
      obj({ a: { oneOf: [{ enum: [] }, { not: {} }] } }),
      "/properties/a: every oneOf branch can never be satisfied",
    ],
    [
      "anyOf branches whose types miss the schema's own type",
      obj({ a: { type: "string", anyOf: [{ type: "number" }, { type: "null" }] } }),
      "/properties/a allows no kind of value",
    ],
    [
      "a const that is not among its enum values",
      obj({ a: { const: "x", enum: ["y", "z"] } }),
      '/properties/a: const "x" is not one of its enum values',
    ],
    [
      "an array that must contain a value nothing matches",
      obj({ a: { type: "array", contains: false } }),
      "/properties/a/contains is the schema false",
    ],
    [
      "a draft-07 tuple too short for minItems with additionalItems: false",
      {
        $schema: "http://json-schema.org/draft-07/schema#",
        ...obj({ a: { type: "array", items: [{ type: "string" }], additionalItems: false, minItems: 2 } }),
      },
      "/properties/a/additionalItems is the schema false",
    ],
    [
      "a root without type whose required property is unsatisfiable",
      { properties: { n: { type: "number", minimum: 1, maximum: 0 } }, required: ["n"] },
      "/properties/n has minimum 1 > maximum 0",
    ],
  ];
  test.each(never)("A03 refuses %s", (_name, schema, why) => {
    const message = refusal(schema);
    expect(message.startsWith("schema can never be satisfied: ")).toBe(true);
    expect(message).toContain(why);
  });

  test("A03 a pointer escapes ~ and / in property names (RFC 6901)", () => {
    expect(refusal(obj({ "a/b~c": false }))).toContain("/properties/a~1b~0c is the schema false");
  });
});

describe("A03 satisfiable look-alikes are not refused", () => {
  const fine: [string, unknown][] = [
    ["minimum == maximum", obj({ a: { type: "number", minimum: 1, maximum: 1 } })],
    ["exclusiveMinimum < maximum", obj({ a: { type: "number", exclusiveMinimum: 1, maximum: 1.5 } })],
    ["an integer range holding one integer", obj({ a: { type: "integer", minimum: 1.5, maximum: 2.5 } })],
    ["minLength == maxLength", obj({ a: { type: "string", minLength: 2, maxLength: 2 } })],
    ["minItems == maxItems", obj({ a: { type: "array", minItems: 1, maxItems: 1 } })],
    ["enum values matching the type", obj({ a: { type: "string", enum: ["x", "y"] } })],
    ["an enum with one value of the type", obj({ a: { type: "integer", enum: [1, "x"] } })],
    ["an integer const for type number", obj({ a: { type: "number", const: 3 } })],
    ["a const among its enum values", obj({ a: { const: "x", enum: ["x", "y"] } })],
    [
      "additionalProperties: false with the required key listed",
      { type: "object", required: ["x"], additionalProperties: false, properties: { x: {} } },
    ],
    [
      "additionalProperties: false with the required key matched by patternProperties",
      { type: "object", required: ["x1"], additionalProperties: false, patternProperties: { "^x\\d$": {} } },
    ],
    [
      "an optional property that can never be present",
      { type: "object", properties: { a: false, b: { type: "number", minimum: 2, maximum: 1 } } },
    ],
    ["items: false without minItems (the empty array)", obj({ a: { type: "array", items: false } })],
    ["anyOf with one satisfiable branch", obj({ a: { anyOf: [false, { type: "string" }] } })],
    [
      "allOf members whose types overlap",
      obj({ a: { allOf: [{ type: ["string", "null"] }, { type: "null" }] } }),
    ],
    [
      "allOf of number and integer",
      obj({ a: { allOf: [{ type: "number" }, { type: "integer", minimum: 0 }] } }),
    ],
    ["minimum > maximum without a type (a string satisfies it)", obj({ a: { minimum: 10, maximum: 5 } })],
    [
      "a contradiction on one type of several",
      obj({ a: { type: ["number", "null"], minimum: 5, maximum: 1 } }),
    ],
    ["not of one type", obj({ a: { type: ["string", "number"], not: { type: "string" } } })],
    ["not of a real constraint", obj({ a: { not: { type: "string", minLength: 3 } } })],
    [
      "a required key named like an Object.prototype member, listed",
      obj({ constructor: { type: "string" } }),
    ],
    [
      "an unsatisfiable schema behind $ref is not followed (ajv judges $ref)",
      { type: "object", $defs: { s: { type: "string" } }, properties: { a: { $ref: "#/$defs/s" } } },
    ],
  ];
  test.each(fine)("A03 accepts %s", (_name, schema) => {
    expect(() => compileSchema(schema)).not.toThrow();
  });
});

describe("A03 the root and the schema itself", () => {
  test("A03 a root whose type is not object is refused", () => {
    expect(refusal({ type: "array", items: {} })).toMatch(/^schema root must be an object schema/);
    expect(refusal({ type: ["string", "null"] })).toMatch(/^schema root must be an object schema/);
    expect(refusal({ anyOf: [{ type: "string" }, { type: "number" }] })).toMatch(
      /^schema root must be an object schema: no anyOf branch of \(root\)/,
    );
  });

  test("A03 a root without type, or with object among its types, is accepted", () => {
    const s = compileSchema({ properties: { a: { type: "string" } }, required: ["a"] });
    expect(s.validate({ a: "x" })).toEqual({ ok: true });
    expect(() => compileSchema({ type: ["object", "null"], properties: {} })).not.toThrow();
  });

  test("A03 a value that is not a JSON Schema object is refused", () => {
    for (const v of [[], true, null, "object", 3]) {
      expect(refusal(v)).toBe("schema must be a JSON Schema object (with an object root)");
    }
  });

  test("A03 an invalid JSON Schema is refused with ajv's reason", () => {
    expect(refusal({ type: "object", properties: { a: { type: "nope" } } })).toMatch(
      /^invalid JSON Schema: \/properties\/a\/type: /,
    );
    expect(refusal({ type: "object", properties: { a: { minLength: "3" } } })).toContain(
      "/properties/a/minLength: must be integer",
    );
    expect(refusal({ type: "object", properties: { a: { $ref: "#/$defs/missing" } } })).toMatch(
      /^invalid JSON Schema: .*missing/,
    );
  });

  test("A03 schemas written for other tools: unknown keywords and formats, draft-07, reused $id", () => {
    const other = compileSchema({
      type: "object",
      "x-vendor": { anything: true },
      properties: { mail: { type: "string", format: "email", example: "a@b.c" } },
    });
    expect(other.validate({ mail: "not checked: formats are annotations" })).toEqual({ ok: true });

    const draft7 = compileSchema({
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      definitions: { tag: { type: "string" } },
      properties: { pair: { type: "array", items: [{ $ref: "#/definitions/tag" }, { type: "number" }] } },
    });
    expect(draft7.validate({ pair: ["a", 1] })).toEqual({ ok: true });
    expect(draft7.validate({ pair: [1, 1] })).toEqual({ ok: false, errors: ["/pair/0: must be string"] });
    expect(draft7.schema.$schema).toBe("http://json-schema.org/draft-07/schema#");

    const v1 = compileSchema({ $id: "https://example.com/answer", type: "object", required: ["a"] });
    const v2 = compileSchema({ $id: "https://example.com/answer", type: "object", required: ["b"] });
    expect(v1.validate({ a: 1 }).ok).toBe(true);
    expect(v2.validate({ a: 1 }).ok).toBe(false);

    expect(refusal({ $schema: "http://json-schema.org/draft-04/schema#", type: "object" })).toMatch(
      /draft-04 is not supported/,
    );
  });

  test("A03 compiled schemas are shared by canonical JSON, whatever the key order", () => {
    const a = compileSchema({ type: "object", properties: { x: { type: "string" }, y: {} } });
    const b = compileSchema({ properties: { y: {}, x: { type: "string" } }, type: "object" });
    expect(b).toBe(a);
  });
});

describe("A03 validation errors are worded for the model that repairs its answer", () => {
  const schema = {
    ...obj({
      name: { type: "string" },
      items: { type: "array", items: { type: "string" } },
      level: { enum: ["low", "high"] },
      note: { type: ["string", "null"] },
      version: { const: 2 },
    }),
    additionalProperties: false,
  };

  test("A03 errors name the path, (root) for the object itself", () => {
    const good = { name: "n", items: ["a"], level: "low", note: null, version: 2 };
    expect(compileSchema(schema).validate(good)).toEqual({ ok: true });
    const errors = errorsOf(schema, { items: ["a", 3], level: "mid", note: 1, version: 1, extra: true });
    expect(errors).toEqual(
      expect.arrayContaining([
        "(root): must have required property 'name'",
        "(root): must not have additional property 'extra'",
        "/items/1: must be string",
        '/level: must be one of ["low","high"]',
        "/note: must be string or null",
        "/version: must be 2",
      ]),
    );
  });

  test("A03 a flood of identical mistakes is cut to a readable list", () => {
    const list = { type: "object", properties: { xs: { type: "array", items: { type: "string" } } } };
    const errors = errorsOf(list, { xs: Array.from({ length: 500 }, (_, i) => i) });
    expect(errors).toHaveLength(21);
    expect(errors[0]).toBe("/xs/0: must be string");
    expect(errors[20]).toBe("... and 480 more errors");
  });

  test("A03 schema instructions ask for one JSON object, alone or in one ```json block, and show the schema", () => {
    const s = { type: "object", properties: { n: { type: "number" } }, required: ["n"] };
    const text = schemaInstructions(s);
    expect(text).toMatch(/exactly one JSON object/);
    expect(text).toMatch(/no\s+prose/);
    expect(text).toContain("```json");
    expect(text).toContain(JSON.stringify(s, null, 2));
  });

  test("A03 repair instructions say what was wrong and ask for only the corrected object", () => {
    const invalid = repairInstructions(
      ["/n: must be number", "(root): must have required property 'm'"],
      "invalid",
    );
    expect(invalid).toContain(
      "did not match the schema:\n- /n: must be number\n- (root): must have required",
    );
    expect(invalid).toMatch(/only the corrected JSON object/);
    const none = repairInstructions([], "no-json");
    expect(none).toMatch(/did not contain a parseable JSON object/);
    expect(none).toMatch(/only the JSON object/);
    expect(none).not.toContain("- ");
  });
});
