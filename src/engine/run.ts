/**
 * One execution of a run: owns the sandbox, the scheduler, limits and the journal writes.
 * The script asks (through the sandbox), this decides, drivers do, the journal records,
 * reporters show.
 */
import { setMaxListeners } from "node:events";
import { join } from "node:path";
import picomatch from "picomatch";
import { AgentTypes } from "../agents/apply.js";
import type { Settings } from "../config/settings.js";
import {
  type ControlMessage,
  type ControlWatcher,
  consumeControl,
  pendingControlSync,
  watchControl,
} from "../control/channel.js";
import { controlRecord, describeRequest } from "../control/records.js";
import { usageResetAt } from "../drivers/classify.js";
import { DEFAULT_PRICES, type ModelPrice, type PriceTable, priceFor } from "../drivers/prices.js";
import { killGroup } from "../drivers/process.js";
import type { Driver, DriverEvent, Usage } from "../drivers/types.js";
import type { Executor } from "../executor/task.js";
import type { Reporter, RunEvent, RunStatus, RunSummary } from "../report/events.js";
import type { PendingSandbox, SandboxHost } from "../sandbox/host.js";
import type { WorkerOut } from "../sandbox/protocol.js";
import { startSandbox } from "../sandbox/start.js";
import type { LoadedScript } from "../script/load.js";
import { AgentFiles } from "../store/agent-files.js";
import { agentResultPointer, bounded } from "../store/excerpt.js";
import { writeJsonAtomic, writeJsonAtomicSync } from "../store/files.js";
import type { JournalWriter } from "../store/journal.js";
import { isUnsafePath } from "../store/safe-write.js";
import type { AgentTrace } from "../trace/agent-trace.js";
import { runVerify } from "../workspace/verify.js";
import type { ChangedFile, PatchInfo, Workspace, Worktree } from "../workspace/workspace.js";
import { promptStart } from "./activity.js";
import { type AgentEnd, type AgentJob, type RunnerContext, runAgent, zeroUsage } from "./agent-runner.js";
import { callHash, OccurrenceCounter } from "./cache-key.js";
import { formatScriptFailure } from "./failure.js";
import { Gates } from "./gates.js";
import { checkCapabilities, OptionsError, parseOptions } from "./options.js";
import { defaultModel, PhaseBudgets } from "./phases.js";
import { PrefixStagger } from "./prefix-stagger.js";
import type { AgentFinishedRecord, ForkedFrom, JournalRecord, Replay } from "./records.js";
import { Scheduler } from "./scheduler.js";
import { UsageWait, usageWaitMs } from "./usage-wait.js";
import { WriterClock } from "./writers.js";

interface WorktreeOutcome {
  wt: Worktree;
  files: ChangedFile[];
}

import { compileSchema } from "./schema.js";

export interface RunInit {
  runId: string;
  name: string;
  runDir: string;
  cwd: string;
  script: LoadedScript;
  /** File name of the script copy in the run directory. */
  scriptFile: string;
  argsJson?: string;
  settings: Settings;
  driver: Driver;
  /** Resolves a per-call `driver` option; throws for an unknown name. */
  driverFor(name: string): Driver;
  journal: JournalWriter;
  replay?: Replay;
  reporter: Reporter;
  startedAt: string;
  resumed: boolean;
  /** A sandbox started early (startSandbox); without one, the run starts its own. */
  sandbox?: PendingSandbox;
  /** The git workspace, when the script uses worktree isolation (W01). */
  workspace?: Workspace;
  /** Integrate what is left when the run completes (`meta.integrate` or the `integrate` setting). */
  autoIntegrate?: boolean;
  /** Finds and checks the script of a `workflow()` call (A11). */
  nested?: (refJson: string) => Promise<{ code: string; displayPath: string; args?: string }>;
  /** R08: set on the first execution of a fork. */
  forkedFrom?: ForkedFrom;
  /** Warnings about the run's setup (settings, which `.weft/`), shown right after run.started. */
  warnings?: string[];
  /** R05 fencing: whether this process still holds the run's lock; asked before an agent starts. */
  holdsLock?: () => boolean;
  /** The environment weft was started with (where user-level agent definitions live, A02). */
  env?: NodeJS.ProcessEnv;
  /** U11: the execution's trace, when one is exported. */
  trace?: AgentTrace;
  /** A14: a person answers this run's gates here (a terminal prompt), so checkpoint() waits. */
  interactive?: boolean;
  /** X01: where agent calls run when not in this process (`--queue`). */
  executor?: Executor;
}

const LARGE_RUN = 25;

/** An agent of this execution that has not finished: queued, or running once `running` is set. */
interface LiveAgent {
  job: AgentJob;
  running?: boolean;
  /** Its own stop (C05), made when it starts. */
  ctl?: AbortController;
  /** Who stopped it (C05). */
  stopBy?: string;
  /** The current attempt's own stop: aborted, the same call starts again (restart-agent). */
  attempt?: AbortController;
  /** Usage its attempts have reported while running (C06), until its end is counted instead. */
  reported?: { tokens: number; costUsd: number };
}

export class Run {
  private readonly scheduler: Scheduler;
  private readonly counter = new OccurrenceCounter();
  /** R03: which writers have finished, and which cached writers this execution served. */
  private readonly writers: WriterClock;
  /** R03 `resume: "prefix"`: a call missed the cache, so every later call runs again. */
  private missed = false;
  /** R03: the first call re-run because a writer before it ran again is said once, not per call. */
  private staleSaid = false;
  private readonly agentTypes: AgentTypes;
  private readonly files: AgentFiles;
  /**
   * Aborted when the run stops. One for the whole run: an AbortSignal is a heavy EventTarget,
   * and 10,000 of them were a sixth of a large run's allocations. (A per-agent stop can derive
   * its own signal from this one when it needs to.)
   */
  private readonly stopAll = new AbortController();
  private readonly groups = new Map<number, number>();
  private readonly recording = new Set<Promise<void>>();
  /** Finished worktree agents with a patch, this execution's and cached ones (W04, R04). */
  private readonly patches = new Map<number, PatchInfo>();
  private readonly branches = new Map<number, Worktree>();
  private readonly integrated = new Set<number>();
  /** R03: worktree agents whose recorded patch this execution took from the cache. */
  private readonly servedPatches = new Set<number>();
  private integrating: Promise<void> = Promise.resolve();
  private readonly warned = new Set<string>();
  /** Display paths of the nested workflows this execution started (A11), for error positions. */
  private readonly nestedPaths: string[] = [];
  private sandbox?: SandboxHost;
  private nextIndex: number;
  private phase: string | undefined;
  private stopping = false;
  private ending = false;
  private largeWarned = false;
  private exhausted = false;
  /**
   * E03: agents of this execution that a new start may well finish (a transient backend failure
   * after its retries, an agent a person stopped): a resume can change a failed run's outcome.
   */
  private rerunnable = 0;
  /** The name of the error the script ended with (DeterminismError, TypeError, ...). */
  private scriptErrorName?: string;
  /** Why the breaker tripped (C03): nothing new starts, and the run ends paused. */
  private breaker?: string;
  /** C03 `waitForUsageReset`: agent starts held until a usage limit resets. */
  private readonly usageWait = new UsageWait();
  /** C08: who asked for the pause; like the breaker, nothing new starts and the run ends paused. */
  private pauseRequest?: string;
  private readonly stagger: PrefixStagger;
  /** C05: agents queued or running now, by number, with their own stop (see agentSignal). */
  private readonly live = new Map<number, LiveAgent>();
  private control?: ControlWatcher;
  private scheduled = 0;
  private readonly spent = { tokens: 0, agents: 0, costUsd: 0 };
  /** What running agents have reported so far (A10, C06): limits count it before it is final. */
  private readonly running = { tokens: 0, costUsd: 0 };
  private readonly summary: RunSummary;
  private dirty = false;
  private summaryTimer?: NodeJS.Timeout;
  private finish!: (s: RunSummary) => void;
  private readonly done: Promise<RunSummary>;
  private readonly t0 = Date.now();

  /** Shared by every agent: one set of callbacks per run, not per agent. */
  private readonly runner: RunnerContext;
  /** `phase(title, { budget })`: token sub-budgets of phases (A10's unit). */
  private readonly phaseBudgets = new PhaseBudgets();
  /** The script's setTimeout timers (S06), by the sandbox's id; cleared when the run ends. */
  private readonly timers = new Map<number, NodeJS.Timeout>();
  /** An agent of this execution was started (not answered from the journal): timers wait from now. */
  private liveStarted = false;
  /** A14: gates waiting for a person, and the answers the journal holds. */
  private readonly gates: Gates;
  /** R05: set once another process took the run over; from then on this one writes nothing. */
  private lostMessage: string | undefined;
  private summaryWrite: Promise<void> = Promise.resolve();
  private summaryQueued = false;

  constructor(private readonly init: RunInit) {
    // Every running agent listens on it: no "possible leak" warning past 10.
    setMaxListeners(0, this.stopAll.signal);
    this.runner = {
      runId: init.runId,
      runDir: init.runDir,
      cwd: init.cwd,
      idleTimeoutMs: init.settings.idleTimeoutMs,
      verifyRepairs: init.settings.verifyRepairs,
      priceOf: pricing(init.settings),
      attemptSignal: (job) => {
        const slot = this.live.get(job.n);
        if (!slot) return undefined;
        slot.attempt = new AbortController();
        return slot.attempt.signal;
      },
      trace: init.trace,
      verify: (job, signal) =>
        runVerify(job.verify!, job.cwd!, {
          timeoutMs: init.settings.verifyTimeoutMs,
          killGraceMs: init.settings.killGraceMs,
          signal,
        }),
      onAttempt: (j, attempt) => {
        this.note({
          type: "agent.started",
          n: j.n,
          key: j.key,
          attempt,
          at: new Date().toISOString(),
        });
        this.emit({
          type: "agent.started",
          n: j.n,
          label: j.opts.label,
          phase: j.phase,
          attempt,
          driver: j.driver.name,
          model: j.opts.model,
          prompt: promptStart(j.prompt),
        });
      },
      onDriverEvent: (j, attempt, e) => this.onDriverEvent(j, attempt, e),
      onRetry: (j, attempt, error) =>
        this.emit({ type: "agent.retry", n: j.n, label: j.opts.label, attempt, error }),
      onRepair: (j, attempt, errors) =>
        this.emit({ type: "agent.repair", n: j.n, label: j.opts.label, attempt, errors }),
      onActivity: (j, attempt, a) =>
        this.emit({ type: "agent.activity", n: j.n, label: j.opts.label, phase: j.phase, attempt, ...a }),
    };
    this.scheduler = new Scheduler(init.settings.concurrency);
    this.stagger = new PrefixStagger(init.settings.prefixStaggerMs);
    this.agentTypes = new AgentTypes(init.cwd, init.env);
    this.files = new AgentFiles(join(init.runDir, "agents"), (m) => this.warnOnce(m));
    this.nextIndex = (init.replay?.maxIndex ?? 0) + 1;
    const cachedWriters: number[] = [];
    for (const r of init.replay?.cache.values() ?? [])
      if (r.writer !== undefined) cachedWriters.push(r.writer);
    for (const w of init.replay?.integratedWriters.values() ?? []) cachedWriters.push(w);
    this.writers = new WriterClock(init.replay?.maxWriter, cachedWriters);
    this.summary = {
      id: init.runId,
      name: init.name,
      status: "running",
      agents: { queued: 0, running: 0, completed: 0, cached: 0, failed: 0, stopped: 0 },
      refused: [],
      tokens: { input: 0, output: 0, cached: 0, reasoning: 0 },
      costUsd: 0,
      startedAt: init.startedAt,
      script: init.scriptFile,
      driver: init.driver.name,
    };
    if (init.resumed) this.summary.resumedAt = new Date().toISOString();
    const forkedFrom = init.forkedFrom ?? init.replay?.started?.forkedFrom;
    if (forkedFrom) this.summary.forkedFrom = forkedFrom;
    this.gates = new Gates({
      scriptSource: init.script.source,
      state: init.replay?.gates,
      startedAt: this.t0,
      record: (r) => this.record(r),
      emit: (e) => this.emit(e),
      deliver: (id, value) => this.sandbox?.deliver({ id, ok: true, value }),
      consume: (msgId) => consumeControl(init.runDir, msgId),
      interactive: init.interactive === true,
      pending: () => pendingControlSync(init.runDir),
      fail: (message) => void this.end("failed", undefined, message),
      runId: init.runId,
      onChange: () => this.onGatesChange(),
    });
    this.done = new Promise((resolve) => {
      this.finish = resolve;
    });
  }

  get runId(): string {
    return this.init.runId;
  }

  private emit(e: RunEvent): void {
    if (this.lostMessage !== undefined) return;
    try {
      this.init.reporter.event(e);
    } catch {
      // A broken reporter must not take the run down with it.
    }
  }

  /** Append and wait until it is on disk. */
  private record(r: JournalRecord): Promise<void> {
    return this.init.journal.append(r);
  }

  /** Append without waiting: the next durable record covers it. */
  private note(r: JournalRecord): void {
    this.init.journal.write(r);
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.note({ type: "log", message, level: "warn" });
    this.emit({ type: "warning", message });
  }

  /** Start the script; resolves with the final summary when the run ends. */
  async start(): Promise<RunSummary> {
    // The sandbox takes tens of ms to start: start it first, and hold what the script asks
    // until run.started is out, so events keep their order.
    const held: WorkerOut[][] = [];
    let ready = false;
    const s = this.init.settings;
    this.sandbox = (this.init.sandbox ?? startSandbox()).open(
      {
        code: this.init.script.code,
        displayPath: this.init.script.displayPath,
        args: this.init.argsJson,
        cwd: this.init.cwd,
        maxListItems: s.maxListItems,
        budget: s.budget,
        maxAgents: s.maxAgents,
        maxCostUsd: s.maxCostUsd,
        scriptTimeMs: s.scriptTimeMs,
        spent: () => this.spent,
      },
      {
        onMessages: (m) => (ready ? this.onMessages(m) : held.push(m)),
        onTimeout: (ms) =>
          this.end(
            "failed",
            undefined,
            `${this.init.script.displayPath}: ScriptTimeout: the script ran synchronous code for more than ${ms} ms without waiting on an agent (setting scriptTimeMs) and was stopped`,
          ),
        onCrash: (err) => this.end("failed", undefined, `weft: the script's sandbox failed: ${err.message}`),
      },
    );
    await this.saveSummary(false);
    this.emit({
      type: "run.started",
      runId: this.init.runId,
      name: this.init.name,
      runDir: this.init.runDir,
      resumed: this.init.resumed,
      driver: this.init.driver.name,
      limits: { budget: s.budget, maxAgents: s.maxAgents, maxCostUsd: s.maxCostUsd },
    });
    // After run.started: `run <id>` stays the first line a person sees (R01).
    for (const w of this.init.warnings ?? []) this.emit({ type: "warning", message: w });
    for (const w of this.init.script.warnings ?? []) this.warnOnce(w);
    this.summaryTimer = setInterval(() => this.flushSummary(), 1000);
    this.summaryTimer.unref();
    ready = true;
    for (const m of held) this.onMessages(m);
    // C04, C05, C08, A14: requests from any process (weft stop/pause/approve, the MCP server).
    if (!this.ending) {
      try {
        this.control = watchControl(this.init.runDir, (m) => this.handleControl(m), {
          onError: (e) => this.warnOnce(`a control request was not handled: ${(e as Error)?.message ?? e}`),
        });
      } catch (e) {
        // A link planted at control/ (R01): the run goes on, unreachable by weft stop/pause/approve.
        if (!isUnsafePath(e)) throw e;
        this.warnOnce(`${e.message}; weft stop, pause and approve cannot reach this run`);
      }
    }
    return this.done;
  }

  private onMessages(messages: WorkerOut[]): void {
    for (const m of messages) {
      switch (m.t) {
        case "call":
          this.onCall(m.id, m.prompt, m.opts);
          break;
        case "op":
          this.onOp(m.id, m.name, m.args);
          break;
        case "phase":
          this.phase = m.title;
          if (m.budget !== undefined) this.phaseBudgets.declare(m.title, m.budget);
          this.note({ type: "phase", title: m.title });
          this.emit({ type: "phase", title: m.title });
          break;
        case "log":
          this.note({ type: "log", message: m.message, level: "info" });
          this.emit({ type: "log", message: m.message });
          break;
        case "warn":
          this.note({ type: "log", message: m.message, level: "warn" });
          this.emit({ type: "warning", message: m.message });
          break;
        case "refused":
          this.recordRefusal(undefined, m.reason);
          break;
        case "timer":
          this.startTimer(m.id, m.ms);
          break;
        case "untimer":
          clearTimeout(this.timers.get(m.id));
          this.timers.delete(m.id);
          break;
        case "done":
          if (this.breaker) this.pause();
          else this.end(this.exhausted ? "budget_exhausted" : "completed", m.result);
          break;
        case "error":
          // C03: after the breaker, a script error is a consequence, not the reason.
          if (this.breaker) {
            this.pause();
            break;
          }
          this.scriptErrorName = m.error.name;
          // A refusal the script did not catch still means "a limit stopped this run" (C06).
          this.end(this.exhausted ? "budget_exhausted" : "failed", undefined, this.failureLine(m.error));
          break;
        case "stalled":
          // The failed agent's call is left unanswered on purpose when the breaker trips; after
          // a pause (C08) the queued calls are, and a resume makes them again.
          if (this.breaker || this.pauseRequest) {
            this.pause();
            break;
          }
          this.end(
            "failed",
            undefined,
            `${this.init.script.displayPath}: StalledScript: the script is waiting on a promise that nothing will settle (no agent is running)`,
          );
          break;
      }
    }
  }

  /** E01: the position in the script, or else in a nested workflow the error came from (A11). */
  private failureLine(error: { name: string; message: string; stack: string }): string {
    // The file of the topmost frame wins; a whole path, so "a.js" never matches inside "x/a.js".
    let file = this.init.script.displayPath;
    let at = Number.POSITIVE_INFINITY;
    for (const p of [file, ...this.nestedPaths]) {
      const escaped = p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const m = new RegExp(`(?:^|[\\s(])${escaped}:\\d+:\\d+`).exec(error.stack);
      if (m && m.index < at) {
        at = m.index;
        file = p;
      }
    }
    return formatScriptFailure(file, error);
  }

  private reject(id: number, name: string, message: string): void {
    this.sandbox?.deliver({ id, ok: false, error: { name, message } });
  }

  private refuse(id: number, label: string | undefined, reason: string, n?: number): void {
    this.recordRefusal(label, reason, n);
    this.reject(id, "LimitError", reason);
  }

  /** A13: a refused call is counted, listed, journaled and shown; the run ends budget_exhausted. */
  private recordRefusal(label: string | undefined, reason: string, n?: number): void {
    this.exhausted = true;
    this.summary.refused.push({
      ...(n === undefined ? {} : { n }),
      ...(label === undefined ? {} : { label }),
      reason,
    });
    this.dirty = true;
    this.note({ type: "agent.refused", label, reason, at: new Date().toISOString() });
    this.emit({ type: "agent.refused", ...(n === undefined ? {} : { n }), label, reason });
  }

  private limitReason(phase: string | undefined): string | undefined {
    const s = this.init.settings;
    if (this.spent.agents >= s.maxAgents) {
      return `agent limit reached: ${s.maxAgents} agents already started in this execution (setting maxAgents, flag --max-agents)`;
    }
    return this.spendLimitReason(phase);
  }

  /**
   * C06: the token and cost limits, counting what running agents have reported so far. Checked
   * when `agent()` is called and again when a queued agent is about to start, so a `parallel()`
   * overshoots a limit by at most what the agents already running add.
   */
  private spendLimitReason(phase: string | undefined): string | undefined {
    const s = this.init.settings;
    const tokens = this.spent.tokens + this.running.tokens;
    if (s.budget !== null && tokens >= s.budget) {
      return `token budget reached: ${tokens} of ${s.budget} tokens spent (setting budget, flag --budget)`;
    }
    const cost = this.spent.costUsd + this.running.costUsd;
    if (s.maxCostUsd !== null && cost >= s.maxCostUsd) {
      return `cost limit reached: $${cost.toFixed(4)} of $${s.maxCostUsd} spent (setting maxCostUsd)`;
    }
    return this.phaseBudgets.refusal(phase);
  }

  /**
   * R03: the recorded agent for this call, unless its answer could be stale: in the default
   * mode, a writer it recorded was not served from the cache in this execution (it ran again,
   * its key changed, or the script no longer calls it); `resume: "prefix"` skips that check,
   * since there the first miss already makes every later call run again.
   */
  private cached(job: AgentJob): AgentFinishedRecord | undefined {
    const hit = this.init.replay?.cache.get(job.key);
    if (!hit || this.init.settings.resume === "prefix" || !job.after || this.writers.fresh(hit.after))
      return hit;
    if (!this.staleSaid) {
      this.staleSaid = true;
      const which = job.opts.label ?? `the call of agent ${hit.n}`;
      const message = `${which} runs again although its answer is cached: a writer that had finished before it was made ran again in this execution (R03; calls after it that saw that writer run again too)`;
      this.note({ type: "log", message, level: "info" });
      this.emit({ type: "log", message });
    }
    return undefined;
  }

  private onCall(id: number, prompt: string, optsJson: string): void {
    // After the breaker the call stays unanswered: the run pauses, and a resume makes it again.
    if (this.stopping || this.ending || this.breaker || this.pauseRequest) return;
    let job: AgentJob;
    let cacheable: boolean;
    let start: string | undefined;
    try {
      const parsed = parseOptions(optsJson === "{}" ? {} : (JSON.parse(optsJson) as Record<string, unknown>));
      for (const k of parsed.unknown) this.warnOnce(`agent() option "${k}" is unknown and ignored`);
      for (const w of parsed.warnings) this.warnOnce(w);
      // A02: a named agent definition fills in options before the driver is chosen.
      const typed = this.agentTypes.apply(parsed.opts, this.init.driver, this.init.driverFor, (w) =>
        this.warnOnce(w),
      );
      const { driver } = typed;
      let { opts } = typed;
      // S01: the phase's model, else meta.model, when neither the call nor its agent type names one.
      if (opts.model === undefined) {
        const model = defaultModel(this.init.script.meta, opts.phase ?? this.phase);
        if (model !== undefined) opts = { ...opts, model };
      }
      for (const w of checkCapabilities(driver.name, driver.capabilities, opts)) this.warnOnce(w);
      const schema = opts.schema ? compileSchema(opts.schema) : undefined;
      // R03: an edited definition is a different call (its hash is in the key).
      let keyed: typeof opts = typed.keyAgentType ? { ...opts, agentType: typed.keyAgentType } : opts;
      if (opts.isolation === "worktree") {
        if (!this.init.workspace) {
          throw new OptionsError(
            'agent() option "isolation": write "worktree" as a literal in the script, so that weft prepares the repository before the run',
          );
        }
        // R03: the same prompt on a different tree is a different call. The tree is the one
        // of the moment of the call (the worktree starts from it even if an integration lands
        // while the agent waits in the queue), so the key names the tree the agent sees.
        start = this.init.workspace.start;
        keyed = { ...keyed, isolation: `worktree@${start}` as "worktree" };
      }
      const key = this.counter.next(callHash(prompt, keyed));
      cacheable = opts.cache !== false;
      const s = this.init.settings;
      job = {
        n: 0,
        key,
        prompt,
        opts,
        schema,
        driver,
        retries: opts.retries ?? s.retries ?? driver.defaultRetries ?? 3,
        stallMs: opts.stallMs ?? s.idleTimeoutMs,
        repairs: opts.repairs ?? s.repairs,
        verify: opts.verify,
        start,
        // R03: a writer can change the shared working tree: not isolated, and allowed to edit
        // (edit is the default), or on the command driver, which cannot be held to read-only.
        writer:
          opts.isolation !== "worktree" &&
          (driver.name === "command" || (opts.permissions ?? "edit") !== "read-only"),
        // A worktree agent sees the commit its key names, not the shared tree: what writers did
        // there cannot make its answer stale, so it records none.
        after: opts.isolation === "worktree" ? undefined : this.writers.frontier,
      };
    } catch (e) {
      const err = e as Error;
      // E03: a call refused for its options never became an agent; the summary counts it, so a
      // run whose every call was refused does not read like a success.
      this.summary.rejected = (this.summary.rejected ?? 0) + 1;
      this.dirty = true;
      this.reject(id, err instanceof OptionsError ? "OptionsError" : err.name || "Error", err.message);
      return;
    }

    const hit = cacheable && !this.missed ? this.cached(job) : undefined;
    if (!hit && this.init.settings.resume === "prefix") this.missed = true;
    if (hit) {
      if (hit.writer !== undefined) this.writers.serve(hit.writer, hit.after);
      // R04: a cached worktree agent does not run again; its recorded patch stands for it.
      if (hit.patch) {
        this.servedPatches.add(hit.n);
        this.patches.set(hit.n, {
          n: hit.n,
          label: job.opts.label,
          patch: join(this.init.runDir, hit.patch),
          files: hit.files ?? [],
        });
      }
      this.summary.agents.cached!++;
      this.dirty = true;
      this.emit({
        type: "agent.finished",
        n: hit.n,
        label: job.opts.label,
        phase: job.opts.phase ?? this.phase,
        status: "completed",
        cached: true,
        durationMs: 0,
        usage: zeroUsage(),
        attempts: 0,
      });
      this.sandbox?.deliver({ id, ok: true, value: hit.resultJson ?? JSON.stringify(hit.result ?? null) });
      return;
    }

    const limit = this.limitReason(job.opts.phase ?? this.phase);
    if (limit) {
      this.refuse(id, job.opts.label, limit);
      return;
    }
    job.n = this.nextIndex++;
    this.liveStarted = true;
    this.spent.agents++;
    this.scheduled++;
    if (this.scheduled > LARGE_RUN && !this.largeWarned) {
      this.largeWarned = true;
      this.emit({
        type: "warning",
        message: `large run: more than ${LARGE_RUN} agents scheduled (limit ${this.init.settings.maxAgents}, setting maxAgents)`,
      });
    }
    this.summary.agents.queued!++;
    job.phase = job.opts.phase ?? this.phase;
    this.live.set(job.n, { job });
    this.emit({ type: "agent.queued", n: job.n, label: job.opts.label, phase: job.phase });
    this.scheduler.submit(() => this.execute(id, job));
  }

  private async execute(id: number, job: AgentJob): Promise<void> {
    // A14: while a gate waits, nothing new starts; agents already running go on.
    if (this.gates.count > 0) await this.gates.clear(this.stopAll.signal);
    // C03: while a usage limit has not reset, nothing new starts either.
    while (this.usageWait.active && !this.stopAll.signal.aborted)
      await this.usageWait.cleared(this.stopAll.signal);
    const slot = this.live.get(job.n);
    if (this.stopping || this.ending || this.breaker || this.pauseRequest || !slot) return;
    // R05: an owner that lost the lock (frozen, taken over, continued) starts nothing more.
    if (this.init.holdsLock && !this.init.holdsLock()) return this.lockLost();
    // C06: a queued agent whose turn comes after a limit was reached never starts (A13).
    const limit = slot.stopBy ? undefined : this.spendLimitReason(job.phase);
    if (limit) {
      this.live.delete(job.n);
      this.summary.agents.queued!--;
      this.spent.agents--;
      this.refuse(id, job.opts.label, limit, job.n);
      return;
    }
    slot.running = true;
    this.summary.agents.queued!--;
    this.summary.agents.running!++;
    this.dirty = true;
    const startedAt = new Date().toISOString();
    const t = Date.now();
    let end: AgentEnd;
    let tree: WorktreeOutcome | undefined;
    try {
      // Claude Code's shared-prefix stagger: wait for a sibling to warm the prompt cache (≤ 5 s).
      if (!slot.stopBy) await this.stagger.hold(job, this.stopAll.signal);
      // C05: stopped while it waited in the queue: it never starts.
      if (slot.stopBy) end = { status: "stopped", usage: zeroUsage(), attempts: 0 };
      else if (job.opts.isolation === "worktree" && this.init.executor) {
        end = {
          status: "failed",
          error: 'isolation: "worktree" agents do not run on the queue yet; run this script without --queue',
          usage: zeroUsage(),
          attempts: 0,
        };
      } else if (job.opts.isolation === "worktree") ({ end, tree } = await this.inWorktree(job));
      else if (this.init.executor)
        end = await this.init.executor.run(job, this.runner, this.agentSignal(job.n));
      else end = await runAgent(job, this.runner, this.agentSignal(job.n));
    } finally {
      this.groups.delete(job.n);
      this.stagger.warmed(job.n);
    }
    this.live.delete(job.n);
    if (slot.reported) {
      this.running.tokens -= slot.reported.tokens;
      this.running.costUsd -= slot.reported.costUsd;
    }
    if (slot.stopBy && end.status === "stopped") end = { ...end, error: `stopped by ${slot.stopBy}` };
    this.summary.agents.running!--;
    this.summary.agents[end.status] = (this.summary.agents[end.status] ?? 0) + 1;
    if ((end.status === "failed" && end.transient) || (end.status === "stopped" && slot.stopBy))
      this.rerunnable++;
    if (end.status === "failed") {
      // E03: the summary names the first failures, so a run that failed because its agents did says why.
      this.summary.failures ??= [];
      const failures = this.summary.failures;
      if (failures.length < FAILURES_KEPT)
        failures.push({
          n: job.n,
          ...(job.opts.label ? { label: job.opts.label } : {}),
          error: end.error ?? "the agent failed",
        });
    }
    this.addUsage(end.usage);
    // What running reports did not cover yet (the final usage replaces them).
    this.phaseBudgets.add(job.phase, end.usage.output + end.usage.reasoning - (slot.reported?.tokens ?? 0));
    // R03: numbered now, before its answer can reach the script, so every call made after it
    // records it. A writer that never started (stopped in the queue) changed nothing.
    if (job.writer && end.attempts > 0) job.writerNo = this.writers.finish(job.after ?? []);
    // The concurrency slot is free once the agent is done; waiting for the journal's sync happens
    // outside it, so one fdatasync covers every agent that finished meanwhile.
    const recording = this.recordEnd(id, job, end, startedAt, Date.now() - t, tree);
    this.recording.add(recording);
    void recording.finally(() => this.recording.delete(recording));
    if (end.fatal && !this.breaker && !this.waitForReset(id, job, end.error ?? "")) {
      this.tripBreaker(job, end.error ?? "the backend refused");
    }
  }

  /**
   * C03 `waitForUsageReset`: a usage limit that says when it resets (within 24 h) holds every
   * start until then instead of tripping the breaker; then the run goes on, and this agent's
   * call runs again as a new agent (its failure is recorded; the script never saw it). False
   * when the setting is off or the reset is unknown or too far: the breaker pauses the run.
   */
  private waitForReset(id: number, job: AgentJob, reason: string): boolean {
    if (!this.init.settings.waitForUsageReset || this.stopping || this.ending || this.pauseRequest)
      return false;
    const reset = usageResetAt(reason);
    const ms = usageWaitMs(reset);
    if (ms === undefined || reset === undefined) return false;
    const at = Date.now() + ms;
    const which = job.opts.label ?? `#${job.n}`;
    if (!this.usageWait.active || at > Date.parse(this.summary.usageResetAt ?? "")) {
      this.summary.usageResetAt = reset;
      this.dirty = true;
      const message = `usage limit (agent ${which}, ${job.driver.name}): waiting until ${reset} for it to reset, then the run goes on (setting waitForUsageReset); no new agents start meanwhile`;
      this.note({ type: "log", message, level: "warn" });
      this.emit({ type: "warning", message });
      this.usageWait.hold(at, () => {
        if (this.ending) return;
        delete this.summary.usageResetAt;
        this.dirty = true;
        const done = `usage limit reset at ${reset}: the run goes on`;
        this.note({ type: "log", message: done, level: "info" });
        this.emit({ type: "log", message: done });
      });
    }
    this.requeue(id, job);
    return true;
  }

  /** C03: the call of an agent that hit a usage limit, as a new agent that starts after the wait. */
  private requeue(id: number, failed: AgentJob): void {
    const job: AgentJob = { ...failed, n: this.nextIndex++, cwd: undefined, writerNo: undefined };
    this.spent.agents++;
    this.summary.agents.queued!++;
    this.dirty = true;
    this.live.set(job.n, { job });
    this.scheduler.submit(() => this.execute(id, job));
  }

  /**
   * C03: a failure no retry can fix and every agent would hit (quota, billing, credentials).
   * Nothing new starts; running agents finish and are recorded; then the run ends paused, and a
   * resume (with the cause fixed) runs the rest, this agent included: its failure is not cached.
   */
  private tripBreaker(job: AgentJob, reason: string): void {
    const which = job.opts.label ?? `#${job.n}`;
    this.breaker = `agent ${which} (${job.driver.name}): ${reason}`;
    // C03: `weft status` says when a resume can work.
    const reset = usageResetAt(reason);
    if (reset) this.summary.usageResetAt = reset;
    this.emit({
      type: "breaker",
      n: job.n,
      label: job.opts.label,
      driver: job.driver.name,
      reason,
      usageResetAt: reset,
    });
    this.holdNewWork(`breaker tripped, no new agents start: ${this.breaker}`);
  }

  /**
   * C03 and C08 alike: start nothing more (queued calls stay unanswered, not refused: a resume
   * makes them again), let running agents finish and be recorded, then end paused.
   */
  private holdNewWork(message: string): void {
    this.scheduler.close();
    for (const [n, slot] of this.live) if (!slot.running) this.live.delete(n);
    this.summary.agents.queued = 0;
    this.dirty = true;
    this.note({ type: "log", message, level: "warn" });
    this.emit({ type: "warning", message });
    void this.pauseWhenIdle();
  }

  private async pauseWhenIdle(): Promise<void> {
    // Running agents, not scheduler slots: calls held by a waiting gate (A14) never finish.
    while (this.runningAgents() > 0) await new Promise((r) => setTimeout(r, 10));
    this.pause();
  }

  private runningAgents(): number {
    let k = 0;
    for (const slot of this.live.values()) if (slot.running) k++;
    return k;
  }

  /**
   * S06: the script's setTimeout. Real time, except while a resume is still replaying (every
   * agent so far came from the journal and none of this execution has started): then a timer
   * fires at once, so a resumed script does not wait again between rounds it already did. From
   * the first agent that runs live, timers wait as written (README "Timers").
   */
  private startTimer(id: number, ms: number): void {
    if (this.ending) return;
    const replaying = this.init.replay !== undefined && this.init.replay.cache.size > 0 && !this.liveStarted;
    const t = setTimeout(
      () => {
        this.timers.delete(id);
        this.sandbox?.deliver({ id, ok: true });
      },
      replaying ? 0 : ms,
    );
    this.timers.set(id, t);
  }

  private clearTimers(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** The agent's own signal (C05): aborted by a stop of this agent, or with the whole run in end(). */
  private agentSignal(n: number): AbortSignal {
    const slot = this.live.get(n);
    if (!slot) return this.stopAll.signal;
    slot.ctl = new AbortController();
    if (this.stopAll.signal.aborted || slot.stopBy) slot.ctl.abort();
    return slot.ctl.signal;
  }

  private pause(): void {
    if (!this.breaker) {
      // C08: a pause while a gate waits leaves the run waiting at it (as a stop does).
      this.end(
        this.gates.count > 0 ? "waiting" : "paused",
        undefined,
        `paused by ${this.pauseRequest}; continue with \`weft resume ${this.init.runId}\``,
      );
      return;
    }
    this.end(
      "paused",
      undefined,
      `paused by the breaker: ${this.breaker}; fix the cause, then continue with \`weft resume ${this.init.runId}\``,
    );
  }

  /** W01–W03: the agent in a fresh worktree; its diff saved; an unchanged worktree removed. */
  private async inWorktree(job: AgentJob): Promise<{ end: AgentEnd; tree?: WorktreeOutcome }> {
    const ws = this.init.workspace!;
    let wt: Worktree;
    try {
      wt = await ws.create(job.n, job.start);
    } catch (e) {
      return {
        end: {
          status: "failed",
          error: `cannot create a worktree: ${(e as Error).message}`,
          usage: zeroUsage(),
          attempts: 0,
        },
      };
    }
    job.cwd = wt.path;
    let end = await runAgent(job, this.runner, this.agentSignal(job.n));
    let files: ChangedFile[] = [];
    try {
      files = await ws.diff(wt, join(this.init.runDir, "patches", `${job.n}.patch`));
    } catch (e) {
      end = {
        ...end,
        status: "failed",
        error: `cannot read the worktree's changes: ${(e as Error).message}`,
      };
    }
    // A stopped agent runs again on resume in a new worktree; an unchanged one has nothing to keep.
    if (files.length === 0 || end.status === "stopped") await ws.remove(wt).catch(() => {});
    const writes = job.opts.writes;
    if (end.status === "completed" && writes) {
      const inScope = picomatch(writes, { dot: true });
      const outside = files.map((f) => f.path).filter((p) => !inScope(p));
      if (outside.length > 0) {
        end = {
          ...end,
          status: "failed",
          error: `changed files outside its write scope (writes: ${writes.join(", ")}): ${outside.join(", ")}; the patch is kept in patches/${job.n}.patch and not integrated`,
        };
      }
    }
    // D09: a read-only agent is held to it by its result, whatever its backend could enforce.
    if (end.status === "completed" && files.length > 0 && (job.opts.permissions ?? "edit") === "read-only") {
      end = {
        ...end,
        status: "failed",
        error: `read-only agent changed files: ${files.map((f) => f.path).join(", ")}; the patch is kept in patches/${job.n}.patch and not integrated`,
      };
    }
    if (files.length > 0) this.branches.set(job.n, wt);
    return { end, tree: { wt, files } };
  }

  /**
   * R03: integrating a patch changes the shared working tree, so it counts as a writer: the calls
   * made after it record it. It is the same writer as before (served) when the agent's patch
   * came from the cache and an earlier execution had integrated it; otherwise a new one.
   */
  private integrationWriter(n: number): number {
    const old = this.init.replay?.integratedWriters.get(n);
    if (old !== undefined && this.servedPatches.has(n)) {
      this.writers.serve(old, undefined);
      return old;
    }
    return this.writers.finish([]);
  }

  /** W04 at the end of a completed run, when `meta.integrate` or the `integrate` setting asks. */
  private async integrateAtEnd(): Promise<void> {
    await this.integrating;
    const ws = this.init.workspace!;
    const picked = [...this.patches.values()].filter((p) => !this.integrated.has(p.n));
    if (picked.length === 0) return;
    try {
      const result = await ws.integrate(picked, { already: this.init.replay?.integrated });
      for (const a of result.applied) {
        this.integrated.add(a.n);
        await this.record({ type: "integrated", n: a.n, writer: this.integrationWriter(a.n) });
        const wt = this.branches.get(a.n);
        if (wt) await ws.remove(wt).catch(() => {});
      }
      this.summary.integration = result;
    } catch (e) {
      this.summary.integration = { error: (e as Error).message };
    }
  }

  /** A11: find and check the nested workflow, then start it in the script's sandbox. */
  private onWorkflow(id: number, refJson: string): void {
    const load = this.init.nested;
    if (!load) {
      this.reject(id, "Error", "workflow() is not available in this run");
      return;
    }
    load(refJson).then(
      (n) => {
        if (!this.nestedPaths.includes(n.displayPath)) this.nestedPaths.push(n.displayPath);
        this.sandbox?.startNested({ id, ...n });
      },
      (e: Error) => this.reject(id, e.name || "Error", e.message),
    );
  }

  /** W04: the script's integrate(which?, {allowDirty?}); one at a time, in agent order. */
  private onOp(id: number, name: string, argsJson: string): void {
    if (name === "gate") {
      if (!this.ending) this.gates.open(id, argsJson);
      return;
    }
    if (name === "checkpoint") {
      if (!this.ending) this.gates.openCheckpoint(id, argsJson);
      return;
    }
    if (name === "workflow") {
      this.onWorkflow(id, argsJson);
      return;
    }
    if (name !== "integrate") {
      this.reject(id, "Error", `unknown operation ${name}`);
      return;
    }
    const ws = this.init.workspace;
    if (!ws) {
      this.reject(
        id,
        "WorkspaceError",
        'integrate() needs worktree agents: name isolation: "worktree" in the script',
      );
      return;
    }
    const { which, allowDirty } = JSON.parse(argsJson) as {
      which?: (number | string)[];
      allowDirty?: boolean;
    };
    this.integrating = this.integrating.then(async () => {
      try {
        const picked = [...this.patches.values()].filter(
          (p) => !this.integrated.has(p.n) && (!which || which.some((w) => w === p.n || w === p.label)),
        );
        const result = await ws.integrate(picked, { allowDirty, already: this.init.replay?.integrated });
        for (const a of result.applied) {
          this.integrated.add(a.n);
          await this.record({ type: "integrated", n: a.n, writer: this.integrationWriter(a.n) });
          const branch = this.branches.get(a.n);
          if (branch) await ws.remove(branch).catch(() => {});
        }
        this.sandbox?.deliver({ id, ok: true, value: JSON.stringify(result) });
      } catch (e) {
        this.reject(id, (e as Error).name || "Error", (e as Error).message);
      }
    });
  }

  private async recordEnd(
    id: number,
    job: AgentJob,
    end: AgentEnd,
    startedAt: string,
    durationMs: number,
    tree?: WorktreeOutcome,
  ): Promise<void> {
    if (this.lostMessage !== undefined) return;
    const rec: AgentFinishedRecord = {
      type: "agent.finished",
      n: job.n,
      key: job.key,
      status: end.status,
      error: end.error,
      fatal: end.fatal,
      usage: end.usage,
      model: end.model,
      sessionId: end.sessionId,
      attempts: end.attempts,
      label: job.opts.label,
      phase: job.phase,
      driver: job.driver.name,
      startedAt,
      durationMs,
      worktree: tree ? { branch: tree.wt.branch, start: tree.wt.start } : undefined,
      patch: tree?.files.length ? `patches/${job.n}.patch` : undefined,
      files: tree?.files,
      writer: job.writerNo,
      after: job.after?.length ? job.after : undefined,
      // Last, so a resume can take its text without parsing it (records.ts cheapRecord).
      result: end.status === "completed" ? end.value : undefined,
    };
    // R02: on disk before the script sees it.
    try {
      await this.record(rec);
    } catch (e) {
      this.end("failed", undefined, `weft: cannot write the journal: ${(e as Error).message}`);
      return;
    }
    if (rec.status === "completed" && rec.patch) {
      this.patches.set(job.n, {
        n: job.n,
        label: job.opts.label,
        patch: join(this.init.runDir, rec.patch),
        files: rec.files!,
      });
    }
    // Serialised once: for the script, and to measure it for the record's copy.
    const valueJson = end.status === "completed" ? JSON.stringify(end.value ?? null) : undefined;
    // The journal keeps the whole result; the readable record an excerpt and where the rest is.
    const shown = bounded(rec.result, agentResultPointer(this.init.runId, job.n), valueJson);
    // An explicit literal, not a spread of `rec`: a spread this wide makes a slow dictionary object.
    const { schema, ...options } = job.opts;
    this.files.write(job.n, {
      n: rec.n,
      label: rec.label,
      phase: rec.phase,
      status: rec.status,
      prompt: job.prompt,
      options,
      schema,
      result: shown.value,
      resultTruncated: shown.truncated,
      error: rec.error,
      usage: rec.usage,
      model: rec.model,
      driver: rec.driver,
      sessionId: rec.sessionId,
      attempts: rec.attempts,
      startedAt: rec.startedAt,
      durationMs: rec.durationMs,
      key: rec.key,
      worktree: rec.worktree,
      patch: rec.patch,
      files: rec.files,
      verify: end.verify,
    });
    this.emit({
      type: "agent.finished",
      n: job.n,
      label: job.opts.label,
      phase: job.phase,
      status: end.status,
      cached: false,
      durationMs: rec.durationMs,
      usage: end.usage,
      attempts: end.attempts,
      error: end.error,
    });
    if (valueJson !== undefined) this.sandbox?.deliver({ id, ok: true, value: valueJson });
    else if (end.invalid)
      this.sandbox?.deliver({ id, ok: false, error: { name: "SchemaError", message: end.error ?? "" } });
    // C01: stalled on every attempt: agent() throws, as in Claude Code.
    else if (end.stalled)
      this.sandbox?.deliver({ id, ok: false, error: { name: "StallError", message: end.error ?? "" } });
    // C03: the breaker's agent gets no answer; the run pauses and a resume runs it again.
    else if (!end.fatal) this.sandbox?.deliver({ id, ok: true });
  }

  private onDriverEvent(job: AgentJob, attempt: number, e: DriverEvent): void {
    // The backend has read the prompt (and written its cache): agents of the same prefix may go.
    if (e.type !== "started" && e.type !== "warning") this.stagger.warmed(job.n);
    if (e.type === "warning") {
      this.warnOnce(e.message);
      return;
    }
    if (e.type === "usage") {
      // Drivers report usage as it is added (a turn, a message); the agent's end replaces it.
      const slot = this.live.get(job.n);
      if (!slot) return;
      const u = e.usage;
      // A10: the budget counts generated tokens, as Claude Code's does; input is priced (C06).
      const tokens = (u.output ?? 0) + (u.reasoning ?? 0);
      const costUsd = u.costUsd ?? 0;
      slot.reported ??= { tokens: 0, costUsd: 0 };
      slot.reported.tokens += tokens;
      slot.reported.costUsd += costUsd;
      this.running.tokens += tokens;
      this.running.costUsd += costUsd;
      this.phaseBudgets.add(job.phase, tokens);
      return;
    }
    if (e.type === "started" && e.pgid !== undefined) {
      this.groups.set(job.n, e.pgid);
      // R02: recorded when it starts, so a resume can kill what a crash left behind.
      this.note({
        type: "agent.spawned",
        n: job.n,
        attempt,
        pgid: e.pgid,
        ...(e.startTime === undefined ? {} : { startTime: e.startTime }),
      });
    }
  }

  private addUsage(u: Usage): void {
    const t = this.summary.tokens;
    t.input += u.input;
    t.output += u.output;
    t.cached += u.cached;
    t.reasoning += u.reasoning;
    // A10: generated tokens (output + reasoning); input and cached ones are in the summary and
    // in the cost, which --max-cost limits.
    this.spent.tokens += u.output + u.reasoning;
    if (u.costUsd) {
      this.spent.costUsd += u.costUsd;
      this.summary.costUsd += u.costUsd;
    }
  }

  private flushSummary(): void {
    if (!this.dirty || this.ending) return;
    this.dirty = false;
    this.writeSummary();
  }

  /**
   * Write run.json soon, one write at a time: two writes in flight could land out of order and
   * leave the older state on disk (a gate shown waiting after it was answered). The summary is
   * serialised when its turn comes, so the last write always holds the latest state.
   */
  private writeSummary(): void {
    if (this.summaryQueued) return;
    this.summaryQueued = true;
    this.summaryWrite = this.summaryWrite
      .then(() => {
        this.summaryQueued = false;
        if (this.ending) return;
        return this.saveSummary(false);
      })
      .catch(() => {});
  }

  /**
   * run.json, never through a link an agent planted (R01): a refused write is a warning and the
   * run goes on; the journal holds everything run.json says.
   */
  private async saveSummary(sync: boolean): Promise<void> {
    try {
      await writeJsonAtomic(join(this.init.runDir, "run.json"), this.summary, { sync });
    } catch (e) {
      if (isUnsafePath(e)) this.warnOnce(e.message);
      else throw e;
    }
  }

  /** C04: start nothing more, stop running agents (SIGTERM, then SIGKILL after the grace). */
  stop(): Promise<RunSummary> {
    if (!this.stopping && !this.ending) {
      this.stopping = true;
      // A14: stopped while a gate waits, the run is still waiting: `weft approve` then `weft resume`.
      this.end(this.gates.count > 0 ? "waiting" : "stopped");
    }
    return this.done;
  }

  /** A14: an approve or reject request from the control channel. */
  answerGate(msg: ControlMessage): Promise<void> {
    return this.gates.answer(msg);
  }

  /**
   * One request from the control channel (any process: weft stop/pause/approve, the MCP server,
   * this process's gate prompt). Each is journaled with who sent it, when, and what came of it
   * (the sender reads that record back), then acted on, then taken off the channel.
   */
  async handleControl(msg: ControlMessage): Promise<void> {
    const req = msg.request;
    switch (req.type) {
      case "approve":
      case "reject":
        // A14: the gates journal gate.answered or gate.refused and take the request themselves.
        return this.answerGate(msg);
      case "stop":
      case "stop-agent":
      case "restart-agent":
      case "pause": {
        const refusal = this.notLive(msg);
        if (refusal) return this.answerControl(msg, false, refusal);
        if (req.type === "stop") {
          const running = this.runningAgents();
          await this.answerControl(
            msg,
            true,
            `stopping run ${this.init.runId}: no new agents${running ? `; ${running} running agent${running === 1 ? "" : "s"} get SIGTERM` : ""}`,
            () => void this.stop(),
          );
          return;
        }
        if (req.type === "pause") return this.pauseFor(msg);
        if (req.type === "restart-agent") return this.restartAgent(msg, req.agent);
        return this.stopAgent(msg, req.agent);
      }
      default:
        return this.answerControl(
          msg,
          false,
          `unknown request "${(req as { type: string }).type}" (this weft knows stop, stop-agent, restart-agent, pause, approve, reject)`,
        );
    }
  }

  /** Why a stop or pause no longer applies: the run is ending, or the request is from before. */
  private notLive(msg: ControlMessage): string | undefined {
    // Stop and pause are meant for the execution that was running when they were sent; one left
    // on disk by a race with the end of an earlier execution must not stop this one.
    if (Date.parse(msg.at) < this.t0) {
      return `${describeRequest(msg.request)} was sent before this execution of run ${this.init.runId} started; not applied`;
    }
    if (this.stopping || this.ending) return `run ${this.init.runId} is ending already`;
    if (this.pauseRequest) return `run ${this.init.runId} is pausing already (asked by ${this.pauseRequest})`;
    if (this.breaker) return `run ${this.init.runId} is pausing already (breaker: ${this.breaker})`;
    return undefined;
  }

  /** Journal what came of a request, act, then take it off the channel. */
  private async answerControl(
    msg: ControlMessage,
    ok: boolean,
    outcome: string,
    act?: () => void,
  ): Promise<void> {
    const rec = controlRecord(msg, ok, outcome);
    await this.init.journal.append(rec);
    this.emit({ type: "control", request: msg.request, from: msg.from, ok, outcome });
    act?.();
    await consumeControl(this.init.runDir, msg.id);
  }

  /** C08: nothing new starts; running agents finish; then the run ends paused. */
  private pauseFor(msg: ControlMessage): Promise<void> {
    const running = this.runningAgents();
    const outcome = `pausing run ${this.init.runId}: no new agents start${running ? `; waiting for ${running} running agent${running === 1 ? "" : "s"} to finish` : ""}`;
    return this.answerControl(msg, true, outcome, () => {
      this.pauseRequest = msg.from;
      this.holdNewWork(`${outcome} (asked by ${msg.from})`);
    });
  }

  /** C05: stop one agent (a number), or every queued or running agent with a label. */
  private stopAgent(msg: ControlMessage, which: number | string): Promise<void> {
    const picked = [...this.live.values()].filter((s) =>
      typeof which === "number" ? s.job.n === which : s.job.opts.label === which,
    );
    if (picked.length === 0) {
      const why =
        typeof which === "number"
          ? which >= 1 && which < this.nextIndex
            ? `agent ${which} is not running: it has finished`
            : `there is no agent ${which} in this execution (agents so far: ${this.nextIndex - 1})`
          : `no queued or running agent has the label ${JSON.stringify(which)}`;
      return this.answerControl(msg, false, why);
    }
    const names = picked.map((s) => `${s.job.n}${s.job.opts.label ? ` (${s.job.opts.label})` : ""}`);
    const outcome = `stopped agent${picked.length === 1 ? "" : "s"} ${names.join(", ")}`;
    return this.answerControl(msg, true, outcome, () => {
      for (const slot of picked) {
        // Its process group gets SIGTERM, then SIGKILL after the grace, as in a stop of the run;
        // it is recorded stopped and its agent() resolves to null. A queued one never starts.
        slot.stopBy = msg.from;
        slot.ctl?.abort();
      }
    });
  }

  /**
   * Restart running agents in place (a number, or every running agent with a label): the current
   * attempt's process group gets SIGTERM, then the same call starts again at once, in the same
   * slot, without waiting for a resume. A queued agent has nothing to restart.
   */
  private restartAgent(msg: ControlMessage, which: number | string): Promise<void> {
    const matches = [...this.live.values()].filter((s) =>
      typeof which === "number" ? s.job.n === which : s.job.opts.label === which,
    );
    const picked = matches.filter((s) => s.running && s.attempt && !s.attempt.signal.aborted);
    if (picked.length === 0) {
      const why =
        matches.length > 0
          ? `agent ${typeof which === "number" ? which : JSON.stringify(which)} has not started yet: nothing to restart`
          : typeof which === "number"
            ? which >= 1 && which < this.nextIndex
              ? `agent ${which} is not running: it has finished`
              : `there is no agent ${which} in this execution (agents so far: ${this.nextIndex - 1})`
            : `no running agent has the label ${JSON.stringify(which)}`;
      return this.answerControl(msg, false, why);
    }
    const names = picked.map((s) => `${s.job.n}${s.job.opts.label ? ` (${s.job.opts.label})` : ""}`);
    const outcome = `restarting agent${picked.length === 1 ? "" : "s"} ${names.join(", ")}: the attempt is stopped and the same call starts again`;
    return this.answerControl(msg, true, outcome, () => {
      for (const slot of picked) slot.attempt?.abort(`by ${msg.from}`);
    });
  }

  /** A14: the run waits while any gate waits; run.json says so at once (`weft status`, `weft approve`). */
  private onGatesChange(): void {
    if (this.ending) return;
    const waiting = this.gates.waiting;
    if (waiting.length > 0) {
      this.summary.status = "waiting";
      this.summary.gate = waiting[0];
      this.summary.gates = waiting;
    } else {
      this.summary.status = "running";
      delete this.summary.gate;
      delete this.summary.gates;
    }
    this.writeSummary();
  }

  /** Why this process stopped driving the run, once it lost the lock (R05). */
  get lockLostMessage(): string | undefined {
    return this.lostMessage;
  }

  /**
   * R05: another process took the run over while this one was frozen (SIGSTOP, a laptop asleep)
   * past the heartbeat. The run is the new owner's now: this process kills its own agents (the
   * new owner runs them again), starts nothing, writes nothing more (no journal, run.json,
   * events or artifacts) and ends. Idempotent.
   */
  lockLost(owner?: { pid: number; hostname?: string }): void {
    if (this.lostMessage !== undefined) return;
    const who = owner
      ? `pid ${owner.pid}${owner.hostname ? ` on ${owner.hostname}` : ""}`
      : "another process";
    this.lostMessage =
      `run ${this.init.runId} was taken over by ${who} while this process was not running (frozen or asleep ` +
      "past the lock's heartbeat); this process killed its agents and stopped without writing anything more";
    this.ending = true;
    this.stopping = true;
    this.usageWait.cancel();
    for (const pgid of this.groups.values()) killGroup(pgid, "SIGKILL");
    this.sandbox?.stop();
    this.scheduler.close();
    this.control?.close();
    clearInterval(this.summaryTimer);
    this.stopAll.abort();
    for (const slot of this.live.values()) slot.ctl?.abort();
    this.clearTimers();
    this.finish({ ...this.summary, status: "stopped", error: this.lostMessage });
  }

  /** Second Ctrl-C: kill every agent group now and write what is known, synchronously. */
  killNow(): void {
    this.clearTimers();
    this.usageWait.cancel();
    for (const pgid of this.groups.values()) killGroup(pgid, "SIGKILL");
    this.sandbox?.stop();
    try {
      this.init.journal.closeSync();
    } catch {}
    this.summary.status = this.gates.count > 0 ? "waiting" : "stopped";
    this.summary.endedAt = new Date().toISOString();
    try {
      writeJsonAtomicSync(join(this.init.runDir, "run.json"), this.summary);
    } catch {}
  }

  private async end(status: RunStatus, resultJson?: string, error?: string): Promise<void> {
    if (this.ending) return;
    this.ending = true;
    this.gates.stopTimers();
    // C03: a stop during a wait for a usage reset ends it; a resume waits (or pauses) again.
    this.usageWait.cancel();
    this.sandbox?.stop();
    this.clearTimers();
    this.scheduler.close();
    // Agents the script no longer waits for (or a stopping run) are stopped; R06: never failed.
    this.stopAll.abort();
    for (const slot of this.live.values()) slot.ctl?.abort();
    while (this.scheduler.active > 0) await new Promise((r) => setTimeout(r, 5));
    await Promise.all(this.recording);
    clearInterval(this.summaryTimer);
    await this.gates.finish(status).catch(() => {});
    // A run.json write still in flight must not land after the final one.
    await this.summaryWrite;
    if (status !== "waiting") {
      delete this.summary.gate;
      delete this.summary.gates;
    }
    if (status === "completed" && this.init.autoIntegrate && this.init.workspace) await this.integrateAtEnd();
    await this.init.workspace?.flush().catch(() => {});
    this.summary.agents.queued = 0;
    this.summary.status = status;
    const helps = resumeHelps(status, this.rerunnable > 0, this.scriptErrorName, error);
    if (helps === undefined) delete this.summary.resumeHelps;
    else this.summary.resumeHelps = helps;
    if (resultJson !== undefined) this.summary.result = JSON.parse(resultJson);
    if (error !== undefined) this.summary.error = error;
    this.summary.endedAt = new Date().toISOString();
    this.summary.durationMs = Date.now() - this.t0;
    // Requests sent from here on are answered by the sender's own check of the lock (not running).
    this.control?.close();
    try {
      await this.record({
        type: "run.finished",
        status,
        result: this.summary.result,
        error,
        at: this.summary.endedAt,
      });
      await this.files.drain();
    } catch (e) {
      this.summary.error = `${this.summary.error ? `${this.summary.error}; ` : ""}weft: ${(e as Error).message}`;
    }
    await this.saveSummary(true).catch(() => {});
    this.emit({
      type: "run.finished",
      runId: this.init.runId,
      status,
      result: this.summary.result,
      error: this.summary.error,
      summary: this.summary,
    });
    this.finish(this.summary);
  }
}

/** How many failed agents run.json names (E03); the journal and final-report.md have them all. */
const FAILURES_KEPT = 3;

/** Errors a replay of the same script meets again, whatever the agents answer. */
const REPLAYED_ERRORS = new Set([
  "DeterminismError",
  "OptionsError",
  "SyntaxError",
  "NestingError",
  "SchemaError",
]);

/**
 * E03: whether `weft resume` can change how the run ended. A stopped, paused, waiting or
 * limit-stopped run continues; a failed one only when its failure came from agents a new start may
 * finish (a transient backend failure, an agent a person stopped) or from weft itself (a journal
 * that could not be written), not from the script (a DeterminismError, invalid options, a Map in
 * the result, a schema the agent never met: a resume replays the same script into the same error).
 */
export function resumeHelps(
  status: RunStatus,
  rerunnable: boolean,
  errorName: string | undefined,
  error: string | undefined,
): boolean | undefined {
  if (status === "completed") return undefined;
  if (status !== "failed") return true;
  if (error?.startsWith("weft: ")) return true;
  return rerunnable && !REPLAYED_ERRORS.has(errorName ?? "");
}

/** Prices by model: the built-in table, under the `prices` setting, under a driver's own `prices`. */
function pricing(s: Settings): (model: string | undefined, driver: string) => ModelPrice | undefined {
  const base = { ...DEFAULT_PRICES, ...s.prices };
  const byDriver = new Map<string, PriceTable>();
  return (model, driver) => {
    let table = byDriver.get(driver);
    if (!table) {
      table = { ...base, ...s.drivers?.[driver]?.prices };
      byDriver.set(driver, table);
    }
    return priceFor(model, table);
  };
}
