/**
 * An agent's transcript as turns for the dashboard (U08). A CLI driver reads its own transcript
 * back through the parser it used live (CliDriver.eventsOf), so the page shows what the progress
 * output showed; anything else (the command driver's stdout, an unknown backend) is text.
 */
import { CliDriver } from "../drivers/cli-driver.js";
import type { Driver, DriverEvent } from "../drivers/types.js";

export function transcriptEvents(text: string, driver: Driver | undefined): DriverEvent[] {
  if (driver instanceof CliDriver) {
    const events = driver.eventsOf(text);
    if (events.length > 0) return events.filter((e) => e.type !== "started" && e.type !== "usage");
  }
  return text.trim() ? [{ type: "text", text }] : [];
}
