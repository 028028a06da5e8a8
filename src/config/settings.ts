/**
 * Settings and their layers (SPEC U09), highest first: flags, WEFT_* environment variables, the
 * run's stored settings (on resume), .weft/config.json, $XDG_CONFIG_HOME/weft/config.json.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { CliDriverConfig } from "../drivers/cli-driver.js";
import type { PriceTable } from "../drivers/prices.js";
import { type Hooks, mergeHooks, parseHooks } from "../hooks/config.js";
import { weftDirOf } from "../store/weft-dir.js";
import { claudeCodeSettings } from "./claude-code.js";

export interface Settings {
  driver?: string;
  command?: string;
  concurrency: number;
  /** Token budget (A10, C06); null for none. */
  budget: number | null;
  maxCostUsd: number | null;
  maxAgents: number;
  maxListItems: number;
  repairs: number;
  /** Retries for failed agents; undefined means the driver's own default (0 for command). */
  retries?: number;
  scriptTimeMs: number;
  idleTimeoutMs: number;
  /** Grace between SIGTERM and SIGKILL when stopping agents (C04). */
  killGraceMs: number;
  /** Times a worktree agent is sent a failing `verify` output to fix (W05). */
  verifyRepairs: number;
  /** Limit for one `verify` command. */
  verifyTimeoutMs: number;
  /** Integrate finished worktree agents' patches when the run completes (W04; also `meta.integrate`). */
  integrate: boolean;
  /** Shell commands run on run events (hooks/), every layer's together; never from a run's stored settings. */
  hooks: Hooks;
  /** The longest one hook command may run. */
  hookTimeoutMs: number;
  /** Per-driver settings: program, extra args and environment, default model, prices (D03). */
  drivers: Record<string, CliDriverConfig>;
  /** USD per million tokens by model, over the built-in table (C06, D07). */
  prices: PriceTable;
  /** U11: OTLP/HTTP endpoint for the run's trace ("off" for none); else OTEL_EXPORTER_OTLP_ENDPOINT. */
  otel?: string;
  /**
   * R03: which cached answers a resume serves. "writers" (default): every call whose key
   * matches, unless a writer it recorded ran again; "prefix" (Claude Code's rule): the calls
   * before the first one that misses the cache. Flag `--resume-mode` (`--resume` names a run).
   */
  resume: ResumeMode;
  /** C03: on a usage limit with a known reset within 24 h, wait for it and go on instead of pausing. */
  waitForUsageReset: boolean;
  /**
   * Claude Code's shared-prefix stagger: agents sending the same long prompt prefix wait for the
   * first of them to warm the backend's prompt cache, at most this long (ms); 0 turns it off.
   */
  prefixStaggerMs: number;
  /** X01: a Redis URL; agent calls go to workers on this BullMQ queue. */
  queue?: string;
  /** X01: the queue's name (default weft-agents). */
  queueName?: string;
  /** X02: the repository workers clone (default: the origin remote, else this repository). */
  repo?: string;
}

export type ResumeMode = "writers" | "prefix";
export const RESUME_MODES: readonly ResumeMode[] = ["writers", "prefix"];

export type SettingKey = keyof Settings;
/** `claude`: Claude Code's own settings (claude-code.ts), below every weft layer. */
export type Source = "flag" | "env" | "run" | "project" | "user" | "claude" | "default";

type Kind =
  | "string"
  | "posInt"
  | "nonNegInt"
  | "posNumber"
  | "bool"
  | "drivers"
  | "prices"
  | "hooks"
  | "resumeMode";
const KINDS: Record<SettingKey, Kind> = {
  driver: "string",
  command: "string",
  concurrency: "posInt",
  budget: "posInt",
  maxCostUsd: "posNumber",
  maxAgents: "posInt",
  maxListItems: "posInt",
  repairs: "nonNegInt",
  retries: "nonNegInt",
  scriptTimeMs: "posInt",
  idleTimeoutMs: "posInt",
  killGraceMs: "nonNegInt",
  verifyRepairs: "nonNegInt",
  verifyTimeoutMs: "posInt",
  integrate: "bool",
  hooks: "hooks",
  hookTimeoutMs: "posInt",
  drivers: "drivers",
  prices: "prices",
  otel: "string",
  resume: "resumeMode",
  waitForUsageReset: "bool",
  prefixStaggerMs: "nonNegInt",
  queue: "string",
  queueName: "string",
  repo: "string",
};
/** Settings whose value is an object: layers merge by key, the higher layer's entry winning. */
const OBJECT_KINDS: ReadonlySet<Kind> = new Set(["drivers", "prices"]);
export const SETTING_KEYS = Object.keys(KINDS) as SettingKey[];

export function defaultConcurrency(cpus: number): number {
  // Agents wait on the network, not on local cores (A12).
  return Math.min(16, Math.max(4, cpus));
}

export function defaults(cpus: number): Settings {
  return {
    concurrency: defaultConcurrency(cpus),
    budget: null,
    maxCostUsd: null,
    maxAgents: 1000,
    maxListItems: 4096,
    // A03: 4 repairs, so 5 attempts at a schema, as Claude Code gives (MAX_STRUCTURED_OUTPUT_RETRIES).
    repairs: 4,
    scriptTimeMs: 30_000,
    idleTimeoutMs: 10 * 60_000,
    killGraceMs: 5_000,
    verifyRepairs: 2,
    verifyTimeoutMs: 10 * 60_000,
    integrate: false,
    hooks: {},
    // As Claude Code's command hooks.
    hookTimeoutMs: 60_000,
    drivers: {},
    prices: {},
    resume: "writers",
    waitForUsageReset: false,
    prefixStaggerMs: 5_000,
  };
}

export class SettingsError extends Error {
  override name = "SettingsError";
}

export const envName = (key: string) => `WEFT_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
/** `--resume <run>` names the run to resume, so the `resume` setting's flag is `--resume-mode`. */
export const flagName = (key: string) =>
  key === "resume" ? "--resume-mode" : `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Parse one value of a setting; `where` names its origin for the error message. */
export function parseSetting(key: SettingKey, raw: unknown, where: string): Settings[SettingKey] {
  const kind = KINDS[key];
  if (kind === "bool") {
    if (raw === true || raw === "true" || raw === "1") return true;
    if (raw === false || raw === "false" || raw === "0") return false;
    throw new SettingsError(`${where}: ${key} must be true or false, got ${JSON.stringify(raw)}`);
  }
  if (kind === "drivers") return parseDrivers(raw, where);
  if (kind === "hooks") return parseHooks(raw, where);
  if (kind === "resumeMode") {
    if (RESUME_MODES.includes(raw as ResumeMode)) return raw as ResumeMode;
    throw new SettingsError(
      `${where}: ${key} must be one of ${RESUME_MODES.map((m) => JSON.stringify(m)).join(", ")}, got ${JSON.stringify(raw)}`,
    );
  }
  if (kind === "prices") return parsePrices(raw, where, key);
  if (kind === "string") {
    if (typeof raw !== "string" || raw === "")
      throw new SettingsError(`${where}: ${key} must be a non-empty string`);
    return raw;
  }
  if (raw === null && (key === "budget" || key === "maxCostUsd")) return null;
  const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  const ok =
    typeof n === "number" &&
    Number.isFinite(n) &&
    (kind === "posNumber" ? n > 0 : Number.isInteger(n) && (kind === "posInt" ? n > 0 : n >= 0));
  if (!ok) {
    const what = {
      posInt: "a positive integer",
      nonNegInt: "a whole number >= 0",
      posNumber: "a positive number",
    }[kind];
    throw new SettingsError(`${where}: ${key} must be ${what}, got ${JSON.stringify(raw)}`);
  }
  return n as number;
}

const DRIVER_NAMES = ["codex", "claude", "pi", "opencode", "gemini"];

/** A JSON object, from a config file or (for environment variables) a JSON string. */
function objectValue(raw: unknown, where: string, key: string): Record<string, unknown> {
  let v = raw;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch (e) {
      throw new SettingsError(`${where}: ${key} must be a JSON object: ${(e as Error).message}`);
    }
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new SettingsError(`${where}: ${key} must be an object`);
  }
  return v as Record<string, unknown>;
}

function parsePrices(raw: unknown, where: string, key: string): PriceTable {
  const table = objectValue(raw, where, key);
  for (const [model, p] of Object.entries(table)) {
    const price = p as Record<string, unknown> | null;
    const bad = (f: string) => {
      const n = price?.[f];
      return n !== undefined && !(typeof n === "number" && Number.isFinite(n) && n >= 0);
    };
    if (
      price === null ||
      typeof price !== "object" ||
      price.input === undefined ||
      price.output === undefined ||
      ["input", "output", "cached"].some(bad)
    ) {
      throw new SettingsError(
        `${where}: ${key}.${model} must be {"input": usd, "output": usd, "cached"?: usd} per million tokens`,
      );
    }
  }
  return table as unknown as PriceTable;
}

function parseDrivers(raw: unknown, where: string): Record<string, CliDriverConfig> {
  const all = objectValue(raw, where, "drivers");
  for (const [name, c] of Object.entries(all)) {
    const at = `${where}: drivers.${name}`;
    if (!DRIVER_NAMES.includes(name)) {
      throw new SettingsError(`${at}: no such driver (drivers with settings: ${DRIVER_NAMES.join(", ")})`);
    }
    const cfg = c as Record<string, unknown> | null;
    if (cfg === null || typeof cfg !== "object" || Array.isArray(cfg))
      throw new SettingsError(`${at} must be an object`);
    for (const [k, v] of Object.entries(cfg)) {
      // parsePrices throws its own error naming the bad entry.
      if (k === "prices") {
        parsePrices(v, where, `drivers.${name}.prices`);
        continue;
      }
      const ok =
        k === "bin" || k === "model" || k === "effort"
          ? typeof v === "string" && v !== ""
          : k === "forceModel"
            ? typeof v === "boolean"
            : k === "args"
              ? Array.isArray(v) && v.every((a) => typeof a === "string")
              : k === "env"
                ? v !== null &&
                  typeof v === "object" &&
                  !Array.isArray(v) &&
                  Object.values(v).every((x) => typeof x === "string")
                : undefined;
      if (ok === undefined)
        throw new SettingsError(
          `${at}: unknown key "${k}" (known: bin, args, env, model, effort, forceModel, prices)`,
        );
      if (!ok) {
        const want = {
          bin: "a program name or path",
          model: "a model name",
          effort: "an effort level",
          forceModel: "true or false",
          args: "an array of strings",
          env: "an object of strings",
        }[k];
        throw new SettingsError(`${at}.${k} must be ${want}`);
      }
    }
  }
  return all as Record<string, CliDriverConfig>;
}

export interface Layer {
  source: Source;
  where: string;
  values: Partial<Record<SettingKey, unknown>>;
}

export interface Resolved {
  settings: Settings;
  sources: Record<SettingKey, { source: Source; where: string }>;
  /** Values inside an object setting that came from elsewhere than its row says (`drivers.claude.model`). */
  details: Record<string, { source: Source; where: string; value: unknown }>;
  warnings: string[];
}

function readConfigFile(path: string, source: Source): Layer | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new SettingsError(`cannot read ${path}: ${(e as Error).message}`);
  }
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (e) {
    throw new SettingsError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (values === null || typeof values !== "object" || Array.isArray(values)) {
    throw new SettingsError(`${path} must hold a JSON object of settings`);
  }
  return { source, where: path, values: values as Layer["values"] };
}

/** The project's config file: one agents with edit permission can write (README "Security model"). */
export function projectConfigPath(cwd: string): string {
  return join(weftDirOf(cwd), "config.json");
}

export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "weft", "config.json");
}

export interface ResolveInput {
  cwd: string;
  flags?: Partial<Record<SettingKey, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** Settings stored with a run, used on resume. */
  stored?: Partial<Record<SettingKey, unknown>>;
  /** Settings given through the library API rank with flags. */
  cpus: number;
}

export function resolveSettings(input: ResolveInput): Resolved {
  const env = input.env ?? process.env;
  const layers: Layer[] = [];
  if (input.flags) layers.push({ source: "flag", where: "flag", values: input.flags });
  const fromEnv: Layer["values"] = {};
  for (const key of SETTING_KEYS) {
    const v = env[envName(key)];
    if (v !== undefined && v !== "") fromEnv[key] = v;
  }
  layers.push({ source: "env", where: "environment", values: fromEnv });
  if (input.stored) layers.push({ source: "run", where: "the run's stored settings", values: input.stored });
  const project = readConfigFile(projectConfigPath(input.cwd), "project");
  if (project) layers.push(project);
  const user = readConfigFile(userConfigPath(env), "user");
  if (user) layers.push(user);

  const warnings: string[] = [];
  for (const layer of layers) {
    if (layer.source !== "project" && layer.source !== "user") continue;
    for (const k of Object.keys(layer.values)) {
      // Keys starting with "//" are comments (JSON has none; `weft init` writes them, U05).
      if (!(k in KINDS) && !k.startsWith("//"))
        warnings.push(`${layer.where}: unknown setting "${k}" ignored`);
    }
  }

  const settings = defaults(input.cpus) as unknown as Record<string, unknown>;
  const sources = {} as Resolved["sources"];
  for (const key of SETTING_KEYS) {
    sources[key] = { source: "default", where: "default" };
    if (key === "hooks") {
      // Every layer's hooks run; a run's stored settings never add any (its journal is a file
      // agents can write, and hooks run commands as the user).
      const from = [...layers].reverse().filter((l) => l.source !== "run" && l.values.hooks !== undefined);
      const where = (l: Layer) =>
        l.source === "env" ? envName(key) : l.source === "flag" ? flagName(key) : l.where;
      settings.hooks = mergeHooks(from.map((l) => parseHooks(l.values.hooks, where(l))));
      if (from.length > 0)
        sources.hooks = { source: from[from.length - 1]!.source, where: from.map(where).join(" + ") };
      continue;
    }
    if (OBJECT_KINDS.has(KINDS[key])) {
      // Lowest layer first, so a higher layer's entry for a driver or model replaces the lower one.
      const merged: Record<string, unknown> = {};
      const from: string[] = [];
      for (const layer of [...layers].reverse()) {
        const raw = layer.values[key];
        if (raw === undefined) continue;
        const where =
          layer.source === "env" ? envName(key) : layer.source === "flag" ? flagName(key) : layer.where;
        Object.assign(merged, parseSetting(key, raw, where));
        from.unshift(where);
        sources[key] = { source: layer.source, where: from.join(" over ") };
      }
      settings[key] = merged;
      continue;
    }
    for (const layer of layers) {
      const raw = layer.values[key];
      if (raw === undefined) continue;
      const where =
        layer.source === "env" ? envName(key) : layer.source === "flag" ? flagName(key) : layer.where;
      settings[key] = parseSetting(key, raw, where);
      sources[key] = { source: layer.source, where };
      break;
    }
  }
  structuredOutputRetries(env, settings, sources, warnings);
  const details: Resolved["details"] = {};
  applyClaudeCode(input.cwd, env, settings as unknown as Settings, sources, details, warnings);
  return { settings: settings as unknown as Settings, sources, details, warnings };
}

/**
 * Claude Code's settings (claude-code.ts), each only where no weft layer set the value. The model
 * and effort are the claude driver's defaults: a Claude model name means nothing to another
 * backend. The concurrency cap is the run's, whatever the backend.
 */
function applyClaudeCode(
  cwd: string,
  env: NodeJS.ProcessEnv,
  settings: Settings,
  sources: Resolved["sources"],
  details: Resolved["details"],
  warnings: string[],
): void {
  const cc = claudeCodeSettings(cwd, env, warnings);
  if (cc.concurrency && sources.concurrency.source === "default") {
    settings.concurrency = cc.concurrency.n;
    sources.concurrency = { source: "claude", where: cc.concurrency.where };
  }
  if (cc.prefixStaggerMs && sources.prefixStaggerMs.source === "default") {
    settings.prefixStaggerMs = cc.prefixStaggerMs.n;
    sources.prefixStaggerMs = { source: "claude", where: cc.prefixStaggerMs.where };
  }
  const claude = { ...settings.drivers.claude };
  const fill = (key: "model" | "effort" | "forceModel", value: unknown, where: string) => {
    if (claude[key] !== undefined) return;
    (claude as Record<string, unknown>)[key] = value;
    details[`drivers.claude.${key}`] = { source: "claude", where, value };
  };
  if (cc.model) fill("model", cc.model.value, cc.model.where);
  if (cc.effort) fill("effort", cc.effort.value, cc.effort.where);
  if (cc.forceModel) fill("forceModel", true, cc.forceModel.where);
  if (Object.keys(details).length > 0) settings.drivers = { ...settings.drivers, claude };
}

/**
 * A03: Claude Code's MAX_STRUCTURED_OUTPUT_RETRIES (attempts at a schema answer, default 5) is
 * read when no weft layer set `repairs`: a user who tuned it for Claude Code gets the same number
 * of attempts here. It counts attempts; `repairs` counts the tries after the first.
 */
function structuredOutputRetries(
  env: NodeJS.ProcessEnv,
  settings: Record<string, unknown>,
  sources: Resolved["sources"],
  warnings: string[],
): void {
  const raw = env.MAX_STRUCTURED_OUTPUT_RETRIES;
  if (raw === undefined || raw.trim() === "" || sources.repairs.source !== "default") return;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    warnings.push(
      `MAX_STRUCTURED_OUTPUT_RETRIES must be a whole number of attempts >= 1, got ${JSON.stringify(raw)}; ignored (repairs stays ${settings.repairs})`,
    );
    return;
  }
  settings.repairs = n - 1;
  sources.repairs = { source: "env", where: "MAX_STRUCTURED_OUTPUT_RETRIES" };
}
