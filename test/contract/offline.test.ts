/**
 * Backend failures as a user meets them, through `weft run` and the pinned CLIs (D10): pi with no
 * API key trips the breaker (C03) instead of being retried; codex and opencode that cannot reach
 * their model say so as the agent's activity (U02) while they retry on their own, instead of
 * being silent for minutes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { expect, test } from "vitest";
import { journal, meta, project, runJson, startWeft, until, weft } from "../helpers/cli.js";
import { ensureCli } from "../support/clis.js";
import { codexOfflineToml } from "../support/codex-config.js";

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

function homeFolders(home: string): Record<string, string> {
  const tmp = join(home, "tmp");
  mkdirSync(tmp, { recursive: true });
  return {
    HOME: home,
    TMPDIR: tmp,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local", "state"),
  };
}

/** `weft run --json` until an agent.activity event matches, then stop the run; the activities seen. */
async function activityUntil(dir: string, driver: string, match: RegExp, ms: number): Promise<string[]> {
  const child = startWeft(["run", "wf.js", "--driver", driver, "--json"], dir);
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  const seen = () =>
    out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === "agent.activity")
      .map((e) => String(e.text));
  try {
    await until(() => seen().some((t) => match.test(t)) || undefined, ms);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.on("close", r));
  }
  return seen();
}

test("C03 pi with no API key trips the breaker: the run pauses after one start, not three retries", async () => {
  const bin = await ensureCli("pi");
  const dir = project({ "wf.js": `${meta("nokey")}return await agent("hello")\n` });
  const home = join(dir, "home");
  const env = {
    ...homeFolders(home),
    PI_CODING_AGENT_DIR: join(home, "agent"),
    PI_OFFLINE: "1",
    PI_TELEMETRY: "0",
  };
  mkdirSync(join(dir, ".weft"), { recursive: true });
  writeFileSync(join(dir, ".weft", "config.json"), JSON.stringify({ drivers: { pi: { bin, env } } }));
  const r = await weft(["run", "wf.js", "--driver", "pi"], dir);
  expect(r.code, r.stderr).toBe(4);
  expect(r.stderr).toContain("No API key found");
  expect(r.stderr).toContain("paused by the breaker");
  const id = /^run (\S+)/m.exec(r.stderr)![1]!;
  expect(runJson(dir, id).status).toBe("paused");
  expect(journal(dir, id).filter((x) => x.type === "agent.started")).toHaveLength(1);
}, 120_000);

test("U02 codex that cannot reach its model shows `Reconnecting... waiting for network` as the agent's activity", async () => {
  const bin = await ensureCli("codex");
  const dir = project({ "wf.js": `${meta("offline")}return await agent("hello")\n` });
  const home = join(dir, "home");
  const codexHome = join(home, ".codex");
  mkdirSync(codexHome, { recursive: true });
  writeFileSync(
    join(codexHome, "config.toml"),
    codexOfflineToml(`http://127.0.0.1:${await closedPort()}`).join("\n"),
  );
  const env = { ...homeFolders(home), CODEX_HOME: codexHome, MOCK_API_KEY: "x" };
  mkdirSync(join(dir, ".weft"), { recursive: true });
  writeFileSync(
    join(dir, ".weft", "config.json"),
    JSON.stringify({ drivers: { codex: { bin, env, model: "gpt-5.5" } } }),
  );
  const seen = await activityUntil(dir, "codex", /Reconnecting\.\.\. waiting for network/, 60_000);
  expect(seen.some((t) => /^error: Reconnecting\.\.\. waiting for network/.test(t))).toBe(true);
}, 120_000);

test("U02 opencode that cannot reach its model shows its retries as the agent's activity", async () => {
  const bin = await ensureCli("opencode");
  const dir = project({ "wf.js": `${meta("offline")}return await agent("hello")\n` });
  const home = join(dir, "home");
  const port = await closedPort();
  const config = {
    autoupdate: false,
    share: "disabled",
    provider: {
      mock: {
        npm: "@ai-sdk/openai-compatible",
        options: { baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "x" },
        models: { "mock-model": { tool_call: true } },
      },
    },
  };
  const env = {
    ...homeFolders(home),
    OPENCODE_CONFIG_CONTENT: JSON.stringify(config),
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
    OPENCODE_DISABLE_SHARE: "1",
  };
  mkdirSync(join(dir, ".weft"), { recursive: true });
  writeFileSync(
    join(dir, ".weft", "config.json"),
    JSON.stringify({ drivers: { opencode: { bin, env, model: "mock/mock-model" } } }),
  );
  // opencode's first retry comes about a second after its first attempt; its JSON stream is
  // silent until it gives up, a minute later.
  const seen = await activityUntil(dir, "opencode", /Cannot connect to API/, 45_000);
  expect(seen.some((t) => /^error: opencode retries: AI_APICallError: Cannot connect to API/.test(t))).toBe(
    true,
  );
}, 120_000);
