/**
 * JSON from an agent's text (SPEC D09 "result" row): the first of these that parses as a JSON
 * object: the whole output, the last fenced code block, the last balanced `{...}`.
 */
type Found = { ok: true; value: Record<string, unknown> } | { ok: false };

function asObject(text: string): Found {
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === "object" && !Array.isArray(v))
      return { ok: true, value: v as Record<string, unknown> };
  } catch {}
  return { ok: false };
}

function lastFence(text: string): string | undefined {
  const re = /```[^\n`]*\n([\s\S]*?)```/g;
  let last: string | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m[1];
  return last;
}

/**
 * The last balanced top-level {...}: one backward scan finds candidate closing braces from the
 * end; for each, a forward string-aware scan from the nearest opening brace that balances it.
 * Attempts are capped so a megabyte of prose with stray braces stays linear.
 */
function lastBalanced(text: string): Found {
  const MAX_ATTEMPTS = 64;
  let attempts = 0;
  for (
    let end = text.lastIndexOf("}");
    end >= 0 && attempts < MAX_ATTEMPTS;
    end = text.lastIndexOf("}", end - 1)
  ) {
    // Walk backwards from `end` to find the "{" that balances it, ignoring braces in strings.
    const start = matchingOpen(text, end);
    if (start < 0) continue;
    attempts++;
    const found = asObject(text.slice(start, end + 1));
    if (found.ok) return found;
  }
  return { ok: false };
}

function matchingOpen(text: string, end: number): number {
  // Scan forward over candidate starts is quadratic; instead scan backwards counting depth and
  // skip string literals by finding their opening quote (a quote not preceded by a backslash).
  let depth = 0;
  for (let i = end; i >= 0; i--) {
    const c = text[i];
    if (c === '"') {
      let j = i - 1;
      for (; j >= 0; j--) {
        if (text[j] === '"') {
          let bs = 0;
          for (let k = j - 1; k >= 0 && text[k] === "\\"; k--) bs++;
          if (bs % 2 === 0) break;
        }
      }
      if (j < 0) return -1;
      i = j;
    } else if (c === "}") depth++;
    else if (c === "{") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

export function extractJsonObject(text: string): Found {
  const whole = asObject(text.trim());
  if (whole.ok) return whole;
  const fence = lastFence(text);
  if (fence !== undefined) {
    const f = asObject(fence.trim());
    if (f.ok) return f;
  }
  return lastBalanced(text);
}
