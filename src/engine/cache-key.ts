/**
 * Cache keys of agent calls (SPEC R03): a hash of what the script passed that shapes the result,
 * plus the occurrence number of that hash, so identical calls are interchangeable and finish
 * order never matters.
 */
import { createHash } from "node:crypto";

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}

export interface KeyedOptions {
  schema?: unknown;
  model?: string;
  effort?: string;
  agentType?: string;
  permissions?: string;
  isolation?: unknown;
  writes?: unknown;
  verify?: unknown;
}

export function callHash(prompt: string, opts: KeyedOptions): string {
  // "edit" is the default: writing it out must not make a finished agent run again.
  const permissions = opts.permissions === "edit" ? undefined : opts.permissions;
  // Keys in sorted order, absent ones left out: the same text canonicalJson would give.
  let text = "{";
  const add = (k: string, v: unknown) => {
    if (v === undefined) return;
    text += `${text.length > 1 ? "," : ""}"${k}":${canonicalJson(v)}`;
  };
  add("agentType", opts.agentType);
  add("effort", opts.effort);
  add("isolation", opts.isolation);
  add("model", opts.model);
  add("permissions", permissions);
  add("prompt", prompt);
  add("schema", opts.schema);
  add("verify", opts.verify);
  add("writes", opts.writes);
  return createHash("sha256").update(`${text}}`).digest("hex");
}

export class OccurrenceCounter {
  private readonly seen = new Map<string, number>();

  next(hash: string): string {
    const n = (this.seen.get(hash) ?? 0) + 1;
    this.seen.set(hash, n);
    return `${hash}#${n}`;
  }
}
