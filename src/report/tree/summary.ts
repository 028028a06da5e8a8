/**
 * The lines under the final frame: errors, integration, the summary, and what to do next. When a
 * limit ended the run (C06) they say which limit and give the resume command with a higher one.
 */
import type { RunLimits, RunSummary } from "../events.js";
import { limitHint, summaryLine } from "../plain.js";

export function endLines(
  runId: string,
  s: RunSummary,
  error: string | undefined,
  limits?: RunLimits,
): string[] {
  const out: string[] = [];
  if (error) out.push(error);
  const ig = s.integration;
  if (ig && "error" in ig) out.push(`integration refused: ${ig.error}`);
  else if (ig) {
    out.push(`integrated ${ig.applied.map((a) => `#${a.n}`).join(" ") || "nothing"}`);
    for (const c of ig.conflicts)
      out.push(`conflict #${c.n}${c.label ? ` ${c.label}` : ""}: ${c.files.join(", ")}`);
  }
  out.push(summaryLine(s));
  if (s.status === "budget_exhausted") out.push(...limitHint(runId, s, limits));
  else if (s.status === "waiting")
    out.push(`waiting at a gate: weft approve ${runId} (or weft reject), then weft resume ${runId}`);
  else if (s.status !== "completed") out.push(`resume with: weft resume ${runId}`);
  return out;
}
