/**
 * One frame of the tree as lines of coloured segments, from the model's running totals and the
 * few agents it shows: the work is bounded by the terminal's height, never by the run's size.
 * Pure, so that tests read exactly what a person would see.
 */
import { defaults } from "../../config/settings.js";
import { answerHint } from "../../engine/gate-text.js";
import type { RunLimits } from "../events.js";
import { forTerminalLine as one } from "../terminal-text.js";
import { compact, cut, duration, usd } from "./format.js";
import type { AgentRow, PhaseRow, TreeModel } from "./model.js";

export type Color = "green" | "red" | "yellow" | "cyan" | "gray" | "magenta";
export interface Segment {
  text: string;
  color?: Color;
  bold?: boolean;
  dim?: boolean;
}
export type Line = Segment[];

export interface FrameOptions {
  /** Terminal size; the frame stays below `rows` lines so the terminal never scrolls it. */
  rows: number;
  columns: number;
  now: number;
  /** The most agents shown under one phase. */
  perPhase: number;
}

const DEFAULT_MAX_AGENTS = defaults(1).maxAgents;

const STATE_COLOR: Record<string, Color> = {
  starting: "gray",
  running: "cyan",
  waiting: "yellow",
  paused: "yellow",
  completed: "green",
  failed: "red",
  stopped: "yellow",
  budget_exhausted: "yellow",
};

const SYMBOL: Record<AgentRow["state"], Segment> = {
  running: { text: "•", color: "cyan" },
  completed: { text: "✓", color: "green" },
  failed: { text: "✗", color: "red" },
  stopped: { text: "■", color: "yellow" },
  cached: { text: "↺", color: "gray" },
};

export function lineText(line: Line): string {
  return line.map((s) => s.text).join("");
}

/** Cut a line to the terminal's width (a wrapped line would break the frame's height). */
function fitWidth(line: Line, width: number): Line {
  const out: Line = [];
  let left = width;
  for (const s of line) {
    if (left <= 0) break;
    if (s.text.length <= left) {
      out.push(s);
      left -= s.text.length;
    } else {
      out.push({ ...s, text: cut(s.text, left) });
      left = 0;
    }
  }
  return out;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
}

function header(m: TreeModel, now: number): Line[] {
  const t = m.totals;
  const r = m.run;
  // As `weft status` counts: every agent called, queued ones too; a stopped agent is not done
  // (it runs again on resume), it is counted apart.
  const done = t.completed + t.failed + t.cached;
  // From the event stream, which `weft attach` reads from a file: shown, never obeyed (C09).
  const status = one(r.status).replace("_", " ");
  const elapsed = m.finished
    ? (m.finished.summary.durationMs ?? m.finished.at - (r.startedAt ?? m.finished.at))
    : now - (r.startedAt ?? now);
  const counts = [`agents ${done}/${t.agents + t.queued}`];
  if (t.running) counts.push(`${t.running} running`);
  if (t.queued) counts.push(`${t.queued} queued`);
  if (t.failed) counts.push(`${t.failed} failed`);
  if (t.stopped) counts.push(`${t.stopped} stopped`);
  if (t.cached) counts.push(`${t.cached} cached`);
  if (t.refused) counts.push(`${t.refused} refused`);
  const line: Line = [
    { text: status, color: STATE_COLOR[r.status] ?? "gray", bold: true },
    { text: "  " },
    { text: r.name ?? "weft", bold: true },
  ];
  if (r.id) line.push({ text: ` ${r.id}`, dim: true });
  line.push({ text: `  ${counts.join(" · ")}  ${compact(t.tokens)} tokens` });
  if (t.costUsd) line.push({ text: `  ${usd(t.costUsd)}` });
  line.push({ text: `  ${duration(elapsed)}`, dim: true });
  const lines = [line];
  const b = budgetLine(m.run.limits, t.started, t.generated, t.costUsd);
  if (b) lines.push(b);
  const id = r.id ?? "<run>";
  for (const [n, { title, checkpoint }] of [...m.gates].slice(0, 3)) {
    // A14: a checkpoint asking for text or a choice is answered with --answer.
    const hint = checkpoint && checkpoint.kind !== "confirm" ? one(answerHint(id, n, checkpoint)) : undefined;
    lines.push([
      { text: "? ", color: "yellow", bold: true },
      { text: `${checkpoint ? "checkpoint" : "gate"} #${n} "${title}" waits: ` },
      ...(hint
        ? [{ text: hint, bold: true }]
        : [{ text: `weft approve ${id} ${n}`, bold: true }, { text: ` / weft reject ${id} ${n}` }]),
    ]);
  }
  return lines;
}

/** C06: what this execution spent of each limit that was set. */
function budgetLine(
  limits: RunLimits | undefined,
  agents: number,
  tokens: number,
  cost: number,
): Line | undefined {
  if (!limits) return undefined;
  const set = limits.budget !== null || limits.maxCostUsd !== null || limits.maxAgents !== DEFAULT_MAX_AGENTS;
  if (!set) return undefined;
  const part = (text: string, spent: number, limit: number): Segment => ({
    text,
    color: spent >= limit ? "red" : spent >= 0.8 * limit ? "yellow" : undefined,
  });
  const parts: Segment[] = [];
  if (limits.budget !== null)
    // A10: the budget counts generated tokens (output + reasoning), so the line says so.
    parts.push(part(`generated ${compact(tokens)} of ${compact(limits.budget)}`, tokens, limits.budget));
  parts.push(part(`agents ${agents} of ${limits.maxAgents}`, agents, limits.maxAgents));
  if (limits.maxCostUsd !== null)
    parts.push(part(`cost ${usd(cost)} of ${usd(limits.maxCostUsd)}`, cost, limits.maxCostUsd));
  const line: Line = [{ text: "budget  ", dim: true }];
  parts.forEach((p, i) => {
    if (i > 0) line.push({ text: " · ", dim: true });
    line.push(p);
  });
  return line;
}

function phaseCounts(p: PhaseRow): string {
  const parts: string[] = [];
  if (p.running.size) parts.push(`${p.running.size} running`);
  const done = p.completed;
  if (done || parts.length === 0) parts.push(`${done} done`);
  if (p.failed) parts.push(`${p.failed} failed`);
  if (p.stopped) parts.push(`${p.stopped} stopped`);
  if (p.cached) parts.push(`${p.cached} cached`);
  return parts.join(" · ");
}

function phaseLine(p: PhaseRow, live: boolean, now: number): Line {
  const title = p.title || "agents";
  const end = live ? now : (p.lastAt ?? p.firstAt ?? now);
  const sym: Segment = live
    ? { text: "▸", color: "cyan" }
    : p.failed
      ? { text: "✗", color: "red" }
      : p.stopped
        ? { text: "■", color: "yellow" }
        : { text: "✓", color: "green" };
  const line: Line = [sym, { text: ` ${title}`, bold: live }];
  if (p.agents === 0) {
    line.push({ text: "  no agents", dim: true });
    return line;
  }
  line.push({ text: `  ${phaseCounts(p)}  (${plural(p.agents, "agent")})` });
  line.push({ text: `  ${compact(p.tokens)} tokens`, dim: true });
  if (p.costUsd) line.push({ text: `  ${usd(p.costUsd)}`, dim: true });
  if (p.firstAt !== undefined) line.push({ text: `  ${duration(end - p.firstAt)}`, dim: true });
  return line;
}

/** Running agents first (longest running first), then the latest finished, newest first. */
function visibleAgents(p: PhaseRow, max: number): AgentRow[] {
  const out: AgentRow[] = [];
  for (const a of p.running.values()) {
    if (out.length >= max) return out;
    out.push(a);
  }
  for (let i = p.recent.length - 1; i >= 0 && out.length < max; i--) out.push(p.recent[i]!);
  return out;
}

interface Widths {
  n: number;
  name: number;
  model: number;
}

function agentLine(a: AgentRow, w: Widths, now: number): Line {
  const running = a.state === "running";
  const elapsed = running ? now - a.startedAt : (a.durationMs ?? 0);
  const tokens = running ? "" : `${compact(a.tokens)} tok`;
  const line: Line = [
    { text: "  " },
    SYMBOL[a.state],
    { text: ` ${`#${a.n}`.padEnd(w.n)} ` },
    { text: cut(a.name, w.name).padEnd(w.name) },
  ];
  if (w.model) line.push({ text: `  ${cut(a.model ?? "", w.model).padEnd(w.model)}`, color: "magenta" });
  line.push({ text: `  ${tokens.padStart(9)}  ${duration(elapsed).padStart(6)}` });
  let note: Segment | undefined;
  if (a.state === "failed") note = { text: a.error ?? "failed", color: "red" };
  else if (a.state === "cached") note = { text: "cached (0 tokens)", dim: true };
  else if (a.state === "stopped") note = { text: "stopped", color: "yellow" };
  else if (a.activity)
    note = { text: running && a.attempt > 1 ? `attempt ${a.attempt}: ${a.activity}` : a.activity, dim: true };
  else if (running && a.attempt > 1) note = { text: `attempt ${a.attempt}`, dim: true };
  if (note) line.push({ text: "  " }, note);
  return line;
}

export function frame(m: TreeModel, o: FrameOptions): Line[] {
  const ended = m.finished !== undefined;
  const lines = header(m, o.now);
  let room = Math.max(3, o.rows - 1 - lines.length);
  const isLive = (p: PhaseRow) => !ended && (p.running.size > 0 || p === m.current);
  let live = m.phases.filter(isLive);
  const done = m.phases.filter((p) => !isLive(p));
  // Too many phases at once: the latest ones, and the rest as one line.
  let foldedLive = 0;
  if (live.length > room - 1) {
    foldedLive = live.length - (room - 1);
    live = live.slice(foldedLive);
  }
  room -= live.length + (foldedLive ? 1 : 0);
  // Finished phases get one line each, up to a third of the room while agents are shown.
  const doneRoom = live.length === 0 ? room : Math.min(done.length, Math.max(2, Math.floor(room / 3)));
  const foldedDone = done.length > doneRoom ? done.length - Math.max(0, doneRoom - 1) : 0;
  const shownDone = new Set(done.slice(foldedDone));
  room -= shownDone.size + (foldedDone ? 1 : 0);

  const picked = new Map<PhaseRow, { agents: AgentRow[]; more: number; cap: number }>();
  const each = live.length ? Math.max(0, Math.floor(room / live.length)) : 0;
  for (const p of live) {
    const cap = Math.min(o.perPhase, each);
    const fitsAll = p.agents <= cap;
    const agents = visibleAgents(p, fitsAll ? cap : Math.max(0, cap - 1));
    picked.set(p, { agents, more: p.agents - agents.length, cap });
  }
  const shown = [...picked.values()].flatMap((v) => v.agents);
  const w: Widths = {
    n: Math.max(0, ...shown.map((a) => String(a.n).length + 1)),
    name: Math.min(36, Math.max(0, ...shown.map((a) => a.name.length))),
    model: Math.min(24, Math.max(0, ...shown.map((a) => a.model?.length ?? 0))),
  };

  const folded = foldedDone + foldedLive;
  if (folded) {
    const hidden = [...done.slice(0, foldedDone), ...m.phases.filter(isLive).slice(0, foldedLive)];
    const agents = hidden.reduce((s, p) => s + p.agents, 0);
    lines.push([{ text: `… ${plural(folded, "earlier phase")} (${plural(agents, "agent")})`, dim: true }]);
  }
  for (const p of m.phases) {
    const pick = picked.get(p);
    if (pick) {
      lines.push(phaseLine(p, true, o.now));
      for (const a of pick.agents) lines.push(agentLine(a, w, o.now));
      // With no room for agents at all, the phase's counts say it all.
      if (pick.more > 0 && pick.cap > 0) {
        const hiddenRunning = p.running.size - pick.agents.filter((a) => a.state === "running").length;
        lines.push([
          {
            text: `  + ${pick.more.toLocaleString("en-US")} more${hiddenRunning > 0 ? ` (${hiddenRunning} running)` : ""}`,
            dim: true,
          },
        ]);
      }
    } else if (shownDone.has(p)) lines.push(phaseLine(p, false, o.now));
  }
  return lines.map((l) => fitWidth(l, o.columns));
}
