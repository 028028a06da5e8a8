/**
 * Contract tests (D10) for opencode (opencode-ai, pinned in test/support/clis.ts), against the
 * scripted server in the OpenAI Chat Completions format (a custom provider on
 * @ai-sdk/openai-compatible), plus the opencode-only checks that its options reach the requests it
 * sends (D04, D05) and that the prompt arrives verbatim.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { CliDriverConfig } from "../../src/drivers/cli-driver.js";
import { turn } from "../drivers/conformance.js";
import { ensureCli } from "../support/clis.js";
import { type ModelServer, startModelServer } from "../support/model-server/index.js";
import { type ContractTarget, contractEnv, contractSuite } from "./suite.js";

/**
 * A fresh opencode home: its config, data (sessions) and cache live under the XDG folders in
 * `home`. The provider comes in OPENCODE_CONFIG_CONTENT; @ai-sdk/openai-compatible is bundled in
 * the opencode binary (nothing is fetched from npm: the cache folder stays without node_modules).
 */
function opencodeConfig({
  server,
  home,
  bin,
}: {
  server: ModelServer;
  home: string;
  bin: string;
}): CliDriverConfig {
  const tmp = join(home, "tmp");
  mkdirSync(tmp, { recursive: true });
  const config = {
    $schema: "https://opencode.ai/config.json",
    autoupdate: false,
    share: "disabled",
    provider: {
      mock: {
        npm: "@ai-sdk/openai-compatible",
        options: { baseURL: `${server.url}/v1`, apiKey: "x" },
        models: {
          "mock-model": {
            // The id on the wire, vendor-prefixed as on a router, so that the name weft passes
            // (provider/model) is what the server sees (D04).
            id: "mock/mock-model",
            tool_call: true,
            reasoning: true,
            // What `--variant` (weft's effort) selects.
            variants: { high: { reasoningEffort: "high" }, low: { reasoningEffort: "low" } },
          },
        },
      },
    },
  };
  return {
    bin,
    env: {
      HOME: home,
      TMPDIR: tmp,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_DATA_HOME: join(home, ".local", "share"),
      XDG_CACHE_HOME: join(home, ".cache"),
      XDG_STATE_HOME: join(home, ".local", "state"),
      OPENCODE_CONFIG_CONTENT: JSON.stringify(config),
      OPENCODE_DISABLE_MODELS_FETCH: "1",
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
      OPENCODE_DISABLE_SHARE: "1",
    },
  };
}

const target: ContractTarget = {
  name: "opencode",
  model: "mock/mock-model",
  config: opencodeConfig,
  readOnly: "flags",
  // step_finish reports weft's convention: input without cache reads, output without reasoning.
  expectedUsage: (sent) => ({ ...sent }),
  todo: {
    "C02 opencode: HTTP 429":
      "opencode 1.18.33 retries a 429 or 5xx itself (SessionRetry: up to 5 times, RETRY_MAX_RETRIES a constant) with no config, env or flag to turn it off, so weft's own retry is not reached: the 429s are absorbed inside attempt 1",
  },
};

contractSuite(target);

// opencode-only: what the driver's flags do to the requests opencode sends.
let server: ModelServer;
let bin: string;
beforeAll(async () => {
  bin = await ensureCli("opencode");
  server = await startModelServer();
});
afterAll(async () => {
  await server?.close();
});

function requestsFor(marker: string) {
  return server.modelRequests().filter((r) => r.conversation?.userText.includes(marker));
}

test("D02 opencode: the prompt reaches the model verbatim, in one request (no title request)", async () => {
  const env = contractEnv(target, server, bin);
  try {
    const before = server.requests.length;
    // Spaces, quotes, a leading dash, numbers and a newline: `opencode run` would quote an
    // argument with spaces and read "5" as a number.
    const text = `-x "quoted" 5 1.50  two  spaces\nline two [[reply: verbatim]] verbatim-check`;
    const { outcome } = await turn(env.driver(), env.task({ prompt: text, userPrompt: text }));
    expect(outcome.status).toBe("completed");
    expect(outcome.text).toBe("verbatim");
    const sent = requestsFor("verbatim-check");
    expect(sent).toHaveLength(1);
    expect(sent[0]!.conversation?.userText).toBe(text);
    expect(server.requests.length - before).toBe(1);
  } finally {
    env.cleanup();
  }
});

test("D04 opencode: effort reaches the request through --variant (reasoning_effort)", async () => {
  const env = contractEnv(target, server, bin);
  try {
    for (const effort of ["high", "low"]) {
      const text = `[[reply: thought]] effort-${effort}`;
      const { outcome } = await turn(env.driver(), env.task({ prompt: text, userPrompt: text, effort }));
      expect(outcome.status).toBe("completed");
      expect(requestsFor(`effort-${effort}`).at(-1)?.body?.reasoning_effort).toBe(effort);
    }
  } finally {
    env.cleanup();
  }
});

test("D05 opencode: read-only takes the shell and edit tools away; edit refuses a command unless the user's rules allow it", async () => {
  const env = contractEnv(target, server, bin);
  try {
    const ro = "[[run: echo nope > ro.txt]] perm-read-only";
    const denied = await turn(
      env.driver(),
      env.task({ prompt: ro, userPrompt: ro, permissions: "read-only" }),
    );
    expect(denied.outcome.status).toBe("completed");
    // A tool denied outright is not offered at all; the model's call goes to opencode's "invalid" tool.
    const roTools = requestsFor("perm-read-only")[0]?.conversation?.tools ?? [];
    expect(roTools).toContain("read");
    for (const t of ["bash", "edit", "write"]) expect(roTools).not.toContain(t);
    expect(denied.events.find((e) => e.type === "tool_result")).toMatchObject({ name: "invalid" });
    expect(existsSync(join(env.cwd, "ro.txt"))).toBe(false);
    // edit: the shell is offered, but a command no user rule allows asks, and `run` refuses it.
    const ed = "[[run: echo yes > ed.txt]] perm-edit";
    const refused = await turn(env.driver(), env.task({ prompt: ed, userPrompt: ed, permissions: "edit" }));
    expect(refused.outcome.status).toBe("completed");
    expect(requestsFor("perm-edit")[0]?.conversation?.tools).toEqual(
      expect.arrayContaining(["read", "bash", "edit", "write"]),
    );
    expect(refused.events.find((e) => e.type === "tool_result")).toMatchObject({
      name: "bash",
      isError: true,
    });
    expect(existsSync(join(env.cwd, "ed.txt"))).toBe(false);
    // The user's own allow rule for that command lets it run under edit.
    const rule = "[[run: echo yes > ruled.txt]] perm-edit-ruled";
    const allowed = await turn(
      env.driver(),
      env.task({
        prompt: rule,
        userPrompt: rule,
        permissions: "edit",
        env: { OPENCODE_PERMISSION: JSON.stringify({ bash: { "*": "ask", "echo *": "allow" } }) },
      }),
    );
    expect(allowed.outcome.status).toBe("completed");
    expect(allowed.events.find((e) => e.type === "tool_result")).toMatchObject({
      name: "bash",
      isError: false,
    });
    expect(existsSync(join(env.cwd, "ruled.txt"))).toBe(true);
  } finally {
    env.cleanup();
  }
});

test("A02 opencode: agentType selects opencode's named agent; an unknown one fails the turn", async () => {
  const env = contractEnv(target, server, bin);
  try {
    // The plan agent may not edit: its own rules deny the write tool's permission.
    const plan = "[[reply: planned]] agent-plan";
    const { outcome } = await turn(
      env.driver(),
      env.task({ prompt: plan, userPrompt: plan, agentType: "plan" }),
    );
    expect(outcome.status).toBe("completed");
    const system = JSON.stringify(requestsFor("agent-plan").at(-1)?.body?.messages ?? []);
    expect(system).toMatch(/plan mode/i);
    const bad = "[[reply: nope]] agent-missing";
    const missing = await turn(
      env.driver(),
      env.task({ prompt: bad, userPrompt: bad, agentType: "no-such-agent" }),
    );
    expect(missing.outcome.status).toBe("failed");
    expect(missing.outcome.error).toMatch(/no-such-agent/);
  } finally {
    env.cleanup();
  }
});
