/**
 * Turns an error the script threw into the E01 line `<path>:<line>:<col>: <Name>: <message>`,
 * taking the position from the first stack frame inside the script (the vm script is named by
 * the path as given, and types are stripped without moving anything, so positions are the
 * original file's).
 */
export function scriptFrame(displayPath: string, stack: string): { line: number; col: number } | undefined {
  const escaped = displayPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(stack);
  if (!m) return undefined;
  return { line: Number(m[1]), col: Number(m[2]) };
}

export function formatScriptFailure(
  displayPath: string,
  error: { name: string; message: string; stack: string },
): string {
  const at = scriptFrame(displayPath, error.stack);
  const where = at ? `${displayPath}:${at.line}:${at.col}` : displayPath;
  return `${where}: ${error.name}: ${error.message}`;
}
