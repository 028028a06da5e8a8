/**
 * Forking a run (SPEC R08): a new run (new id and directory) of the source run's script copy,
 * args and stored settings, whose cache holds some of the source's finished agents: those
 * numbered below `from`, or, with `rerun`, all but the named ones. Their records, files and
 * worktree patches come along (R04: a cached worktree agent's patch stands for it), so those calls
 * resolve from the cache and the rest run again.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { AgentFinishedRecord, ForkedFrom, JournalRecord } from "../engine/records.js";
import { ensureRunsDir, findRun } from "../store/files.js";
import { readJournal } from "../store/journal.js";
import { copyFileSafe, ensureDir, isUnsafePath } from "../store/safe-write.js";
import { NothingToResumeError, UsageError } from "./errors.js";
import { type ResumeOptions, type RunHandle, startSeeded, type WorkflowResult } from "./run-workflow.js";

export interface ForkOptions extends ResumeOptions {
  /** Reuse the source's finished agents numbered below this one (a number or a label). */
  from?: number | string;
  /** Reuse every finished agent except these (numbers or labels). */
  rerun?: (number | string)[];
}

/** An agent named by number or label, among the source's recorded agents. */
function resolveAgent(which: number | string, finished: AgentFinishedRecord[], runId: string): number {
  const asNumber =
    typeof which === "number" ? which : /^#?\d+$/.test(which) ? Number(which.replace("#", "")) : undefined;
  if (asNumber !== undefined) {
    if (finished.some((r) => r.n === asNumber)) return asNumber;
    throw new UsageError(`run ${runId} has no finished agent #${asNumber}`);
  }
  const named = finished.filter((r) => r.label === which).map((r) => r.n);
  if (named.length === 0) {
    const labels = [...new Set(finished.map((r) => r.label).filter(Boolean))].slice(0, 10);
    throw new UsageError(
      `run ${runId} has no agent labelled "${which}"${labels.length ? ` (labels: ${labels.join(", ")})` : ""}; name an agent by number or label`,
    );
  }
  return Math.min(...named);
}

/** Start the fork; `handle.done` resolves when it ends. */
export async function startFork(runId: string, opts: ForkOptions): Promise<RunHandle> {
  const cwd = opts.cwd ?? process.cwd();
  if ((opts.from === undefined) === (opts.rerun === undefined || opts.rerun.length === 0)) {
    throw new UsageError("weft fork: give --from <agent> or --rerun <agent> (repeatable), not both");
  }
  const weftDir = await ensureRunsDir(cwd);
  const source = await findRun(weftDir, runId);
  if (!source)
    throw new NothingToResumeError(`nothing to fork: no run "${runId}" in ${join(weftDir, "runs")}`);
  let records: JournalRecord[];
  try {
    records = (await readJournal(join(source, "journal.jsonl"))).records as JournalRecord[];
  } catch (e) {
    // R07: a damaged journal is reported as such (with its line), not as a run without a start.
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    records = [];
  }
  const started = records.find((r) => r.type === "run.started");
  if (!started) throw new NothingToResumeError(`nothing to fork: run "${runId}" has no run-start record`);
  let last: Extract<JournalRecord, { type: "run.started" | "run.resumed" }> = started;
  const finished = new Map<number, AgentFinishedRecord>();
  /** Integrated agents, with the writer number of their integration (R03), when recorded. */
  const integrated = new Map<number, number | undefined>();
  for (const r of records) {
    if (r.type === "run.resumed") last = r;
    else if (r.type === "agent.finished") finished.set(r.n, r);
    else if (r.type === "integrated") integrated.set(r.n, r.writer);
  }
  const all = [...finished.values()];
  let keep: (r: AgentFinishedRecord) => boolean;
  let forkedFrom: ForkedFrom;
  if (opts.from !== undefined) {
    const from = resolveAgent(opts.from, all, runId);
    keep = (r) => r.n < from;
    forkedFrom = { run: started.runId, from };
  } else {
    const rerun = [...new Set(opts.rerun!.map((w) => resolveAgent(w, all, runId)))].sort((a, b) => a - b);
    keep = (r) => !rerun.includes(r.n);
    forkedFrom = { run: started.runId, rerun };
  }
  const kept = all.filter((r) => r.status === "completed" && keep(r)).sort((a, b) => a.n - b.n);
  const seed: JournalRecord[] = [...kept];
  for (const r of kept) {
    if (!integrated.has(r.n)) continue;
    const writer = integrated.get(r.n);
    seed.push(writer === undefined ? { type: "integrated", n: r.n } : { type: "integrated", n: r.n, writer });
  }
  return startSeeded(
    {
      name: started.name,
      scriptPath: join(source, last.script),
      displayPath: last.displayPath,
      argsJson: last.args,
      settings: last.settings,
      base: started.base,
      records: seed,
      forkedFrom,
      copy: async (runDir) => {
        const copies: [string, string][] = [];
        for (const r of kept) {
          copies.push([join("agents", `${r.n}.json`), join("agents", `${r.n}.json`)]);
          copies.push([join("transcripts", `${r.n}.jsonl`), join("transcripts", `${r.n}.jsonl`)]);
          if (r.patch) copies.push([r.patch, r.patch]);
        }
        // A11: the nested workflows' copies, replayed as the source ran them.
        const nested = await readdir(join(source, "workflows")).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== "ENOENT") throw e;
          return [] as string[];
        });
        if (nested.length > 0) ensureDir(join(runDir, "workflows"));
        for (const name of nested) copies.push([join("workflows", name), join("workflows", name)]);
        for (const [from, to] of copies) {
          try {
            // Not through a link in either run (safe-write.ts): a link planted in the source is refused.
            copyFileSafe(join(source, from), join(runDir, to));
          } catch (e) {
            // A patch is what stands for a cached worktree agent (R04), and a nested workflow's
            // copy is what a replay runs: they must come along. Agent records and transcripts are
            // readable copies of what the seeded journal holds.
            const needed = from.startsWith("patches") || from.startsWith("workflows");
            if (needed || ((e as NodeJS.ErrnoException).code !== "ENOENT" && !isUnsafePath(e))) throw e;
          }
        }
      },
    },
    opts,
  );
}

/** Fork and run to the end. */
export async function forkRun(runId: string, opts: ForkOptions): Promise<WorkflowResult> {
  return (await startFork(runId, opts)).done;
}
