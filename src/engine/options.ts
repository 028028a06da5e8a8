/**
 * agent() options (SPEC A02): unknown keys warn, wrong types throw, features this version or
 * this driver lacks are refused by name (model and effort only warn).
 */
import type { DriverCapabilities, Permissions } from "../drivers/types.js";

export interface AgentOptions {
  label?: string;
  phase?: string;
  schema?: Record<string, unknown>;
  model?: string;
  effort?: string;
  agentType?: string;
  driver?: string;
  permissions?: Permissions;
  timeoutMs?: number;
  retries?: number;
  repairs?: number;
  cache?: boolean;
  /** Per-call command for the command driver (D09). */
  command?: string;
  /** Run the agent in a git worktree of its own (W01). */
  isolation?: "worktree";
  /** Globs the agent may change (W03). */
  writes?: string[];
  /** Commands run in the worktree after the agent (W05). */
  verify?: string[];
  /** Idle limit of this call (C01, Claude Code's name): no backend event for this long is a stall. */
  stallMs?: number;
}

/**
 * Option keys the Pi ports write that mean one of weft's options, or nothing (A02): they are
 * translated before the checks, so the cache key of `readOnly: true` is that of
 * `permissions: "read-only"`.
 */
function translate(raw: Record<string, unknown>, warnings: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  if (Object.hasOwn(out, "readOnly")) {
    const ro = out.readOnly;
    delete out.readOnly;
    if (ro !== undefined && typeof ro !== "boolean") {
      throw new OptionsError(`agent() option "readOnly" must be true or false, got ${JSON.stringify(ro)}`);
    }
    if (ro === true) {
      if (out.permissions !== undefined && out.permissions !== "read-only") {
        throw new OptionsError(
          `agent() options "readOnly": true and "permissions": ${JSON.stringify(out.permissions)} contradict each other`,
        );
      }
      out.permissions = "read-only";
    } else if (ro === false && out.permissions === "read-only") {
      throw new OptionsError(
        'agent() options "readOnly": false and "permissions": "read-only" contradict each other',
      );
    }
  }
  // The Pi ports' "not set": no hard timeout, no isolation.
  if (Object.hasOwn(out, "timeoutMs") && out.timeoutMs === null) delete out.timeoutMs;
  if (Object.hasOwn(out, "isolation")) {
    const iso = out.isolation;
    if (iso === false || iso === null) delete out.isolation;
    else if (iso !== null && typeof iso === "object" && !Array.isArray(iso)) {
      // A pi fork's object form (issue 15.4): { mode: "worktree", ... }.
      const o = iso as Record<string, unknown>;
      if (o.mode !== "worktree") {
        throw new OptionsError(
          `agent() option "isolation" must be "worktree" or { mode: "worktree" }, got ${JSON.stringify(iso)}`,
        );
      }
      const others = Object.keys(o).filter((k) => k !== "mode");
      if (others.length > 0) {
        warnings.push(
          `agent() option "isolation": ${others.map((k) => JSON.stringify(k)).join(", ")} ${others.length === 1 ? "is" : "are"} not used by weft and ignored (only mode: "worktree" is)`,
        );
      }
      out.isolation = "worktree";
    }
  }
  return out;
}

export class OptionsError extends Error {
  override name = "OptionsError";
}

const PERMISSIONS = ["read-only", "edit", "full"] as const;

type Check = (v: unknown) => string | undefined;
const str: Check = (v) => (typeof v === "string" && v !== "" ? undefined : "a non-empty string");
const posInt: Check = (v) =>
  typeof v === "number" && Number.isInteger(v) && v > 0 ? undefined : "a positive integer";
const nonNegInt: Check = (v) =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 ? undefined : "a whole number >= 0";
const CHECKS: Record<keyof AgentOptions, Check> = {
  label: str,
  phase: str,
  schema: (v) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? undefined : "a JSON Schema object",
  model: str,
  effort: str,
  agentType: str,
  driver: str,
  permissions: (v) =>
    PERMISSIONS.includes(v as Permissions) ? undefined : `one of ${PERMISSIONS.join(", ")}`,
  timeoutMs: posInt,
  retries: nonNegInt,
  repairs: nonNegInt,
  cache: (v) => (typeof v === "boolean" ? undefined : "true or false"),
  command: str,
  isolation: (v) => (v === "worktree" ? undefined : '"worktree"'),
  writes: (v) =>
    Array.isArray(v) && v.length > 0 && v.every((g) => typeof g === "string" && g !== "")
      ? undefined
      : "a non-empty list of globs",
  stallMs: posInt,
  verify: (v) =>
    (typeof v === "string" && v !== "") ||
    (Array.isArray(v) && v.length > 0 && v.every((c) => typeof c === "string" && c !== ""))
      ? undefined
      : "a command or a non-empty list of commands",
};

/**
 * Validate the options of one call; returns them typed, the unknown keys, and warnings about
 * parts of a known option that weft does not use.
 */
export function parseOptions(raw: Record<string, unknown>): {
  opts: AgentOptions;
  unknown: string[];
  warnings: string[];
} {
  const opts: Record<string, unknown> = {};
  const unknown: string[] = [];
  const warnings: string[] = [];
  for (const [key, value] of Object.entries(translate(raw, warnings))) {
    if (value === undefined) continue;
    // A02: own keys only; "constructor", "toString" or "__proto__" are not options but
    // Object.prototype's members, and must warn as unknown like any other key.
    const check = Object.hasOwn(CHECKS, key) ? CHECKS[key as keyof AgentOptions] : undefined;
    if (!check) {
      unknown.push(key);
      continue;
    }
    const want = check(value);
    if (want) throw new OptionsError(`agent() option "${key}" must be ${want}, got ${JSON.stringify(value)}`);
    opts[key] = key === "verify" && typeof value === "string" ? [value] : value;
  }
  for (const k of ["writes", "verify"] as const) {
    if (opts[k] !== undefined && opts.isolation !== "worktree") {
      throw new OptionsError(`agent() option "${k}" needs isolation: "worktree"`);
    }
  }
  return { opts: opts as AgentOptions, unknown, warnings };
}

/**
 * Check an agent's options against what its driver can honour. Returns the warnings to show once
 * per run (model, effort); throws for the rest.
 */
export function checkCapabilities(
  driverName: string,
  caps: DriverCapabilities | undefined,
  opts: AgentOptions,
): string[] {
  if (!caps) return [];
  const warnings: string[] = [];
  if (opts.model !== undefined && !caps.model) {
    warnings.push(`the ${driverName} driver cannot choose a model; option "model" is ignored`);
  }
  if (opts.effort !== undefined && !caps.effort) {
    warnings.push(`the ${driverName} driver cannot set a reasoning effort; option "effort" is ignored`);
  }
  if (opts.agentType !== undefined && !caps.agentType) {
    throw new OptionsError(
      `agent() option "agentType" is refused: the ${driverName} driver has no named agent types`,
    );
  }
  const perm = opts.permissions ?? "edit";
  if (!caps.permissions.includes(perm)) {
    throw new OptionsError(
      `agent() option "permissions": "${perm}" is refused: the ${driverName} driver cannot enforce it (it supports ${caps.permissions.join(", ")})`,
    );
  }
  // D09: the same words whatever the level, so the run shows it once.
  if (caps.advisoryPermissions && perm !== "edit") warnings.push(advisoryWarning(driverName));
  return warnings;
}

/** D09: what a driver that is told the permissions but cannot enforce them warns, once per run. */
export function advisoryWarning(driverName: string): string {
  return `the ${driverName} driver does not enforce permissions: the program is told them in WEFT_PERMISSIONS and must keep to them itself; a read-only agent in a worktree fails if it changed files`;
}
