/**
 * The library API (SPEC U10): runWorkflow and resumeRun. The CLI is a thin layer over these.
 */
import { cpus } from "node:os";
import { basename, dirname, extname, isAbsolute, join, relative } from "node:path";
import { projectConfigPath, type Resolved, resolveSettings, type Settings } from "../config/settings.js";
import { findExecutable } from "../drivers/detect.js";
import { isGroupAlive, killGroup, leaseStillOurs } from "../drivers/process.js";
import { CLI_PACKAGES, chooseDriverName, createDriver, driverBin } from "../drivers/registry.js";
import type { Driver } from "../drivers/types.js";
import {
  buildReplay,
  cheapRecord,
  type ForkedFrom,
  type JournalRecord,
  type Replay,
} from "../engine/records.js";
import { Run } from "../engine/run.js";
import { compileSchema } from "../engine/schema.js";
import type { Executor } from "../executor/task.js";
import { HookRunner } from "../hooks/runner.js";
import { estimateWarning } from "../plan/large-run.js";
import { StateTracker } from "../report/artifacts/write.js";
import { eventLog, teeReporter } from "../report/event-log.js";
import type { Reporter, RunStatus, RunSummary } from "../report/events.js";
import type { PendingSandbox } from "../sandbox/host.js";
import { startSandbox } from "../sandbox/start.js";
import { type LoadedScript, loadScriptFile, loadScriptSource } from "../script/load.js";
import {
  assertRunDir,
  createRunDir,
  ensureRunsDir,
  findRun,
  newRunId,
  StoreError,
  saveScriptCopy,
} from "../store/files.js";
import { JournalDamageError, JournalWriter, readJournal } from "../store/journal.js";
import { acquireLock, type RunLock } from "../store/lock.js";
import { weftDirOf } from "../store/weft-dir.js";
import { traceTarget } from "../trace/endpoint.js";
import { isCopyIn, nestedLoader, scriptDirOf } from "../workflows/nested.js";
import { Workspace } from "../workspace/workspace.js";
import { argsToJson } from "./args-json.js";
import { NothingToResumeError, UsageError } from "./errors.js";

export interface WorkflowOptions {
  /** Path of a .js or .ts script (relative to cwd), or its source. */
  script: string | { source: string; path?: string; typescript?: boolean };
  /** Directory the run belongs to: `.weft/` is created here and agents start here. Default: process.cwd(). */
  cwd?: string;
  /** The run's input (A09), any JSON value. */
  args?: unknown;
  /** Settings; they rank with command-line flags (U09). */
  settings?: Partial<Settings>;
  /** A Driver object to run every agent with, instead of a built-in driver. */
  driver?: Driver;
  reporter?: Reporter;
  env?: NodeJS.ProcessEnv;
  /** Aborting stops the run as Ctrl-C does (C04). */
  signal?: AbortSignal;
  /** Continue this run with the given (possibly edited) script (R03 `--resume`). */
  resume?: string;
  /**
   * A14: someone answers this run's gates while it waits (the CLI's terminal prompt, or your own
   * code through the control channel), so `checkpoint()` waits for an answer. Default false:
   * `checkpoint()` resolves its `default ?? true` at once, or fails the run with `headless: "abort"`.
   */
  interactive?: boolean;
}

export interface ResumeOptions extends Omit<WorkflowOptions, "script" | "resume"> {}

export interface WorkflowResult {
  runId: string;
  runDir: string;
  status: RunStatus;
  result?: unknown;
  error?: string;
  summary: RunSummary;
  /** R05: set when another process took the run over and this one stopped driving it. */
  lockLost?: string;
}

export interface RunHandle {
  runId: string;
  runDir: string;
  /** Stop as Ctrl-C does: no new agents, running ones terminated, journal flushed. */
  stop(): Promise<WorkflowResult>;
  /** Second Ctrl-C: kill every agent now and write what is known synchronously. */
  killNow(): void;
  done: Promise<WorkflowResult>;
}

const ts = (p: string) => /\.[cm]?ts$/.test(p);

function guardRecursion(env: NodeJS.ProcessEnv): void {
  // A15: agents cannot start workflows themselves.
  if (env.WEFT_RUN_ID && env.WEFT_AGENT_INDEX) {
    throw new UsageError(
      `weft does not start workflows from inside a weft agent (this process runs as agent ${env.WEFT_AGENT_INDEX} of run ${env.WEFT_RUN_ID})`,
    );
  }
}

function storedSettings(resolved: Resolved): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resolved.sources)) {
    // Hooks are the user's, read afresh by every execution; never replayed from the journal.
    if (k === "hooks") continue;
    if (v.source === "flag" || v.source === "env" || v.source === "run") {
      out[k] = (resolved.settings as unknown as Record<string, unknown>)[k];
    }
  }
  // Claude Code's values (drivers.claude.model...) are read afresh like the config files.
  const claude = (out.drivers as Settings["drivers"] | undefined)?.claude;
  if (claude) {
    const own = { ...claude } as Record<string, unknown>;
    for (const path of Object.keys(resolved.details)) delete own[path.replace(/^drivers\.claude\./, "")];
    out.drivers = { ...(out.drivers as Settings["drivers"]), claude: own };
  }
  return out;
}

/** S02: `args` as the JSON the script gets; NaN and the infinities warn (shown once the run starts). */
function argsJsonOf(args: unknown, warnings: string[]): string | undefined {
  if (args === undefined) return undefined;
  try {
    const { json, warning } = argsToJson(args);
    if (warning) warnings.push(warning);
    return json;
  } catch (e) {
    throw new UsageError(`args cannot be turned into JSON: ${(e as Error).message}`);
  }
}

function checkArgs(script: LoadedScript, argsJson: string | undefined): void {
  const schema = script.meta.args;
  if (!schema) return;
  let compiled: ReturnType<typeof compileSchema>;
  try {
    compiled = compileSchema(schema);
  } catch (e) {
    throw new UsageError(`${script.displayPath}: meta.args is not a usable schema: ${(e as Error).message}`);
  }
  // Without args the script sees `undefined`; required fields still have to be reported.
  const v = compiled.validate(argsJson === undefined ? {} : JSON.parse(argsJson));
  if (!v.ok) {
    throw new UsageError(`args do not match meta.args of ${script.displayPath}: ${v.errors.join("; ")}`);
  }
}

async function killLeftovers(replay: Replay): Promise<void> {
  // R02: groups a crashed owner left running would race the new agents for the same work.
  // Only groups that are still the agents' (R02: never pgid <= 1, weft's own, or a reused id).
  const alive = replay.liveGroups.filter((g) => leaseStillOurs(g)).map((g) => g.pgid);
  for (const g of alive) killGroup(g, "SIGKILL");
  for (let i = 0; i < 100 && alive.some((g) => isGroupAlive(g)); i++)
    await new Promise((r) => setTimeout(r, 10));
}

interface Prepared {
  cwd: string;
  /** What a person should know about this run's setup (which `.weft/` it uses, ignored flags). */
  notes: string[];
  env: NodeJS.ProcessEnv;
  resolved: Resolved;
  driver: Driver;
  driverFor(name: string): Driver;
}

function prepare(opts: ResumeOptions, stored: Record<string, unknown> | undefined): Prepared {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  guardRecursion(env);
  let resolved: Resolved;
  try {
    resolved = resolveSettings({ cwd, env, flags: opts.settings, stored, cpus: cpus().length });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const settings = resolved.settings;
  const made = new Map<string, Driver>();
  const driverFor = (name: string): Driver => {
    if (opts.driver && name === opts.driver.name) return opts.driver;
    let d = made.get(name);
    if (!d) {
      try {
        d = createDriver(name, settings);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      made.set(name, d);
    }
    return d;
  };
  const notes: string[] = [];
  const weftDir = weftDirOf(cwd);
  if (dirname(weftDir) !== cwd)
    notes.push(`using the project's .weft/ at ${dirname(weftDir)} (weft started in ${cwd})`);
  if (opts.driver) return { cwd, notes, env, resolved, driver: opts.driver, driverFor };
  const name = safe(() => chooseDriverName(settings, env));
  checkDriverProgram(name, resolved, env, cwd);
  const commandFrom = resolved.sources.command?.source;
  if (name !== "command" && settings.command && (commandFrom === "flag" || commandFrom === "env")) {
    notes.push(
      `${commandFrom === "flag" ? "--command" : "WEFT_COMMAND"} is ignored: the run's driver is ${name} (${driverChoice(resolved)}); only agent() calls with driver: "command" run the command`,
    );
  }
  return { cwd, notes, env, resolved, driver: driverFor(name), driverFor };
}

/** Which setting named the run's driver, as a person would write it. */
function driverChoice(resolved: Resolved): string {
  const from = resolved.sources.driver;
  if (from?.source === "flag") return "--driver";
  if (from?.source === "env") return "WEFT_DRIVER";
  return from?.where ?? "the default";
}

/**
 * E03: a driver whose program is not there is refused before a run is created (exit 2), with
 * what to install, instead of a run whose every agent fails and that the breaker pauses.
 */
function checkDriverProgram(name: string, resolved: Resolved, env: NodeJS.ProcessEnv, cwd: string): void {
  if (!(name in CLI_PACKAGES)) return;
  const settings = resolved.settings;
  const bin = driverBin(name, settings);
  // The agent starts with the driver's own env over the user's: its PATH is the one that counts.
  const agentEnv = { ...env, ...settings.drivers?.[name]?.env };
  if (findExecutable(bin, agentEnv, cwd)) return;
  const why = resolved.sources.driver?.source !== "default" ? ` (chosen by ${driverChoice(resolved)})` : "";
  const where = bin.includes("/")
    ? `${bin} (drivers.${name}.bin) does not exist or is not executable`
    : `\`${bin}\` is not on PATH`;
  throw new UsageError(
    `the ${name} driver${why} cannot start: ${where}. Install it with \`npm install -g ${CLI_PACKAGES[name]}\`${bin.includes("/") ? "" : `, or set drivers.${name}.bin in .weft/config.json to where it is`}; \`weft doctor\` shows which agent CLIs are here`,
  );
}

function safe<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

async function launch(
  p: Prepared,
  o: {
    runId: string;
    runDir: string;
    script: LoadedScript;
    argsJson?: string;
    /** S02: what turning `args` into JSON warned about (NaN and the infinities made null). */
    argsWarnings?: string[];
    replay?: Replay;
    reporter?: Reporter;
    interactive?: boolean;
    signal?: AbortSignal;
    lock: RunLock;
    name: string;
    worker: PendingSandbox;
    workspace?: Workspace;
    /** R08: records a fork starts its journal with (the source's agents it reuses). */
    seed?: JournalRecord[];
    forkedFrom?: ForkedFrom;
  },
): Promise<RunHandle> {
  let journal: JournalWriter | undefined;
  let log: ReturnType<typeof eventLog> | undefined;
  let hooks: HookRunner | undefined;
  let executor: Executor | undefined;
  try {
    // X01: agent calls go to workers; the queue's modules load only here. An unreachable Redis
    // is refused before anything of the run starts.
    if (p.resolved.settings.queue) {
      const { QueueExecutor } = await import("../executor/queue/client.js");
      try {
        executor = await QueueExecutor.open({
          redis: p.resolved.settings.queue,
          queueName: p.resolved.settings.queueName,
          cwd: p.cwd,
          repo: p.resolved.settings.repo,
        });
      } catch (e) {
        throw new UsageError(`--queue: ${(e as Error).message}`);
      }
    }
    const ext = extname(o.script.displayPath) || (o.script.isTs ? ".ts" : ".js");
    const copy = await saveScriptCopy(o.runDir, `script${ext}`, o.script.source);
    journal = await JournalWriter.open(join(o.runDir, "journal.jsonl"));
    // R05: a journal batch goes out only while this process still holds the lock.
    journal.setFence(() => o.lock.holds());
    const now = new Date().toISOString();
    const settings = storedSettings(p.resolved);
    const first: JournalRecord = o.replay?.started
      ? {
          type: "run.resumed",
          at: now,
          script: basename(copy),
          displayPath: o.script.displayPath,
          args: o.argsJson,
          settings,
        }
      : {
          type: "run.started",
          runId: o.runId,
          name: o.name,
          at: now,
          script: basename(copy),
          displayPath: o.script.displayPath,
          args: o.argsJson,
          settings,
          cwd: p.cwd,
          base: o.workspace?.base,
          forkedFrom: o.forkedFrom,
        };
    // Not awaited: the journal is one file written in order, so the first agent's durable record
    // makes this one durable too; waiting here would only add an fsync to every start.
    journal.append(first).catch(() => {});
    for (const r of o.seed ?? []) journal.write(r);
    // U01: every run keeps its event stream in events.jsonl, for `weft logs` and `weft attach`.
    log = eventLog(o.runDir);
    // U11: the OpenTelemetry SDK is loaded only when this execution exports a trace.
    const target = traceTarget(p.resolved.settings.otel, p.env);
    const tracing = target
      ? (await import("../trace/otel.js")).createRunTracing({ target, env: p.env })
      : undefined;
    const user = o.reporter ?? { event() {} };
    const inner = teeReporter(user, tracing ? teeReporter(log, tracing) : log);
    // Before the reporters close: a failed export is told as a warning, never fails the run.
    const flushTrace = async () => {
      const warning = await tracing?.flush();
      if (warning) user.event({ type: "warning", message: `tracing: ${warning}` });
    };
    // Hooks see the events every surface sees; they never hold up the run (hooks/runner.ts).
    hooks = new HookRunner({
      hooks: p.resolved.settings.hooks,
      runId: o.runId,
      runDir: o.runDir,
      cwd: p.cwd,
      env: p.env,
      timeoutMs: p.resolved.settings.hookTimeoutMs,
      graceMs: p.resolved.settings.killGraceMs,
      projectConfig: projectConfigPath(p.cwd),
      warn: (message) => inner.event({ type: "warning", message }),
    });
    const runHooks = hooks;
    const reporter: Reporter = {
      event(e) {
        try {
          inner.event(e);
        } finally {
          runHooks.event(e);
        }
      },
      async close() {
        await runHooks.close();
        await inner.close?.();
      },
    };
    // Before a fresh run starts, as Claude Code warns: a resume or fork reuses agents already paid for.
    const large = !o.replay?.started && !o.seed ? estimateWarning(o.script, o.argsJson) : undefined;
    const run = new Run({
      runId: o.runId,
      name: o.name,
      runDir: o.runDir,
      cwd: p.cwd,
      script: o.script,
      scriptFile: basename(copy),
      argsJson: o.argsJson,
      settings: p.resolved.settings,
      driver: p.driver,
      driverFor: p.driverFor,
      journal,
      replay: o.replay,
      reporter,
      startedAt: o.replay?.started?.at ?? now,
      resumed: o.replay?.started !== undefined,
      sandbox: o.worker,
      workspace: o.workspace,
      forkedFrom: o.forkedFrom,
      warnings: [
        ...p.notes,
        ...p.resolved.warnings,
        ...(o.argsWarnings ?? []),
        ...(large ? [large] : []),
        ...(log.refused ? [log.refused] : []),
      ],
      holdsLock: () => o.lock.holds(),
      env: p.env,
      trace: tracing,
      interactive: o.interactive,
      executor,
      autoIntegrate: p.resolved.settings.integrate || o.script.meta.integrate === true,
      // A11: a plain resume runs the script's copy, and replays the nested workflows' copies too.
      nested: nestedLoader({
        cwd: p.cwd,
        env: p.env,
        runDir: o.runDir,
        scriptDir: scriptDirOf(
          p.cwd,
          o.script,
          isCopyIn(o.runDir, o.script) ? o.replay?.started?.displayPath : undefined,
        ),
        fromCopies: isCopyIn(o.runDir, o.script),
        hasWorkspace: o.workspace !== undefined,
      }),
    });
    const j = journal;
    o.lock.onLost((owner) => run.lockLost(owner));
    const onAbort = () => void run.stop();
    o.signal?.addEventListener("abort", onAbort, { once: true });
    const toResult = (summary: RunSummary): WorkflowResult => ({
      runId: o.runId,
      runDir: o.runDir,
      status: summary.status,
      result: summary.result,
      error: summary.error,
      summary,
    });
    // U07: state.json while it runs; every human artifact, from the journal, once it ends.
    const artifacts = new StateTracker(o.runDir, o.runId);
    const done = run.start().then(async (summary) => {
      o.signal?.removeEventListener("abort", onAbort);
      await j.close().catch(() => {});
      if (run.lockLostMessage !== undefined) {
        // R05: the run is another process's now; nothing of this one's may land in its directory.
        artifacts.stop();
        await executor?.close?.().catch(() => {});
        await flushTrace();
        await reporter.close?.();
        return { ...toResult(summary), lockLost: run.lockLostMessage };
      }
      await artifacts.finish().then(
        (stats) => {
          for (const message of stats.refused) reporter.event({ type: "warning", message });
        },
        (e: Error) =>
          reporter.event({ type: "warning", message: `cannot write the run's artifacts: ${e.message}` }),
      );
      await o.lock.release().catch(() => {});
      await executor?.close?.().catch(() => {});
      await flushTrace();
      await reporter.close?.();
      return toResult(summary);
    });
    if (o.signal?.aborted) void run.stop();
    return {
      runId: o.runId,
      runDir: o.runDir,
      stop: async () => {
        await run.stop();
        return done;
      },
      killNow: () => {
        hooks?.killNow();
        artifacts.stop();
        run.killNow();
        o.lock.releaseSync();
      },
      done,
    };
  } catch (e) {
    await executor?.close?.().catch(() => {});
    await journal?.close().catch(() => {});
    await log?.close?.();
    await o.lock.release().catch(() => {});
    throw e;
  }
}

async function loadFrom(script: WorkflowOptions["script"], cwd: string): Promise<LoadedScript> {
  if (typeof script === "string") return loadScriptFile(script, cwd);
  const path = script.path ?? "<script>";
  return loadScriptSource(script.source, path, script.typescript ?? ts(path));
}

async function openExisting(cwd: string, runId: string): Promise<{ runDir: string; replay: Replay }> {
  const weftDir = await ensureRunsDir(cwd);
  const runDir = await findRun(weftDir, runId);
  if (!runDir)
    throw new NothingToResumeError(`nothing to resume: no run "${runId}" in ${join(weftDir, "runs")}`);
  // A run directory an agent replaced with a link would have the resume write elsewhere (R01).
  await assertRunDir(runDir);
  let records: JournalRecord[];
  try {
    records = (await readJournal(join(runDir, "journal.jsonl"), { cheap: cheapRecord }))
      .records as JournalRecord[];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") records = [];
    // R07: a damaged record is refused, never guessed at; the message names the line.
    else if (e instanceof JournalDamageError)
      throw new StoreError(`cannot resume run "${runId}": ${e.message}`);
    else throw e;
  }
  const replay = buildReplay(records);
  if (!replay.started) {
    throw new NothingToResumeError(
      `nothing to resume: run "${runId}" has no run-start record in its journal`,
    );
  }
  return { runDir, replay };
}

/** Runs `start` with a sandbox started at once, so its start-up overlaps the preparation. */
async function withEarlyWorker(start: (worker: PendingSandbox) => Promise<RunHandle>): Promise<RunHandle> {
  const worker = startSandbox();
  try {
    return await start(worker);
  } catch (e) {
    worker.discard();
    throw e;
  }
}

/** Start a run and return at once with a handle; `handle.done` resolves when it ends. */
export function startWorkflow(opts: WorkflowOptions): Promise<RunHandle> {
  return withEarlyWorker((worker) => startWorkflowWith(opts, worker));
}

async function startWorkflowWith(opts: WorkflowOptions, worker: PendingSandbox): Promise<RunHandle> {
  const cwd = opts.cwd ?? process.cwd();
  if (opts.resume) return continueRun(opts.resume, opts, worker, () => loadFrom(opts.script, cwd));
  const p = prepare({ ...opts, cwd }, undefined);
  const script = await loadFrom(opts.script, cwd);
  const argsWarnings: string[] = [];
  const argsJson = argsJsonOf(opts.args, argsWarnings);
  checkArgs(script, argsJson);
  const weftDir = await ensureRunsDir(cwd);
  const runId = newRunId(script.meta.name);
  // W06: a script that uses worktrees outside a repository fails here, before any agent starts.
  const workspace = script.usesWorktrees ? await Workspace.open(cwd, weftDir, runId) : undefined;
  const runDir = await createRunDir(weftDir, runId);
  const lock = await acquireLock(runDir);
  return launch(p, {
    runId,
    runDir,
    script,
    argsJson,
    argsWarnings,
    reporter: opts.reporter,
    interactive: opts.interactive,
    signal: opts.signal,
    lock,
    name: script.meta.name,
    worker,
    workspace,
  });
}

/** Resume a run (R03): finished agents answer from the journal, the rest run. */
export function startResume(runId: string, opts: ResumeOptions = {}): Promise<RunHandle> {
  const cwd = opts.cwd ?? process.cwd();
  return withEarlyWorker((worker) =>
    continueRun(runId, opts, worker, (runDir, replay) => {
      // The script as last run, from the run directory; errors point at that copy.
      const copyPath = join(runDir, replay.last!.script);
      const shown = relative(cwd, copyPath);
      return loadScriptFile(isAbsolute(shown) || shown.startsWith("..") ? copyPath : shown, cwd);
    }),
  );
}

/** Resume and `run --resume` alike: same run id and directory, the run's own settings and args unless given again. */
async function continueRun(
  runId: string,
  opts: ResumeOptions,
  worker: PendingSandbox,
  scriptFor: (runDir: string, replay: Replay) => Promise<LoadedScript>,
): Promise<RunHandle> {
  const cwd = opts.cwd ?? process.cwd();
  const { runDir, replay } = await openExisting(cwd, runId);
  const p = prepare({ ...opts, cwd }, replay.last?.settings);
  const script = await scriptFor(runDir, replay);
  const argsWarnings: string[] = [];
  const argsJson = opts.args !== undefined ? argsJsonOf(opts.args, argsWarnings) : replay.last?.args;
  checkArgs(script, argsJson);
  const runIdOfRun = replay.started!.runId;
  const workspace = script.usesWorktrees
    ? await Workspace.open(cwd, dirname(dirname(runDir)), runIdOfRun, replay.started!.base)
    : undefined;
  const lock = await acquireLock(runDir);
  await killLeftovers(replay);
  return launch(p, {
    workspace,
    runId: runIdOfRun,
    runDir,
    script,
    argsJson,
    argsWarnings,
    replay,
    reporter: opts.reporter,
    interactive: opts.interactive,
    signal: opts.signal,
    lock,
    name: replay.started!.name,
    worker,
  });
}

export async function runWorkflow(opts: WorkflowOptions): Promise<WorkflowResult> {
  return (await startWorkflow(opts)).done;
}

export async function resumeRun(runId: string, opts: ResumeOptions = {}): Promise<WorkflowResult> {
  return (await startResume(runId, opts)).done;
}

/** What api/fork.ts hands over to start a fork (R08). */
export interface Seed {
  name: string;
  /** The source run's script copy, run as it is. */
  scriptPath: string;
  displayPath: string;
  argsJson?: string;
  /** The source's stored settings; flags given to the fork override them. */
  settings: Record<string, unknown>;
  /** The source's base commit, so its patches apply to the trees they were made on. */
  base?: string;
  /** agent.finished (and integrated) records of the agents the fork reuses. */
  records: JournalRecord[];
  forkedFrom: ForkedFrom;
  /** Copy what the reused agents left in the source's directory (records, patches). */
  copy(runDir: string): Promise<void>;
}

/** R08: a new run whose cache starts with another run's finished agents (see api/fork.ts). */
export function startSeeded(seed: Seed, opts: ResumeOptions = {}): Promise<RunHandle> {
  return withEarlyWorker(async (worker) => {
    const cwd = opts.cwd ?? process.cwd();
    const p = prepare({ ...opts, cwd }, seed.settings);
    const load = (path: string) => {
      const shown = relative(cwd, path);
      return loadScriptFile(isAbsolute(shown) || shown.startsWith("..") ? path : shown, cwd);
    };
    const source = await load(seed.scriptPath);
    const argsWarnings: string[] = [];
    const argsJson = opts.args !== undefined ? argsJsonOf(opts.args, argsWarnings) : seed.argsJson;
    checkArgs(source, argsJson);
    const weftDir = await ensureRunsDir(cwd);
    const runId = newRunId(seed.name);
    const workspace = source.usesWorktrees ? await Workspace.open(cwd, weftDir, runId, seed.base) : undefined;
    const runDir = await createRunDir(weftDir, runId);
    // The fork runs its own copy of the script (and of the nested workflows' copies, A11), so its
    // errors and its later resumes point into its own directory.
    await seed.copy(runDir);
    const script = await load(await saveScriptCopy(runDir, basename(seed.scriptPath), source.source));
    const lock = await acquireLock(runDir);
    // The same fold as a resume's journal, over the reused agents' records only.
    const replay = buildReplay(seed.records);
    return launch(p, {
      runId,
      runDir,
      script,
      argsJson,
      argsWarnings,
      replay,
      reporter: opts.reporter,
      interactive: opts.interactive,
      signal: opts.signal,
      lock,
      name: seed.name,
      worker,
      workspace,
      seed: seed.records,
      forkedFrom: seed.forkedFrom,
    });
  });
}
