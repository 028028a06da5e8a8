/** A run's event stream read back from any process (U01 `weft logs`, `weft attach`; the MCP server). */
import { type FollowOptions, type LoggedEvent, readEvents } from "../report/event-log.js";
import { liveOwner } from "../store/lock.js";
import { locateRun } from "./locate.js";

export interface FollowEventsOptions extends Omit<FollowOptions, "ended"> {
  /** Where `.weft/` is, for a run id (default `process.cwd()`). */
  cwd?: string;
}

/**
 * The events of a run (by id, prefix or directory) from its events.jsonl, each with its `at`.
 * With `follow`, goes on as the run writes more, and ends after its `run.finished`, or once no
 * process owns the run and nothing is left to read; `signal` ends it early.
 */
export async function* followEvents(
  runIdOrDir: string,
  opts: FollowEventsOptions = {},
): AsyncGenerator<LoggedEvent> {
  const { runDir } = await locateRun(runIdOrDir, opts.cwd);
  yield* readEvents(runDir, { ...opts, ended: () => !liveOwner(runDir) });
}
