/** Exit codes (SPEC E02). */
import type { RunStatus } from "../report/events.js";

export const EXIT = { completed: 0, failed: 1, usage: 2, budget: 3, paused: 4, interrupted: 130 } as const;

export function exitCodeFor(status: RunStatus, interrupted: boolean): number {
  // A14: Ctrl-C while a gate waits leaves the run waiting, not interrupted: exit 4.
  if (interrupted && status !== "waiting") return EXIT.interrupted;
  switch (status) {
    case "completed":
      return EXIT.completed;
    case "budget_exhausted":
      return EXIT.budget;
    case "paused":
    case "waiting":
      return EXIT.paused;
    case "stopped":
      return EXIT.interrupted;
    default:
      return EXIT.failed;
  }
}
