/**
 * weft's definitions of Claude Code's built-in agent types (SPEC A02), for scripts written for
 * Claude Code, where `agentType: "Explore"` needs no definition file. Claude Code documents three
 * general ones (code.claude.com/docs/en/sub-agents, "Built-in subagents"):
 *
 * - `Explore`: a fast, read-only agent for searching and analysing a codebase (Write and Edit
 *   denied); the caller may ask for a thoroughness: quick, medium or very thorough.
 * - `Plan`: read-only research of the codebase for a plan (plan mode); it changes nothing.
 * - `general-purpose`: all tools; complex research, multi-step tasks, code changes.
 *
 * Its other helpers (statusline-setup, Claude Code Guide) configure or explain Claude Code itself
 * and have no meaning elsewhere, so weft ships no definition of them. Claude Code picks a model
 * per type (Haiku for Explore); model names are the backend's own, so these definitions leave the
 * model to the run. The instructions are weft's words for what each type is for.
 *
 * A user definition of the same name (any place in definitions.ts) wins; on a driver whose CLI has
 * these types itself (claude `--agent`), the name goes to it and only the permissions are weft's.
 */
import { createHash } from "node:crypto";
import type { AgentDefinition } from "./definitions.js";

interface Builtin {
  name: string;
  description: string;
  permissions: "read-only" | "edit";
  instructions: string;
}

const BUILTINS: Builtin[] = [
  {
    name: "general-purpose",
    description: "complex research, multi-step tasks and code changes",
    permissions: "edit",
    instructions: [
      "You are a general-purpose coding agent. Research the question or carry out the task end to end:",
      "search the code, read what matters, run what is needed, and make the changes the task asks for.",
      "Prefer editing existing files to creating new ones, and do not create documentation nobody asked for.",
      "When you are done, report what you found or changed, with the paths of the files involved.",
    ].join(" "),
  },
  {
    name: "Explore",
    description: "fast, read-only search and analysis of a codebase",
    permissions: "read-only",
    instructions: [
      "You are a read-only exploration agent. Find files by pattern, search the code for keywords and",
      "read what you need to answer the question about this codebase. Do not create, edit, move or",
      "delete any file, and run no command that changes anything. If the task names a thoroughness",
      '("quick", "medium" or "very thorough"), search that widely. Answer with what you found, citing',
      "file paths (and line numbers where they help).",
    ].join(" "),
  },
  {
    name: "Plan",
    description: "read-only research of the codebase for an implementation plan",
    permissions: "read-only",
    instructions: [
      "You are a read-only planning agent. Study the parts of the codebase the task touches and work out",
      "how to do it; do not create, edit, move or delete any file, and run no command that changes",
      "anything. Answer with a plan: the steps in order, the files each step changes and why, and the",
      "risks or open questions you found.",
    ].join(" "),
  },
];

const byName = new Map<string, AgentDefinition>(
  BUILTINS.map((b) => [
    b.name,
    {
      name: b.name,
      format: "builtin",
      file: `weft's built-in "${b.name}"`,
      permissions: b.permissions,
      description: b.description,
      instructions: b.instructions,
      // R03: a later weft that words a built-in differently runs its agents again.
      hash: createHash("sha256").update(JSON.stringify(b)).digest("hex").slice(0, 16),
      ignored: [],
    },
  ]),
);

/** Claude Code's built-in agent types weft defines, by name. */
export const BUILTIN_TYPES: readonly string[] = BUILTINS.map((b) => b.name);

/** weft's definition of a Claude Code built-in type, or undefined. A copy: callers may not change it. */
export function builtinDefinition(name: string): AgentDefinition | undefined {
  const d = byName.get(name);
  return d ? { ...d, ignored: [] } : undefined;
}
