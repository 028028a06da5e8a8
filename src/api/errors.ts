/** Errors that stop a run before or while it starts; the CLI maps them to exit code 2 (E02). */
export class UsageError extends Error {
  override name = "UsageError";
}

export class NothingToResumeError extends Error {
  override name = "NothingToResumeError";
}
