/**
 * Huge values are kept whole once, in the journal (R01, R02): the files beside it (agents/<n>.json,
 * results/<n>.md, final-report.md, the transcript, events.jsonl) keep a bounded excerpt and say
 * where the whole value is. A 50 MB answer was otherwise on disk four times, and a 200 MB result
 * twice in events.jsonl. The script always gets the whole value.
 */
import { join } from "node:path";
import { readJournal } from "./journal.js";

/** Characters of a value the readable copies keep. */
export const EXCERPT_CHARS = 64 * 1024;

/** What a readable copy says in place of the rest of a value. */
export interface Truncation {
  /** Length of the whole value's text (the string, or its JSON), in characters. */
  chars: number;
  /** Characters kept in the excerpt. */
  kept: number;
  /** Where the whole value is. */
  full: string;
}

/** The text a copy shows of a value: a string as it is, anything else as compact JSON. */
const textOf = (value: unknown, json?: string) =>
  typeof value === "string" ? value : (json ?? JSON.stringify(value));

/**
 * `value` as a readable copy keeps it: unchanged when its text is short, else the first
 * EXCERPT_CHARS characters of its text (a string) and a Truncation naming `full`. `json` is the
 * value's JSON when the caller has it already (so a large object is not serialised twice).
 */
export function bounded(
  value: unknown,
  full: string,
  json?: string,
): { value: unknown; truncated?: Truncation } {
  if (value === undefined || value === null) return { value };
  if (typeof value === "string" ? value.length <= EXCERPT_CHARS : typeof value !== "object") return { value };
  const text = textOf(value, json);
  if (text === undefined || text.length <= EXCERPT_CHARS) return { value };
  return {
    value: text.slice(0, EXCERPT_CHARS),
    truncated: { chars: text.length, kept: EXCERPT_CHARS, full },
  };
}

/** Where an agent's whole result is, in words a person can follow. */
export const agentResultPointer = (runId: string, n: number) =>
  `journal.jsonl, the agent.finished record of agent ${n} (weft show ${runId} --agent ${n} prints it)`;

/** Where the run's whole result is. */
export const runResultPointer = (runId: string) =>
  `run.json ("result") and journal.jsonl (the run.finished record); weft show ${runId} --json prints it`;

/** The line a text copy (results/<n>.md, final-report.md) adds under an excerpt. */
export const truncationNote = (t: Truncation) =>
  `(truncated: the first ${t.kept} of ${t.chars} characters are shown; the whole value is in ${t.full})`;

/**
 * The whole result of agent `n`, from the journal (its last agent.finished record), for
 * `weft show --agent` when agents/<n>.json holds an excerpt. Undefined when the journal has none.
 */
export async function wholeAgentResult(runDir: string, n: number): Promise<{ result: unknown } | undefined> {
  const { records } = await readJournal(join(runDir, "journal.jsonl"));
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i];
    if (r?.type === "agent.finished" && r.n === n) return { result: r.result };
  }
  return undefined;
}
