/**
 * codex's native structured output (D06): `codex exec --output-schema <file>` sends the schema to
 * the model as a *strict* json_schema, and OpenAI's strict mode accepts only a subset of JSON
 * Schema: every object lists all its properties in `required` and has `additionalProperties:
 * false`, the root is an object, and a handful of keywords are not allowed at all. A user's schema
 * rarely looks like that, so {@link toStrictSchema} rewrites it: optional properties become
 * required but nullable, and {@link fromStrictValue} maps the model's answer back by removing the
 * nulls of those optional properties, so that the object validates against the user's original
 * schema (which weft always validates, A03).
 *
 * Because weft validates against the original afterwards, the strict schema may be looser than
 * the original (a dropped `minLength` is checked by weft and repaired, A03), but never stricter
 * in a way the original is not. What strict mode cannot say at all (free-form objects, `allOf`,
 * `not`, conditionals, remote `$ref`s) is refused: the driver then sends no schema and weft falls
 * back to the instructions in the prompt plus its own JSON extraction.
 */

export type JsonSchema = Record<string, unknown>;

export type StrictConversion = { ok: true; schema: JsonSchema } | { ok: false; reason: string };

/** Annotations and structure that strict mode accepts as they are. */
const KEPT = new Set([
  "type",
  "title",
  "description",
  "enum",
  "const",
  // Constraints OpenAI's strict mode supports (its structured-outputs guide).
  "pattern",
  "format",
  "multipleOf",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minItems",
  "maxItems",
]);

/** Keywords handled structurally by the converter. */
const STRUCTURAL = new Set([
  "properties",
  "required",
  "additionalProperties",
  "items",
  "anyOf",
  "oneOf",
  "$ref",
  "$defs",
  "definitions",
]);

/**
 * Keywords strict mode rejects that only narrow the values: dropped, since weft validates the
 * answer against the original schema anyway. `$schema`/`$id`/`$comment` are metadata.
 */
const DROPPED = new Set([
  "$schema",
  "$id",
  "$comment",
  "default",
  "examples",
  "minLength",
  "maxLength",
  "uniqueItems",
  "contains",
  "minContains",
  "maxContains",
  "minProperties",
  "maxProperties",
  "readOnly",
  "writeOnly",
  "deprecated",
  "contentMediaType",
  "contentEncoding",
]);

class Unsupported extends Error {}

const isObject = (v: unknown): v is JsonSchema => !!v && typeof v === "object" && !Array.isArray(v);

/** Rewrites a JSON Schema (object root) to OpenAI strict mode, or says why it cannot. */
export function toStrictSchema(schema: JsonSchema): StrictConversion {
  try {
    const root = convert(schema, "#");
    if (!isObjectSchema(root)) throw new Unsupported("the root must be an object schema");
    for (const key of ["$defs", "definitions"] as const) {
      const defs = schema[key];
      if (defs === undefined) continue;
      if (!isObject(defs)) throw new Unsupported(`${key} must be an object`);
      root[key] = Object.fromEntries(
        Object.entries(defs).map(([name, def]) => [name, convert(def, `#/${key}/${name}`)]),
      );
    }
    return { ok: true, schema: root };
  } catch (e) {
    if (e instanceof Unsupported) return { ok: false, reason: e.message };
    throw e;
  }
}

function isObjectSchema(s: JsonSchema): boolean {
  return s.type === "object";
}

/** One schema node, converted; `at` is its JSON pointer, for the messages. */
function convert(node: unknown, at: string): JsonSchema {
  if (node === true) throw new Unsupported(`${at}: a schema of \`true\` (any value) has no strict form`);
  if (!isObject(node)) throw new Unsupported(`${at}: not a schema`);
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (KEPT.has(key)) out[key] = value;
    else if (STRUCTURAL.has(key) || DROPPED.has(key)) continue;
    else throw new Unsupported(`${at}: the keyword "${key}" has no strict-mode form`);
  }
  const ref = node.$ref;
  if (ref !== undefined) {
    if (typeof ref !== "string" || !/^#\/(\$defs|definitions)\/[^/]+$/.test(ref)) {
      throw new Unsupported(
        `${at}: only local $refs to #/$defs/<name> or #/definitions/<name> are supported`,
      );
    }
    // Strict mode takes a $ref only on its own: the siblings are annotations at best.
    return { $ref: ref };
  }
  const branches = node.anyOf ?? node.oneOf;
  if (branches !== undefined) {
    if (node.anyOf !== undefined && node.oneOf !== undefined) {
      throw new Unsupported(`${at}: anyOf and oneOf together`);
    }
    if (!Array.isArray(branches) || branches.length === 0) throw new Unsupported(`${at}: empty anyOf/oneOf`);
    // oneOf becomes anyOf (strict mode has only anyOf): looser, and weft checks the original.
    out.anyOf = branches.map((b, i) => convert(b, `${at}/anyOf/${i}`));
    return out;
  }
  if (node.properties !== undefined || node.type === "object" || typesOf(node).includes("object")) {
    return convertObject(node, out, at);
  }
  if (node.items !== undefined) {
    if (Array.isArray(node.items)) throw new Unsupported(`${at}: tuple items have no strict form`);
    out.items = convert(node.items, `${at}/items`);
  }
  if (typesOf(node).includes("array") && out.items === undefined) {
    throw new Unsupported(`${at}: an array without items has no strict form`);
  }
  if (out.type === undefined && Array.isArray(out.enum)) {
    // Strict mode wants a type next to an enum; the values say which.
    const types = [...new Set(out.enum.map(jsonType))];
    out.type = types.length === 1 ? types[0] : types;
  }
  if (out.type === undefined && out.const === undefined) {
    throw new Unsupported(`${at}: a schema without a type (any value) has no strict form`);
  }
  return out;
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function typesOf(node: JsonSchema): string[] {
  const t = node.type;
  if (typeof t === "string") return [t];
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === "string") : [];
}

/** An object: every property required, optional ones nullable, no additional properties. */
function convertObject(node: JsonSchema, out: JsonSchema, at: string): JsonSchema {
  const extra = node.additionalProperties;
  if (extra !== undefined && extra !== false) {
    throw new Unsupported(`${at}: additionalProperties (a free-form map) has no strict form`);
  }
  const props = node.properties ?? {};
  if (!isObject(props)) throw new Unsupported(`${at}: properties must be an object`);
  if (Object.keys(props).length === 0) {
    // Without properties the original allows any keys; strict mode would allow none.
    throw new Unsupported(`${at}: an object without properties (a free-form object) has no strict form`);
  }
  const required = new Set(Array.isArray(node.required) ? node.required : []);
  const properties: JsonSchema = {};
  for (const [name, prop] of Object.entries(props)) {
    const converted = convert(prop, `${at}/properties/${name}`);
    properties[name] = required.has(name) ? converted : nullable(converted);
  }
  if (out.type === undefined) out.type = "object";
  out.properties = properties;
  out.required = Object.keys(props);
  out.additionalProperties = false;
  return out;
}

/** The same schema, also accepting null: how strict mode says "optional". */
export function nullable(schema: JsonSchema): JsonSchema {
  if (acceptsNull(schema)) return schema;
  if (schema.$ref !== undefined || schema.const !== undefined) return { anyOf: [schema, { type: "null" }] };
  if (Array.isArray(schema.anyOf)) return { ...schema, anyOf: [...schema.anyOf, { type: "null" }] };
  const out: JsonSchema = { ...schema };
  const types = typesOf(schema);
  if (types.length > 0 && !types.includes("null")) out.type = [...types, "null"];
  if (Array.isArray(schema.enum) && !schema.enum.includes(null)) out.enum = [...schema.enum, null];
  return out;
}

/** Whether a converted (or original) schema node accepts null, without resolving $refs. */
function acceptsNull(schema: JsonSchema): boolean {
  if (typesOf(schema).includes("null")) {
    return !Array.isArray(schema.enum) || schema.enum.includes(null);
  }
  if (schema.const === null) return true;
  if (schema.type === undefined && Array.isArray(schema.enum) && schema.enum.includes(null)) return true;
  const branches = schema.anyOf ?? schema.oneOf;
  return Array.isArray(branches) && branches.some((b) => isObject(b) && acceptsNull(b));
}

/**
 * Maps the model's answer to a strict schema back to the original schema: a null in a property
 * that the original did not require, and whose schema does not accept null, stands for "absent"
 * and is removed, at any depth (nested objects, array items, $refs, anyOf branches).
 */
export function fromStrictValue(value: unknown, original: JsonSchema): unknown {
  return restore(value, original, original, 0);
}

function restore(value: unknown, node: unknown, root: JsonSchema, depth: number): unknown {
  // A recursive $ref cannot loop here: each step goes one level into the (finite) value, except a
  // $ref to a $ref, which the depth bound stops.
  if (!isObject(node) || depth > 64) return value;
  if (typeof node.$ref === "string") return restore(value, resolve(node.$ref, root), root, depth + 1);
  const branches = node.anyOf ?? node.oneOf;
  if (Array.isArray(branches)) {
    const branch = branches.find((b) => fits(value, b, root));
    return branch === undefined ? value : restore(value, branch, root, depth + 1);
  }
  if (Array.isArray(value)) {
    return isObject(node.items) ? value.map((v) => restore(v, node.items, root, depth + 1)) : value;
  }
  if (!isObject(value) || !isObject(node.properties)) return value;
  const required = new Set(Array.isArray(node.required) ? node.required : []);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const prop = node.properties[key];
    if (v === null && !required.has(key) && prop !== undefined && !allowsNull(prop, root)) continue;
    out[key] = prop === undefined ? v : restore(v, prop, root, depth + 1);
  }
  return out;
}

function resolve(ref: string, root: JsonSchema): unknown {
  const m = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
  if (!m) return undefined;
  const defs = root[m[1]!];
  return isObject(defs) ? defs[decodeURIComponent(m[2]!)] : undefined;
}

function allowsNull(node: unknown, root: JsonSchema, depth = 0): boolean {
  if (!isObject(node) || depth > 64) return false;
  if (typeof node.$ref === "string") return allowsNull(resolve(node.$ref, root), root, depth + 1);
  const branches = node.anyOf ?? node.oneOf;
  if (Array.isArray(branches)) return branches.some((b) => allowsNull(b, root, depth + 1));
  return acceptsNull(node);
}

/**
 * Which anyOf branch a value was meant for: the first whose type matches and, for an object,
 * which knows every key the value has. Good enough to find where the nulls belong; the real check
 * is weft's validation against the original.
 */
function fits(value: unknown, branch: unknown, root: JsonSchema, depth = 0): boolean {
  if (!isObject(branch) || depth > 64) return false;
  if (typeof branch.$ref === "string") return fits(value, resolve(branch.$ref, root), root, depth + 1);
  const nested = branch.anyOf ?? branch.oneOf;
  if (Array.isArray(nested)) return nested.some((b) => fits(value, b, root, depth + 1));
  if (branch.const !== undefined) return branch.const === value;
  if (Array.isArray(branch.enum) && !branch.enum.includes(value)) return false;
  const types = typesOf(branch);
  if (types.length > 0 && !types.some((t) => hasType(value, t))) return false;
  if (isObject(value) && isObject(branch.properties)) {
    const known = branch.properties;
    return Object.keys(value).every((k) => k in known);
  }
  return true;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number";
    default:
      return typeof value === type;
  }
}
