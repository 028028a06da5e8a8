/**
 * Structured output (SPEC A03): JSON Schema with an object root, validated by ajv; a static check
 * that refuses a schema no value can satisfy before any agent starts; validation errors worded
 * for the model that has to repair its answer; and the instructions given to backends without
 * native structured output (D06).
 */
import { createRequire } from "node:module";
import type { ErrorObject, Options, ValidateFunction } from "ajv";
import { canonicalJson } from "./cache-key.js";
import { type PatternTester, safePattern } from "./pattern.js";

export class SchemaError extends Error {
  override name = "SchemaError";
}

export interface CompiledSchema {
  /** The schema as given (with its `$schema`, if any): what the prompt and WEFT_SCHEMA_FILE show. */
  schema: Record<string, unknown>;
  validate(value: unknown): { ok: true } | { ok: false; errors: string[] };
}

// ---------------------------------------------------------------------------------------------
// ajv, one instance per JSON Schema dialect, each loaded on first use: ajv adds ~11 MB to the
// process and most runs have no schema. createRequire rather than `import`: ajv is CommonJS and
// compileSchema is synchronous; the named exports are typed through `typeof import(...)`.

interface AjvLike {
  compile(schema: object): ValidateFunction;
  validateSchema(schema: object): boolean | Promise<unknown>;
  removeSchema(schema: object): unknown;
  errors?: ErrorObject[] | null;
}

type Dialect = "2020-12" | "2019-09" | "draft-07";

const AJV_OPTIONS: Options = {
  allErrors: true,
  // weft accepts schemas written for other tools: unknown keywords and formats are not errors.
  strict: false,
  // No format validators ship with ajv itself (ajv-formats is not a dependency), so formats are
  // annotations; without this ajv would warn about every `format` it does not know.
  validateFormats: false,
  // Different schemas may carry the same `$id` (two versions of one schema in an edited script):
  // registering them by id would make the second compile throw.
  addUsedSchema: false,
  // ajv must not write to the console: weft reports through its own channels (stderr, --json).
  logger: false,
  // E03: `pattern`, `patternProperties` (and `propertyNames` patterns) run on RE2, in linear time:
  // with RegExp a pattern like ^(a+)+$ hangs the main thread, and Ctrl-C, SIGTERM and `weft stop`
  // with it. A pattern RE2 cannot run throws here, at compile, so the schema is refused before any
  // agent starts. (No `$data`, so ajv never builds a pattern at validation time.)
  code: { regExp: re2Engine() },
};

function re2Engine(): NonNullable<NonNullable<Options["code"]>["regExp"]> {
  const engine = (pattern: string) => {
    const tester = safePattern(pattern);
    // ajv shares one compiled pattern between schemas by its toString(): it must name the pattern.
    return { test: (s: string) => tester.test(s), toString: () => `re2:${pattern}` };
  };
  // ajv reads `code` only when it generates standalone code, which weft never does.
  return Object.assign(engine, { code: "weftRe2" });
}

const requireCjs = createRequire(import.meta.url);
const instances = new Map<Dialect, AjvLike>();

function newAjv(dialect: Dialect): AjvLike {
  switch (dialect) {
    case "2020-12": {
      const { Ajv2020 } = requireCjs("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
      return new Ajv2020(AJV_OPTIONS);
    }
    case "2019-09": {
      const { Ajv2019 } = requireCjs("ajv/dist/2019.js") as typeof import("ajv/dist/2019.js");
      return new Ajv2019(AJV_OPTIONS);
    }
    case "draft-07": {
      const { Ajv } = requireCjs("ajv/dist/ajv.js") as typeof import("ajv/dist/ajv.js");
      return new Ajv(AJV_OPTIONS);
    }
  }
}

function ajvFor(dialect: Dialect): AjvLike {
  let ajv = instances.get(dialect);
  if (!ajv) {
    ajv = newAjv(dialect);
    instances.set(dialect, ajv);
  }
  return ajv;
}

/**
 * The dialect a `$schema` names. Tools emit draft-07 (zod-to-json-schema, many OpenAPI
 * generators) as often as 2020-12, with or without "#" and https, so the URI is matched loosely
 * and then dropped before compiling: each ajv instance validates against its own meta-schema.
 * Draft-06 schemas are valid draft-07. Drafts 03 and 04 differ in ways ajv 8 does not support
 * (boolean exclusiveMinimum); any other URI (a vendor dialect) is read as 2020-12, the default.
 */
function dialectOf(uri: unknown): Dialect {
  if (typeof uri !== "string") return "2020-12";
  if (/json-schema\.org\/draft\/2019-09\//.test(uri)) return "2019-09";
  if (/json-schema\.org\/draft-0[67]\/schema/.test(uri)) return "draft-07";
  const old = /json-schema\.org\/(draft-0[34])\/schema/.exec(uri);
  if (old) {
    throw new SchemaError(
      `unsupported "$schema" ${JSON.stringify(uri)}: ${old[1]} is not supported; use draft-07 or 2020-12`,
    );
  }
  return "2020-12";
}

// ---------------------------------------------------------------------------------------------
// Compiled schemas, cached by canonical JSON: many agents of a run (a fan-out of 100 reviewers)
// share one schema, and compiling it is the expensive part. Bounded, least recently used first
// out, so that a long-lived process using the library API does not grow without end; an evicted
// validator keeps working for whoever holds it, ajv just forgets it.

interface CacheEntry {
  compiled: CompiledSchema;
  ajv: AjvLike;
  /** The object given to ajv, which keys ajv's own cache. */
  compiledFrom: object;
}

const MAX_CACHED = 256;
const cache = new Map<string, CacheEntry>();

function remember(key: string, entry: CacheEntry): void {
  cache.set(key, entry);
  if (cache.size > MAX_CACHED) {
    const [oldestKey, oldest] = cache.entries().next().value as [string, CacheEntry];
    cache.delete(oldestKey);
    oldest.ajv.removeSchema(oldest.compiledFrom);
  }
}

export function compileSchema(schema: unknown): CompiledSchema {
  if (schema === false) {
    throw new SchemaError("schema can never be satisfied: (root) is the schema false");
  }
  if (!isRecord(schema)) {
    throw new SchemaError("schema must be a JSON Schema object (with an object root)");
  }
  let key: string;
  try {
    key = canonicalJson(schema);
  } catch (e) {
    throw new SchemaError(`schema is not JSON: ${(e as Error).message}`);
  }
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit.compiled;
  }
  if ("~standard" in schema || "_def" in schema) {
    throw new SchemaError("a zod schema is not accepted here: pass a JSON Schema object");
  }
  checkRoot(schema);
  const dialect = dialectOf(schema.$schema);
  const { $schema: _dialect, ...compiledFrom } = schema;
  const { ajv, validate } = compileWithAjv(dialect, compiledFrom);
  const compiled: CompiledSchema = {
    schema,
    validate(value) {
      if (validate(value)) return { ok: true };
      return { ok: false, errors: readableErrors(validate.errors ?? []) };
    },
  };
  remember(key, { compiled, ajv, compiledFrom });
  return compiled;
}

function checkRoot(schema: Record<string, unknown>): void {
  // The answer is always a JSON object (extraction only returns objects), so the root must allow
  // one. No `type` at all is fine: `{properties: ...}` is how many tools write an object schema.
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.includes("object")) {
      throw new SchemaError(
        `schema root must be an object schema (type "object"), got type ${JSON.stringify(schema.type)}`,
      );
    }
  }
  // The contradiction check runs before ajv: "can never be satisfied: /a has an empty enum" says
  // more than ajv's meta-schema error about the same schema.
  const verdict = analyse(schema, "");
  const object = verdict.get("object");
  if (!object) return;
  if (object.byType && !isNever(verdict)) {
    throw new SchemaError(`schema root must be an object schema: ${object.why}`);
  }
  throw new SchemaError(
    `schema can never be satisfied: ${isNever(verdict) ? explain(verdict, "") : object.why}`,
  );
}

function compileWithAjv(dialect: Dialect, schema: object): { ajv: AjvLike; validate: ValidateFunction } {
  let ajv = ajvFor(dialect);
  // Meta-schema errors through our own wording: ajv's compile message repeats each of them once
  // per failing meta-schema branch.
  if (ajv.validateSchema(schema) === false) {
    throw new SchemaError(`invalid JSON Schema: ${readableErrors(ajv.errors ?? [], "schema").join("; ")}`);
  }
  try {
    return { ajv, validate: ajv.compile(schema) };
  } catch (e) {
    const message = (e as Error).message;
    // Nested `$id`s are registered on the instance even with addUsedSchema off; a different
    // schema reusing one of them gets an instance of its own rather than a refusal.
    if (!/already exists|resolves to more than one schema/.test(message)) {
      throw new SchemaError(`invalid JSON Schema: ${message}`);
    }
  }
  ajv = newAjv(dialect);
  try {
    return { ajv, validate: ajv.compile(schema) };
  } catch (e) {
    throw new SchemaError(`invalid JSON Schema: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Validation errors for the repair prompt: where (a JSON pointer into the answer, "(root)" for the
// object itself) and what, one line each.

/** More lines than this help no model: a wrong type on 5,000 array items says the same 5,000 times. */
const MAX_ERRORS = 20;

function readableErrors(errors: ErrorObject[], root = "(root)"): string[] {
  const lines = [...new Set(errors.map((e) => describe(e, root)))];
  if (lines.length <= MAX_ERRORS) return lines;
  return [...lines.slice(0, MAX_ERRORS), `... and ${lines.length - MAX_ERRORS} more errors`];
}

function describe(e: ErrorObject, root: string): string {
  const where = e.instancePath || root;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties":
      return `${where}: must not have additional property '${String(p.additionalProperty)}'`;
    case "unevaluatedProperties":
      return `${where}: must not have additional property '${String(p.unevaluatedProperty)}'`;
    case "type":
      return `${where}: must be ${[p.type].flat().join(" or ")}`;
    case "enum":
      return `${where}: must be one of ${short(JSON.stringify(p.allowedValues))}`;
    case "const":
      return `${where}: must be ${short(JSON.stringify(p.allowedValue))}`;
    case "false schema":
      return `${where}: is not allowed here`;
    default:
      return `${where}: ${e.message ?? e.keyword}`;
  }
}

function short(text: string | undefined, max = 200): string {
  const t = text ?? "undefined";
  return t.length <= max ? t : `${t.slice(0, max)}...`;
}

// ---------------------------------------------------------------------------------------------
// Prompt texts.

/** Appended to the prompt for backends without native structured output (D06). */
export function schemaInstructions(schema: Record<string, unknown>): string {
  return [
    "Answer with exactly one JSON object that matches the JSON Schema below, and nothing else: no",
    "prose, notes or explanations before or after it. Alternatively put the object, alone, inside one",
    "```json fenced code block.",
    "",
    "JSON Schema:",
    JSON.stringify(schema, null, 2),
  ].join("\n");
}

/** Appended on a repair attempt (A03): what was wrong with the last answer, and what to send instead. */
export function repairInstructions(errors: string[], problem: "no-json" | "invalid"): string {
  const head =
    problem === "no-json"
      ? "Your previous answer did not contain a parseable JSON object."
      : "Your previous answer's JSON object did not match the schema:";
  const listed = errors.map((e) => `- ${e}`);
  const tail =
    problem === "no-json"
      ? "Answer again with only the JSON object that matches the schema, with no prose around it."
      : "Answer again with only the corrected JSON object: all of it, not just the fixed fields, with no prose around it.";
  return [head, ...listed, tail].join("\n");
}

// ---------------------------------------------------------------------------------------------
// The "can never be satisfied" preflight (A03). Each subschema is read as the set of kinds of
// JSON value it could still accept; a contradiction rules out only the kinds it is about
// (minimum > maximum rules out numbers, not strings: `{minimum: 5, maximum: 1}` accepts "x"), and
// a schema is unsatisfiable when no kind is left. The check is conservative: anything it does not
// understand ($ref, if/then/else, dependentSchemas, multipleOf, ...) counts as possibly
// satisfiable, so it never refuses a schema some value satisfies. Non-integer numbers are their
// own kind so that `type: "integer"` with `minimum: 1.2, maximum: 1.8` is caught.

type Kind = "null" | "boolean" | "object" | "array" | "string" | "integer" | "fraction";
const KINDS: readonly Kind[] = ["null", "boolean", "object", "array", "string", "integer", "fraction"];
const NUMBERS: readonly Kind[] = ["integer", "fraction"];

interface Dead {
  why: string;
  /** Ruled out by what the value may be (type, const, enum, not), not by a contradiction. */
  byType: boolean;
  /** Pointer of the schema that ruled it out. */
  at: string;
}
/** The kinds a schema rules out, each with the reason; a kind not in the map may be possible. */
type Verdict = Map<Kind, Dead>;

const isNever = (v: Verdict) => v.size === KINDS.length;

function isRecord(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

const own = (o: object, k: string) => Object.hasOwn(o, k);

function kindsOfTypeName(name: unknown): readonly Kind[] | undefined {
  switch (name) {
    case "number":
      return NUMBERS;
    case "integer":
      return ["integer"];
    case "null":
    case "boolean":
    case "object":
    case "array":
    case "string":
      return [name];
    default:
      return undefined;
  }
}

/** Kinds a `type` keyword allows; undefined when absent or malformed (ajv reports the latter). */
function typeKinds(type: unknown): Set<Kind> | undefined {
  if (type === undefined) return undefined;
  const names = Array.isArray(type) ? type : [type];
  const kinds = new Set<Kind>();
  for (const name of names) {
    const k = kindsOfTypeName(name);
    if (!k) return undefined;
    for (const kind of k) kinds.add(kind);
  }
  return kinds;
}

function kindOfValue(v: unknown): Kind {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "fraction";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "string") return "string";
  return "object";
}

const KIND_NAMES: Record<Kind, string> = {
  null: "null",
  boolean: "boolean",
  object: "object",
  array: "array",
  string: "string",
  integer: "integer",
  fraction: "non-integer number",
};

/** A JSON pointer segment (RFC 6901). */
const seg = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");
const show = (at: string) => at || "(root)";

/** Keywords that never constrain a value: `not` of a schema made only of these rejects everything. */
const ANNOTATIONS = new Set([
  "title",
  "description",
  "$comment",
  "examples",
  "default",
  "deprecated",
  "readOnly",
  "writeOnly",
  "$id",
  "$schema",
  "$anchor",
  "$defs",
  "definitions",
]);
const onlyAnnotations = (s: Record<string, unknown>, besides: string[] = []) =>
  Object.keys(s).every((k) => ANNOTATIONS.has(k) || besides.includes(k));

/** Why a verdict with no kind left can never be satisfied, for the error message. */
function explain(v: Verdict, at: string): string {
  const dead = [...v.values()];
  const contradictions = [...new Set(dead.filter((d) => !d.byType).map((d) => d.why))];
  if (contradictions.length > 0) return contradictions.slice(0, 3).join("; ");
  const types = [...new Set(dead.map((d) => d.why))].slice(0, 4).join("; ");
  if (dead.every((d) => d.at.startsWith(`${at}/allOf/`))) {
    return `${show(at)} has allOf members whose types never overlap (${types})`;
  }
  return `${show(at)} allows no kind of value (${types})`;
}

function analyse(s: unknown, at: string): Verdict {
  const dead: Verdict = new Map();
  const here = show(at);
  const kill = (kinds: Iterable<Kind>, why: string, byType = false, where = at) => {
    for (const k of kinds) if (!dead.has(k)) dead.set(k, { why, byType, at: where });
  };
  const killAll = (why: string) => kill(KINDS, why);
  const inherit = (sub: Verdict) => {
    for (const [k, d] of sub) if (!dead.has(k)) dead.set(k, d);
  };
  /** Rules out `kinds` when `sub` (a schema some value of those kinds must satisfy) never can be. */
  const needs = (sub: unknown, subAt: string, kinds: Iterable<Kind>) => {
    const v = analyse(sub, subAt);
    if (isNever(v)) kill(kinds, explain(v, subAt));
  };

  if (s === false) {
    killAll(`${here} is the schema false`);
    return dead;
  }
  if (!isRecord(s)) return dead;

  /** Rules out kinds by what the value may be rather than by a contradiction. */
  const narrow = (kinds: Kind[], why: string) => kill(kinds, why, true);

  // type
  const allowed = typeKinds(s.type);
  if (Array.isArray(s.type) && s.type.length === 0) killAll(`${here} has an empty "type" list`);
  else if (allowed) {
    narrow(
      KINDS.filter((k) => !allowed.has(k)),
      `${here} has type ${JSON.stringify(s.type)}`,
    );
  }
  const typeAllows = (v: unknown) => !allowed || allowed.has(kindOfValue(v));

  // const and enum
  if (own(s, "const")) {
    const c = short(JSON.stringify(s.const), 60);
    if (!typeAllows(s.const)) killAll(`${here}: const ${c} is not of type ${JSON.stringify(s.type)}`);
    else
      narrow(
        KINDS.filter((k) => k !== kindOfValue(s.const)),
        `${here} has const ${c}`,
      );
    if (Array.isArray(s.enum) && !s.enum.some((v: unknown) => canonicalJson(v) === canonicalJson(s.const))) {
      killAll(`${here}: const ${c} is not one of its enum values`);
    }
  }
  if (Array.isArray(s.enum)) {
    if (s.enum.length === 0) killAll(`${here} has an empty enum`);
    else {
      const fitting = s.enum.filter(typeAllows);
      if (fitting.length === 0) killAll(`${here}: no enum value is of type ${JSON.stringify(s.type)}`);
      else {
        const kinds = new Set(fitting.map(kindOfValue));
        narrow(
          KINDS.filter((k) => !kinds.has(k)),
          `${here} has enum ${short(JSON.stringify(s.enum), 60)}`,
        );
      }
    }
  }

  // not
  if (s.not === true || (isRecord(s.not) && onlyAnnotations(s.not))) {
    killAll(`${here} has "not" of a schema that accepts everything`);
  } else if (isRecord(s.not) && onlyAnnotations(s.not, ["type"])) {
    const excluded = typeKinds(s.not.type);
    if (excluded) narrow([...excluded], `${here}/not excludes type ${JSON.stringify(s.not.type)}`);
  }

  // numbers
  const lo = bound(s.minimum, s.exclusiveMinimum, "minimum", "exclusiveMinimum", (a, b) => a > b);
  const hi = bound(s.maximum, s.exclusiveMaximum, "maximum", "exclusiveMaximum", (a, b) => a < b);
  if (lo && hi) {
    if (lo.value > hi.value || (lo.value === hi.value && (lo.exclusive || hi.exclusive))) {
      const op = lo.value > hi.value ? ">" : ">=";
      kill(NUMBERS, `${here} has ${lo.name} ${lo.value} ${op} ${hi.name} ${hi.value}`);
    } else if (lo.value === hi.value && Number.isInteger(lo.value)) {
      kill(["fraction"], `${here} allows only the number ${lo.value}`);
    }
  }
  const intLo = lo ? (lo.exclusive ? Math.floor(lo.value) + 1 : Math.ceil(lo.value)) : -Infinity;
  const intHi = hi ? (hi.exclusive ? Math.ceil(hi.value) - 1 : Math.floor(hi.value)) : Infinity;
  if (lo && hi && intLo > intHi) {
    kill(["integer"], `${here} has no integer between ${lo.name} ${lo.value} and ${hi.name} ${hi.value}`);
  }

  // strings
  if (isNum(s.minLength) && isNum(s.maxLength) && s.minLength > s.maxLength) {
    kill(["string"], `${here} has minLength ${s.minLength} > maxLength ${s.maxLength}`);
  }

  // arrays
  if (isNum(s.minItems) && isNum(s.maxItems) && s.minItems > s.maxItems) {
    kill(["array"], `${here} has minItems ${s.minItems} > maxItems ${s.maxItems}`);
  }
  const minItems = isNum(s.minItems) ? s.minItems : 0;
  // Draft-07 tuples are `items: [...]` plus `additionalItems`; 2020-12 has `prefixItems` plus `items`.
  const tupleKw = Array.isArray(s.items) ? "items" : "prefixItems";
  const tuple: unknown[] = Array.isArray(s[tupleKw]) ? s[tupleKw] : [];
  const restKw = Array.isArray(s.items) ? "additionalItems" : "items";
  for (let i = 0; i < Math.min(minItems, tuple.length); i++) {
    needs(tuple[i], `${at}/${tupleKw}/${i}`, ["array"]);
  }
  if (minItems > tuple.length && s[restKw] !== undefined) needs(s[restKw], `${at}/${restKw}`, ["array"]);
  if (s.contains !== undefined) {
    const minContains = isNum(s.minContains) ? s.minContains : 1;
    if (isNum(s.maxContains) && minContains > s.maxContains) {
      kill(["array"], `${here} has minContains ${minContains} > maxContains ${s.maxContains}`);
    }
    if (minContains > 0) needs(s.contains, `${at}/contains`, ["array"]);
  }

  // objects
  if (isNum(s.minProperties) && isNum(s.maxProperties) && s.minProperties > s.maxProperties) {
    kill(["object"], `${here} has minProperties ${s.minProperties} > maxProperties ${s.maxProperties}`);
  }
  const required = Array.isArray(s.required)
    ? [...new Set(s.required.filter((k: unknown): k is string => typeof k === "string"))]
    : [];
  if (isNum(s.maxProperties) && required.length > s.maxProperties) {
    kill(
      ["object"],
      `${here} requires ${required.length} properties but has maxProperties ${s.maxProperties}`,
    );
  }
  const props: Record<string, unknown> = isRecord(s.properties) ? s.properties : {};
  const patterns = isRecord(s.patternProperties)
    ? Object.entries(s.patternProperties).map(([p, sub]) => ({ p, sub, re: regex(p) }))
    : [];
  // With a pattern ajv cannot compile either, which keys it matches is unknown: ajv reports it.
  const patternsKnown = patterns.every((x) => x.re);
  for (const key of required) {
    let listed = false;
    if (own(props, key)) {
      listed = true;
      needs(props[key], `${at}/properties/${seg(key)}`, ["object"]);
    }
    if (!patternsKnown) continue;
    for (const { p, sub, re } of patterns) {
      if (!re!.test(key)) continue;
      listed = true;
      needs(sub, `${at}/patternProperties/${seg(p)}`, ["object"]);
    }
    if (listed || s.additionalProperties === undefined) continue;
    if (s.additionalProperties === false) {
      kill(
        ["object"],
        `${here} requires "${key}" but additionalProperties is false and "${key}" is not a listed property`,
      );
    } else needs(s.additionalProperties, `${at}/additionalProperties`, ["object"]);
  }
  if (
    s.propertyNames !== undefined &&
    (required.length > 0 || (isNum(s.minProperties) && s.minProperties > 0))
  ) {
    const names = analyse(s.propertyNames, `${at}/propertyNames`);
    const string = names.get("string");
    if (string) {
      kill(
        ["object"],
        string.byType ? `${at}/propertyNames allows no string as a property name` : string.why,
      );
    }
  }

  // allOf: every member must hold, so a kind any member rules out is out.
  if (Array.isArray(s.allOf)) {
    for (const [i, member] of s.allOf.entries()) {
      const sub = analyse(member, `${at}/allOf/${i}`);
      if (isNever(sub)) killAll(explain(sub, `${at}/allOf/${i}`));
      else inherit(sub);
    }
  }
  // anyOf / oneOf: a kind is out only when every branch rules it out.
  for (const kw of ["anyOf", "oneOf"] as const) {
    const branches: unknown = s[kw];
    if (!Array.isArray(branches)) continue;
    if (branches.length === 0) {
      killAll(`${here} has an empty ${kw}`);
      continue;
    }
    const subs = branches.map((b, i) => analyse(b, `${at}/${kw}/${i}`));
    if (subs.every(isNever)) {
      const whys = [...new Set(subs.map((v, i) => explain(v, `${at}/${kw}/${i}`)))];
      killAll(`${here}: every ${kw} branch can never be satisfied (${whys.slice(0, 3).join("; ")})`);
      continue;
    }
    for (const k of KINDS) {
      const reasons = subs.map((v) => v.get(k));
      if (reasons.every(Boolean)) {
        kill(
          [k],
          `no ${kw} branch of ${here} allows a value of type ${KIND_NAMES[k]}`,
          reasons.every((d) => d!.byType),
          `${at}/${kw}`,
        );
      }
    }
  }
  return dead;
}

function isNum(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** The tighter of an inclusive and an exclusive bound; `tighter(a, b)` says a is tighter than b. */
function bound(
  inclusive: unknown,
  exclusive: unknown,
  inclusiveName: string,
  exclusiveName: string,
  tighter: (a: number, b: number) => boolean,
): { value: number; exclusive: boolean; name: string } | undefined {
  const inc = isNum(inclusive) ? { value: inclusive, exclusive: false, name: inclusiveName } : undefined;
  // Draft-04's boolean exclusiveMinimum is not a bound of its own: isNum skips it.
  const exc = isNum(exclusive) ? { value: exclusive, exclusive: true, name: exclusiveName } : undefined;
  if (!inc || !exc) return inc ?? exc;
  return tighter(inc.value, exc.value) ? inc : exc;
}

/** The pattern as ajv will run it (RE2, see pattern.ts); undefined if ajv will refuse it. */
function regex(pattern: string): PatternTester | undefined {
  try {
    return safePattern(pattern);
  } catch {
    return undefined;
  }
}
