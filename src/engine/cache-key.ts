/**
 * Cache keys of agent calls (SPEC R03): a hash of what the script passed that shapes the result,
 * plus the occurrence number of that hash, so identical calls are interchangeable and the order in
 * which agents finished never matters on resume.
 */
import { createHash } from "node:crypto";

/**
 * JSON with object keys sorted at every level, so that `{a, b}` and `{b, a}` give the same text
 * (a schema written with its keys in another order must not look like a new call). Otherwise it
 * follows JSON.stringify: `toJSON` is honoured, members that are `undefined`, functions or symbols
 * are left out of objects and become `null` in arrays, non-finite numbers become `null`, and
 * cycles and BigInts throw a TypeError. A top-level value JSON cannot hold gives "null".
 */
export function canonicalJson(value: unknown): string {
  return encode(value, "", new Set()) ?? "null";
}

function encode(value: unknown, key: string, open: Set<object>): string | undefined {
  let v = value;
  if (v !== null && (typeof v === "object" || typeof v === "bigint")) {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") v = toJSON.call(v, key);
  }
  // Boxed primitives serialise as their value, as in JSON.stringify.
  if (v instanceof Number || v instanceof String || v instanceof Boolean) v = v.valueOf();
  switch (typeof v) {
    case "string":
    case "number":
    case "boolean":
      return JSON.stringify(v);
    case "bigint":
      throw new TypeError("canonicalJson: a BigInt has no JSON form");
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (v === null) return "null";
  const obj = v as object;
  if (open.has(obj)) throw new TypeError("canonicalJson: the value is cyclic");
  open.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = `[${obj.map((item, i) => encode(item, String(i), open) ?? "null").join(",")}]`;
  } else {
    const record = obj as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of Object.keys(record).sort()) {
      const text = encode(record[k], k, open);
      if (text !== undefined) parts.push(`${JSON.stringify(k)}:${text}`);
    }
    out = `{${parts.join(",")}}`;
  }
  open.delete(obj);
  return out;
}

/** The options of an `agent()` call that are part of its cache key; every other option is not. */
export interface CallKeyOptions {
  schema?: unknown;
  model?: string;
  effort?: string;
  agentType?: string;
  permissions?: string;
  isolation?: unknown;
  writes?: unknown;
  verify?: unknown;
}

/**
 * sha256 (hex) of the canonical JSON of `{prompt, schema, model, effort, agentType, permissions,
 * isolation, writes, verify}`. Only those fields are read, so `label`, `phase`, `driver`,
 * `timeoutMs`, `retries`, `cache` and anything else on `opts` cannot change the key (R03): they
 * change how or where an agent runs, not what it is asked. The caller folds the tree a worktree
 * starts from into `isolation`.
 *
 * `permissions: "edit"` is the default (A02), so it hashes like an absent `permissions`: writing
 * the default out in an edited script must not make finished agents run again on resume.
 */
export function callHash(prompt: string, opts: CallKeyOptions): string {
  // The text canonicalJson({prompt, schema, ...}) gives, built field by field in sorted key
  // order with absent fields left out: no object to build, sort and walk per call, which showed
  // in the profile of a 10,000-agent resume.
  let text = "{";
  const add = (k: string, v: unknown) => {
    if (v === undefined) return;
    text += `${text.length > 1 ? "," : ""}"${k}":${typeof v === "string" ? JSON.stringify(v) : canonicalJson(v)}`;
  };
  add("agentType", opts.agentType);
  add("effort", opts.effort);
  add("isolation", opts.isolation);
  add("model", opts.model);
  add("permissions", opts.permissions === "edit" ? undefined : opts.permissions);
  add("prompt", prompt);
  add("schema", opts.schema);
  add("verify", opts.verify);
  add("writes", opts.writes);
  return createHash("sha256").update(`${text}}`).digest("hex");
}

/**
 * Numbers identical calls by occurrence: the second `agent()` with the same hash in a run is
 * `${hash}#2`, so two equal calls map to two recorded agents whatever order they finished in.
 */
export class OccurrenceCounter {
  private readonly seen = new Map<string, number>();

  next(hash: string): string {
    const n = (this.seen.get(hash) ?? 0) + 1;
    this.seen.set(hash, n);
    return `${hash}#${n}`;
  }
}
