/**
 * Built-in drivers by name (D02), and which one a run uses when none is named (D03, D09).
 */
import type { Settings } from "../config/settings.js";
import { ClaudeDriver } from "./claude.js";
import type { CliDriver, CliDriverConfig } from "./cli-driver.js";
import { CodexDriver } from "./codex.js";
import { CommandDriver } from "./command.js";
import { findExecutable } from "./detect.js";
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
  settings: Pick<Settings, "command" | "killGraceMs"> & Partial<Pick<Settings, "drivers">>,
): Driver {
  if (name === "command") {
    if (!settings.command) {
      throw new DriverError(
        'the command driver needs a command: set --command "<program>", WEFT_COMMAND, or "command" in .weft/config.json',
      );
    }
    return new CommandDriver({ command: settings.command, killGraceMs: settings.killGraceMs });
  }
  return createCliDriver(name, { ...settings.drivers?.[name], killGraceMs: settings.killGraceMs });
}

/** The program a CLI driver starts: its `bin` setting, else its usual name. */
export function driverBin(name: string, settings: Partial<Pick<Settings, "drivers">>): string {
  return settings.drivers?.[name]?.bin ?? name;
}

/** npm packages of the CLIs, for messages that say what to install. */
export const CLI_PACKAGES: Record<string, string> = Object.fromEntries(
  Object.entries(CLI_DRIVERS).map(([name, Make]) => [name, new Make({}).npmPackage]),
);

/**
 * D09: `command` set anywhere selects the command driver unless a driver is named. D03: otherwise
 * the first of codex, claude, pi, opencode, gemini found on PATH (or at its `bin` setting).
 */
export function chooseDriverName(
  settings: Pick<Settings, "driver" | "command"> & Partial<Pick<Settings, "drivers">>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (settings.driver) return settings.driver;
  if (settings.command) return "command";
  for (const name of Object.keys(CLI_DRIVERS)) {
    if (findExecutable(driverBin(name, settings), env)) return name;
  }
  const install = Object.entries(CLI_PACKAGES)
    .map(([name, pkg]) => `${name} (npm install -g ${pkg})`)
    .join(", ");
  throw new DriverError(
    `no agent CLI found on PATH: install one of ${install}; or run any program with --command "<program>" (it reads the prompt on stdin and prints the answer). \`weft doctor\` shows what was looked for.`,
  );
}
