/**
 * weft from a real host (U04): the pinned codex CLI, pointed at the scripted model server, has
 * `weft mcp` (the built dist/) registered as an MCP server in its config.toml, as the README tells
 * a user to do. The scripted model launches a workflow with weft's `workflow` tool, waits for it
 * with `workflow_wait`, and answers with the run's result, which must come back in codex's output.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { AGENT_CMD, WEFT_BIN, weft as weftCli } from "../helpers/cli.js";
import { ensureCli } from "../support/clis.js";
import { codexOfflineToml } from "../support/codex-config.js";
import { type ModelServer, startModelServer } from "../support/model-server/index.js";
import type { CallReply, Conversation, Reply } from "../support/model-server/rules.js";

const SCRIPT = `export const meta = { name: "from-codex", description: "two agents and a merge" }
const [a, b] = await parallel([() => agent("alpha"), () => agent("beta")])
return { merged: [a, b].join(" + ") }
`;

/**
 * The tool of that name as codex offers it: top-level, or inside a namespace (codex groups an MCP
 * server's tools in one), which the model server lists as `<namespace>/<tool>`.
 */
function toolNamed(tools: string[], name: string): { name: string; namespace?: string } | undefined {
  for (const t of tools) {
    const slash = t.lastIndexOf("/");
    const [ns, bare] = slash >= 0 ? [t.slice(0, slash), t.slice(slash + 1)] : [undefined, t];
    if (bare === name || bare.endsWith(`__${name}`)) return { name: bare, namespace: ns };
  }
  return undefined;
}

/**
 * The scripted host model: find weft's tools (codex defers MCP tools behind its tool_search, as
 * for a real model), launch the workflow, wait for it, then report the run's result.
 */
let searches = 0;

function respond(conv: Conversation): Reply | CallReply | undefined {
  if (conv.userText.includes("weft-a15")) return respondAsAgent(conv);
  if (!conv.userText.includes("weft-e2e")) return undefined;
  const launch = toolNamed(conv.tools, "workflow");
  const wait = toolNamed(conv.tools, "workflow_wait");
  if (!launch || !wait) {
    // codex starts its MCP servers alongside the turn; a search made before `weft mcp` has
    // answered finds nothing of it, so search again a little later.
    if (conv.tools.includes("tool_search") && searches++ < 10)
      return {
        kind: "call",
        name: "tool_search",
        args: { query: "weft workflow launch wait", limit: 8 },
        delayMs: searches === 1 ? 0 : 1000,
      };
    return { kind: "text", text: `no weft tools offered: ${conv.tools.join(", ")}` };
  }
  // After the tool search (an empty result), launch; a result without a run id is a failure.
  if (!conv.toolResult) return { kind: "call", ...launch, args: { script: SCRIPT } };
  const brace = conv.toolResult.indexOf("{");
  if (brace < 0 || !conv.toolResult.includes('"runId"'))
    return { kind: "text", text: `weft answered: ${conv.toolResult}` };
  const out = JSON.parse(conv.toolResult.slice(brace)) as {
    runId: string;
    state?: string;
    result?: { merged: string };
  };
  if (out.state === undefined)
    return { kind: "call", ...wait, args: { runId: out.runId, timeoutMs: 40_000 } };
  return { kind: "text", text: `run ${out.runId} ${out.state}: ${out.result?.merged}` };
}

let agentSearches = 0;

/** The model of a codex that weft runs as an agent: it looks for weft's tools, and says what it found. */
function respondAsAgent(conv: Conversation): Reply | CallReply {
  if (toolNamed(conv.tools, "workflow")) return { kind: "text", text: "weft tools offered" };
  // Searched five times over four seconds: `weft mcp` has long answered (or refused) by then.
  if (conv.tools.includes("tool_search") && agentSearches++ < 5)
    return {
      kind: "call",
      name: "tool_search",
      args: { query: "weft workflow" },
      delayMs: agentSearches === 1 ? 0 : 1000,
    };
  return { kind: "text", text: "no weft tools" };
}

let server: ModelServer;
let bin: string;
beforeAll(async () => {
  bin = await ensureCli("codex");
  server = await startModelServer({ respond });
});
afterAll(async () => {
  await server?.close();
});

/** codex exec with stdin at end of file (with a pipe open it waits for more of the prompt). */
function runCodex(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(bin, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 100_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("U04 codex with weft mcp: the model launches a workflow, waits for it, and answers with its result", async () => {
  const root = mkdtempSync(join(tmpdir(), "weft-codex-mcp-"));
  const home = join(root, "home");
  const work = join(root, "work");
  const codexHome = join(home, ".codex");
  for (const d of [home, work, codexHome, join(home, "tmp")]) mkdirSync(d, { recursive: true });
  const toml = [
    ...codexOfflineToml(server.url, { model: "gpt-5.5" }),
    // The registration a user writes (README "Use from your agent"), plus what makes this test
    // hermetic: the command driver running the fixture agent, and the project folder.
    "[mcp_servers.weft]",
    `command = ${JSON.stringify(process.execPath)}`,
    `args = [${JSON.stringify(WEFT_BIN)}, "mcp"]`,
    `cwd = ${JSON.stringify(work)}`,
    // codex asks before each call of an MCP tool; \`codex exec\` cannot ask, and refuses the call.
    'default_tools_approval_mode = "approve"',
    "",
    "[mcp_servers.weft.env]",
    'WEFT_DRIVER = "command"',
    `WEFT_COMMAND = ${JSON.stringify(AGENT_CMD)}`,
    `XDG_CONFIG_HOME = ${JSON.stringify(join(home, ".config"))}`,
    "",
  ].join("\n");
  writeFileSync(join(codexHome, "config.toml"), toml);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    TMPDIR: join(home, "tmp"),
    XDG_CONFIG_HOME: join(home, ".config"),
    CODEX_HOME: codexHome,
    MOCK_API_KEY: "x",
  };
  const r = await runCodex(
    ["exec", "--json", "--skip-git-repo-check", "-C", work, "--", "weft-e2e: merge alpha and beta with weft"],
    env,
    work,
  );
  const mine = server.modelRequests().filter((q) => q.conversation?.userText.includes("weft-e2e"));
  // What codex offers: at first its own tools and `tool_search`; weft's tools come with the
  // search's output, in a namespace (kept in the test log on purpose).
  console.log("codex offers at first:", JSON.stringify(mine[0]?.conversation?.tools));
  console.log("after tool_search:", JSON.stringify(mine.at(-2)?.conversation?.tools));
  if (r.code !== 0) {
    console.log(r.stderr.slice(-3000), r.stdout.slice(-3000));
    console.log(JSON.stringify(server.modelRequests().map((q) => [q.conversation?.toolResult, q.reply])));
  }
  console.log(
    "turns:",
    JSON.stringify(
      mine.map((q) => [
        q.reply?.kind === "call" ? q.reply.name : q.reply?.kind,
        q.conversation?.toolResult?.slice(0, 300),
      ]),
    ),
  );
  expect(r.code).toBe(0);
  const runs = readdirSync(join(work, ".weft", "runs"));
  expect(runs).toHaveLength(1);
  const runId = runs[0]!;
  expect(runId).toMatch(/^from-codex-[a-z0-9]{6}$/);
  const summary = JSON.parse(readFileSync(join(work, ".weft", "runs", runId, "run.json"), "utf8"));
  expect(summary).toMatchObject({ status: "completed", result: { merged: "echo: alpha + echo: beta" } });
  // codex's final message (its last agent_message item) carries the run's result.
  const messages = r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type?: string; item?: { type?: string; text?: string } })
    .filter((e) => e.type === "item.completed" && e.item?.type === "agent_message")
    .map((e) => e.item!.text);
  expect(messages.at(-1)).toBe(`run ${runId} completed: echo: alpha + echo: beta`);
  // The model's turns: codex's tool search (which brings weft's tools in), the launch call, the
  // wait call, the answer.
  const replies = mine.map((q) => q.reply);
  const names = replies.map((x) => (x?.kind === "call" ? x.name : x?.kind));
  expect(names.slice(names.lastIndexOf("tool_search"))).toEqual([
    "tool_search",
    "workflow",
    "workflow_wait",
    "text",
  ]);
  expect(existsSync(join(work, ".weft", "scripts"))).toBe(true);
}, 150_000);

test("A15 codex run by weft as an agent, with weft mcp in its config: the server refuses to start, the agent gets no weft tools", async () => {
  const root = mkdtempSync(join(tmpdir(), "weft-codex-a15-"));
  const home = join(root, "home");
  const work = join(root, "work");
  const codexHome = join(home, ".codex");
  const marker = join(root, "weft-mcp-exits");
  for (const d of [home, work, codexHome, join(home, "tmp"), join(work, ".weft")])
    mkdirSync(d, { recursive: true });
  writeFileSync(
    join(codexHome, "config.toml"),
    [
      ...codexOfflineToml(server.url),
      // The user's registration of weft, and a note of how each start of it ended.
      "[mcp_servers.weft]",
      'command = "sh"',
      `args = ["-c", ${JSON.stringify(`"${process.execPath}" "${WEFT_BIN}" mcp 2>>"${marker}.err"; echo "exit $?" >> "${marker}"`)}]`,
      'default_tools_approval_mode = "approve"',
      "",
    ].join("\n"),
  );
  const env = {
    HOME: home,
    TMPDIR: join(home, "tmp"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local", "state"),
    CODEX_HOME: codexHome,
    MOCK_API_KEY: "x",
  };
  writeFileSync(
    join(work, ".weft", "config.json"),
    JSON.stringify({ drivers: { codex: { bin, env, model: "gpt-5.5" } } }, null, 2),
  );
  writeFileSync(
    join(work, "wf.js"),
    `export const meta = { name: "a15", description: "an agent looks for weft" }\nreturn await agent("weft-a15: start a weft workflow if you can")\n`,
  );
  const r = await weftCli(["run", "wf.js", "--driver", "codex"], work);
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe("no weft tools");
  // codex did start weft mcp for the agent, and it refused (exit 2) with the reason.
  expect(readFileSync(marker, "utf8")).toMatch(/^exit 2$/m);
  expect(readFileSync(`${marker}.err`, "utf8")).toMatch(
    /weft mcp does not run inside a weft agent \(.*agent 1 of run a15-[a-z0-9]{6}, found in the environment of process \d+\)/,
  );
}, 150_000);
