/**
 * Built-in drivers by name (D02). This version has the command driver; the CLI backends come
 * with their contract tests, and naming one now says so instead of failing later.
 */
import type { Settings } from "../config/settings.js";
import { CommandDriver } from "./command.js";
import type { Driver } from "./types.js";

const COMING = ["codex", "claude", "pi", "opencode", "gemini"];
export const BUILT_IN = ["command"];

export class DriverError extends Error {
  override name = "DriverError";
}

export function createDriver(name: string, settings: Pick<Settings, "command" | "killGraceMs">): Driver {
  if (name === "command") {
    if (!settings.command) {
      throw new DriverError(
        'the command driver needs a command: set --command "<program>", WEFT_COMMAND, or "command" in .weft/config.json',
      );
    }
    return new CommandDriver({ command: settings.command, killGraceMs: settings.killGraceMs });
  }
  if (COMING.includes(name)) {
    throw new DriverError(
      `the ${name} driver is not in this version of weft yet; use --driver command --command "<program that reads the prompt on stdin>"`,
    );
  }
  throw new DriverError(`unknown driver "${name}": built-in drivers are ${BUILT_IN.join(", ")}`);
}

/** D09: `command` set anywhere selects the command driver unless a driver is named. */
export function chooseDriverName(settings: Pick<Settings, "driver" | "command">): string {
  if (settings.driver) return settings.driver;
  if (settings.command) return "command";
  throw new DriverError(
    'no driver chosen: give --driver command --command "<program>" (any program that reads the prompt on stdin and prints the answer), or set "command" in .weft/config.json',
  );
}
