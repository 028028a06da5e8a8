/**
 * The command a host agent runs to start weft's MCP server (SPEC U05). weftkit is not on the npm
 * registry, so `npx weftkit` cannot be it: the command must name a weft on this machine. That is
 * `weft mcp` when the `weft` found on PATH is this very program (its real path is this CLI's),
 * else `node <absolute path of this CLI> mcp`, which works however weft was started.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { findExecutable } from "../drivers/detect.js";

/** This weft's CLI entry point: dist/cli/main.js next to this file's dist/skills/. */
export const CLI_PATH = fileURLToPath(new URL("../cli/main.js", import.meta.url));

export interface McpLaunch {
  command: string;
  args: string[];
  /** Why this command, for the line `weft init` prints. */
  why: string;
}

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

export function mcpLaunch(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): McpLaunch {
  const self = real(CLI_PATH) ?? CLI_PATH;
  const onPath = findExecutable("weft", env, cwd);
  if (onPath && real(onPath) === self) {
    return { command: "weft", args: ["mcp"], why: `the weft on PATH (${onPath}) is this one` };
  }
  const why = onPath
    ? `the weft on PATH (${onPath}) is another program than this one (${self})`
    : "no weft on PATH";
  return { command: "node", args: [self, "mcp"], why };
}

/** The command as a shell line, for messages. */
export function launchLine(l: Pick<McpLaunch, "command" | "args">): string {
  return [l.command, ...l.args]
    .map((a) => (/^[\w./@:=+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))
    .join(" ");
}
