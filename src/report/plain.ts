/** Plain progress lines, for logs and anything that is not a terminal (U02). */
import type { Writable } from "node:stream";
import type { Usage } from "../drivers/types.js";
import { answeredWord, answerHint } from "../engine/gate-text.js";
import type { Reporter, RunEvent, RunLimits, RunSummary } from "./events.js";
import { LineSink } from "./sink.js";
import { forTerminalUnder as block, forTerminal, forTerminalLine as one } from "./terminal-text.js";

export const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`);
const num = (n: number) => n.toLocaleString("en-US");
export const tokensOf = (u: Pick<Usage, "input" | "output" | "reasoning">) =>
  u.input + u.output + u.reasoning;

function who(e: { n: number; label?: string }): string {
  return e.label ? `#${e.n} ${one(e.label)}` : `#${e.n}`;
}

/**
 * E03: a run in which agents failed says so first (`2 of 3 agents failed · completed in ...`),
 * so that a run whose script returned in spite of its agents never reads like a success.
 */
export function summaryLine(s: RunSummary, status: string = String(s.status)): string {
  const a = s.agents;
  const parts: string[] = [];
  if (a.failed) {
    const total = Object.values(a).reduce((t, n) => t + (typeof n === "number" && n > 0 ? n : 0), 0);
    parts.push(`${a.failed} of ${total} agent${total === 1 ? "" : "s"} failed`);
  }
  const rejected = typeof s.rejected === "number" && s.rejected > 0 ? s.rejected : 0;
  if (rejected) parts.push(`${rejected} agent() call${rejected === 1 ? "" : "s"} refused for their options`);
  // C09: run.json is a file an agent could have written: its status is shown as text, not obeyed.
  parts.push(`${one(status)}${s.durationMs !== undefined ? ` in ${seconds(s.durationMs)}` : ""}`);
  const done = (a.completed ?? 0) + (a.cached ?? 0);
  parts.push(
    `${done} agent${done === 1 ? "" : "s"} completed${a.cached ? ` (${a.cached} cached, 0 tokens)` : ""}`,
  );
  if (a.stopped) parts.push(`${a.stopped} stopped`);
  if (s.refused.length) parts.push(`${s.refused.length} refused`);
  parts.push(`${num(tokensOf(s.tokens))} tokens`);
  if (s.costUsd) parts.push(`$${s.costUsd.toFixed(4)}`);
  return parts.join(" · ");
}

/**
 * The lines after the summary line (tree and plain alike): the first failures of a failed run,
 * then what to do next. E03: `resume with` only where a resume can change the outcome.
 */
export function nextSteps(runId: string, s: RunSummary, limits?: RunLimits): string[] {
  const out: string[] = [];
  if (s.status === "failed")
    for (const f of s.failures ?? [])
      out.push(`  ✗ #${f.n}${f.label ? ` ${one(f.label)}` : ""}: ${one(lastLine(String(f.error)))}`);
  if (s.status === "completed") return out;
  if (s.status === "budget_exhausted") out.push(...limitHint(runId, s, limits));
  else if (s.status === "waiting")
    out.push(`waiting at a gate: weft approve ${runId} (or weft reject), then weft resume ${runId}`);
  // Files of an older weft have no resumeHelps: a failed run of theirs gets no hint.
  else if (s.resumeHelps ?? s.status !== "failed") out.push(`resume with: weft resume ${runId}`);
  else {
    const kept = (s.agents.completed ?? 0) + (s.agents.cached ?? 0);
    if (kept > 0)
      out.push(
        `a resume replays the same script into the same error: fix the script, then \`weft run <script> --resume ${runId}\` reuses the ${kept} finished agent${kept === 1 ? "" : "s"}`,
      );
  }
  return out;
}

/** The last non-empty line of an error, the one that usually says what went wrong. */
function lastLine(text: string): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines[lines.length - 1]?.trim() ?? text;
}

const LIMIT_FLAGS: Record<string, { flag: string; key: keyof RunLimits }> = {
  budget: { flag: "--budget", key: "budget" },
  maxAgents: { flag: "--max-agents", key: "maxAgents" },
  maxCostUsd: { flag: "--max-cost", key: "maxCostUsd" },
};

/**
 * C06: which limit ended the run (its refusal names the setting: "… (setting budget, flag
 * --budget)") and the resume command with twice that limit.
 */
export function limitHint(runId: string, s: RunSummary, limits?: RunLimits): string[] {
  const reason = s.refused[0]?.reason;
  const generic = `resume with a higher limit: weft resume ${runId} --budget <tokens> / --max-agents <n> / --max-cost <usd>`;
  if (!reason) return [generic];
  const which = LIMIT_FLAGS[/setting (\w+)/.exec(reason)?.[1] ?? ""];
  if (!which) return [`limit reached: ${reason}`, generic];
  const now = limits?.[which.key];
  const higher = typeof now === "number" ? String(now * 2) : "<higher>";
  return [
    `limit reached: ${reason}`,
    `resume with a higher limit: weft resume ${runId} ${which.flag} ${higher}`,
  ];
}

/**
 * Plain lines are for logs, where every line stays: an agent's activity gets a line only once it
 * has worked this long without one (then again each time this long passes), so a slow agent
 * shows what it is doing and does not look hung, while quick agents add nothing.
 */
export const ACTIVITY_EVERY_MS = 30_000;

/**
 * Every field that came from a script, an agent or a file under .weft/ is made safe for a terminal
 * as it goes into its line (C09): one-line fields with their newlines escaped, blocks indented.
 */
export class PlainReporter implements Reporter {
  private readonly lines: LineSink;
  private runId?: string;

  constructor(out: Writable) {
    this.lines = new LineSink(out);
  }

  /**
   * The last guard: a line is checked as a whole too, for what is not a string where it should be
   * (`weft logs` reads events.jsonl, which an agent could have written). No-op on clean lines.
   */
  private readonly sink = { line: (text: string) => this.lines.line(forTerminal(text)) };

  /** When each running agent last had a line (its start or an activity line). */
  private readonly lastLine = new Map<number, number>();
  private limits?: RunLimits;

  event(e: RunEvent): void {
    switch (e.type) {
      case "run.started":
        this.runId = one(String(e.runId));
        this.limits = e.limits;
        this.sink.line(`run ${this.runId}${e.resumed ? " (resumed)" : ""}`);
        break;
      case "phase":
        this.sink.line(`> ${one(e.title)}`);
        break;
      case "log":
        this.sink.line(block("  ", e.message));
        break;
      case "warning":
        this.sink.line(block("! ", e.message));
        break;
      case "agent.started":
        this.lastLine.set(e.n, Date.now());
        this.sink.line(`  start  ${who(e)}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ""}`);
        break;
      case "agent.activity": {
        const now = Date.now();
        const last = this.lastLine.get(e.n);
        if (last === undefined) this.lastLine.set(e.n, now);
        else if (now - last >= ACTIVITY_EVERY_MS) {
          this.lastLine.set(e.n, now);
          this.sink.line(`  doing  ${who(e)}: ${one(e.text)}`);
        }
        break;
      }
      case "agent.retry":
        this.sink.line(block(`  retry  ${who(e)} after attempt ${e.attempt}: `, e.error));
        break;
      case "agent.repair":
        this.sink.line(`  repair ${who(e)}: ${one(e.errors.join("; "))}`);
        break;
      case "agent.finished": {
        this.lastLine.delete(e.n);
        if (e.cached) {
          this.sink.line(`  cached ${who(e)} (0 tokens)`);
          break;
        }
        const word = e.status === "completed" ? "done  " : e.status === "failed" ? "failed" : "stopped";
        const tail = e.error ? `: ${one(e.error.split("\n").slice(-3).join(" | "))}` : "";
        this.sink.line(
          `  ${word} ${who(e)} ${seconds(e.durationMs)} ${num(tokensOf(e.usage))} tokens${tail}`,
        );
        break;
      }
      case "agent.refused":
        this.sink.line(`  refused${e.label ? ` ${one(e.label)}` : ""}: ${one(e.reason)}`);
        break;
      case "gate.waiting": {
        // A14: where to answer it from, when nobody is at this terminal.
        const id = this.runId ?? "<run>";
        this.sink.line(
          `? ${e.checkpoint ? "checkpoint" : "gate"} #${e.n} "${one(e.title)}" waits: ${one(answerHint(id, e.n, e.checkpoint))}`,
        );
        // JSON escapes C0 characters, not DEL, C1 or the bidi controls: `one` takes those.
        if (e.details !== undefined) this.sink.line(`  details: ${one(JSON.stringify(e.details))}`);
        break;
      }
      case "gate.answered":
        this.sink.line(
          `  ${"value" in e ? "checkpoint" : "gate"} #${e.n} "${one(e.title)}" ${one(answeredWord(e))} by ${one(e.by)}${e.reason ? `: ${one(e.reason)}` : ""}${e.replayed ? " (recorded earlier)" : ""}`,
        );
        break;
      case "run.finished": {
        const s = e.summary;
        for (const r of s.refused)
          this.sink.line(`refused${r.label ? ` ${one(r.label)}` : ""}: ${one(r.reason)}`);
        // E01's `<file>:<line>:<col>: <Name>: <message>` stays as it is; only controls change.
        if (e.error) this.sink.line(forTerminal(e.error));
        const ig = s.integration;
        if (ig && "error" in ig) this.sink.line(block("integration refused: ", ig.error));
        else if (ig) {
          this.sink.line(`integrated ${ig.applied.map((a) => `#${a.n}`).join(" ") || "nothing"}`);
          // File names come from the agents' worktrees, and a file name can hold any byte but / and NUL.
          for (const c of ig.conflicts)
            this.sink.line(
              `conflict #${c.n}${c.label ? ` ${one(c.label)}` : ""}: ${c.files.map(one).join(", ")}`,
            );
        }
        this.sink.line(summaryLine(s));
        for (const l of nextSteps(e.runId, s, this.limits)) this.sink.line(l);
        break;
      }
    }
  }

  close(): void {
    this.lines.flush();
  }
}
