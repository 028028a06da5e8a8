/**
 * Structured output (SPEC A03): JSON Schema (2020-12 via ajv) with an object root, a static
 * check that the schema can be satisfied at all, readable errors for the repair loop, and the
 * instructions given to backends without native structured output.
 */
import { createRequire } from "node:module";
import type { Ajv2020 as Ajv2020Type, ValidateFunction } from "ajv/dist/2020.js";
import { canonicalJson } from "./cache-key.js";

export class SchemaError extends Error {
  override name = "SchemaError";
}

export interface CompiledSchema {
  schema: Record<string, unknown>;
  validate(value: unknown): { ok: true } | { ok: false; errors: string[] };
}

// Loaded on first use: ajv adds ~11 MB to the process, and most runs have no schema.
let ajvInstance: Ajv2020Type | undefined;
function ajv(): Ajv2020Type {
  if (!ajvInstance) {
    const { Ajv2020 } = createRequire(import.meta.url)(
      "ajv/dist/2020.js",
    ) as typeof import("ajv/dist/2020.js");
    // strict: false — weft accepts schemas written for other tools (unknown keywords, formats).
    ajvInstance = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
  }
  return ajvInstance;
}
const compiled = new Map<string, CompiledSchema>();

type S = Record<string, any> | boolean;

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}
const typeAllows = (types: string[], v: unknown) => {
  const t = typeOf(v);
  return types.includes(t) || (t === "integer" && types.includes("number"));
};
const typesOf = (s: Record<string, any>): string[] | undefined =>
  s.type === undefined ? undefined : Array.isArray(s.type) ? s.type : [s.type];

function intersect(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  if (!a) return b;
  if (!b) return a;
  const out = a.filter((t) => b.includes(t) || (t === "integer" && b.includes("number")));
  for (const t of b)
    if (t === "integer" && a.includes("number") && !out.includes("integer")) out.push("integer");
  return out;
}

/** Why no value can satisfy `s`, with the JSON pointer of the problem; undefined if it may be satisfiable. */
export function whyUnsatisfiable(s: S, at = ""): string | undefined {
  const here = at || "(root)";
  if (s === false) return `${here} is the schema false`;
  if (s === true || typeof s !== "object" || s === null) return undefined;
  if (s.not === true || (s.not && typeof s.not === "object" && Object.keys(s.not).length === 0)) {
    return `${here} has "not" of a schema that accepts everything`;
  }
  let types = typesOf(s);
  if (types && types.length === 0) return `${here} has an empty "type" list`;
  if (Array.isArray(s.allOf)) {
    for (const [i, sub] of s.allOf.entries()) {
      const why = whyUnsatisfiable(sub, `${at}/allOf/${i}`);
      if (why) return why;
      if (sub && typeof sub === "object") {
        const next = intersect(types, typesOf(sub));
        if (next && next.length === 0) return `${here} has allOf members with types that never overlap`;
        types = next;
      }
    }
  }
  for (const k of ["anyOf", "oneOf"] as const) {
    if (Array.isArray(s[k])) {
      if (s[k].length === 0) return `${here} has an empty ${k}`;
      const whys = s[k].map((sub: S, i: number) => whyUnsatisfiable(sub, `${at}/${k}/${i}`));
      if (whys.every(Boolean)) return `${here}: every ${k} branch can never be satisfied (${whys[0]})`;
    }
  }
  if (Array.isArray(s.enum)) {
    if (s.enum.length === 0) return `${here} has an empty enum`;
    if (types && !s.enum.some((v: unknown) => typeAllows(types!, v)))
      return `${here}: no enum value has type ${types.join("/")}`;
  }
  if ("const" in s && types && !typeAllows(types, s.const))
    return `${here}: const ${JSON.stringify(s.const)} is not of type ${types.join("/")}`;
  const lo = s.exclusiveMinimum ?? s.minimum;
  const hi = s.exclusiveMaximum ?? s.maximum;
  if (typeof lo === "number" && typeof hi === "number") {
    const exclusive = s.exclusiveMinimum !== undefined || s.exclusiveMaximum !== undefined;
    if (lo > hi || (exclusive && lo >= hi)) return `${at || "(root)"} has minimum ${lo} > maximum ${hi}`;
  }
  for (const [min, max] of [
    ["minLength", "maxLength"],
    ["minItems", "maxItems"],
    ["minProperties", "maxProperties"],
  ] as const) {
    if (typeof s[min] === "number" && typeof s[max] === "number" && s[min] > s[max]) {
      return `${here} has ${min} ${s[min]} > ${max} ${s[max]}`;
    }
  }
  const objectOnly = types?.length === 1 && types[0] === "object";
  if (objectOnly || (!types && Array.isArray(s.required))) {
    const props = (s.properties ?? {}) as Record<string, S>;
    for (const key of (Array.isArray(s.required) ? s.required : []) as string[]) {
      const patterns = Object.keys(s.patternProperties ?? {});
      if (
        !(key in props) &&
        s.additionalProperties === false &&
        !patterns.some((p) => safeRegex(p)?.test(key))
      ) {
        return `${here} requires "${key}" but additionalProperties is false and "${key}" is not a listed property`;
      }
      if (key in props) {
        const why = whyUnsatisfiable(props[key]!, `${at}/properties/${key}`);
        if (why) return why;
      }
    }
  }
  if (typeof s.minItems === "number" && s.minItems > 0 && s.items !== undefined) {
    const why = whyUnsatisfiable(s.items, `${at}/items`);
    if (why) return why;
  }
  return undefined;
}

function safeRegex(p: string): RegExp | undefined {
  try {
    return new RegExp(p, "u");
  } catch {
    return undefined;
  }
}

function describe(e: {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}): string {
  const where = e.instancePath || "(root)";
  if (e.keyword === "additionalProperties")
    return `${where}: must not have additional property '${String(e.params.additionalProperty)}'`;
  if (e.keyword === "enum") return `${where}: must be one of ${JSON.stringify(e.params.allowedValues)}`;
  return `${where}: ${e.message ?? e.keyword}`;
}

export function compileSchema(schema: unknown): CompiledSchema {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) {
    throw new SchemaError("schema must be a JSON Schema object");
  }
  const key = canonicalJson(schema);
  const cached = compiled.get(key);
  if (cached) return cached;
  const s = schema as Record<string, any>;
  const types = typesOf(s);
  if (types && !(types.length === 1 && types[0] === "object")) {
    throw new SchemaError(
      `schema root must be an object schema (type "object"), got type ${JSON.stringify(s.type)}`,
    );
  }
  // The contradiction check first: "can never be satisfied: empty enum" says more than ajv's
  // "enum must have at least one item".
  const why = whyUnsatisfiable({ type: "object", ...s });
  if (why) throw new SchemaError(`schema can never be satisfied: ${why}`);
  let fn: ValidateFunction;
  try {
    fn = ajv().compile(s);
  } catch (e) {
    throw new SchemaError(`invalid JSON Schema: ${(e as Error).message}`);
  }
  const result: CompiledSchema = {
    schema: s,
    validate(value) {
      if (fn(value)) return { ok: true };
      const errors = (fn.errors ?? []).map(describe);
      return { ok: false, errors: [...new Set(errors)] };
    },
  };
  compiled.set(key, result);
  return result;
}

export function schemaInstructions(schema: Record<string, unknown>): string {
  return [
    "Answer with exactly one JSON object that matches this JSON Schema, and nothing else",
    "(no prose around it; a single ```json fenced block is also accepted):",
    JSON.stringify(schema, null, 2),
  ].join("\n");
}

export function repairInstructions(errors: string[], problem: "no-json" | "invalid"): string {
  const what =
    problem === "no-json"
      ? "Your previous answer did not contain a parseable JSON object."
      : "Your previous answer's JSON object did not match the schema:";
  return [what, ...errors.map((e) => `- ${e}`), "Answer again with only the corrected JSON object."].join(
    "\n",
  );
}
