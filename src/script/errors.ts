/** A problem in a workflow script, shown as `<path>:<line>:<col>: <Name>: <message>` (SPEC E01). */
export class ScriptError extends Error {
  constructor(
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

/** 1-based line and column of a character offset. */
export function positionOf(source: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = source.indexOf("\n"); i !== -1 && i < offset; i = source.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}
