/**
 * The recursion guard of `weft mcp` (A15): agents started by weft never start workflows. Every
 * agent process gets WEFT_RUN_ID and WEFT_AGENT_INDEX (src/drivers); a `weft mcp` that has them
 * refuses to start. A host may not pass its own environment on to the MCP servers it starts
 * (codex gives them only HOME, PATH and a few others), so on Linux the ancestors' environments
 * are read too: an agent CLI that weft started carries the variables even when its MCP server
 * child does not.
 */
import { readFileSync } from "node:fs";

export interface AgentMark {
  runId: string;
  agent: string;
  /** The process that carries the variables, when it is an ancestor rather than this process. */
  pid?: number;
}

const markOf = (env: Record<string, string | undefined>): AgentMark | undefined =>
  env.WEFT_RUN_ID && env.WEFT_AGENT_INDEX
    ? { runId: env.WEFT_RUN_ID, agent: env.WEFT_AGENT_INDEX }
    : undefined;

function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function environOf(pid: number): Record<string, string> | undefined {
  try {
    const out: Record<string, string> = {};
    for (const entry of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
      const eq = entry.indexOf("=");
      if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return out;
  } catch {
    // Another user's process, or no /proc (macOS): only this process's own variables count.
    return undefined;
  }
}

/** Whether this process runs inside a weft agent: its own variables, then its ancestors'. */
export function insideWeftAgent(env: NodeJS.ProcessEnv, pid = process.pid): AgentMark | undefined {
  const own = markOf(env);
  if (own) return own;
  let p = parentOf(pid);
  for (let depth = 0; p !== undefined && depth < 32; depth++) {
    const e = environOf(p);
    const m = e && markOf(e);
    if (m) return { ...m, pid: p };
    p = parentOf(p);
  }
  return undefined;
}

export function refusalMessage(m: AgentMark): string {
  return `weft mcp does not run inside a weft agent (agents cannot start workflows; this process runs under agent ${m.agent} of run ${m.runId}${m.pid ? `, found in the environment of process ${m.pid}` : ""})`;
}
