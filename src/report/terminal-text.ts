/**
 * Text that came from a script or an agent, made safe for a terminal (SPEC C09).
 *
 * A label, a log line, a gate title or an agent's output can carry terminal control sequences:
 * an OSC 52 clipboard write (`ESC ] 52 ; c ; … BEL`), a screen clear (`ESC [ 2 J`), a C1 CSI
 * (U+009B) or a bare carriage return that overwrites what weft printed before it. Written raw,
 * the terminal obeys them. Every place weft prints such text to a terminal passes it through
 * `forTerminal` (blocks where a newline is meant: a log line, an error, an agent's result) or
 * `forTerminalLine` (one-line fields: labels, titles, names), *before* weft styles it, so weft's
 * own colours still work. `--json` output and the files under .weft/ keep the exact text.
 *
 * What happens to what:
 * - Whole escape sequences (CSI, the ESC-introduced strings OSC/DCS/SOS/PM/APC when they are
 *   terminated, and two-character ESC sequences) are removed: they are colours and terminal
 *   commands, never words, and an agent's tool output is full of colour codes whose words should
 *   stay readable.
 * - Every other control character (C0, DEL, C1, a lone ESC or an unterminated string's
 *   introducer) is shown as a visible escape (`\x1b`, `\r`, `\x9b`), so a reader sees that
 *   something was there.
 * - Newlines, tabs and CRLF are kept in blocks (CRLF becomes LF); a lone `\r` is escaped there too,
 *   as it is the overwrite trick. In one-line fields newlines and tabs are escaped as well.
 * - Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) are escaped as `\u202e`
 *   etc.: terminals that implement bidi reorder the text after them, so a label can read
 *   differently from what it is ("Trojan Source"). Right-to-left text itself needs none of them
 *   (the bidi algorithm orders it from the letters), so nothing legitimate is lost; the weaker
 *   marks (U+200E, U+200F, U+061C) cannot reorder a run and are left alone.
 *
 * The patterns run in linear time on any input: each repeated class stops at the characters that
 * could start the next attempt, so hostile text cannot make them backtrack.
 */

/** Anything either function changes; the fast path for the common, clean text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/**
 * Complete sequences, removed whole: CSI (`ESC [` or U+009B, parameters, intermediates, a final
 * byte); OSC/DCS/SOS/PM/APC strings (7-bit or C1 introducer) ended by BEL or ST (`ESC \` or
 * U+009C); the other escape sequences (`ESC`, intermediates from space to `/`, a final from `0`
 * to `~`). An introducer with no end is left for the second pass, which shows it.
 */
const SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x90\x98\x9b-\x9f]*(?:\x07|\x1b\\|\x9c)|\x1b[ -/]*(?![[\]PX^_])[0-~]/g;

/** What is left to escape in a block: every control except LF and TAB; CR unless before LF. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const BLOCK_UNSAFE = /\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
/** ... and in a one-line field, LF and TAB too. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const LINE_UNSAFE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function visible(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
}

/**
 * A block of text (newlines and tabs kept) for a terminal. Takes any value: a field read back from
 * a file may not be the string its type says, and is shown as `String(value)`, as a template would.
 */
export function forTerminal(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  if (!UNSAFE.test(text)) return text;
  return text.replace(SEQUENCE, "").replace(BLOCK_UNSAFE, (c) => (c === "\r\n" ? "\n" : visible(c)));
}

/** A one-line field (a label, a title, a name) for a terminal: newlines become `\n`. */
export function forTerminalLine(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  if (!UNSAFE.test(text)) return text;
  return text.replace(SEQUENCE, "").replace(LINE_UNSAFE, visible);
}

/**
 * A block under a prefix ("! " before a warning): its further lines are indented as far as the
 * prefix, so that a script's multi-line log cannot pass for lines of weft's own ("  done   #3").
 */
export function forTerminalUnder(prefix: string, text: unknown): string {
  return `${prefix}${forTerminal(text).replaceAll("\n", `\n${" ".repeat(prefix.length)}`)}`;
}

/** A value shown as pretty JSON: JSON escapes C0, not DEL, C1 or the bidi controls. */
export function jsonForTerminal(value: unknown): string {
  return forTerminal(JSON.stringify(value, null, 2) ?? String(value));
}

/**
 * The run's result on stdout (`weft run`, `weft attach`): exact into a pipe or a file, where it is
 * data (a generated patch keeps its CRs and its escapes); made safe when stdout is a terminal.
 */
export function resultText(result: unknown, out: { isTTY?: boolean }): string {
  const text = typeof result === "string" ? result : (JSON.stringify(result, null, 2) ?? String(result));
  return out.isTTY === true ? forTerminal(text) : text;
}
