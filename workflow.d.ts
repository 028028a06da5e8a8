/**
 * Ambient types for weft workflow scripts. Add to a script's folder tsconfig:
 *   "types": ["weftkit/workflow"]
 * or put `/// <reference types="weftkit/workflow" />` at the top of a .ts script.
 */

type JsonSchema = Record<string, unknown>;

interface AgentOptions {
  /** Shown in progress and run records. Does not change the cache key. */
  label?: string;
  /** Overrides the current phase() for this agent. */
  phase?: string;
  /** JSON Schema with an object root: agent() resolves to the validated object. */
  schema?: JsonSchema;
  /** Default: the phase's model in meta.phases, else meta.model, else the backend's default. */
  model?: string;
  effort?: string;
  /**
   * A named agent: .weft/agents/<name>.md, .claude/agents/<name>.md, .codex/agents/<name>.toml,
   * .pi/agents/<name>.md or ~/.pi/agent/agents/<name>.md (model, effort, permissions, driver and
   * instructions; explicit options win), then Claude Code's built-in types "general-purpose",
   * "Explore" and "Plan" (read-only), on every backend; without a definition, the backend's own
   * named agent (claude, opencode).
   */
  agentType?: string;
  /** Backend for this call. */
  driver?: string;
  permissions?: "read-only" | "edit" | "full";
  /** The Pi ports' form: true is permissions: "read-only"; false is the default. */
  readOnly?: boolean;
  /** Bounds the agent's whole life, in ms; null: no bound (the Pi ports' "not set"). */
  timeoutMs?: number | null;
  /**
   * An agent without any backend event for this long (ms) is stopped and started again, up to
   * 5 times; then agent() throws "agent stalled on all 6 attempts". Default: the idleTimeoutMs
   * setting (10 minutes).
   */
  stallMs?: number;
  /** Retries of a failed agent (command driver default 0). */
  retries?: number;
  /** Schema repairs after the first answer (default 4: 5 attempts, as Claude Code; MAX_STRUCTURED_OUTPUT_RETRIES sets attempts). */
  repairs?: number;
  /** false: always run, even when the journal has an answer. */
  cache?: boolean;
  /** Command for the command driver, for this call. */
  command?: string;
  /**
   * Run the agent in a git worktree of its own, on branch weft/<run>/<n>. `{ mode: "worktree" }`
   * (a pi fork's form) is the same, other keys warn; false: not isolated.
   */
  isolation?: "worktree" | { mode: "worktree"; [key: string]: unknown } | false;
  /** Globs the agent may change (with isolation); a change elsewhere fails it. */
  writes?: string[];
  /** Commands run in the worktree after the agent; a failure is sent back to it to fix. */
  verify?: string | string[];
}

interface IntegrateResult {
  applied: { n: number; label?: string; files: string[] }[];
  conflicts: { n: number; label?: string; files: string[]; error: string }[];
}

interface Counter {
  readonly total: number | null;
  spent(): number;
  /** max(0, total - spent()), or Infinity without a limit (as in Claude Code and pi-dynamic-workflows). */
  remaining(): number;
}

/** Start one agent; resolves to its final text, the validated object with a schema, or null when it failed or was stopped. */
declare function agent(prompt: string, opts?: AgentOptions): Promise<any>;
/** Run thunks concurrently; a thunk that throws yields null in its slot. */
declare function parallel<T>(thunks: ReadonlyArray<() => T | Promise<T>>): Promise<(Awaited<T> | null)[]>;
/**
 * Move each item through the stages on its own; a stage gets (previous, item, index). An item
 * whose stage throws or returns null (a failed agent) is null and skips its later stages.
 */
declare function pipeline<I>(
  items: readonly I[],
  ...stages: ((previous: any, item: I, index: number) => unknown)[]
): Promise<any[]>;
/** Apply finished worktree agents' patches (all, or these numbers or labels) to the working tree, in agent order. */
declare function integrate(
  agents?: (number | string)[],
  opts?: { allowDirty?: boolean },
): Promise<IntegrateResult>;
/**
 * Run a saved workflow (by name: .weft/workflows, the user folder, .claude/workflows, bundled
 * recipes) or a script file ({ scriptPath }, relative to this script's folder) inline, with its
 * own args (checked against its meta.args); resolves to its result. It shares this run's limits,
 * concurrency and stop; a nested workflow cannot call workflow() again.
 */
declare function workflow(nameOrRef: string | { scriptPath: string }, args?: unknown): Promise<any>;
/**
 * Wait for a person to approve or reject (weft approve/reject, or the terminal prompt); resolves
 * true when approved, false when rejected. No new agent starts while a gate waits. The answer is
 * recorded and bound to this script's content, the title, the details and the occurrence: a
 * resume reuses it, an edited script or changed details ask again.
 */
declare function gate(title: string, opts?: { details?: unknown }): Promise<boolean>;
/**
 * Group the agents started after it. `budget`: a sub-budget of generated tokens for this phase's
 * agents (the Pi ports' form); once spent, they are refused as budget refusals are. Declaring it
 * again gives a fresh allowance.
 */
declare function phase(title: string, opts?: { budget?: number }): void;
/**
 * The script's one timer (no setInterval or setImmediate): calls `callback(...args)` after `ms`.
 * The run's end clears it. On a resume, while every agent so far came from the journal, it fires
 * at once (the earlier execution waited already).
 */
declare function setTimeout<A extends unknown[]>(
  callback: (...args: A) => void,
  ms?: number,
  ...args: A
): number;
declare function clearTimeout(handle: number | undefined): void;
/**
 * The Pi ports' validated retry loop (no person involved): producer(feedback, attempt), feedback
 * undefined at attempt 0 and then the validator's last feedback; validator(value) returns
 * { ok, feedback? } (a bare true is not accepted); until ok or `attempts` (default 3) are used.
 * Resolves { ok, value, attempts }: on exhaustion ok is false and value the last one.
 */
declare function gate<T>(
  producer: (feedback: string | undefined, attempt: number) => T | Promise<T>,
  validator: (
    value: Awaited<T>,
  ) => { ok: boolean; feedback?: string } | Promise<{ ok: boolean; feedback?: string }>,
  opts?: { attempts?: number },
): Promise<{ ok: boolean; value: Awaited<T>; attempts: number }>;

interface CheckpointOptions {
  /** What checkpoint() resolves to where nobody can answer, or when timeoutMs passes; default true. */
  default?: unknown;
  /** "abort": where nobody can answer (or nobody did within timeoutMs), the run fails instead. */
  headless?: "default" | "abort";
  /** confirm (default): true or false; input: the text typed; select: one of `choices`. */
  kind?: "confirm" | "input" | "select";
  choices?: string[];
  /** How long to wait for a person, in ms; then `default ?? true` (or the run fails with "abort"). */
  timeoutMs?: number;
}
/**
 * The Pi ports' question to a person, on weft's gates: recorded like a gate's answer (a resume
 * reuses it). In a terminal (weft run/resume with a TTY) it asks there, and `weft approve <run>
 * [n] [--answer <text>]` / `weft reject` answer it from anywhere; the run waits meanwhile. Where
 * nobody can answer (stdin not a terminal: CI, --detach, MCP, --json) it resolves
 * `default ?? true` at once, or fails the run with headless: "abort".
 */
declare function checkpoint(prompt: string, opts?: CheckpointOptions): Promise<any>;

// ---- quality helpers of the Pi ports, made of agent() and parallel() (their agents are journaled and reused on resume) ----

interface VerifyVerdict {
  /** At least one reviewer answered and realCount / total >= threshold. */
  real: boolean;
  realCount: number;
  /** Reviewers that answered (failed ones are left out). */
  total: number;
  votes: { real: boolean; reason?: string }[];
}
/** Adversarial reviewers (default 2, labelled "verify <i>") judge whether `item` is real; lenses are cycled across them. */
declare function verify(
  item: unknown,
  opts?: { reviewers?: number; threshold?: number; lens?: string | string[] },
): Promise<VerifyVerdict>;
/**
 * `judges` agents (default 3, "judge <i>.<j>") score each attempt from 0 to 1 on `rubric`
 * (default "overall quality and correctness"); the highest mean wins, the lower index on a tie.
 * Failed judgments are left out; a candidate without any scores 0. undefined for no attempts.
 */
declare function judgePanel<T>(
  attempts: readonly T[],
  opts?: { judges?: number; rubric?: string },
): Promise<
  { index: number; attempt: T; score: number; judgments: { score: number; reason?: string }[] } | undefined
>;
/**
 * Calls round(0), round(1), ... and gathers the items not seen before (by key, default
 * JSON.stringify; null items skipped) until `consecutiveEmpty` rounds (default 2) bring nothing
 * new or `maxRounds` (default 50) are done. A round refused by a limit (LimitError) ends it with
 * what it has.
 */
declare function loopUntilDry<T>(opts: {
  round: (roundIndex: number) => readonly T[] | null | undefined | Promise<readonly T[] | null | undefined>;
  key?: (item: T) => string;
  consecutiveEmpty?: number;
  maxRounds?: number;
}): Promise<T[]>;
/** One critic ("completeness critic") says what the results still miss; sees the first 4,000 characters of their JSON. null if it failed. */
declare function completenessCheck(
  taskArgs: unknown,
  results: unknown,
): Promise<{ complete: boolean; missing?: string[] } | null>;
/** thunk(attempt) from 0 until until(result) is true (synchronous) or `attempts` (default 3) are used; the last result either way. */
declare function retry<T>(
  thunk: (attempt: number) => T | Promise<T>,
  opts?: { attempts?: number; until?: (result: Awaited<T>) => boolean },
): Promise<Awaited<T>>;
declare function log(...parts: unknown[]): void;
/** The run's input (--args), verbatim JSON; undefined when none was given. */
declare const args: any;
/** Tokens the run's agents generated (output + reasoning, as Claude Code counts), with agents and cost alongside. */
declare const budget: Counter & { readonly agents: Counter; readonly costUsd: Counter };
/** The directory weft was started in (pi-dynamic-workflows compatibility). */
declare const cwd: string;
declare const process: { cwd(): string };
declare class DeterminismError extends Error {}
