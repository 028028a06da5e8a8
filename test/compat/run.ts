/**
 * Runs the compat fixture scripts (test/compat/<dialect>/*.js) unchanged, in place, with
 * `weft run` and the command driver, from a temporary project folder; the agent is
 * test/compat/agent.mjs answering from the dialect's answers.json by keywords.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gitProject, project, type Result, weft } from "../helpers/cli.js";

const here = dirname(fileURLToPath(import.meta.url));

export type Dialect = "claude-code" | "pi";

/** Absolute path of a fixture file of a dialect. */
export const fixture = (dialect: Dialect, file: string) => resolve(here, dialect, file);

/**
 * A project folder holding copies of some fixtures at the places the dialect's users keep them
 * (`{".claude/agents/code-reviewer.md": "agents/code-reviewer.md"}`), optionally a git repository.
 */
export function compatProject(dialect: Dialect, copies: Record<string, string> = {}, git = false): string {
  const files = Object.fromEntries(
    Object.entries(copies).map(([to, from]) => [to, readFileSync(fixture(dialect, from), "utf8")]),
  );
  // In a git repository the copies are part of the first commit, which worktrees start from.
  return git ? gitProject(files) : project(files);
}

/** `weft run <fixture> --command "<keyword agent> <answers.json>"` in `dir`, plus flags and environment. */
export function runCompat(
  dir: string,
  dialect: Dialect,
  script: string,
  flags: string[] = [],
  env: Record<string, string> = {},
): Promise<Result> {
  const agent = `node "${resolve(here, "agent.mjs")}" "${fixture(dialect, "answers.json")}"`;
  return weft(["run", fixture(dialect, script), "--command", agent, ...flags], dir, env);
}

/** The script's result: `weft run` prints it as JSON on stdout. */
export function resultOf(r: Result): any {
  if (r.stdout.trim() === "") throw new Error(`no result on stdout; stderr:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}
