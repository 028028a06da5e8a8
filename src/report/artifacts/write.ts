/**
 * Writes a run directory's human artifacts (U07): plan.md, state.json, packets/<n>.md,
 * results/<n>.md, integration.md and final-report.md, from journal.jsonl and agents/<n>.json.
 *
 * At the end of every execution they are rendered in one pass from a full read of the journal;
 * while it runs only state.json is kept current, on a timer, from the journal's new lines (a tail
 * read, so a 10,000-agent run does not re-read its journal every second). Per-agent files are
 * written synchronously in one loop: promise-based writes cost three thread-pool round trips per
 * file (see store/agent-files.ts).
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { planScript } from "../../plan/analyze.js";
import { renderPlan } from "../../plan/render.js";
import { loadScriptFile } from "../../script/load.js";
import { readJournal } from "../../store/journal.js";
import {
  ensureDir,
  isUnsafePath,
  writeFileAtomicSync,
  writeFileInPlaceSync,
} from "../../store/safe-write.js";
import {
  type AgentRecordFile,
  type IntegrationSummary,
  renderAgentPacket,
  renderFinalReport,
  renderIntegration,
  renderResult,
  renderState,
} from "./render.js";
import { applyRecord, emptyView, type RunView } from "./view.js";

/** Reads the whole journal into a view; a torn last line (kill -9) is skipped. */
export async function readView(runDir: string): Promise<RunView> {
  const { records } = await readJournal(join(runDir, "journal.jsonl"));
  const view = emptyView();
  for (const r of records) applyRecord(view, r);
  return view;
}

/**
 * No artifact is written through a link or hard link an agent planted (safe-write.ts). A refused file is named in `refused` and the others are still written.
 */
function writeText(path: string, text: string, refused: string[], atomic = false): boolean {
  try {
    // state.json is read while the run goes on: a temp file and a rename, never half of one.
    if (atomic) writeFileAtomicSync(path, text, { sync: false });
    else writeFileInPlaceSync(path, text);
    return true;
  } catch (e) {
    if (!isUnsafePath(e)) throw e;
    if (!refused.includes(e.message)) refused.push(e.message);
    return false;
  }
}

function readRecord(runDir: string, n: number): AgentRecordFile | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, "agents", `${n}.json`), "utf8")) as AgentRecordFile;
  } catch {
    return undefined;
  }
}

async function planText(runDir: string, view: RunView): Promise<string> {
  const last = view.executions.at(-1);
  if (!last) return "# Plan\n\nThe journal has no run-start record.\n";
  try {
    const script = await loadScriptFile(join(runDir, last.script), runDir);
    script.displayPath = last.displayPath;
    const args = last.args === undefined ? undefined : JSON.parse(last.args);
    return renderPlan(planScript(script, { args, argsGiven: last.args !== undefined }));
  } catch (e) {
    const err = e as Error & { format?: () => string };
    return `# Plan\n\nThe script copy ${last.script} could not be read for a plan: ${err.format ? err.format() : err.message}\n`;
  }
}

function integrationAtEnd(runDir: string): IntegrationSummary | { error: string } | undefined {
  // The end-of-run integration's conflicts are in run.json only (the journal records what was applied).
  try {
    return JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")).integration;
  } catch {
    return undefined;
  }
}

export interface RenderStats {
  agents: number;
  files: number;
  ms: number;
  /** Files not written because a link was in the way (safe-write.ts), one message each. */
  refused: string[];
}

/**
 * Render every artifact of the run in `runDir` from its journal. With `fresh`, the per-agent files
 * of agents that finished in an earlier execution are kept when they exist (they were rendered
 * from the same records then), so the end of a resume does not rewrite 10,000 unchanged files.
 */
export async function renderArtifacts(runDir: string, opts: { fresh?: boolean } = {}): Promise<RenderStats> {
  const t0 = performance.now();
  const view = await readView(runDir);
  const runId = view.started?.runId ?? runDir.split(/[\\/]/).pop()!;
  const packets = join(runDir, "packets");
  const results = join(runDir, "results");
  const refused: string[] = [];
  for (const d of [packets, results]) {
    try {
      ensureDir(d);
    } catch (e) {
      if (!isUnsafePath(e)) throw e;
      refused.push(e.message);
    }
  }
  let files = 0;
  const current = view.executions.length;
  for (const a of view.agents.values()) {
    if (
      opts.fresh &&
      a.execution !== undefined &&
      a.execution < current &&
      existsSync(join(results, `${a.n}.md`)) &&
      existsSync(join(packets, `${a.n}.md`))
    ) {
      continue;
    }
    if (
      writeText(join(packets, `${a.n}.md`), renderAgentPacket(runId, a, readRecord(runDir, a.n)), refused)
    ) {
      files++;
    }
    if (a.state !== "running" && writeText(join(results, `${a.n}.md`), renderResult(a, runId), refused))
      files++;
  }
  const integration = integrationAtEnd(runDir);
  const write = (name: string, text: string) => {
    if (writeText(join(runDir, name), text, refused)) files++;
  };
  write("plan.md", await planText(runDir, view));
  write("integration.md", renderIntegration(view, integration));
  write("final-report.md", renderFinalReport(view, runId, integration));
  if (
    writeText(join(runDir, "state.json"), renderState(view, runId, new Date().toISOString()), refused, true)
  ) {
    files++;
  }
  return { agents: view.agents.size, files, ms: performance.now() - t0, refused };
}

/**
 * Keeps state.json current while a run goes on: every `intervalMs`, the journal's lines appended
 * since the last look are folded into a view, and state.json is rewritten if anything changed.
 */
export class StateTracker {
  private readonly view = emptyView();
  private offset = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** state.json writes refused while the run went on; reported with the final render's. */
  private readonly refused: string[] = [];

  constructor(
    private readonly runDir: string,
    private readonly runId: string,
    intervalMs = 1000,
  ) {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  private readNew(): boolean {
    let fd: number;
    try {
      fd = openSync(join(this.runDir, "journal.jsonl"), "r");
    } catch {
      return false;
    }
    let changed = false;
    try {
      // Only whole lines are taken (the offset stays at a line start), so a record being written,
      // or a character split at the end of a read, is read again next time.
      let buf = Buffer.alloc(1 << 20);
      for (;;) {
        const got = readSync(fd, buf, 0, buf.length, this.offset);
        if (got === 0) break;
        const end = buf.lastIndexOf(10, got - 1);
        if (end < 0) {
          if (got < buf.length) break;
          buf = Buffer.alloc(buf.length * 2);
          continue;
        }
        this.offset += end + 1;
        for (const line of buf.toString("utf8", 0, end).split("\n")) {
          if (line === "") continue;
          try {
            applyRecord(this.view, JSON.parse(line));
            changed = true;
          } catch {
            // A line the journal reader would call damaged: the final render reports it.
          }
        }
        if (got < buf.length) break;
      }
    } finally {
      closeSync(fd);
    }
    return changed;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      if (this.readNew() || this.offset === 0) {
        writeText(
          join(this.runDir, "state.json"),
          renderState(this.view, this.runId, new Date().toISOString()),
          this.refused,
          true,
        );
      }
    } catch {
      // state.json is a convenience; the journal is the record.
    } finally {
      this.busy = false;
    }
  }

  /** Stop the timer, then render every artifact once from the whole journal. */
  async finish(): Promise<RenderStats> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
    const stats = await renderArtifacts(this.runDir, { fresh: true });
    for (const m of this.refused) if (!stats.refused.includes(m)) stats.refused.push(m);
    return stats;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
