/**
 * The runs of one `weft mcp` server (U04). A launched run goes on in this process through the
 * library (startWorkflow / startResume), so the tool call returns at once; requests to a run
 * (stop, pause, approve...) go through its control channel, which reaches it whichever process
 * owns it, so a run started with `weft run` in a terminal is controlled the same way.
 */
import { randomBytes } from "node:crypto";
import { basename, join } from "node:path";
import { UsageError } from "../api/errors.js";
import { type RunHandle, startResume, startWorkflow, type WorkflowOptions } from "../api/run-workflow.js";
import { parseSetting, type SettingKey, type Settings } from "../config/settings.js";
import type { ControlRequest } from "../control/channel.js";
import { controlRun } from "../control/client.js";
import type { RunEvent } from "../report/events.js";
import { findRun } from "../store/files.js";
import { ensureDir, writeFileAtomicSync } from "../store/safe-write.js";
import { weftDirOf } from "../store/weft-dir.js";
import { findWorkflow, notFoundMessage, shownPath, WorkflowNotFoundError } from "../workflows/lookup.js";
import { insideWeftAgent, refusalMessage } from "./guard.js";
import { agentView, LIVE_STATES, readAgents, readSummary, type StatusView, statusView } from "./views.js";

export interface LaunchInput {
  script?: string;
  typescript?: boolean;
  name?: string;
  scriptPath?: string;
  args?: unknown;
  resumeFromRunId?: string;
  concurrency?: number;
  budget?: number;
  maxAgents?: number;
  maxCostUsd?: number;
  driver?: string;
}

export type ControlAction =
  | "stop"
  | "stop_agent"
  | "restart_agent"
  | "pause"
  | "resume"
  | "approve"
  | "reject";

export interface ControlInput {
  runId: string;
  action: ControlAction;
  agent?: number | string;
  gate?: number | string;
  reason?: string;
}

interface Owned {
  handle: RunHandle;
  phase?: string;
  ended: boolean;
}

const LIMITS: SettingKey[] = ["concurrency", "budget", "maxAgents", "maxCostUsd", "driver"];

/** The server's longest answer for a result value, in characters, before it is cut. */
export const MAX_RESULT_CHARS = 4000;

export class McpRuns {
  private readonly owned = new Map<string, Owned>();

  constructor(
    private readonly cwd: string,
    private readonly env: NodeJS.ProcessEnv,
    /** Who control requests are from, as the run's journal records it. */
    private readonly sender: string,
  ) {}

  private get weftDir(): string {
    return weftDirOf(this.cwd);
  }

  async launch(input: LaunchInput): Promise<{ runId: string; runDir: string; resumed?: boolean }> {
    const mark = insideWeftAgent(this.env);
    if (mark) throw new UsageError(refusalMessage(mark));
    const given = (["script", "name", "scriptPath"] as const).filter((k) => input[k] !== undefined);
    if (given.length > 1)
      throw new UsageError(`give one of script, name or scriptPath, not ${given.join(" and ")}`);
    if (given.length === 0 && input.resumeFromRunId === undefined)
      throw new UsageError("give one of script (the source), name (a saved workflow) or scriptPath (a file)");
    const settings = this.settingsOf(input);
    const common = { cwd: this.cwd, env: this.env, args: input.args, settings, reporter: undefined };
    let handle: RunHandle;
    let owned: Owned | undefined;
    const reporter = { event: (e: RunEvent) => this.onEvent(owned, e) };
    if (given.length === 0) {
      const id = input.resumeFromRunId!;
      this.refuseIfRunning(id);
      handle = await startResume(id, { ...common, reporter });
    } else {
      const script = await this.scriptOf(input);
      if (input.resumeFromRunId !== undefined) this.refuseIfRunning(input.resumeFromRunId);
      const opts: WorkflowOptions = { ...common, reporter, script, resume: input.resumeFromRunId };
      handle = await startWorkflow(opts);
    }
    owned = { handle, ended: false };
    this.owned.set(handle.runId, owned);
    void handle.done.finally(() => {
      owned.ended = true;
    });
    return {
      runId: handle.runId,
      runDir: handle.runDir,
      ...(input.resumeFromRunId !== undefined ? { resumed: true } : {}),
    };
  }

  private onEvent(owned: Owned | undefined, e: RunEvent): void {
    if (owned && e.type === "phase") owned.phase = e.title;
  }

  private refuseIfRunning(runId: string): void {
    for (const [id, o] of this.owned) {
      if (!o.ended && (id === runId || id.startsWith(runId)))
        throw new UsageError(`run ${id} is still running in this server: stop or pause it first`);
    }
  }

  private settingsOf(input: LaunchInput): Partial<Settings> {
    const out: Record<string, unknown> = {};
    for (const key of LIMITS) {
      const raw = (input as Record<string, unknown>)[key];
      if (raw === undefined) continue;
      try {
        out[key] = parseSetting(key, raw, "workflow tool");
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    return out as Partial<Settings>;
  }

  /** The script to run, as a path relative to the server's directory so errors name a file. */
  private async scriptOf(input: LaunchInput): Promise<string> {
    if (input.scriptPath !== undefined) return input.scriptPath;
    if (input.name !== undefined) {
      const found = await findWorkflow(input.name, this.cwd, this.env);
      if (!found) throw new WorkflowNotFoundError(await notFoundMessage(input.name, this.cwd, this.env));
      return shownPath(this.cwd, found.path);
    }
    // An inline script is kept as a file: E01 errors point into it, and it can be read, fixed
    // and passed again as scriptPath, or saved with `weft save`.
    const dir = join(this.weftDir, "scripts");
    // Never through a link an agent planted in .weft/ (safe-write.ts).
    ensureDir(dir);
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
    const file = `mcp-${stamp}-${randomBytes(3).toString("hex")}.${input.typescript ? "ts" : "js"}`;
    writeFileAtomicSync(join(dir, file), input.script!);
    return shownPath(this.cwd, join(dir, file));
  }

  /** The run's directory and full id (a unique prefix of an id is accepted, as by the CLI). */
  private async runDirOf(runId: string): Promise<{ runDir: string; id: string }> {
    const owned = this.owned.get(runId);
    if (owned) return { runDir: owned.handle.runDir, id: runId };
    const dir = await findRun(this.weftDir, runId);
    if (!dir) throw new UsageError(`no run "${runId}" in ${join(this.weftDir, "runs")}`);
    return { runDir: dir, id: basename(dir) };
  }

  async status(runId: string): Promise<StatusView> {
    const { runDir, id } = await this.runDirOf(runId);
    const summary = await readSummary(runDir);
    const owned = this.owned.get(id);
    const view = statusView({
      runId: id,
      runDir,
      summary,
      owned: owned !== undefined && !owned.ended,
      phase: owned?.phase,
      maxResultChars: MAX_RESULT_CHARS,
    });
    return view;
  }

  /** Block until the run ends, or waits at a gate, or `timeoutMs` passes; then its status. */
  async wait(runId: string, timeoutMs: number): Promise<StatusView & { timedOut?: boolean }> {
    const { runDir, id } = await this.runDirOf(runId);
    const owned = this.owned.get(id);
    const deadline = Date.now() + timeoutMs;
    // The run's end is seen at once for a run of this server; a gate (and a run owned by another
    // process) through run.json, which the owner rewrites about once a second.
    let over = false;
    const ended = owned?.handle.done.then(
      () => {
        over = true;
      },
      () => {
        over = true;
      },
    );
    for (;;) {
      if (over || owned?.ended) return this.status(id);
      const summary = await readSummary(runDir);
      const state = summary?.status;
      if (state === "waiting" || (state !== undefined && !owned && !LIVE_STATES.has(state)))
        return this.status(id);
      const left = deadline - Date.now();
      if (left <= 0) return { ...(await this.status(id)), timedOut: true };
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        ended,
        new Promise((r) => {
          timer = setTimeout(r, Math.min(250, left));
        }),
      ]);
      clearTimeout(timer);
    }
  }

  async result(
    runId: string,
    page: { offset: number; limit: number; maxChars: number },
  ): Promise<Record<string, unknown>> {
    const { runDir, id } = await this.runDirOf(runId);
    const summary = await readSummary(runDir);
    const owned = this.owned.get(id);
    if ((owned && !owned.ended) || (summary && LIVE_STATES.has(summary.status)))
      throw new UsageError(
        `run ${id} is still ${summary?.status ?? "running"}: call workflow_wait {runId: "${id}"} first (results are given once the run has ended)`,
      );
    const all = await readAgents(runDir);
    const slice = all.slice(page.offset, page.offset + page.limit);
    const next = page.offset + slice.length;
    const { result, ...rest } = summary ?? ({} as Record<string, unknown>);
    return {
      runId: id,
      runDir,
      state: summary?.status,
      result: result === undefined ? undefined : agentView({ n: 0, result }, page.maxChars).result,
      summary: rest,
      agents: slice.map((r) => agentView(r, page.maxChars)),
      total: all.length,
      offset: page.offset,
      ...(next < all.length
        ? { more: `agents ${next + 1}-${all.length} of the list remain: call again with offset ${next}` }
        : {}),
    };
  }

  async control(input: ControlInput): Promise<Record<string, unknown>> {
    if (input.action === "resume") {
      if (input.agent !== undefined || input.gate !== undefined)
        throw new UsageError("resume takes only the runId");
      const r = await this.launch({ resumeFromRunId: input.runId });
      return { ...r, next: `resumed: call workflow_wait {runId: "${r.runId}"}` };
    }
    const { runDir, id } = await this.runDirOf(input.runId);
    const request = this.requestOf(input);
    // The owner (this server or any other process) journals what came of the request; that
    // answer is read back, so the host learns "applied" or "refused" and why.
    const out = await controlRun(runDir, request, { cwd: this.cwd, from: this.sender, waitMs: 10_000 });
    const next =
      out.state === "applied" || out.state === "pending"
        ? `call workflow_wait {runId: "${id}"} for the run's end`
        : out.state === "held"
          ? `kept for the next resume: workflow_control {runId: "${id}", action: "resume"}`
          : out.state === "not-running" && out.status !== "completed"
            ? `workflow_control {runId: "${id}", action: "resume"} continues it`
            : undefined;
    return {
      runId: id,
      request,
      state: out.state,
      outcome: out.outcome,
      runState: out.status,
      ...(next ? { next } : {}),
    };
  }

  private requestOf(input: ControlInput): ControlRequest {
    const only = (allowed: ("agent" | "gate" | "reason")[]) => {
      for (const k of ["agent", "gate", "reason"] as const) {
        if (input[k] !== undefined && !allowed.includes(k))
          throw new UsageError(`action "${input.action}" does not take "${k}"`);
      }
    };
    switch (input.action) {
      case "stop":
        only([]);
        return { type: "stop" };
      case "pause":
        only([]);
        return { type: "pause" };
      case "stop_agent":
        only(["agent"]);
        if (input.agent === undefined)
          throw new UsageError('action "stop_agent" needs "agent": the agent\'s number or label');
        return { type: "stop-agent", agent: input.agent };
      case "restart_agent":
        only(["agent"]);
        if (input.agent === undefined)
          throw new UsageError('action "restart_agent" needs "agent": the agent\'s number or label');
        return { type: "restart-agent", agent: input.agent };
      case "approve":
      case "reject":
        only(["gate", "reason"]);
        return {
          type: input.action,
          ...(input.gate !== undefined ? { gate: input.gate } : {}),
          ...(input.reason !== undefined ? { reason: input.reason } : {}),
          by: this.sender,
        };
      default:
        throw new UsageError(`unknown action "${String(input.action)}"`);
    }
  }

  /** Stop every run this server started (the host went away); each stays resumable. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.owned.values()].filter((o) => !o.ended).map((o) => o.handle.stop().catch(() => undefined)),
    );
  }
}
