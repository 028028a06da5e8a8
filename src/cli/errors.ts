/**
 * How errors that end the CLI before or around a run are shown (E01, E02). A message can carry a
 * script's text (a thrown message, a gate's title, an argument): made safe for the terminal (C09),
 * with E01's `<file>:<line>:<col>: <Name>: <message>` left as it is.
 */
import { NothingToResumeError, UsageError } from "../api/errors.js";
import { SettingsError } from "../config/settings.js";
import { DriverError } from "../drivers/registry.js";
import { SchemaError } from "../engine/schema.js";
import { forTerminal } from "../report/terminal-text.js";
import { ScriptError } from "../script/errors.js";
import { StoreError } from "../store/files.js";
import { LockedError } from "../store/lock.js";
import { WorkspaceError } from "../workspace/workspace.js";
import { EXIT } from "./exit-codes.js";

const say = (text: string) => process.stderr.write(`${forTerminal(text)}\n`);

export function reportError(e: unknown): number {
  if (e instanceof ScriptError) {
    say(e.format());
    return EXIT.usage;
  }
  const known = [
    UsageError,
    NothingToResumeError,
    SettingsError,
    DriverError,
    SchemaError,
    StoreError,
    LockedError,
    WorkspaceError,
  ];
  if (known.some((k) => e instanceof k)) {
    say(`weft: ${(e as Error).message}`);
    return EXIT.usage;
  }
  const err = e as Error;
  say(`weft: ${err?.message ?? String(e)}`);
  if (process.env.WEFT_DEBUG) say(err?.stack ?? "");
  return EXIT.failed;
}
