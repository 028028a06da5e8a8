/** `weft mcp`: the MCP server on stdio (U04), refused inside a weft agent (A15). */
import { hostname, userInfo } from "node:os";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { insideWeftAgent, refusalMessage } from "../mcp/guard.js";
import { createWeftMcpServer } from "../mcp/server.js";

function sender(): string {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {}
  return `mcp:${user}@${hostname()}`;
}

/** Serves until the client closes stdin (or a signal); then stops this server's runs, resumable. */
export async function mcpCommand(): Promise<number> {
  const mark = insideWeftAgent(process.env);
  if (mark) {
    process.stderr.write(`weft: ${refusalMessage(mark)}\n`);
    return 2;
  }
  // stdout carries the protocol: a stray console.log would corrupt it.
  console.log = console.error;
  console.info = console.error;
  const { server, runs } = createWeftMcpServer({ cwd: process.cwd(), env: process.env, sender: sender() });
  const transport = new StdioServerTransport();
  let closing: Promise<number> | undefined;
  const shutdown = () => {
    // Runs stop as with Ctrl-C: no new agents, running ones terminated, journal flushed; each
    // can be resumed later (workflow_control "resume", or `weft resume <run>`).
    closing ??= runs
      .stopAll()
      .then(() => server.close())
      .then(
        () => 0,
        () => 0,
      );
    return closing;
  };
  const ended = new Promise<number>((resolve) => {
    process.stdin.once("end", () => resolve(shutdown()));
    process.stdin.once("close", () => resolve(shutdown()));
    process.once("SIGTERM", () => resolve(shutdown()));
    process.once("SIGINT", () => resolve(shutdown()));
    process.once("SIGHUP", () => resolve(shutdown()));
  });
  await server.connect(transport);
  const code = await ended;
  // Whatever a stopped run left behind (a worker thread winding down) must not keep the host waiting.
  setTimeout(() => process.exit(code), 1000).unref();
  return code;
}
