/**
 * The lines under the final frame: errors, integration, the summary, and what to do next. When a
 * limit ended the run (C06) they say which limit and give the resume command with a higher one.
 * The script's error and the agents' file names are made safe for the terminal (C09).
 */
import type { RunLimits, RunSummary } from "../events.js";
import { nextSteps, summaryLine } from "../plain.js";
import { forTerminalUnder as block, forTerminal, forTerminalLine as one } from "../terminal-text.js";

export function endLines(
  runId: string,
  s: RunSummary,
  error: string | undefined,
  limits?: RunLimits,
): string[] {
  const out: string[] = [];
  // E01's `<file>:<line>:<col>: <Name>: <message>` stays as it is; only controls change.
  if (error) out.push(forTerminal(error));
  const ig = s.integration;
  if (ig && "error" in ig) out.push(block("integration refused: ", ig.error));
  else if (ig) {
    out.push(`integrated ${ig.applied.map((a) => `#${a.n}`).join(" ") || "nothing"}`);
    for (const c of ig.conflicts)
      out.push(`conflict #${c.n}${c.label ? ` ${one(c.label)}` : ""}: ${c.files.map(one).join(", ")}`);
  }
  out.push(summaryLine(s), ...nextSteps(runId, s, limits));
  // The summary of a stream read from a file (weft attach) may hold anything where a number goes.
  return out.map(forTerminal);
}
