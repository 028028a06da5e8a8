/**
 * Two executions side by side, call by call (U08): what an edit re-ran, what a fork or a resume
 * saved. An execution's calls come from its part of events.jsonl (which, unlike the journal, says
 * which agents were served from the cache); keys and results come from the journal. Calls are
 * matched by cache key first, then by label.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { runDirOf } from "./data.js";

export interface CallSide {
  n: number;
  label?: string;
  phase?: string;
  status: string;
  cached: boolean;
  tokens: number;
  costUsd?: number;
  durationMs?: number;
  result?: string;
}

export interface CallRow {
  /** Of the second side against the first. */
  change: "cached" | "re-run" | "new" | "gone";
  matchedBy?: "key" | "label";
  a?: CallSide;
  b?: CallSide;
}

export interface Execution {
  run: string;
  /** 1-based, in the order the run's executions started. */
  index: number;
  startedAt?: string;
  resumed: boolean;
}

export interface Comparison {
  a: Execution;
  b: Execution;
  rows: CallRow[];
  totals: Record<CallRow["change"], number>;
}

interface ExecCalls {
  exec: Execution;
  calls: (CallSide & { key?: string })[];
}

const RESULT_CHARS = 2_000;

function lines(text: string): unknown[] {
  const out: unknown[] = [];
  for (const l of text.split("\n")) {
    if (!l) continue;
    try {
      out.push(JSON.parse(l));
    } catch {
      // A torn last line (the run is writing) or a damaged one: not a call.
    }
  }
  return out;
}

function excerpt(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > RESULT_CHARS ? `${s.slice(0, RESULT_CHARS)}…` : s;
}

/** Every execution of a run with its calls. */
export async function executionsOf(cwd: string, run: string): Promise<ExecCalls[]> {
  const dir = runDirOf(cwd, run);
  const [events, journal] = await Promise.all([
    readFile(join(dir, "events.jsonl"), "utf8").catch(() => ""),
    readFile(join(dir, "journal.jsonl"), "utf8").catch(() => ""),
  ]);
  // The journal's latest word on each agent number: its key and result.
  const byN = new Map<number, { key?: string; result?: unknown }>();
  for (const r of lines(journal) as Record<string, unknown>[]) {
    if (!r || typeof r !== "object" || typeof r.n !== "number") continue;
    if (r.type === "agent.started" || r.type === "agent.finished") {
      const cur = byN.get(r.n) ?? {};
      if (typeof r.key === "string" && r.key) cur.key = r.key;
      if (r.type === "agent.finished") cur.result = r.result;
      byN.set(r.n, cur);
    }
  }
  const out: ExecCalls[] = [];
  let cur: ExecCalls | undefined;
  for (const e of lines(events) as Record<string, unknown>[]) {
    if (!e || typeof e !== "object") continue;
    if (e.type === "run.started") {
      cur = {
        exec: {
          run,
          index: out.length + 1,
          startedAt: e.at as string | undefined,
          resumed: e.resumed === true,
        },
        calls: [],
      };
      out.push(cur);
      continue;
    }
    if (!cur || e.type !== "agent.finished" || typeof e.n !== "number") continue;
    const usage = (e.usage ?? {}) as Record<string, number>;
    const known = byN.get(e.n);
    cur.calls.push({
      n: e.n,
      label: e.label as string | undefined,
      phase: e.phase as string | undefined,
      status: e.cached === true ? "cached" : String(e.status),
      cached: e.cached === true,
      tokens: (usage.input ?? 0) + (usage.output ?? 0) + (usage.reasoning ?? 0),
      costUsd: usage.costUsd,
      durationMs: e.durationMs as number | undefined,
      result: excerpt(known?.result),
      key: known?.key,
    });
  }
  return out;
}

/** `execA`/`execB`: 1-based execution numbers; default the last of each run (or the two last of one run). */
export async function compareRuns(
  cwd: string,
  runA: string,
  runB: string,
  execA?: number,
  execB?: number,
): Promise<Comparison> {
  const ea = await executionsOf(cwd, runA);
  const eb = runA === runB ? ea : await executionsOf(cwd, runB);
  const pick = (list: ExecCalls[], i: number | undefined, fallback: number) => {
    const x = list[(i ?? fallback) - 1];
    if (!x) throw new CompareError(`no execution ${i ?? fallback} in run ${list[0]?.exec.run ?? "?"}`);
    return x;
  };
  const b = pick(eb, execB, eb.length);
  const a = pick(ea, execA, runA === runB ? Math.max(1, eb.length - 1) : ea.length);
  return { a: a.exec, b: b.exec, ...matchCalls(a.calls, b.calls) };
}

export class CompareError extends Error {}

export function matchCalls(
  a: (CallSide & { key?: string })[],
  b: (CallSide & { key?: string })[],
): { rows: CallRow[]; totals: Comparison["totals"] } {
  const rows: CallRow[] = [];
  const taken = new Set<number>();
  const byKey = new Map<string, number[]>();
  const byLabel = new Map<string, number[]>();
  a.forEach((c, i) => {
    if (c.key) byKey.set(c.key, [...(byKey.get(c.key) ?? []), i]);
    if (c.label !== undefined) byLabel.set(c.label, [...(byLabel.get(c.label) ?? []), i]);
  });
  const take = (m: Map<string, number[]>, k: string | undefined) => {
    if (k === undefined) return undefined;
    const i = m.get(k)?.find((j) => !taken.has(j));
    if (i !== undefined) taken.add(i);
    return i;
  };
  const strip = ({ key: _k, ...c }: CallSide & { key?: string }): CallSide => c;
  const pending: (CallSide & { key?: string })[] = [];
  for (const c of b) {
    const i = take(byKey, c.key);
    if (i === undefined) {
      pending.push(c);
      continue;
    }
    rows.push({ change: c.cached ? "cached" : "re-run", matchedBy: "key", a: strip(a[i]!), b: strip(c) });
  }
  // A call whose key changed (an edited prompt) is still "the same call" when its label is.
  for (const c of pending) {
    const i = take(byLabel, c.label);
    if (i === undefined) rows.push({ change: "new", b: strip(c) });
    else
      rows.push({ change: c.cached ? "cached" : "re-run", matchedBy: "label", a: strip(a[i]!), b: strip(c) });
  }
  a.forEach((c, i) => {
    if (!taken.has(i)) rows.push({ change: "gone", a: strip(c) });
  });
  rows.sort((x, y) => (x.b?.n ?? x.a?.n ?? 0) - (y.b?.n ?? y.a?.n ?? 0));
  const totals = { cached: 0, "re-run": 0, new: 0, gone: 0 };
  for (const r of rows) totals[r.change]++;
  return { rows, totals };
}
