/** `weft fork <run> --from <agent> | --rerun <agent>...` (SPEC R08): a thin layer over startFork. */
import { startFork } from "../api/fork.js";
import { interactiveReporter, promptsAllowed } from "./gate-commands.js";
import { driveRun, parseArgsFlag, type RunFlags, settingsFromFlags } from "./run-command.js";

export interface ForkFlags extends RunFlags {
  from?: string;
  rerun?: string[];
}

/** Runs the fork in the foreground like `weft run`; returns the exit code. */
export function forkCommand(runId: string, flags: ForkFlags): Promise<number> {
  return driveRun(
    () =>
      startFork(runId, {
        from: flags.from,
        rerun: flags.rerun,
        args: parseArgsFlag(flags.args),
        settings: settingsFromFlags(flags),
        reporter: interactiveReporter(flags),
        interactive: promptsAllowed(flags.json),
      }),
    flags,
  );
}

/** Commander collector for a repeatable option. */
export const collectRepeated = (value: string, previous: string[] = []) => [...previous, value];
