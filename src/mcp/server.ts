/**
 * `weft mcp` (U04): weft's tools for a host agent (Claude Code, Codex, Pi...) over MCP. The
 * descriptions are written for the model that reads them: what each tool does, when to use it,
 * what comes back. Every answer is JSON text; a script or usage error is a tool error
 * (`isError: true`) whose text is the E01 line `path:line:col: Name: message` or the reason.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { ScriptError } from "../script/errors.js";
import { VERSION } from "../version.js";
import { type ControlAction, MAX_RESULT_CHARS, McpRuns } from "./runs.js";

export interface WeftMcpOptions {
  /** The directory runs belong to (`.weft/` is here): the host's working directory. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Who control requests come from, as recorded in a run's journal. */
  sender?: string;
}

const DEFAULT_WAIT_MS = 50_000;
const MAX_WAIT_MS = 3_600_000;

const ok = (value: unknown): CallToolResult => ({
  content: [{ type: "text", text: JSON.stringify(value, null, 2) }],
});

function failure(e: unknown): CallToolResult {
  const text = e instanceof ScriptError ? e.format() : e instanceof Error ? e.message : `weft: ${String(e)}`;
  return { content: [{ type: "text", text }], isError: true };
}

async function answer(f: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    return ok(await f());
  } catch (e) {
    return failure(e);
  }
}

/** Hosts may run such tools without asking (codex's "auto" approval mode does). */
const READ_ONLY = { readOnlyHint: true, openWorldHint: false } as const;

const runId = z
  .string()
  .min(1)
  .describe("the run id that the workflow tool returned (a unique prefix works too)");

const WORKFLOW = `Launch a weft workflow: a JavaScript script that runs many coding agents (agent(), parallel(), pipeline(), phase(), gate()) as one durable run. Returns {runId, runDir} at once; the run goes on in the background, in this directory.
Use it for work worth splitting across several agents (a review from several angles, a change over many files, research with checking); for one small task, do it yourself.
Give exactly one of: script (the source: starts with \`export const meta = { name, description }\`, then top-level code using agent() etc.; saved under .weft/scripts/ so errors name a file), name (a saved workflow or bundled recipe, see \`weft list-workflows\`), or scriptPath (a .js/.ts file, relative to the working directory). args is the script's \`args\` (checked against meta.args).
resumeFromRunId continues an earlier run: alone, it reruns that run's script; with a script, the edited script; either way finished agents are reused and not paid again.
After launching, end your turn or call workflow_wait with the runId; do not poll workflow_status. A script error comes back as a tool error "path:line:col: Name: message": fix the script and launch again.`;

const STATUS = `The state of a run: running, waiting (for a gate: see waitingGate), paused, completed, failed, stopped or budget_exhausted; the current phase; agents per state; tokens; cost in USD; elapsed time. Never returns agents' results while the run goes on (those come from workflow_result once it ended); once it ended, the script's return value is under "result".
Use it for a quick look, e.g. when the user asks how a run is doing. To wait for a run, call workflow_wait instead of calling this repeatedly.`;

const RESULT = `The results of a finished run: the script's return value ("result"), the run summary, and each agent's result, failed agents first, then by number. Paged: "offset" and "limit" (default 20 agents); "more" says how to get the rest. A long result is cut to maxChars characters with a note; the whole record is agents/<n>.json in runDir.
Use it after workflow_wait says the run ended, when you need what individual agents found or why they failed. Refused while the run goes on.`;

const WAIT = `Block until the run ends (completed, failed, stopped, paused, budget_exhausted) or waits for a person at a gate, or until timeoutMs passes (default ${DEFAULT_WAIT_MS} ms, so that the host's tool timeout is not reached). Returns the status; once ended, the script's return value is under "result".
This is the way to wait for a run: after launching, end your turn or call this. Do not poll workflow_status. If it returns with timedOut: true, the run still goes on: call it again (or tell the user the run id and end your turn). If the state is "waiting", ask the user about the gate and answer with workflow_control.`;

const CONTROL = `Send a request to a run: "stop" (no new agents, running ones stopped; the run ends stopped and can be resumed), "stop_agent" (one agent, by number or label in "agent"; its agent() call returns null), "restart_agent" (one running agent, by number or label in "agent": its attempt is stopped and the same call starts again at once), "pause" (no new agents, running ones finish, the run ends paused), "resume" (continue a stopped, paused, failed or interrupted run in this server; finished agents are reused), "approve" / "reject" (answer a gate() the run waits on; "gate" is its title or number when several wait, "reason" is recorded).
Approve or reject only what the user decided. Returns what came of it: state "applied" (outcome says what was done), "refused" (outcome says why), "held" (an approval kept until the run is resumed), "not-running" (nothing runs it: resume it first), "pending" (the run has not answered yet) or "ended". Then call workflow_wait.`;

export function createWeftMcpServer(opts: WeftMcpOptions): { server: McpServer; runs: McpRuns } {
  const runs = new McpRuns(opts.cwd, opts.env, opts.sender ?? "mcp client");
  const server = new McpServer({ name: "weft", version: VERSION });

  server.registerTool(
    "workflow",
    {
      title: "Launch a workflow",
      description: WORKFLOW,
      inputSchema: {
        script: z.string().optional().describe("the workflow script's source (JavaScript)"),
        typescript: z.boolean().optional().describe("true when `script` is TypeScript (it is saved as .ts)"),
        name: z.string().optional().describe("a saved workflow or bundled recipe, by name"),
        scriptPath: z.string().optional().describe("path of a .js or .ts workflow script"),
        args: z.unknown().optional().describe("the script's input (any JSON), checked against meta.args"),
        resumeFromRunId: z.string().optional().describe("continue this run; finished agents are reused"),
        concurrency: z.number().int().positive().optional().describe("agents running at once"),
        budget: z.number().int().positive().optional().describe("token budget for the run"),
        maxAgents: z.number().int().positive().optional().describe("most agents the run may start"),
        maxCostUsd: z.number().positive().optional().describe("cost limit in US dollars"),
        driver: z
          .string()
          .optional()
          .describe(
            "backend for agents: codex, claude, pi, opencode, gemini or command (default: configured)",
          ),
      },
    },
    (input) =>
      answer(async () => {
        const r = await runs.launch(input);
        return {
          ...r,
          next: `running in the background: end your turn or call workflow_wait {runId: "${r.runId}"}`,
        };
      }),
  );

  server.registerTool(
    "workflow_status",
    { title: "Status of a run", description: STATUS, inputSchema: { runId }, annotations: READ_ONLY },
    ({ runId }) => answer(() => runs.status(runId)),
  );

  server.registerTool(
    "workflow_result",
    {
      title: "Results of a finished run",
      description: RESULT,
      annotations: READ_ONLY,
      inputSchema: {
        runId,
        offset: z.number().int().min(0).optional().describe("skip this many agents of the list (default 0)"),
        limit: z.number().int().min(1).max(200).optional().describe("agents per page (default 20)"),
        maxChars: z
          .number()
          .int()
          .min(100)
          .optional()
          .describe(`longest result text per agent before it is cut (default ${MAX_RESULT_CHARS})`),
      },
    },
    ({ runId, offset, limit, maxChars }) =>
      answer(() =>
        runs.result(runId, {
          offset: offset ?? 0,
          limit: limit ?? 20,
          maxChars: maxChars ?? MAX_RESULT_CHARS,
        }),
      ),
  );

  server.registerTool(
    "workflow_wait",
    {
      title: "Wait for a run to end",
      description: WAIT,
      annotations: READ_ONLY,
      inputSchema: {
        runId,
        timeoutMs: z
          .number()
          .int()
          .min(0)
          .max(MAX_WAIT_MS)
          .optional()
          .describe(`how long to block at most, in ms (default ${DEFAULT_WAIT_MS})`),
      },
    },
    ({ runId, timeoutMs }) => answer(() => runs.wait(runId, timeoutMs ?? DEFAULT_WAIT_MS)),
  );

  server.registerTool(
    "workflow_control",
    {
      title: "Stop, pause, resume a run; approve or reject a gate",
      description: CONTROL,
      inputSchema: {
        runId,
        action: z.enum(["stop", "stop_agent", "restart_agent", "pause", "resume", "approve", "reject"]),
        agent: z
          .union([z.number().int().min(1), z.string().min(1)])
          .optional()
          .describe("stop_agent, restart_agent: number or label"),
        gate: z
          .union([z.number().int().min(1), z.string().min(1)])
          .optional()
          .describe("approve/reject: title or number"),
        reason: z.string().optional().describe("approve/reject: why, recorded in the run's journal"),
      },
    },
    (input) => answer(() => runs.control({ ...input, action: input.action as ControlAction })),
  );

  return { server, runs };
}
