/**
 * The shape of every journal record (SPEC R07), checked as the journal is read. A resume acts on
 * what it reads: it kills the recorded process groups, loads the recorded script, applies the
 * recorded patches and hands recorded results to the script. A damaged record is therefore
 * refused with its line number, never guessed at; records.ts has the TypeScript types these
 * shapes mirror (a test checks that weft's own records pass).
 *
 * Small hand-written checks rather than zod or ajv: importing either costs 70-110 ms of module
 * loading on the development machine, and every `weft resume` (and every run's end-of-run report)
 * reads its journal, on paths that load neither library today. Checking the 20,000 records of a
 * 10,000-agent journal this way takes a few milliseconds.
 *
 * Extra fields are allowed (a record may carry more than a resume needs); an unknown record type
 * is not: a resume cannot tell what it would have meant. A new record type is added here.
 */

/** Undefined when `v` fits; otherwise what was expected, e.g. `a whole number >= 1`. */
type Check = (v: unknown) => string | undefined;

interface Optional {
  optional: Check;
}

type Fields = Record<string, Check | Optional>;

const is =
  (ok: (v: unknown) => boolean, what: string): Check =>
  (v) =>
    ok(v) ? undefined : what;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const string = is((v) => typeof v === "string", "a string");
const bool = is((v) => typeof v === "boolean", "true or false");
const anything: Check = () => undefined;
const count = is((v) => Number.isSafeInteger(v) && (v as number) >= 0, "a whole number >= 0");
const index = is((v) => Number.isSafeInteger(v) && (v as number) >= 1, "a whole number >= 1");
const amount = is((v) => typeof v === "number" && Number.isFinite(v) && v >= 0, "a number >= 0");
const object = is(isObject, "an object");
const matching = (re: RegExp, what: string) => is((v) => typeof v === "string" && re.test(v), what);
const oneOf = (...values: string[]) =>
  is((v) => values.includes(v as string), `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`);
const opt = (c: Check): Optional => ({ optional: c });

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** JSON text, as `args` is stored (A09). */
const jsonText = is((v) => typeof v === "string" && parses(v), "JSON text");

/**
 * The script copy is loaded from the run directory by this name: a bare file name, so that no
 * record can make a resume run a file from anywhere else.
 */
const scriptFile = matching(/^(?!\.\.?$)[^/\\\0]+$/, "a file name inside the run directory");

/** Commits are passed to git: hex only, so a record cannot smuggle in an option. */
const commit = matching(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/, "a commit id (hex)");

/** The only patch path weft records (W02); joined to the run directory by the resume (R04). */
const patchPath = matching(/^patches\/[1-9][0-9]*\.patch$/, 'a path "patches/<n>.patch"');

/** R02: never a group <= 1 (kill(-1) reaches every process of the user; 0 is weft's own group). */
const pgid = is((v) => Number.isSafeInteger(v) && (v as number) > 1, "a process group id > 1");

function listOf(item: Check, what: string): Check {
  return (v) => {
    if (!Array.isArray(v)) return `a list of ${what}`;
    for (let i = 0; i < v.length; i++) {
      const bad = item(v[i]);
      if (bad) return `a list of ${what} (item ${i + 1}: ${bad})`;
    }
    return undefined;
  };
}

/** R03: writer numbers, bounded so that numbering on after the largest stays exact. */
const MAX_WRITER = 2 ** 40;
const writerNo = is(
  (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_WRITER,
  `a writer number (1 to ${MAX_WRITER})`,
);

/** R03: the writers a call recorded, as ranges [a, b] of writer numbers with a <= b. */
const writerRanges = listOf(
  is(
    (v) =>
      Array.isArray(v) &&
      v.length === 2 &&
      writerNo(v[0]) === undefined &&
      writerNo(v[1]) === undefined &&
      (v[0] as number) <= (v[1] as number),
    "a range [first, last] of writer numbers",
  ),
  "ranges of writer numbers",
);

/** A problem with a field, as `"usage.input" should be a number >= 0, not "x"`. */
class FieldProblem {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly value: unknown,
  ) {}

  toString(): string {
    if (this.value === undefined) return `"${this.path}" is missing (it should be ${this.expected})`;
    return `"${this.path}" should be ${this.expected}, not ${shown(this.value)}`;
  }
}

function shown(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function checkFields(fields: Fields, v: Record<string, unknown>, prefix: string): FieldProblem | undefined {
  for (const name in fields) {
    const spec = fields[name]!;
    const value = Object.hasOwn(v, name) ? v[name] : undefined;
    const optional = typeof spec !== "function";
    if (value === undefined && optional) continue;
    const check = optional ? spec.optional : spec;
    const bad = check(value);
    if (bad) return new FieldProblem(`${prefix}${name}`, bad, value);
    const nested = nestedShapes.get(check);
    if (nested) {
      const inner = checkFields(nested, value as Record<string, unknown>, `${prefix}${name}.`);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Objects with fields of their own: the problem names the inner field. */
const nestedShapes = new Map<Check, Fields>();
function shape(fields: Fields): Check {
  const c: Check = (v) => (isObject(v) ? undefined : "an object");
  nestedShapes.set(c, fields);
  return c;
}

const usage = shape({
  input: amount,
  output: amount,
  cached: amount,
  reasoning: amount,
  costUsd: opt(amount),
});

const changedFile = shape({ status: string, path: string });

const runStatus = oneOf("running", "waiting", "paused", "completed", "failed", "stopped", "budget_exhausted");

const started: Fields = {
  runId: matching(/^[a-z0-9][a-z0-9._-]*$/, "a run id (R01)"),
  name: string,
  at: string,
  script: scriptFile,
  displayPath: string,
  args: opt(jsonText),
  settings: object,
  cwd: string,
  base: opt(commit),
  forkedFrom: opt(
    shape({
      run: string,
      from: opt(index),
      rerun: opt(listOf(index, "agent numbers")),
    }),
  ),
};

/** One entry per record type; the fields each must have. */
const RECORDS: Record<string, Fields> = {
  "run.started": started,
  "run.resumed": {
    at: string,
    script: scriptFile,
    displayPath: string,
    args: opt(jsonText),
    settings: object,
  },
  "agent.started": { n: index, key: string, attempt: index, at: string },
  "agent.spawned": {
    n: index,
    attempt: index,
    pgid,
    startTime: opt(matching(/^\d+$/, "a process start time (clock ticks)")),
  },
  "agent.finished": {
    n: index,
    key: string,
    status: oneOf("completed", "failed", "stopped"),
    result: opt(anything),
    error: opt(string),
    fatal: opt(bool),
    usage,
    model: opt(string),
    sessionId: opt(string),
    attempts: count,
    label: opt(string),
    phase: opt(string),
    driver: string,
    startedAt: string,
    durationMs: amount,
    worktree: opt(
      shape({
        // Branch names are passed to git: never one that reads as an option.
        branch: matching(/^weft\/[^\s]+$/, 'a branch "weft/<run>/<n>"'),
        start: commit,
      }),
    ),
    patch: opt(patchPath),
    files: opt(listOf(changedFile, "changed files")),
    // R03. Journals written before the writer rule have neither: their calls recorded no writer.
    writer: opt(writerNo),
    after: opt(writerRanges),
  },
  "agent.refused": { label: opt(string), reason: string, at: string },
  integrated: { n: index, writer: opt(writerNo) },
  phase: { title: string },
  log: { message: string, level: oneOf("info", "warn") },
  "run.finished": { status: runStatus, result: opt(anything), error: opt(string), at: string },
  "gate.waiting": {
    gate: index,
    title: string,
    details: opt(anything),
    hash: string,
    at: string,
    // A14: a checkpoint() rather than a gate(): its kind, choices, default, headless, timeoutMs.
    checkpoint: opt(object),
  },
  "gate.answered": {
    gate: index,
    title: string,
    hash: string,
    approved: bool,
    by: string,
    at: string,
    reason: opt(string),
    msg: opt(string),
    // A14: what a checkpoint() resolved to (any JSON value).
    checkpoint: opt(bool),
    value: opt(anything),
  },
  "gate.refused": { msg: string, reason: string, at: string },
  control: {
    msg: string,
    from: string,
    sentAt: string,
    at: string,
    request: shape({ type: string }),
    ok: bool,
    outcome: string,
  },
};

/** The record types a journal may hold. */
export const RECORD_TYPES: readonly string[] = Object.keys(RECORDS);

/**
 * What is wrong with a parsed journal line, in words, or undefined when it is a well-formed
 * record: `agent.finished: "n" should be a whole number >= 1, not "x"`.
 */
export function checkRecord(r: unknown): string | undefined {
  if (!isObject(r)) return `not a record (an object with a "type"), but ${shown(r)}`;
  const type = r.type;
  if (typeof type !== "string") return `a record without a "type" (${shown(r)})`;
  const fields = Object.hasOwn(RECORDS, type) ? RECORDS[type] : undefined;
  if (!fields) return `unknown record type ${shown(type)}`;
  const problem = checkFields(fields, r, "");
  return problem ? `${type}: ${problem}` : undefined;
}
