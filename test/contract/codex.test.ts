/**
 * Contract tests (D10) for codex (@openai/codex, pinned in test/support/clis.ts), against the
 * scripted server in the OpenAI Responses format (codex speaks only that one), plus the
 * codex-only checks that its options reach the requests it sends (D04-D06).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { CliDriverConfig } from "../../src/drivers/cli-driver.js";
import { turn } from "../drivers/conformance.js";
import { ensureCli } from "../support/clis.js";
import { codexOfflineToml } from "../support/codex-config.js";
import { type ModelServer, startModelServer } from "../support/model-server/index.js";
import { type ContractTarget, contractEnv, contractSuite } from "./suite.js";

/**
 * A fresh codex home: CODEX_HOME holds a config.toml with a "mock" provider on the server (the
 * Responses wire API; OPENAI_BASE_URL is not read), analytics and the plugin look-ups off, so
 * that nothing leaves the machine. HOME, TMPDIR and the XDG folders keep the rest under `home`.
 */
function codexConfig({
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
  const codexHome = join(home, ".codex");
  const tmp = join(home, "tmp");
  for (const d of [codexHome, tmp]) mkdirSync(d, { recursive: true });
  const toml = codexOfflineToml(server.url, { noRetries }).join("\n");
  writeFileSync(join(codexHome, "config.toml"), toml);
  return {
    bin,
    env: {
      HOME: home,
      TMPDIR: tmp,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_DATA_HOME: join(home, ".local", "share"),
      XDG_CACHE_HOME: join(home, ".cache"),
      XDG_STATE_HOME: join(home, ".local", "state"),
      CODEX_HOME: codexHome,
      MOCK_API_KEY: "x",
    },
  };
}

const codexTarget: ContractTarget = {
  name: "codex",
  // A model codex knows (its built-in catalogue): an unknown name gets fallback settings and a
  // warning, and the name reaches the server either way.
  model: "gpt-5.5",
  config: codexConfig,
  // codex's sandbox is real (Landlock and seccomp), and holds for root too.
  readOnly: "sandbox",
  // codex reports OpenAI's convention, which the driver converts back to weft's.
  expectedUsage: (sent) => ({ ...sent }),
};

contractSuite(codexTarget);

// codex-only: what the options do to the requests codex sends.
let server: ModelServer;
let bin: string;
beforeAll(async () => {
  bin = await ensureCli("codex");
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

const prompt = (text: string) => ({ prompt: text, userPrompt: text });

/** The sandbox mode codex reports in the metadata header of each request. */
function sandboxMode(marker: string): string | undefined {
  const header = lastRequestFor(marker).headers["x-codex-turn-metadata"];
  return (JSON.parse(String(header)) as { sandbox_mode?: string }).sandbox_mode;
}

test("D04 codex: effort reaches the request as reasoning.effort", async () => {
  const env = contractEnv(codexTarget, server, bin);
  try {
    const { outcome } = await turn(
      env.driver(),
      env.task({ ...prompt("[[reply: thought]] effort-high"), effort: "high" }),
    );
    expect(outcome.status).toBe("completed");
    expect(lastRequestFor("effort-high").body?.reasoning).toMatchObject({ effort: "high" });
    await turn(env.driver(), env.task({ ...prompt("[[reply: quick]] effort-low"), effort: "low" }));
    expect(lastRequestFor("effort-low").body?.reasoning).toMatchObject({ effort: "low" });
  } finally {
    env.cleanup();
  }
});

test("D05 codex: each permission level selects its sandbox mode", async () => {
  const env = contractEnv(codexTarget, server, bin);
  try {
    const levels = { "read-only": "read-only", edit: "workspace-write", full: "danger-full-access" } as const;
    for (const [permissions, mode] of Object.entries(levels)) {
      const marker = `perm-${permissions}`;
      const { outcome } = await turn(
        env.driver(),
        env.task({ ...prompt(`[[reply: ok]] ${marker}`), permissions: permissions as keyof typeof levels }),
      );
      expect(outcome.status).toBe("completed");
      expect(sandboxMode(marker)).toBe(mode);
    }
  } finally {
    env.cleanup();
  }
});

test("D06 codex: the schema goes out in strict mode, and the optional nulls come back out", async () => {
  const env = contractEnv(codexTarget, server, bin);
  try {
    const schema = {
      type: "object",
      properties: {
        title: { type: "string", minLength: 1 },
        note: { type: "string" },
        tags: { type: "array", items: { type: "object", properties: { name: { type: "string" } } } },
      },
      required: ["title", "tags"],
    };
    const text = '[[json: {"title": "t", "note": null, "tags": [{"name": null}]}]] strict-check';
    const { outcome } = await turn(env.driver(), env.task({ ...prompt(text), schema }));
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe("completed");
    expect(outcome.object).toEqual({ title: "t", tags: [{}] });
    const sent = lastRequestFor("strict-check").body?.text as { format?: Record<string, unknown> };
    expect(sent.format).toMatchObject({ type: "json_schema", strict: true });
    expect(sent.format?.schema).toEqual({
      type: "object",
      properties: {
        title: { type: "string" },
        note: { type: ["string", "null"] },
        tags: {
          type: "array",
          items: {
            type: "object",
            properties: { name: { type: ["string", "null"] } },
            required: ["name"],
            additionalProperties: false,
          },
        },
      },
      required: ["title", "note", "tags"],
      additionalProperties: false,
    });
  } finally {
    env.cleanup();
  }
});

test("D06 codex: a schema strict mode cannot express is not sent; the answer is still the text", async () => {
  const env = contractEnv(codexTarget, server, bin);
  try {
    // A free-form map: strict mode has no form for it.
    const schema = { type: "object", additionalProperties: { type: "number" } };
    const text = '[[json: {"a": 1}]] free-form';
    const { outcome } = await turn(env.driver(), env.task({ ...prompt(text), schema }));
    expect(outcome.status).toBe("completed");
    expect(outcome.object).toBeUndefined();
    expect(outcome.text).toBe('{"a": 1}');
    const sent = lastRequestFor("free-form").body?.text as { format?: unknown } | undefined;
    expect(sent?.format).toBeUndefined();
  } finally {
    env.cleanup();
  }
});

test("C02 codex: a 429 and a 5xx are transient with their HTTP status, a 400 is not", async () => {
  const env = contractEnv(codexTarget, server, bin);
  try {
    const run = async (text: string) =>
      (await turn(env.driver({ noRetries: true }), env.task(prompt(text)))).outcome;
    const limited = await run(`[[status: 429 cx-429-${Date.now()}]]`);
    expect(limited).toMatchObject({ status: "failed", transient: true, fatal: false });
    expect(limited.error).toMatch(/429/);
    const down = await run(`[[status: 503 cx-503-${Date.now()}]]`);
    expect(down).toMatchObject({ status: "failed", transient: true, fatal: false });
    const bad = await run(`[[status: 400 cx-400-${Date.now()}]]`);
    expect(bad).toMatchObject({ status: "failed", transient: false, fatal: false });
    expect(bad.error).toMatch(/^Bad request: scripted failure cx-400/);
  } finally {
    env.cleanup();
  }
});

test("D07 codex: a turn of two requests sums their usage; the model comes from codex's session", async () => {
  const env = contractEnv(codexTarget, server, bin);
  try {
    const text = "[[usage: in=100 out=20 cached=40 reasoning=5]] [[run: echo two-requests]]";
    // No model in the task: codex takes the model of its config, and the driver reads it back.
    const driver = env.driver();
    const file = join(env.home, ".codex", "config.toml");
    writeFileSync(file, `model = "gpt-5.5"\n${readFileSync(file, "utf8")}`);
    const { outcome, events } = await turn(driver, env.task({ ...prompt(text), model: undefined }));
    expect(outcome.status).toBe("completed");
    expect(outcome.usage).toMatchObject({ input: 200, output: 40, cached: 80, reasoning: 10 });
    expect(outcome.model).toBe("gpt-5.5");
    expect(events).toContainEqual(expect.objectContaining({ type: "tool_result", name: "shell" }));
  } finally {
    env.cleanup();
  }
});
