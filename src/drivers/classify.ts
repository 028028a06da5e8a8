/**
 * What kind of failure a backend reported (C02, C03): worth another start (rate limits, server
 * errors, the network), worth stopping the whole run for (quota, billing, credentials), or
 * neither (a bad request, which will fail again the same way and costs nothing to report).
 */
export type FailureKind = "transient" | "fatal" | "permanent";

// Checked first: OpenAI reports an exhausted quota as HTTP 429, which is otherwise transient; so
// do subscription usage limits (claude "Claude AI usage limit reached|<epoch>" and "You've hit
// your limit · resets 3pm", codex "You've hit your usage limit", gemini "exhausted your daily
// quota"): retrying within seconds cannot help, every later agent would hit them too (C03).
const FATAL =
  /usage limit reached|(?:you've |you have )?hit your (?:usage |weekly |daily )?limit|exhausted your (?:\w+ )?quota|no api key found|insufficient[_ ]quota|quota (?:exceeded|exhausted)|exceeded your (?:current )?quota|billing|credit balance|payment required|out of credits|invalid[_ ]api[_ ]key|invalid x-api-key|incorrect api key|api key (?:not valid|is invalid|expired)|authentication[_ ]error|unauthori[sz]ed|not logged in|please run \/login|permission[_ ]denied.*(?:api|key|project)/i;
const TRANSIENT =
  /rate[_ ]?limit|too many requests|overloaded|server[_ ]error|internal server error|bad gateway|service unavailable|gateway timeout|temporarily unavailable|timed? ?out|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EPIPE|socket hang up|network error|fetch failed|connection (?:error|reset|refused|closed)|stream (?:disconnected|error)|\b(?:429|500|502|503|504|529)\b/i;

/** Classifies by HTTP status when the backend gave one, else by the message. */
export function classifyFailure(message: string, status?: number): FailureKind {
  if (FATAL.test(message)) return "fatal";
  if (status !== undefined) {
    if (status === 401 || status === 402 || status === 403) return "fatal";
    if (status === 408 || status === 409 || status === 429 || status >= 500) return "transient";
    if (status >= 400) return "permanent";
  }
  return TRANSIENT.test(message) ? "transient" : "permanent";
}

/**
 * C03: when a usage limit resets, as the CLI's message says: claude's `|<epoch seconds>` suffix, an
 * ISO time, or a clock time ("resets 3pm", "try again at 9:41 PM"), taken as its next occurrence
 * in local time. Undefined when the message names none.
 */
export function usageResetAt(message: string, now = new Date()): string | undefined {
  const epoch = /limit reached\|(\d{10,13})\b/i.exec(message);
  if (epoch) {
    const n = Number(epoch[1]);
    return new Date(n < 1e12 ? n * 1000 : n).toISOString();
  }
  const iso = /\b(?:resets?|try again)\b[^0-9]{0,20}(\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)/i.exec(
    message,
  );
  if (iso && !Number.isNaN(Date.parse(iso[1]!))) return new Date(iso[1]!).toISOString();
  const clock = /\b(?:resets?|try again)\b(?: at| on)?\s+(\d{1,2})(?::(\d{2}))?\s*([ap]\.?m\.?)?/i.exec(
    message,
  );
  if (!clock) return undefined;
  let hour = Number(clock[1]);
  const minute = Number(clock[2] ?? 0);
  const half = clock[3]?.toLowerCase().replaceAll(".", "");
  if (half === "pm" && hour < 12) hour += 12;
  if (half === "am" && hour === 12) hour = 0;
  if (hour > 23 || minute > 59 || (clock[2] === undefined && half === undefined)) return undefined;
  const at = new Date(now);
  at.setHours(hour, minute, 0, 0);
  if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
  return at.toISOString();
}
