/**
 * Built-in drivers by name (D02), and which one a run uses when none is named (D03, D09).
 */
import type { Settings } from "../config/settings.js";
import type { CliDriver, CliDriverConfig } from "./cli-driver.js";
import { ClaudeDriver } from "./claude.js";
import { CodexDriver } from "./codex.js";
import { CommandDriver } from "./command.js";
import { GeminiDriver } from "./gemini.js";
import { OpenCodeDriver } from "./opencode.js";
import { PiDriver } from "./pi.js";
import type { Driver } from "./types.js";

/** The agent CLIs, in the order D03 looks for them on PATH. */
export const CLI_DRIVERS: Record<string, new (config: CliDriverConfig) => CliDriver> = {
  codex: CodexDriver,
  claude: ClaudeDriver,
  pi: PiDriver,
  opencode: OpenCodeDriver,
  gemini: GeminiDriver,
};
export const BUILT_IN = [...Object.keys(CLI_DRIVERS), "command"];

export class DriverError extends Error {
  override name = "DriverError";
}

export function createCliDriver(name: string, config: CliDriverConfig): CliDriver {
  const Make = CLI_DRIVERS[name];
  if (!Make) throw new DriverError(`unknown driver "${name}": built-in drivers are ${BUILT_IN.join(", ")}`);
  return new Make(config);
}

export function createDriver(
  name: string,
  settings: Pick<Settings, "command" | "killGraceMs"> & Partial<Pick<Settings, "drivers" | "prices">>,
): Driver {
  if (name === "command") {
    if (!settings.command) {
      throw new DriverError(
        'the command driver needs a command: set --command "<program>", WEFT_COMMAND, or "command" in .weft/config.json',
      );
    }
    return new CommandDriver({ command: settings.command, killGraceMs: settings.killGraceMs });
  }
  const own = settings.drivers?.[name] ?? {};
  return createCliDriver(name, {
    ...own,
    killGraceMs: settings.killGraceMs,
    prices: { ...settings.prices, ...own.prices },
  });
}

/** D09: `command` set anywhere selects the command driver unless a driver is named. */
export function chooseDriverName(settings: Pick<Settings, "driver" | "command">): string {
  if (settings.driver) return settings.driver;
  if (settings.command) return "command";
  throw new DriverError(
    'no driver chosen: give --driver command --command "<program>" (any program that reads the prompt on stdin and prints the answer), or set "command" in .weft/config.json',
  );
}
