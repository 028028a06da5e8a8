/** A problem in a workflow script, shown as `<path>:<line>:<col>: <Name>: <message>` (SPEC E01). */
export class ScriptError extends Error {
  constructor(
    /** The path as the user gave it, never resolved: the user must recognise it. */
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = "ScriptError";
  }

  format(): string {
    return `${this.file}:${this.line}:${this.col}: ${this.kind}: ${this.message}`;
  }
}

/**
 * The script file could not be read. It is still a ScriptError (the CLI exits 2 and creates no
 * run), but a line and column into a file that cannot be read would point nowhere.
 */
export class ScriptReadError extends ScriptError {
  constructor(file: string, reason: string) {
    super(file, 1, 1, "ReadError", `cannot read script ${file}: ${reason}`);
  }

  override format(): string {
    return this.message;
  }
}

// The line terminators of ECMAScript (and so of acorn, TypeScript and V8 stack traces): a
// position computed with fewer of them would disagree with the run-time one on such files.
const LINE_BREAK = /\r\n?|[\n\u2028\u2029]/g;

/** 1-based line and column (in UTF-16 units, as V8 and editors count) of a character offset. */
export function positionOf(source: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  LINE_BREAK.lastIndex = 0;
  for (let m = LINE_BREAK.exec(source); m !== null && m.index < offset; m = LINE_BREAK.exec(source)) {
    line++;
    lineStart = m.index + m[0].length;
  }
  return { line, col: offset - lineStart + 1 };
}
