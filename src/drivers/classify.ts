/**
 * What kind of failure a backend reported (C02, C03): worth another start (rate limits, server
 * errors, the network), worth stopping the whole run for (quota, billing, credentials), or
 * neither (a bad request, which will fail again the same way and costs nothing to report).
 */
export type FailureKind = "transient" | "fatal" | "permanent";

// Checked first: OpenAI reports an exhausted quota as HTTP 429, which is otherwise transient.
const FATAL =
  /insufficient[_ ]quota|quota (?:exceeded|exhausted)|exceeded your (?:current )?quota|billing|credit balance|payment required|out of credits|invalid[_ ]api[_ ]key|invalid x-api-key|incorrect api key|api key (?:not valid|is invalid|expired)|authentication[_ ]error|unauthori[sz]ed|not logged in|please run \/login|permission[_ ]denied.*(?:api|key|project)/i;
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
