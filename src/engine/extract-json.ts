/**
 * The JSON object in an agent's text (SPEC D09 "result" row): "the first of these that parses as
 * a JSON object: the whole output, the last fenced code block, the last balanced `{...}`". Used
 * for every backend without native structured output (D06). Only plain objects count: a schema
 * root is always an object (A03), so an array or a number is "no JSON object" and goes to repair.
 */
export type Extracted = { ok: true; value: Record<string, unknown> } | { ok: false };

const NONE: Extracted = { ok: false };

export function extractJsonObject(text: string): Extracted {
  const whole = parseObject(text.trim());
  if (whole.ok) return whole;
  const fenced = lastFencedBlock(text);
  if (fenced !== undefined) {
    const found = parseObject(fenced.trim());
    if (found.ok) return found;
  }
  return lastBalancedObject(text);
}

function parseObject(text: string): Extracted {
  // Anything that is not an object fails here without paying for JSON.parse on a megabyte of prose.
  if (text.charCodeAt(0) !== OPEN) return NONE;
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return { ok: true, value: value as Record<string, unknown> };
    }
  } catch {
    // Not JSON: the caller moves on to the next rule.
  }
  return NONE;
}

/**
 * Content of the last fenced code block, read line by line as CommonMark does: an opening line of
 * three or more backticks (or tildes) with an optional info string such as `json`, up to a line
 * holding only a fence of the same character at least as long. A block left open runs to the end
 * of the text, so an answer cut off after its JSON still counts. One pass over the text.
 */
function lastFencedBlock(text: string): string | undefined {
  let last: string | undefined;
  let fence: { char: string; length: number; contentStart: number } | undefined;
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const line = text.slice(lineStart, lineEnd).replace(/\r$/, "");
    if (fence) {
      const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(line);
      if (close?.[1]?.[0] === fence.char && close[1].length >= fence.length) {
        last = text.slice(fence.contentStart, lineStart);
        fence = undefined;
      }
    } else {
      const open = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
      // A backtick fence's info string holds no backtick: "```a```" is inline code, not a fence.
      if (open?.[1] && !(open[1][0] === "`" && open[2]?.includes("`"))) {
        fence = {
          char: open[1][0]!,
          length: open[1].length,
          contentStart: Math.min(lineEnd + 1, text.length),
        };
      }
    }
    lineStart = lineEnd + 1;
  }
  if (fence) last = text.slice(fence.contentStart);
  return last;
}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

/**
 * Most candidate spans handed to JSON.parse. Spans are tried from the one that closes last, and
 * a parse that fails usually fails within a few characters, but each costs up to the span's
 * length: the cap keeps a megabyte of adversarial text at a bounded multiple of one pass, while
 * an answer followed by dozens of stray `{"..."}` fragments is still found.
 */
const MAX_PARSES = 64;

/**
 * The last balanced `{...}` that parses as an object, in linear time. One forward pass keeps a
 * stack of open braces and records every span as its `}` arrives, so spans come out ordered by
 * where they end; they are then tried from the end, which gives the end-most top-level object
 * first (an enclosing span always ends after the spans inside it) and falls back to inner or
 * earlier ones only when it does not parse.
 *
 * The pass is string-aware so that braces inside JSON strings do not count, but only inside an
 * open brace: quotes in the surrounding prose ('he said "hi') are not JSON and must not flip the
 * state. A raw newline cannot occur inside a JSON string, so meeting one "inside a string" means
 * the quote was prose inside a stray `{`: the state is reset and every brace still open is
 * dropped (none of them can parse any more), so the object on a later line is still found.
 */
function lastBalancedObject(text: string): Extracted {
  const open: number[] = [];
  // Start and end offsets, pairwise, of spans that could be an object (see `plausible`).
  const spans: number[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH && text.charCodeAt(i + 1) !== NEWLINE) i++;
      else if (c === QUOTE) inString = false;
      else if (c === NEWLINE) {
        inString = false;
        open.length = 0;
      }
    } else if (c === OPEN) open.push(i);
    else if (c === CLOSE) {
      const start = open.pop();
      if (start !== undefined && plausible(text, start)) spans.push(start, i);
    } else if (c === QUOTE && open.length > 0) inString = true;
  }
  let parses = 0;
  for (let j = spans.length - 2; j >= 0 && parses < MAX_PARSES; j -= 2) {
    parses++;
    const found = parseObject(text.slice(spans[j], spans[j + 1]! + 1));
    if (found.ok) return found;
  }
  return NONE;
}

/**
 * A JSON object starts `{"` or is `{}` (after white space); `{x}`, `{ return 1; }` and other
 * prose or code never parse, so they do not use up the parse attempts. The white space skipped
 * after different `{` never overlaps (a `{` ends the run before it), so all these checks together
 * read each character at most once.
 */
function plausible(text: string, start: number): boolean {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  const c = text.charCodeAt(i);
  return c === QUOTE || c === CLOSE;
}
