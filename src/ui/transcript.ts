/**
 * An agent's transcript as turns for the dashboard (U08). A CLI driver reads its own transcript
 * back through the parser it used live (CliDriver.eventsOf), so the page shows what the progress
 * output showed. The command driver's transcript is its program's output in chunks
 * (`{t, stream, data}` lines): consecutive chunks of one stream make one turn.
 */
import { CliDriver } from "../drivers/cli-driver.js";
import type { Driver, DriverEvent } from "../drivers/types.js";

export type Turn = DriverEvent | { type: "stderr"; text: string };

export function transcriptEvents(text: string, driver: Driver | undefined): Turn[] {
  if (driver instanceof CliDriver) {
    const events = driver.eventsOf(text);
    if (events.length > 0) return events.filter((e) => e.type !== "started" && e.type !== "usage");
  }
  const chunks = outputChunks(text);
  if (chunks) return chunks;
  return text.trim() ? [{ type: "text", text }] : [];
}

function outputChunks(text: string): Turn[] | undefined {
  const turns: Turn[] = [];
  let seen = false;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let v: { stream?: unknown; data?: unknown; exit?: unknown; signal?: unknown };
    try {
      v = JSON.parse(line);
    } catch {
      return undefined;
    }
    if (
      v &&
      typeof v === "object" &&
      typeof v.data === "string" &&
      (v.stream === "stdout" || v.stream === "stderr")
    ) {
      seen = true;
      const type = v.stream === "stdout" ? "text" : "stderr";
      const last = turns.at(-1);
      if (last && last.type === type && "text" in last) last.text += v.data;
      else turns.push({ type, text: v.data } as Turn);
    } else if (v && typeof v === "object" && "exit" in v) {
      seen = true;
      if (v.exit !== 0 || v.signal)
        turns.push({ type: "error", message: `exited with ${v.signal ?? `code ${v.exit}`}` });
    }
  }
  return seen ? turns : undefined;
}
