/**
 * Contract tests (D10) for pi (@mariozechner/pi-coding-agent, pinned in test/support/clis.ts),
 * against the scripted server in the OpenAI Chat Completions format (pi's `openai-completions`
 * API), plus the pi-only checks that its options reach the requests it sends (D04, D05).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { CliDriverConfig } from "../../src/drivers/cli-driver.js";
import { turn } from "../drivers/conformance.js";
import { ensureCli } from "../support/clis.js";
import { type ModelServer, startModelServer } from "../support/model-server/index.js";
import { type ContractTarget, contractEnv, contractSuite } from "./suite.js";

/**
 * A fresh pi home: PI_CODING_AGENT_DIR holds models.json (a "mock" provider on the server) and
 * settings.json; HOME, TMPDIR and the XDG folders keep everything else under `home` too.
 */
function piConfig({
  server,
  home,
  bin,
  noRetries,
}: {
  server: ModelServer;
  home: string;
  bin: string;
  noRetries?: boolean;
}): CliDriverConfig {
  const agentDir = join(home, ".pi", "agent");
  const tmp = join(home, "tmp");
  for (const d of [agentDir, tmp]) mkdirSync(d, { recursive: true });
  const models = {
    providers: {
      mock: {
        baseUrl: `${server.url}/v1`,
        api: "openai-completions",
        apiKey: "x",
        // The server knows no "developer" role; reasoning_effort it accepts (the effort test reads it).
        compat: { supportsDeveloperRole: false },
        // A reasoning model, so that --thinking reaches the request as reasoning_effort.
        models: [{ id: "mock-model", reasoning: true }],
      },
    },
  };
  writeFileSync(join(agentDir, "models.json"), JSON.stringify(models, null, 2));
  // pi retries at two levels: its session retries a failed turn (retry.enabled, maxRetries 3) and
  // the provider SDK retries the HTTP request (retry.provider.maxRetries, the OpenAI SDK's 2 when
  // unset). Both off, so that weft's own retries are the only ones (C02). Read from
  // settings-manager.js and sdk.js of 0.73.1.
  if (noRetries) {
    writeFileSync(
      join(agentDir, "settings.json"),
      JSON.stringify({ retry: { enabled: false, provider: { maxRetries: 0 } } }, null, 2),
    );
  }
  return {
    bin,
    env: {
      HOME: home,
      TMPDIR: tmp,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_DATA_HOME: join(home, ".local", "share"),
      XDG_CACHE_HOME: join(home, ".cache"),
      XDG_STATE_HOME: join(home, ".local", "state"),
      PI_CODING_AGENT_DIR: agentDir,
      // No startup network look-ups (version check, package updates), no install telemetry.
      PI_OFFLINE: "1",
      PI_TELEMETRY: "0",
    },
  };
}

const target: ContractTarget = {
  name: "pi",
  // The bare id: pi resolves it to mock/mock-model, and the server sees it in the request's
  // "model" (a provider/id name never reaches the wire).
  model: "mock-model",
  config: piConfig,
  readOnly: "flags",
  // pi reports input without cache reads, and output with the reasoning tokens inside (it gets no
  // reasoning count from the Chat Completions usage it reads): weft can only report them as output.
  expectedUsage: (sent) => ({
    input: sent.input,
    output: sent.output + sent.reasoning,
    cached: sent.cached,
    reasoning: 0,
  }),
};

contractSuite(target);

// pi-only: what the flags do to the requests pi sends.
let server: ModelServer;
let bin: string;
beforeAll(async () => {
  bin = await ensureCli("pi");
  server = await startModelServer();
});
afterAll(async () => {
  await server?.close();
});

function lastRequestFor(marker: string) {
  const found = server
    .modelRequests()
    .filter((r) => r.conversation?.userText.includes(marker))
    .at(-1);
  if (!found) throw new Error(`no request carried ${marker}`);
  return found;
}

test("D04 pi: effort reaches the request through --thinking (reasoning_effort)", async () => {
  const env = contractEnv(target, server, bin);
  try {
    const text = "[[reply: thought about it]] effort-check";
    const { outcome } = await turn(
      env.driver(),
      env.task({ prompt: text, userPrompt: text, effort: "high" }),
    );
    expect(outcome.status).toBe("completed");
    expect(lastRequestFor("effort-check").body?.reasoning_effort).toBe("high");
    const low = "[[reply: quick]] effort-low";
    await turn(env.driver(), env.task({ prompt: low, userPrompt: low, effort: "low" }));
    expect(lastRequestFor("effort-low").body?.reasoning_effort).toBe("low");
  } finally {
    env.cleanup();
  }
});

test("D05 pi: read-only offers the model only read-type tools; edit offers edit and write but no bash; full offers bash", async () => {
  const env = contractEnv(target, server, bin);
  try {
    const ro = "[[reply: looked]] tools-read-only";
    await turn(env.driver(), env.task({ prompt: ro, userPrompt: ro, permissions: "read-only" }));
    const roTools = lastRequestFor("tools-read-only").conversation?.tools ?? [];
    expect(roTools).toContain("read");
    for (const t of ["bash", "edit", "write"]) expect(roTools).not.toContain(t);
    const ed = "[[reply: edited]] tools-edit";
    await turn(env.driver(), env.task({ prompt: ed, userPrompt: ed, permissions: "edit" }));
    const edTools = lastRequestFor("tools-edit").conversation?.tools ?? [];
    expect(edTools).toEqual(expect.arrayContaining(["read", "edit", "write"]));
    expect(edTools).not.toContain("bash");
    const full = "[[reply: ran]] tools-full";
    await turn(env.driver(), env.task({ prompt: full, userPrompt: full, permissions: "full" }));
    expect(lastRequestFor("tools-full").conversation?.tools).toEqual(
      expect.arrayContaining(["read", "bash", "edit", "write"]),
    );
  } finally {
    env.cleanup();
  }
});

test("C02 pi: a 429 becomes a transient failure with its HTTP status, though pi exits 0", async () => {
  const env = contractEnv(target, server, bin);
  try {
    const text = `[[status: 429 pi-transient-${Date.now()}]]`;
    const { outcome } = await turn(
      env.driver({ noRetries: true }),
      env.task({ prompt: text, userPrompt: text }),
    );
    expect(outcome.status).toBe("failed");
    expect(outcome.exitCode).toBe(0);
    expect(outcome.transient).toBe(true);
    expect(outcome.fatal).toBe(false);
    expect(outcome.error).toMatch(/^429 Rate limit reached/);
  } finally {
    env.cleanup();
  }
});
