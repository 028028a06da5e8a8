/** How errors that end the CLI before or around a run are shown (E01, E02). */
import { NothingToResumeError, UsageError } from "../api/errors.js";
import { SettingsError } from "../config/settings.js";
import { DriverError } from "../drivers/registry.js";
import { SchemaError } from "../engine/schema.js";
import { ScriptError } from "../script/errors.js";
import { StoreError } from "../store/files.js";
import { LockedError } from "../store/lock.js";
import { WorkspaceError } from "../workspace/workspace.js";
import { EXIT } from "./exit-codes.js";

export function reportError(e: unknown): number {
  if (e instanceof ScriptError) {
    process.stderr.write(`${e.format()}\n`);
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
    process.stderr.write(`weft: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
  const err = e as Error;
  process.stderr.write(`weft: ${err?.message ?? String(e)}\n`);
  if (process.env.WEFT_DEBUG) process.stderr.write(`${err?.stack ?? ""}\n`);
  return EXIT.failed;
}
