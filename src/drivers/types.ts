/**
 * The Driver seam (SPEC D01): one backend, task in, normalised events and an outcome out.
 * A driver knows its CLI's flags and event format and nothing of runs, journals or scheduling.
 */

export type Permissions = "read-only" | "edit" | "full";

/**
 * Tokens as weft counts them, whatever the backend's own convention: `input` excludes the input
 * served from the cache (`cached`), and `output` excludes the reasoning tokens (`reasoning`), so
 * the four never overlap (OpenAI counts cached inside input and reasoning inside output; drivers
 * take the differences).
 */
export interface Usage {
  input: number;
  output: number;
  cached: number;
  reasoning: number;
  costUsd?: number;
}

/** One agent start, as the engine hands it to a driver. */
export interface AgentTask {
  /** Run id (R01). */
  runId: string;
  /** Agent number, from 1 (R01). */
  index: number;
  /** Attempt number from 1, counting retries and repairs. */
  attempt: number;
  /** The full prompt: A15 preamble, blank line, the script's prompt, schema instructions, repair errors. */
  prompt: string;
  /** The script's prompt verbatim. */
  userPrompt: string;
  /** JSON Schema for the result (object root), when the call has one. */
  schema?: Record<string, unknown>;
  label?: string;
  phase?: string;
  model?: string;
  effort?: string;
  agentType?: string;
  permissions: Permissions;
  /** Working directory of the agent (D08). */
  cwd: string;
  /** Run directory (.weft/runs/<id>), where a driver may write task files. */
  runDir: string;
  /** Absolute path of transcripts/<n>.jsonl; the driver appends the backend's raw output here. */
  transcriptPath: string;
  /** Whole-life limit in ms (C01), if any. */
  timeoutMs?: number;
  /** Idle limit in ms (C01). */
  idleTimeoutMs?: number;
  /** Driver-specific extras (e.g. the command string for the command driver). */
  command?: string;
  /** Extra environment for the agent process (merged over process.env). */
  env?: Record<string, string>;
}

export type DriverEvent =
  | { type: "started"; pid?: number; pgid?: number; startTime?: string; sessionId?: string; model?: string }
  | { type: "text"; text: string }
  | { type: "tool_call"; name: string; input?: unknown }
  | { type: "tool_result"; name?: string; output?: string; isError?: boolean }
  | { type: "usage"; usage: Partial<Usage> }
  | { type: "error"; message: string }
  /** Something the run should show once, e.g. a transcript not written through a planted link. */
  | { type: "warning"; message: string };

export type OutcomeStatus = "completed" | "failed" | "stopped";

export interface AgentOutcome {
  status: OutcomeStatus;
  /** Final text (trailing white space removed). */
  text?: string;
  /** Structured object, when the backend produced one natively. */
  object?: unknown;
  usage?: Usage;
  model?: string;
  sessionId?: string;
  /** Failure message (for status "failed"). */
  error?: string;
  /** No backend event for the idle limit (C01): the engine starts it again, up to 5 times. */
  stalled?: boolean;
  /** Whether a retry may help (C02); undefined means "unknown". */
  transient?: boolean;
  /**
   * A failure no retry can fix and every later agent would hit too (quota, billing, credentials):
   * the engine trips its breaker, starts nothing more, and the run ends paused (C03).
   */
  fatal?: boolean;
  exitCode?: number | null;
}

export interface DriverRunContext {
  /** Aborted when the agent must stop (stop, Ctrl-C, timeout). The driver kills its process group. */
  signal: AbortSignal;
  onEvent: (event: DriverEvent) => void;
}

/** What a driver can honour; the engine refuses or warns for the rest (A02, D04). */
export interface DriverCapabilities {
  model: boolean;
  effort: boolean;
  agentType: boolean;
  /** Permission levels the backend can enforce (or, with `advisoryPermissions`, be told). */
  permissions: readonly Permissions[];
  /**
   * Claude Code's built-in agent types (A02) this backend has itself: the name goes to it rather
   * than weft's definition of the type (claude `--agent Explore`).
   */
  builtinAgentTypes?: readonly string[];
  /**
   * The backend is told the permission level but cannot be held to it (D09: the command driver
   * passes WEFT_PERMISSIONS): the engine warns once per run and checks a worktree agent's diff.
   */
  advisoryPermissions?: boolean;
}

export interface Driver {
  readonly name: string;
  /** Absent: the driver takes every option as given (a library user's own Driver object). */
  readonly capabilities?: DriverCapabilities;
  /** Default number of retries for failures of this driver (D09: 0 for command). */
  readonly defaultRetries?: number;
  run(task: AgentTask, ctx: DriverRunContext): Promise<AgentOutcome>;
}
