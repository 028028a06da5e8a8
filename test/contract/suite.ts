/**
 * The contract suite (D10): one set of tests that every real agent CLI passes, run against the
 * scripted model server (test/support/model-server). A CLI's test file supplies a
 * {@link ContractTarget}: how to point its CLI at the server with a fresh HOME, and what it can do.
 * It also runs the Driver conformance suite (D01) through the same setup.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test, test as vitestTest } from "vitest";
import type { CliDriverConfig } from "../../src/drivers/cli-driver.js";
import { isGroupAlive } from "../../src/drivers/process.js";
import { createCliDriver } from "../../src/drivers/registry.js";
import type { AgentTask, Driver, DriverEvent } from "../../src/drivers/types.js";
import { type AgentJob, runAgent } from "../../src/engine/agent-runner.js";
import { compileSchema } from "../../src/engine/schema.js";
import { driverConformance, turn } from "../drivers/conformance.js";
import { type CliName, ensureCli } from "../support/clis.js";
import { type ModelServer, startModelServer } from "../support/model-server/index.js";
import type { ScriptedUsage } from "../support/model-server/rules.js";

export interface ContractTarget {
  name: CliName;
  /** A model name the CLI accepts offline; it must reach the server's requests (D04). */
  model: string;
  /**
   * The driver settings that point the CLI at `server`, with its own HOME, TMPDIR and config
   * folders under `home` (made fresh for each test). `bin` is the pinned CLI. `noRetries` asks the
   * CLI not to retry failed requests itself, so that weft's own retries (C02) can be seen.
   */
  config(opts: { server: ModelServer; home: string; bin: string; noRetries?: boolean }): CliDriverConfig;
  /** What `permissions: "read-only"` does to a shell write: a sandbox makes it fail, flags refuse it. */
  readOnly: "sandbox" | "flags";
  /** The usage weft reports for what the server sent on a one-request turn. */
  expectedUsage(sent: ScriptedUsage): { input: number; output: number; cached: number; reasoning: number };
  /**
   * Tests of contractSuite this CLI cannot pass offline, by the start of their title, with the
   * reason: they are registered as test.todo, so the gap stays in the report.
   */
  todo?: Record<string, string>;
}

export interface ContractEnv {
  server: ModelServer;
  home: string;
  cwd: string;
  runDir: string;
  bin: string;
  model: string;
  driver(opts?: { noRetries?: boolean }): Driver;
  task(overrides: Partial<AgentTask>): AgentTask;
  cleanup(): void;
}

let counter = 0;

export function contractEnv(target: ContractTarget, server: ModelServer, bin: string): ContractEnv {
  const root = mkdtempSync(join(tmpdir(), `weft-contract-${target.name}-`));
  const home = join(root, "home");
  const cwd = join(root, "work");
  const runDir = join(root, "run");
  for (const d of [home, cwd, runDir]) mkdirSync(d, { recursive: true });
  return {
    server,
    home,
    cwd,
    runDir,
    bin,
    model: target.model,
    driver: (opts) =>
      createCliDriver(target.name, {
        ...target.config({ server, home, bin, noRetries: opts?.noRetries }),
        killGraceMs: 2000,
      }),
    task: (overrides) => {
      const index = ++counter;
      return {
        runId: "contract",
        index,
        attempt: 1,
        prompt: "[[reply: ok]]",
        userPrompt: "[[reply: ok]]",
        permissions: "edit",
        cwd,
        runDir,
        transcriptPath: join(runDir, "transcripts", `${index}.jsonl`),
        idleTimeoutMs: 120_000,
        model: target.model,
        ...overrides,
      };
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

const prompt = (text: string) => ({ prompt: text, userPrompt: text });

/** Registers the contract tests and the D01 conformance suite for one CLI. */
export function contractSuite(target: ContractTarget): void {
  const name = target.name;
  const test = (title: string, fn: () => Promise<void>) => {
    const why = Object.entries(target.todo ?? {}).find(([start]) => title.startsWith(start))?.[1];
    if (why) vitestTest.todo(`${title} — ${why}`);
    else vitestTest(title, fn);
  };
  let server: ModelServer;
  let bin: string;
  beforeAll(async () => {
    bin = await ensureCli(name);
    server = await startModelServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const withEnv = (fn: (env: ContractEnv) => Promise<void>) => async () => {
    const env = contractEnv(target, server, bin);
    try {
      await fn(env);
    } finally {
      env.cleanup();
    }
  };

  endToEnd(
    target,
    () => server,
    () => bin,
  );

  driverConformance(name, async () => {
    const env = contractEnv(target, server, bin);
    return {
      driver: env.driver(),
      makeTask: env.task,
      scenario: {
        plain: prompt("[[reply: conformance]]"),
        fail: prompt("[[status: 400 conformance-fail]]"),
        slow: prompt("[[sleep: 120000]]"),
      },
      cleanup: async () => env.cleanup(),
    };
  });

  test(
    `D02 ${name}: a plain turn answers with the model's text, its session id and the model`,
    withEnv(async (env) => {
      const { outcome, events } = await turn(env.driver(), env.task(prompt(`[[reply: hello from ${name}]]`)));
      expect(outcome.error).toBeUndefined();
      expect(outcome.status).toBe("completed");
      expect(outcome.text).toBe(`hello from ${name}`);
      expect(outcome.sessionId).toMatch(/\S/);
      expect(events.some((e) => e.type === "text")).toBe(true);
      // D04: the model asked for reached the server.
      const models = env.server.modelRequests().map((r) => r.conversation?.model ?? "");
      expect(models.some((m) => m.includes(target.model))).toBe(true);
      expect(outcome.model).toContain(target.model);
    }),
  );

  test(
    `D02 ${name}: a tool turn runs the shell command the model asked for, in the agent's cwd`,
    withEnv(async (env) => {
      const { outcome, events } = await turn(
        env.driver(),
        // D05: a shell that runs what the model asks is "full", asked for by name.
        env.task({ ...prompt(`[[run: echo hello-${name} > made-by-agent.txt]]`), permissions: "full" }),
      );
      expect(outcome.error).toBeUndefined();
      expect(outcome.status).toBe("completed");
      const file = join(env.cwd, "made-by-agent.txt");
      expect(existsSync(file)).toBe(true);
      expect(readFileSync(file, "utf8").trim()).toBe(`hello-${name}`);
      expect(events.some((e) => e.type === "tool_call")).toBe(true);
    }),
  );

  test(
    `D06 ${name}: a schema turn gives an object that weft validates`,
    withEnv(async (env) => {
      const schema = compileSchema({
        type: "object",
        properties: { files: { type: "array", items: { type: "string" } }, count: { type: "integer" } },
        required: ["files", "count"],
      });
      const end = await runAgent(
        job(env, `List the files [[json: {"files": ["a.ts", "b.ts"], "count": 2}]]`, { schema }),
        runnerContext(env),
        new AbortController().signal,
      );
      expect(end.error).toBeUndefined();
      expect(end.status).toBe("completed");
      expect(end.value).toEqual({ files: ["a.ts", "b.ts"], count: 2 });
    }),
  );

  test(
    `C02 ${name}: an HTTP 400 fails the agent with the server's message, not retried`,
    withEnv(async (env) => {
      const retries: string[] = [];
      const end = await runAgent(
        job(env, "[[status: 400 bad-400]]"),
        runnerContext(env, { onRetry: (_j, _a, e) => retries.push(e) }),
        new AbortController().signal,
      );
      expect(end.status).toBe("failed");
      expect(end.error).toContain("scripted failure bad-400");
      expect(retries).toEqual([]);
    }),
  );

  test(
    `C02 ${name}: HTTP 429 twice, then success: weft retries and records each attempt`,
    withEnv(async (env) => {
      const key = `rl-${name}-${Date.now()}`;
      const attempts: number[] = [];
      const end = await runAgent(
        job(env, `[[status: 429 ${key} x2]] [[reply: after the rate limit]]`, { noRetries: true }),
        runnerContext(env, { onAttempt: (_j, a) => attempts.push(a) }),
        new AbortController().signal,
      );
      expect(end.error).toBeUndefined();
      expect(end.status).toBe("completed");
      expect(end.value).toBe("after the rate limit");
      expect(end.attempts).toBe(3);
      expect(attempts).toEqual([1, 2, 3]);
    }),
  );

  test(
    `C03 ${name}: an auth failure is fatal (the run's breaker trips), not retried`,
    withEnv(async (env) => {
      const { outcome } = await turn(
        env.driver({ noRetries: true }),
        env.task(prompt("[[status: 401 auth]]")),
      );
      expect(outcome.status).toBe("failed");
      expect(outcome.fatal).toBe(true);
      expect(outcome.transient).toBe(false);
    }),
  );

  test(
    `D07 ${name}: usage is what the server reported`,
    withEnv(async (env) => {
      const sent = { input: 1200, output: 345, cached: 600, reasoning: 21 };
      const { outcome } = await turn(
        env.driver(),
        env.task(
          prompt(
            `[[usage: in=${sent.input} out=${sent.output} cached=${sent.cached} reasoning=${sent.reasoning}]] [[reply: counted]]`,
          ),
        ),
      );
      expect(outcome.status).toBe("completed");
      expect(outcome.usage).toMatchObject(target.expectedUsage(sent));
    }),
  );

  test(
    `C04 ${name}: a stop in the middle of a turn ends the CLI's whole process group`,
    withEnv(async (env) => {
      const before = env.server.modelRequests().length;
      const ac = new AbortController();
      const events: DriverEvent[] = [];
      const running = env.driver().run(env.task(prompt("[[sleep: 120000]]")), {
        signal: ac.signal,
        onEvent: (e) => events.push(e),
      });
      // Mid-turn: the CLI has sent its request and waits for the answer.
      const t0 = Date.now();
      while (
        !env.server
          .modelRequests()
          .slice(before)
          .some((r) => r.conversation?.userText.includes("sleep"))
      ) {
        if (Date.now() - t0 > 60_000) throw new Error("the CLI never sent its request");
        await new Promise((r) => setTimeout(r, 50));
      }
      ac.abort();
      const outcome = await running;
      expect(outcome.status).toBe("stopped");
      const started = events.find((e) => e.type === "started");
      const pgid = started?.type === "started" ? started.pgid : undefined;
      expect(pgid).toEqual(expect.any(Number));
      expect(isGroupAlive(pgid!)).toBe(false);
    }),
  );

  test(
    `D05 ${name}: permissions "read-only" keeps the agent from writing (${target.readOnly})`,
    withEnv(async (env) => {
      const { outcome } = await turn(
        env.driver(),
        env.task({ ...prompt("[[run: echo nope > forbidden.txt]]"), permissions: "read-only" }),
      );
      expect(existsSync(join(env.cwd, "forbidden.txt"))).toBe(false);
      // The turn itself goes on: the model is told the write failed or was refused.
      expect(outcome.status).toBe("completed");
    }),
  );
}

/** The workflow of the end-to-end test: 3 agents in parallel (one with a schema, one using a tool), then a pipeline of 2 stages. */
const E2E_SCRIPT = `export const meta = { name: "e2e", description: "contract end to end" }
phase("Fan out")
const [a, b, c] = await parallel([
  () => agent("[[reply: alpha]]", { label: "a" }),
  () => agent('List the files [[json: {"files": ["x.ts"], "count": 1}]]', {
    label: "b",
    schema: { type: "object", properties: { files: { type: "array", items: { type: "string" } }, count: { type: "integer" } }, required: ["files", "count"] },
  }),
  () => agent("[[run: echo made-by-e2e > e2e.txt]]", { label: "c", permissions: "full" }),
])
phase("Pipeline")
const piped = await pipeline(["p1"],
  (item) => agent("[[reply: stage1-" + item + "]]"),
  (prev, item) => agent("[[reply: stage2 of " + item + " after " + prev + "]]"))
return { a, b, c, piped }
`;

const WEFT = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");

/** D10: `weft run` with the real CLI as the driver, set up through .weft/config.json as a user would. */
export function endToEnd(target: ContractTarget, server: () => ModelServer, bin: () => string): void {
  test(`D10 ${target.name}: weft run drives the real CLI: 3 agents in parallel (one with a schema) and a 2-stage pipeline`, async () => {
    const env = contractEnv(target, server(), bin());
    try {
      const cfg = target.config({ server: server(), home: env.home, bin: bin() });
      mkdirSync(join(env.cwd, ".weft"), { recursive: true });
      writeFileSync(
        join(env.cwd, ".weft", "config.json"),
        JSON.stringify(
          { driver: target.name, drivers: { [target.name]: { ...cfg, model: target.model } } },
          null,
          2,
        ),
      );
      writeFileSync(join(env.cwd, "wf.js"), E2E_SCRIPT);
      // Not spawnSync: the scripted server answers from this very process.
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        execFile(
          process.execPath,
          [WEFT, "run", "wf.js"],
          { cwd: env.cwd, timeout: 240_000 },
          (err, stdout, stderr) =>
            done({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect(r.stderr).not.toMatch(/failed/);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        a: "alpha",
        b: { files: ["x.ts"], count: 1 },
        c: expect.stringMatching(/\S/),
        piped: ["stage2 of p1 after stage1-p1"],
      });
      expect(readFileSync(join(env.cwd, "e2e.txt"), "utf8").trim()).toBe("made-by-e2e");
      const id = /^run (\S+)/m.exec(r.stderr)?.[1];
      const summary = JSON.parse(readFileSync(join(env.cwd, ".weft", "runs", id!, "run.json"), "utf8"));
      expect(summary.status).toBe("completed");
      expect(summary.agents.completed).toBe(5);
      // D07: the tokens are the CLI's own report, summed.
      expect(summary.tokens.input + summary.tokens.cached).toBeGreaterThan(0);
      expect(summary.tokens.output).toBeGreaterThan(0);
      const agent = JSON.parse(readFileSync(join(env.cwd, ".weft", "runs", id!, "agents", "1.json"), "utf8"));
      expect(agent.driver).toBe(target.name);
      expect(agent.sessionId).toMatch(/\S/);
      expect(existsSync(join(env.cwd, ".weft", "runs", id!, "transcripts", "1.jsonl"))).toBe(true);
    } finally {
      env.cleanup();
    }
  }, 300_000);
}

function job(
  env: ContractEnv,
  text: string,
  extra: { schema?: ReturnType<typeof compileSchema>; noRetries?: boolean } = {},
): AgentJob {
  return {
    n: ++counter,
    key: `k${counter}`,
    prompt: text,
    opts: { model: env.model },
    schema: extra.schema,
    driver: env.driver({ noRetries: extra.noRetries }),
    retries: 3,
    repairs: 1,
    cwd: env.cwd,
  };
}

function runnerContext(
  env: ContractEnv,
  hooks: {
    onRetry?: (j: AgentJob, a: number, e: string) => void;
    onAttempt?: (j: AgentJob, a: number) => void;
  } = {},
) {
  return {
    runId: "contract",
    runDir: env.runDir,
    cwd: env.cwd,
    idleTimeoutMs: 120_000,
    verifyRepairs: 0,
    onAttempt: hooks.onAttempt ?? (() => {}),
    onDriverEvent: () => {},
    onRetry: hooks.onRetry ?? (() => {}),
    onRepair: () => {},
  };
}
