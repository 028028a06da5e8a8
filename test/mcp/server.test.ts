/**
 * `weft mcp` (U04, A15) through the official MCP SDK's client over stdio, as a host would use
 * it: the built CLI as the server, the command driver running the fixture agent.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterEach, expect, test } from "vitest";
import { createWeftMcpServer } from "../../src/mcp/server.js";
import { AGENT_CMD, cleanEnv, collect, project, startWeft, WEFT_BIN } from "../helpers/cli.js";

interface Session {
  client: Client;
  dir: string;
  call(name: string, args: Record<string, unknown>): Promise<{ isError?: boolean; text: string; json: any }>;
  close(): Promise<void>;
}

const open: Session[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
});

async function connect(client: Client, dir: string, close: () => Promise<void>): Promise<Session> {
  const s: Session = {
    client,
    dir,
    async call(name, args) {
      const r = (await client.callTool({ name, arguments: args })) as {
        isError?: boolean;
        content: { type: string; text: string }[];
      };
      const text = r.content.map((c) => c.text).join("");
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {}
      return { isError: r.isError, text, json };
    },
    close,
  };
  open.push(s);
  return s;
}

/** `weft mcp` in a fresh project, the command driver running the fixture agent (or `command`). */
async function serve(
  files: Record<string, string> = {},
  command = AGENT_CMD,
  inDir?: string,
): Promise<Session> {
  const dir = inDir ?? project(files);
  const env = cleanEnv(dir, { WEFT_DRIVER: "command", WEFT_COMMAND: command }) as Record<string, string>;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [WEFT_BIN, "mcp"],
    cwd: dir,
    env,
    stderr: "pipe",
  });
  const client = new Client({ name: "weft-test", version: "1.0.0" });
  await client.connect(transport);
  return connect(client, dir, () => client.close());
}

const FAN_OUT = `export const meta = { name: "fan-out", description: "five agents, one fails" }
phase("work")
const out = await parallel([1, 2, 3, 4, 5].map((i) => () => agent(i === 3 ? "exit:1 item-" + i : "item-" + i, { label: "a" + i })))
return { done: out.filter((x) => x !== null).length }
`;

test("U04 the server offers the five tools, each described for a model", async () => {
  const s = await serve();
  const { tools } = await s.client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual([
    "workflow",
    "workflow_control",
    "workflow_result",
    "workflow_status",
    "workflow_wait",
  ]);
  const wait = tools.find((t) => t.name === "workflow_wait")!;
  expect(wait.description).toMatch(/end your turn/);
  expect(wait.description).toMatch(/[Dd]o not poll workflow_status/);
  const launch = tools.find((t) => t.name === "workflow")!;
  expect(Object.keys(launch.inputSchema.properties ?? {})).toEqual(
    expect.arrayContaining([
      "script",
      "name",
      "scriptPath",
      "args",
      "resumeFromRunId",
      "concurrency",
      "budget",
    ]),
  );
});

test("U04 launch returns the run id at once; wait returns the run's result; result pages the agents, failed first", async () => {
  const s = await serve();
  const launched = await s.call("workflow", { script: FAN_OUT });
  expect(launched.isError).toBeFalsy();
  const { runId, runDir } = launched.json;
  expect(runId).toMatch(/^fan-out-[a-z0-9]{6}$/);
  expect(runDir).toBe(join(s.dir, ".weft", "runs", runId));
  // The inline script was kept as a file under .weft/scripts.
  const kept = readFileSync(join(runDir, "script.js"), "utf8");
  expect(kept).toBe(FAN_OUT);

  const waited = await s.call("workflow_wait", { runId, timeoutMs: 30_000 });
  expect(waited.json).toMatchObject({ runId, state: "completed", result: { done: 4 } });
  expect(waited.json.agents).toMatchObject({ completed: 4, failed: 1 });
  expect(waited.json.timedOut).toBeUndefined();

  const page1 = await s.call("workflow_result", { runId, limit: 2 });
  expect(page1.json.result).toEqual({ done: 4 });
  expect(page1.json.total).toBe(5);
  expect(page1.json.agents.map((a: { n: number }) => a.n)).toEqual([3, 1]);
  expect(page1.json.agents[0]).toMatchObject({ status: "failed", label: "a3" });
  expect(page1.json.agents[0].error).toMatch(/boom/);
  expect(page1.json.agents[1]).toMatchObject({ status: "completed", result: "echo: item-1", phase: "work" });
  expect(page1.json.more).toMatch(/offset 2/);
  const page2 = await s.call("workflow_result", { runId, offset: 2, limit: 10 });
  expect(page2.json.agents.map((a: { n: number }) => a.n)).toEqual([2, 4, 5]);
  expect(page2.json.more).toBeUndefined();
});

test("U04 a long agent result is cut with a note saying where the whole record is", async () => {
  const s = await serve();
  const script = `export const meta = { name: "long", description: "one long answer" }
return await agent("${"x".repeat(600)}")
`;
  const { runId } = (await s.call("workflow", { script })).json;
  await s.call("workflow_wait", { runId, timeoutMs: 30_000 });
  const r = await s.call("workflow_result", { runId, maxChars: 100 });
  expect(r.json.agents[0].result).toHaveLength(101);
  expect(r.json.agents[0].truncated).toMatch(/cut to 100 of 606 characters.*agents\/1\.json/);
  expect(r.json.result).toHaveLength(101);
});

test("U04 status while running has no results; result is refused until the run ends", async () => {
  const s = await serve();
  const script = `export const meta = { name: "slow", description: "one quick, one slow" }
phase("first")
const a = await agent("quick-one")
phase("second")
return [a, await agent("sleep:3000 slow-one")]
`;
  const { runId } = (await s.call("workflow", { script })).json;
  let st = (await s.call("workflow_status", { runId })).json;
  for (let i = 0; i < 100 && st.phase !== "second"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    st = (await s.call("workflow_status", { runId })).json;
  }
  expect(st).toMatchObject({ runId, state: "running", phase: "second", owner: "this server" });
  expect(st.result).toBeUndefined();
  expect(JSON.stringify(st)).not.toContain("echo: quick-one");
  expect(st.next).toMatch(/workflow_wait/);
  const early = await s.call("workflow_result", { runId });
  expect(early.isError).toBe(true);
  expect(early.text).toMatch(/still running: call workflow_wait/);
  const waited = await s.call("workflow_wait", { runId, timeoutMs: 30_000 });
  expect(waited.json.state).toBe("completed");
  expect(waited.json.result).toEqual(["echo: quick-one", "echo: sleep:3000 slow-one"]);
});

test("U04 wait returns at its timeout with the run still going", async () => {
  const s = await serve();
  const script = `export const meta = { name: "hang", description: "never ends" }
return await agent("hang")
`;
  const { runId } = (await s.call("workflow", { script })).json;
  const waited = await s.call("workflow_wait", { runId, timeoutMs: 300 });
  expect(waited.json).toMatchObject({ runId, state: "running", timedOut: true });
});

test("U04 a script error is a tool error with path:line:col, and no run is made", async () => {
  const s = await serve({
    "broken.js": `export const meta = { name: "broken", description: "d" }\nconst x = ;\n`,
  });
  const inline = await s.call("workflow", {
    script: `export const meta = { name: "bad", description: "d" }\n\nawait agent("a", { schema: 5 }))\n`,
  });
  expect(inline.isError).toBe(true);
  expect(inline.text).toMatch(/^\.weft\/scripts\/mcp-[0-9-]+-[0-9a-f]{6}\.js:3:\d+: SyntaxError: /);
  const file = await s.call("workflow", { scriptPath: "broken.js" });
  expect(file.isError).toBe(true);
  expect(file.text).toMatch(/^broken\.js:2:11: SyntaxError: /);
  const runs = join(s.dir, ".weft", "runs");
  expect(existsSync(runs) ? readdirSync(runs) : []).toEqual([]);
});

test("U04 args that do not match meta.args, a missing or doubled script, and an unknown name are tool errors", async () => {
  const s = await serve({
    "typed.js": `export const meta = { name: "typed", description: "d", args: { type: "object", required: ["n"], properties: { n: { type: "integer" } } } }\nreturn args.n\n`,
  });
  const bad = await s.call("workflow", { scriptPath: "typed.js", args: { n: "x" } });
  expect(bad.isError).toBe(true);
  expect(bad.text).toMatch(/args do not match meta\.args of typed\.js/);
  const none = await s.call("workflow", {});
  expect(none).toMatchObject({ isError: true });
  expect(none.text).toMatch(/give one of script/);
  const two = await s.call("workflow", { scriptPath: "typed.js", name: "typed" });
  expect(two.text).toMatch(/not scriptPath and name|not name and scriptPath/);
  const unknown = await s.call("workflow", { name: "no-such-workflow" });
  expect(unknown.isError).toBe(true);
  expect(unknown.text).toMatch(/no workflow named "no-such-workflow"/);
  const good = await s.call("workflow", { scriptPath: "typed.js", args: { n: 7 } });
  const waited = await s.call("workflow_wait", { runId: good.json.runId, timeoutMs: 30_000 });
  expect(waited.json).toMatchObject({ state: "completed", result: 7 });
});

test("U04 a saved workflow runs by name", async () => {
  const s = await serve({
    ".weft/workflows/greet.js": `export const meta = { name: "greet", description: "d" }\nreturn await agent("hello " + args.who)\n`,
  });
  const { runId } = (await s.call("workflow", { name: "greet", args: { who: "there" } })).json;
  const waited = await s.call("workflow_wait", { runId, timeoutMs: 30_000 });
  expect(waited.json).toMatchObject({ state: "completed", result: "echo: hello there" });
});

test("U04 limits reach the run: maxAgents refuses the extra agents", async () => {
  const s = await serve();
  const script = `export const meta = { name: "many", description: "d" }
return await parallel([1, 2, 3].map((i) => () => agent("n" + i)))
`;
  const { runId } = (await s.call("workflow", { script, maxAgents: 2 })).json;
  const waited = await s.call("workflow_wait", { runId, timeoutMs: 30_000 });
  expect(waited.json.state).toBe("budget_exhausted");
  expect(waited.json.refused).toBe(1);
  const wrong = await s.call("workflow", { script, concurrency: 0 });
  expect(wrong.isError).toBe(true);
});

async function until(s: Session, runId: string, ok: (st: any) => boolean): Promise<any> {
  let st: any;
  for (let i = 0; i < 150; i++) {
    st = (await s.call("workflow_status", { runId })).json;
    if (ok(st)) return st;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`status never matched: ${JSON.stringify(st)}`);
}

test("U04 stop through control, then resume through control reuses the finished agent", async () => {
  const s = await serve();
  const script = `export const meta = { name: "ctl", description: "d" }
const a = await agent("first")
return [a, await agent("hang second", { label: "second" })]
`;
  const { runId } = (await s.call("workflow", { script })).json;
  await until(s, runId, (st) => st.agents.completed === 1 && st.agents.running === 1);
  const sent = await s.call("workflow_control", { runId, action: "stop" });
  expect(sent.isError).toBeFalsy();
  expect(sent.json).toMatchObject({ request: { type: "stop" }, state: "applied" });
  expect(sent.json.outcome).toMatch(/stopping run/);
  const stopped = await s.call("workflow_wait", { runId, timeoutMs: 20_000 });
  expect(stopped.json.state).toBe("stopped");

  const resumed = await s.call("workflow_control", { runId, action: "resume" });
  expect(resumed.json).toMatchObject({ runId, resumed: true });
  const again = await s.call("workflow_control", { runId, action: "resume" });
  expect(again.isError).toBe(true);
  expect(again.text).toMatch(/still running/);
  // The first agent answers from the journal; the second runs again.
  const st = await until(s, runId, (x) => x.agents.running === 1);
  expect(st.agents).toMatchObject({ cached: 1, running: 1 });
  await s.call("workflow_control", { runId, action: "stop" });
  expect((await s.call("workflow_wait", { runId, timeoutMs: 20_000 })).json.state).toBe("stopped");
});

test("U04 pause through control: the running agent finishes, nothing new starts; resume completes it", async () => {
  const s = await serve();
  const script = `export const meta = { name: "pausing", description: "d" }
const a = await agent("sleep:1500 a")
return [a, await agent("b")]
`;
  const { runId } = (await s.call("workflow", { script })).json;
  await until(s, runId, (st) => st.agents.running === 1);
  const pausing = await s.call("workflow_control", { runId, action: "pause" });
  expect(pausing.json).toMatchObject({ state: "applied" });
  const paused = await s.call("workflow_wait", { runId, timeoutMs: 20_000 });
  expect(paused.json).toMatchObject({ state: "paused", agents: { completed: 1 } });
  // A stop for a run that no process runs is not sent: the answer says so, and how to go on.
  const late = await s.call("workflow_control", { runId, action: "stop" });
  expect(late.json).toMatchObject({ state: "not-running" });
  expect(late.json.next).toMatch(/resume/);
  await s.call("workflow_control", { runId, action: "resume" });
  const done = await s.call("workflow_wait", { runId, timeoutMs: 20_000 });
  expect(done.json).toMatchObject({
    state: "completed",
    result: ["echo: sleep:1500 a", "echo: b"],
    agents: { cached: 1, completed: 1 },
  });
});

test("U04 stop_agent stops one agent: its agent() returns null and the run completes", async () => {
  const s = await serve();
  const script = `export const meta = { name: "one", description: "d" }
return await parallel([() => agent("hang", { label: "stuck" }), () => agent("fine")])
`;
  const { runId } = (await s.call("workflow", { script })).json;
  await until(s, runId, (st) => st.agents.running === 1 && st.agents.completed === 1);
  const bad = await s.call("workflow_control", { runId, action: "stop_agent" });
  expect(bad.isError).toBe(true);
  expect(bad.text).toMatch(/needs "agent"/);
  const stopped = await s.call("workflow_control", { runId, action: "stop_agent", agent: "stuck" });
  expect(stopped.json.state).toBe("applied");
  const waited = await s.call("workflow_wait", { runId, timeoutMs: 20_000 });
  expect(waited.json).toMatchObject({ state: "completed", result: [null, "echo: fine"] });
});

test("U04 restart_agent restarts one running agent in place: the same call starts again and answers", async () => {
  const s = await serve();
  const script = `export const meta = { name: "redo", description: "d" }
return await agent("hang-until:2 slow", { label: "slow" })
`;
  const { runId } = (await s.call("workflow", { script })).json;
  await until(s, runId, (st) => st.agents.running === 1);
  const bad = await s.call("workflow_control", { runId, action: "restart_agent" });
  expect(bad.isError).toBe(true);
  expect(bad.text).toMatch(/needs "agent"/);
  const restarted = await s.call("workflow_control", { runId, action: "restart_agent", agent: "slow" });
  expect(restarted.json.state).toBe("applied");
  const waited = await s.call("workflow_wait", { runId, timeoutMs: 20_000 });
  expect(waited.json).toMatchObject({ state: "completed", result: "echo: hang-until:2 slow" });
});

test("U04 a gate approved through control: the run waits, status shows the gate, approve lets it go on", async () => {
  const s = await serve();
  const script = `export const meta = { name: "gated", description: "d" }
const plan = await agent("plan")
const ok = await gate("Apply the plan?", { details: { plan } })
return ok ? await agent("apply") : "rejected"
`;
  const { runId } = (await s.call("workflow", { script })).json;
  const waiting = await s.call("workflow_wait", { runId, timeoutMs: 20_000 });
  expect(waiting.json).toMatchObject({
    state: "waiting",
    waitingGate: { n: 1, title: "Apply the plan?", details: { plan: "echo: plan" } },
  });
  expect(waiting.json.timedOut).toBeUndefined();
  expect(waiting.json.next).toMatch(/approve/);
  const approved = await s.call("workflow_control", { runId, action: "approve", reason: "looks right" });
  expect(approved.json).toMatchObject({ state: "applied" });
  expect(approved.json.outcome).toMatch(/gate #1 "Apply the plan\?" approved by mcp:.*: looks right/);
  const done = await s.call("workflow_wait", { runId, timeoutMs: 20_000 });
  expect(done.json).toMatchObject({ state: "completed", result: "echo: apply" });

  // The same script again, rejected.
  const second = (await s.call("workflow", { script })).json.runId;
  await s.call("workflow_wait", { runId: second, timeoutMs: 20_000 });
  const rejected = await s.call("workflow_control", {
    runId: second,
    action: "reject",
    gate: "Apply the plan?",
  });
  expect(rejected.json.state).toBe("applied");
  const end = await s.call("workflow_wait", { runId: second, timeoutMs: 20_000 });
  expect(end.json).toMatchObject({ state: "completed", result: "rejected" });
});

test("U04 closing the client stops the server's runs cleanly, and they can be resumed", async () => {
  const s = await serve();
  const script = `export const meta = { name: "left", description: "d" }
const a = await agent("first")
return [a, await agent(args?.next ?? "hang")]
`;
  const { runId, runDir } = (await s.call("workflow", { script })).json;
  for (let i = 0; i < 100; i++) {
    const st = (await s.call("workflow_status", { runId })).json;
    if (st.agents.running === 1 && st.agents.completed === 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(existsSync(join(runDir, "lock.json"))).toBe(true);
  open.splice(open.indexOf(s), 1);
  await s.close();
  let summary: { status?: string } = {};
  for (let i = 0; i < 100 && summary.status !== "stopped"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    summary = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8"));
  }
  expect(summary.status).toBe("stopped");
  expect(existsSync(join(runDir, "lock.json"))).toBe(false);

  // A new server resumes it (with new args): the first agent answers from the journal.
  const t = await serve({}, AGENT_CMD, s.dir);
  const resumed = await t.call("workflow", { resumeFromRunId: runId, args: { next: "second" } });
  expect(resumed.json).toMatchObject({ runId, runDir, resumed: true });
  const waited = await t.call("workflow_wait", { runId, timeoutMs: 30_000 });
  expect(waited.json).toMatchObject({ state: "completed", result: ["echo: first", "echo: second"] });
  expect(waited.json.agents).toMatchObject({ completed: 1, cached: 1 });
});

test("U04 a run started with weft run in a terminal: status names its process, wait follows it, stop reaches it", async () => {
  const s = await serve({
    "slow.js": `export const meta = { name: "term", description: "d" }\nreturn [await agent("sleep:1000 one"), await agent("hang two")]\n`,
  });
  const cli = collect(startWeft(["run", "slow.js", "--command", AGENT_CMD], s.dir));
  let runId: string | undefined;
  for (let i = 0; i < 100 && !runId; i++) {
    await new Promise((r) => setTimeout(r, 100));
    runId = existsSync(join(s.dir, ".weft", "runs"))
      ? readdirSync(join(s.dir, ".weft", "runs"))[0]
      : undefined;
  }
  const st = await until(s, runId!, (x) => x.agents.running === 1);
  expect(st.owner).toMatch(/^process \d+/);
  const early = await s.call("workflow_wait", { runId, timeoutMs: 1500 });
  expect(early.json).toMatchObject({ state: "running", timedOut: true });
  await until(s, runId!, (x) => x.agents.completed === 1);
  const stop = await s.call("workflow_control", { runId, action: "stop" });
  expect(stop.json).toMatchObject({ state: "applied" });
  const waited = await s.call("workflow_wait", { runId, timeoutMs: 20_000 });
  expect(waited.json.state).toBe("stopped");
  expect((await cli).code).not.toBe(0);
  // The process has let go of the run.
  expect((await s.call("workflow_status", { runId })).json.owner).toBe("none");
});

test("A15 weft mcp refuses to start inside a weft agent", () => {
  const dir = project();
  const r = spawnSync(process.execPath, [WEFT_BIN, "mcp"], {
    cwd: dir,
    env: cleanEnv(dir, { WEFT_RUN_ID: "r-abcdef", WEFT_AGENT_INDEX: "3" }),
    input: "",
    encoding: "utf8",
  });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/weft mcp does not run inside a weft agent.*agent 3 of run r-abcdef/);
});

test("A15 the guard also holds when the host strips the environment of its MCP servers (Linux)", () => {
  if (process.platform !== "linux") return;
  const dir = project();
  // sh carries the variables, as an agent CLI started by weft does; `env -i` drops them for its
  // child, as codex does for the MCP servers it starts.
  const r = spawnSync(
    "sh",
    ["-c", `env -i PATH="$PATH" "${process.execPath}" "${WEFT_BIN}" mcp </dev/null; echo "exit $?"`],
    {
      cwd: dir,
      env: cleanEnv(dir, { WEFT_RUN_ID: "r-abcdef", WEFT_AGENT_INDEX: "4" }),
      encoding: "utf8",
    },
  );
  expect(r.stdout.trim()).toBe("exit 2");
  expect(r.stderr).toMatch(/agent 4 of run r-abcdef, found in the environment of process \d+/);
});

test("A15 an agent of a run launched through MCP cannot start weft mcp", async () => {
  const s = await serve({}, `node ${WEFT_BIN} mcp </dev/null 2>&1; echo "exit $?"`);
  const script = `export const meta = { name: "nested", description: "d" }
return await agent("try to start weft mcp")
`;
  const { runId } = (await s.call("workflow", { script })).json;
  const waited = await s.call("workflow_wait", { runId, timeoutMs: 30_000 });
  expect(waited.json.state).toBe("completed");
  expect(waited.json.result).toMatch(/weft mcp does not run inside a weft agent[\s\S]*exit 2$/);
});

test("A15 the workflow tool refuses inside a weft agent too", async () => {
  const dir = project();
  const { server } = createWeftMcpServer({
    cwd: dir,
    env: cleanEnv(dir, { WEFT_RUN_ID: "r-abcdef", WEFT_AGENT_INDEX: "2", WEFT_DRIVER: "command" }),
  });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: "weft-test", version: "1.0.0" });
  await client.connect(b);
  const s = await connect(client, dir, () => client.close());
  const r = await s.call("workflow", { script: `export const meta = { name: "x", description: "d" }\n` });
  expect(r.isError).toBe(true);
  expect(r.text).toMatch(/does not run inside a weft agent.*agent 2 of run r-abcdef/);
});
