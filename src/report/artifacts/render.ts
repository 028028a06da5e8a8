/** The human artifacts of a run directory (U07), as text, from a RunView and agent records. */
import { type PacketData, renderPacket } from "../../plan/packet.js";
import { agentResultPointer, bounded, runResultPointer, truncationNote } from "../../store/excerpt.js";
import { type AgentView, countStates, type RunView, statusOf, totalUsage, waitingGates } from "./view.js";

/** agents/<n>.json as the engine writes it; read only for what the journal does not hold. */
export interface AgentRecordFile {
  prompt?: string;
  options?: Record<string, unknown>;
  schema?: unknown;
  verify?: { attempt: number; ok: boolean; command: string; exitCode: number | null; output: string }[];
}

const num = (n: number) => n.toLocaleString("en-US");
const usd = (n: number) => `$${n.toFixed(4)}`;
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s+/g, " ");
const fence = (text: string, lang = "") => {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = "`".repeat(longest + 1);
  return `${f}${lang}\n${text}\n${f}`;
};
const shownResult = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));

/**
 * A result as a text copy shows it: whole when short; otherwise an excerpt and where the whole
 * value is (the journal keeps it; issue 15: no file beside it holds a second full copy).
 */
function resultBlock(v: unknown, full: string): string[] {
  const cut = bounded(v, full);
  if (!cut.truncated) return [fence(shownResult(v), typeof v === "string" ? "" : "json")];
  return [fence(cut.value as string), "", truncationNote(cut.truncated)];
}

export function renderState(view: RunView, runId: string, at: string): string {
  const u = totalUsage(view);
  const state = {
    runId,
    name: view.started?.name,
    status: statusOf(view),
    /** Whether a run.finished record ends the last execution. */
    ended: view.finished !== undefined,
    phase: view.phase ?? null,
    agents: countStates(view),
    refused: view.refused.length,
    tokens: { input: u.input, output: u.output, cached: u.cached, reasoning: u.reasoning },
    costUsd: u.costUsd,
    gate: waitingGates(view)[0] ?? null,
    gatesWaiting: waitingGates(view).length,
    executions: view.executions.length,
    renderedAt: at,
    source: "journal.jsonl",
  };
  return `${JSON.stringify(state, null, 2)}\n`;
}

function agentStatus(a: AgentView): string {
  if (a.state === "running") return "running";
  if (a.supersededBy !== undefined) {
    const what = a.interrupted && !a.finished ? "unfinished" : (a.finished?.status ?? a.state);
    return `${what}, superseded by agent ${a.supersededBy} (the same call, run again)`;
  }
  if (a.interrupted && !a.finished) return "unfinished (its execution ended before it did)";
  return a.finished?.status ?? a.state;
}

export function renderResult(a: AgentView, runId: string): string {
  const f = a.finished;
  const out = [`# Agent ${a.n}${f?.label ? `: ${f.label}` : ""}`, "", `- status: ${agentStatus(a)}`];
  if (f) {
    if (f.phase) out.push(`- phase: ${f.phase}`);
    out.push(`- driver: ${f.driver}`, `- model: ${f.model ?? "not reported"}`);
    out.push(
      `- attempts: ${f.attempts}`,
      `- started: ${f.startedAt}`,
      `- duration: ${(f.durationMs / 1000).toFixed(1)} s`,
    );
    const u = f.usage;
    out.push(
      `- usage: ${num(u.input)} in, ${num(u.output)} out, ${num(u.cached)} cached, ${num(u.reasoning)} reasoning${u.costUsd !== undefined ? `, ${usd(u.costUsd)}` : ""}`,
    );
    if (f.sessionId) out.push(`- session: ${f.sessionId}`);
    if (f.worktree)
      out.push(`- worktree branch: ${f.worktree.branch} (from ${f.worktree.start.slice(0, 12)})`);
    if (f.patch) {
      out.push(`- patch: ${f.patch} (${f.files?.length ?? 0} file(s))`);
      for (const file of f.files ?? []) out.push(`  - ${file.status} ${file.path}`);
    } else if (f.worktree) out.push("- patch: none (no change)");
    if (f.error) out.push("", "## Error", "", fence(f.error));
    if (f.status === "completed")
      out.push("", "## Result", "", ...resultBlock(f.result ?? null, agentResultPointer(runId, a.n)));
  } else out.push(`- attempts started: ${a.started}`);
  return `${out.join("\n")}\n`;
}

export function renderAgentPacket(runId: string, a: AgentView, rec: AgentRecordFile | undefined): string {
  const f = a.finished;
  const o = rec?.options ?? {};
  const context: [string, string][] = [];
  if (f?.phase) context.push(["phase", f.phase]);
  if (f?.label) context.push(["label", f.label]);
  if (f) context.push(["driver", f.driver]);
  for (const k of ["model", "effort", "agentType", "timeoutMs", "retries", "repairs"]) {
    if (o[k] !== undefined) context.push([k, String(o[k])]);
  }
  if (!rec)
    context.push(["note", "no agent record on disk (agents/<n>.json): the prompt and options are unknown"]);
  const data: PacketData = {
    title: `Packet ${a.n}${f?.label ? `: ${f.label}` : ""}`,
    origin: `agent ${a.n} of run ${runId}`,
    objective: rec?.prompt ?? "(not recorded)",
    context,
    isolation: o.isolation as string | undefined,
    writes: o.writes as string[] | undefined,
    permissions: o.permissions as string | undefined,
    schema: rec?.schema,
    verify: o.verify as string[] | string | undefined,
  };
  let text = renderPacket(data);
  if (rec?.verify?.length) {
    text += `\nChecks run: ${rec.verify.map((v) => `attempt ${v.attempt} ${v.ok ? "passed" : `failed (exit ${v.exitCode})`}`).join(", ")}\n`;
  }
  return text;
}

export interface IntegrationSummary {
  applied: { n: number; label?: string; files: string[] }[];
  conflicts: { n: number; label?: string; files: string[]; error: string }[];
}

export function renderIntegration(
  view: RunView,
  atEnd: IntegrationSummary | { error: string } | undefined,
): string {
  const out = ["# Integration", ""];
  const withPatch = [...view.agents.values()].filter((a) => a.finished?.patch);
  if (withPatch.length === 0 && view.integrated.length === 0) {
    out.push("No worktree agent changed anything: nothing to integrate.");
    return `${out.join("\n")}\n`;
  }
  const applied = new Set(view.integrated);
  out.push(
    "## Applied to the working tree",
    "",
    "(from the journal's `integrated` records, in the order applied)",
    "",
  );
  if (applied.size === 0) out.push("(none)");
  for (const n of view.integrated) {
    const f = view.agents.get(n)?.finished;
    out.push(
      `- agent ${n}${f?.label ? ` (${f.label})` : ""}: ${(f?.files ?? []).map((x) => `${x.status} ${x.path}`).join(", ") || "(files not recorded)"}`,
    );
  }
  if (atEnd && "error" in atEnd) out.push("", `The end-of-run integration was refused: ${atEnd.error}`);
  if (atEnd && "conflicts" in atEnd && atEnd.conflicts.length > 0) {
    out.push("", "## Conflicts (end-of-run integration, from run.json)", "");
    for (const c of atEnd.conflicts)
      out.push(`- agent ${c.n}${c.label ? ` (${c.label})` : ""}: ${c.files.join(", ")}: ${c.error}`);
  }
  const left = withPatch.filter((a) => !applied.has(a.n));
  if (left.length > 0) {
    out.push("", "## Patches not applied", "");
    out.push(
      "Kept in the run directory. An agent that failed (for instance outside its write scope) is never applied; the others were conflicted or not asked for (`integrate()` returns its conflicts to the script).",
      "",
    );
    for (const a of left) {
      const f = a.finished!;
      out.push(
        `- agent ${a.n}${f.label ? ` (${f.label})` : ""}, ${f.status}: ${f.patch}: ${(f.files ?? []).map((x) => x.path).join(", ")}`,
      );
    }
  }
  return `${out.join("\n")}\n`;
}

export function renderFinalReport(
  view: RunView,
  runId: string,
  integration: IntegrationSummary | { error: string } | undefined,
): string {
  const status = statusOf(view);
  const u = totalUsage(view);
  const agents = [...view.agents.values()].sort((a, b) => a.n - b.n);
  // An agent a later execution ran again (the same call) is not a failure of this run: its rerun
  // stands for it, and is listed itself if it failed too.
  const failed = agents.filter(
    (a) => a.supersededBy === undefined && (a.state === "failed" || (a.interrupted && !a.finished)),
  );
  const out = [`# Final report: ${runId}`, ""];
  const last = view.executions.at(-1);
  out.push(`- workflow: ${view.started?.name ?? "?"} (${last?.displayPath ?? "?"})`);
  out.push(
    view.finished
      ? `- outcome: **${status}** at ${view.finished.at}`
      : "- outcome: **no end recorded**: the last execution has no run.finished record (it is still running, or its process died: `weft resume` continues it)",
  );
  out.push(`- executions: ${view.executions.map((e) => `${e.kind} ${e.at}`).join(", ")}`);
  const c = countStates(view);
  out.push(
    `- agents: ${agents.length} (${
      Object.entries(c)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ") || "none"
    })`,
  );
  out.push(
    `- tokens: ${num(u.input)} in, ${num(u.output)} out, ${num(u.cached)} cached, ${num(u.reasoning)} reasoning; cost ${usd(u.costUsd)} (as the backends reported it)`,
  );
  if (view.finished?.error) out.push("", "## Error", "", fence(view.finished.error));
  if (failed.length > 0) {
    out.push("", `## Failures (${failed.length})`, "");
    for (const a of failed) {
      const f = a.finished;
      out.push(
        `- agent ${a.n}${f?.label ? ` (${f.label})` : ""}: ${f?.error ? cell(f.error) : agentStatus(a)}`,
      );
    }
  }
  if (view.refused.length > 0) {
    out.push("", `## Refused calls (${view.refused.length})`, "");
    for (const r of view.refused) out.push(`- ${r.label ? `${r.label}: ` : ""}${r.reason}`);
  }
  const waiting = waitingGates(view);
  if (waiting.length > 0 || view.gates.answers.size > 0) {
    out.push("", "## Gates", "");
    for (const w of waiting)
      out.push(
        `- waiting since ${w.since}: ${w.title} (answer with \`weft approve ${runId}\` or \`weft reject ${runId}\`)`,
      );
    for (const a of view.gates.answers.values()) {
      out.push(
        `- ${a.approved ? "approved" : "rejected"} by ${a.by} at ${a.at}: ${a.title}${a.reason ? ` (${a.reason})` : ""}`,
      );
    }
  }
  if (view.warnings.length > 0) {
    out.push("", "## Warnings", "");
    for (const w of view.warnings.slice(0, 50)) out.push(`- ${cell(w)}`);
    if (view.warnings.length > 50) out.push(`- … and ${view.warnings.length - 50} more in journal.jsonl`);
  }
  if (view.finished && "result" in view.finished && view.finished.result !== undefined) {
    out.push("", "## Result", "", ...resultBlock(view.finished.result, runResultPointer(runId)));
  }
  if (integration || view.integrated.length > 0) {
    out.push("", "## Integration", "", `${view.integrated.length} patch(es) applied; see integration.md.`);
  }
  out.push(
    "",
    "## Agents",
    "",
    "| n | label | phase | status | model | attempts | tokens in/out | cost | time |",
    "|---|---|---|---|---|---|---|---|---|",
  );
  for (const a of agents) {
    const f = a.finished;
    out.push(
      `| ${a.n} | ${cell(f?.label ?? "")} | ${cell(f?.phase ?? "")} | ${agentStatus(a)} | ${cell(f?.model ?? "")} | ${f?.attempts ?? a.started} | ${f ? `${num(f.usage.input)}/${num(f.usage.output)}` : ""} | ${f?.usage.costUsd !== undefined ? usd(f.usage.costUsd) : ""} | ${f ? `${(f.durationMs / 1000).toFixed(1)} s` : ""} |`,
    );
  }
  out.push("", "Rendered from journal.jsonl and agents/<n>.json; `weft report <run>` renders it again.");
  return `${out.join("\n")}\n`;
}
