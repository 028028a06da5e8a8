/**
 * Contract tests of the gemini driver (D10) against the pinned @google/gemini-cli and the
 * scripted model server, plus what is particular to gemini-cli: the read-only policy, and the
 * failures it reports only through its exit code.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { CliDriverConfig } from "../../src/drivers/cli-driver.js";
import { createCliDriver } from "../../src/drivers/registry.js";
import { turn } from "../drivers/conformance.js";
import { ensureCli } from "../support/clis.js";
import { type ModelServer, startModelServer } from "../support/model-server/index.js";
import { type ContractTarget, contractEnv, contractSuite } from "./suite.js";

/** Writes the user settings of a fresh gemini home; `extra` is merged into `general`/top level. */
function writeSettings(
  home: string,
  opts: { noRetries?: boolean; extra?: Record<string, unknown> } = {},
): void {
  const dir = join(home, ".gemini");
  mkdirSync(dir, { recursive: true });
  const settings = {
    security: { auth: { selectedType: "gemini-api-key" } },
    general: {
      enableAutoUpdate: false,
      enableAutoUpdateNotification: false,
      // gemini-cli retries a failed request up to 10 times itself; 1 attempt lets weft's retries show.
      ...(opts.noRetries ? { maxAttempts: 1 } : {}),
    },
    telemetry: { enabled: false },
    privacy: { usageStatisticsEnabled: false },
    ...opts.extra,
  };
  writeFileSync(join(dir, "settings.json"), `${JSON.stringify(settings, null, 2)}\n`);
}

function geminiConfig(
  { server, home, bin, noRetries }: { server: ModelServer; home: string; bin: string; noRetries?: boolean },
  env: Record<string, string> = {},
): CliDriverConfig {
  writeSettings(home, { noRetries });
  const tmp = join(home, "tmp");
  mkdirSync(tmp, { recursive: true });
  return {
    bin,
    env: {
      HOME: home,
      // gemini-cli's own home for ~/.gemini (settings, sessions, policies).
      GEMINI_CLI_HOME: home,
      TMPDIR: tmp,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_CACHE_HOME: join(home, ".cache"),
      XDG_DATA_HOME: join(home, ".local", "share"),
      XDG_STATE_HOME: join(home, ".local", "state"),
      // Not the machine's /etc/gemini-cli files.
      GEMINI_CLI_SYSTEM_SETTINGS_PATH: join(home, "system-settings.json"),
      GEMINI_CLI_SYSTEM_DEFAULTS_PATH: join(home, "system-defaults.json"),
      GEMINI_API_KEY: "x",
      GOOGLE_GEMINI_BASE_URL: server.url,
      GEMINI_CLI_TRUST_WORKSPACE: "true",
      ...env,
    },
  };
}

const target: ContractTarget = {
  name: "gemini",
  model: "gemini-2.5-flash",
  config: (opts) => geminiConfig(opts),
  readOnly: "flags",
  // Both sides of the conversion are exact: Google counts cached tokens inside the prompt and the
  // thoughts apart from the candidates; the driver subtracts and derives.
  expectedUsage: (sent) => ({ ...sent }),
};

contractSuite(target);

describe("gemini specifics", () => {
  let server: ModelServer;
  let bin: string;
  beforeAll(async () => {
    bin = await ensureCli("gemini");
    server = await startModelServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const env = () => contractEnv(target, server, bin);
  const prompt = (text: string) => ({ prompt: text, userPrompt: text });

  test("D05 gemini: read-only withholds the writing tools even when the user's settings allow the shell", async () => {
    const e = env();
    try {
      // A user who allowed the shell for every session: the default approval mode alone would then
      // offer the shell and run a command without a redirection (measured with 0.61.0).
      const cfg = target.config({ server, home: e.home, bin });
      writeSettings(e.home, { extra: { tools: { allowed: ["run_shell_command"] } } });
      const driver = createCliDriver("gemini", cfg);
      const before = server.requests.length;
      const { outcome, events } = await turn(
        driver,
        e.task({ ...prompt("[[run: touch forbidden.txt]]"), permissions: "read-only" }),
      );
      expect(existsSync(join(e.cwd, "forbidden.txt"))).toBe(false);
      expect(outcome.status).toBe("completed");
      const offered = server.requests
        .slice(before)
        .find((r) => r.conversation?.userText.includes("forbidden"));
      expect(offered?.conversation?.tools).toEqual(expect.arrayContaining(["read_file"]));
      for (const t of ["run_shell_command", "write_file", "replace"])
        expect(offered?.conversation?.tools).not.toContain(t);
      expect(events.some((ev) => ev.type === "tool_result" && ev.isError === true)).toBe(true);
    } finally {
      e.cleanup();
    }
  }, 60_000);

  test("D05 gemini: edit withholds the shell unless the user's settings allow that command; edits run", async () => {
    const e = env();
    try {
      const cfg = target.config({ server, home: e.home, bin });
      const driver = createCliDriver("gemini", cfg);
      const before = server.requests.length;
      const refused = await turn(
        driver,
        e.task({ ...prompt("[[run: touch no-rule.txt]]"), permissions: "edit" }),
      );
      expect(refused.outcome.status).toBe("completed");
      expect(existsSync(join(e.cwd, "no-rule.txt"))).toBe(false);
      const offered = server.requests.slice(before).find((r) => r.conversation?.userText.includes("no-rule"));
      expect(offered?.conversation?.tools).toEqual(expect.arrayContaining(["write_file", "replace"]));
      expect(offered?.conversation?.tools).not.toContain("run_shell_command");
      // The user's own allow rule for `touch` brings the shell back for that command.
      writeSettings(e.home, { extra: { tools: { allowed: ["run_shell_command(touch)"] } } });
      const ruled = await turn(
        driver,
        e.task({ ...prompt("[[run: touch ruled.txt]]"), permissions: "edit" }),
      );
      expect(ruled.outcome.status).toBe("completed");
      expect(existsSync(join(e.cwd, "ruled.txt"))).toBe(true);
    } finally {
      e.cleanup();
    }
  }, 90_000);

  test("C02 gemini: a 5xx that gemini-cli reports without its status is still transient", async () => {
    const e = env();
    try {
      const { outcome } = await turn(
        e.driver({ noRetries: true }),
        e.task(prompt("[[status: 503 srv-down]]")),
      );
      expect(outcome.status).toBe("failed");
      expect(outcome.error).toContain("scripted srv-down");
      expect(outcome.transient).toBe(true);
      expect(outcome.fatal).toBe(false);
    } finally {
      e.cleanup();
    }
  }, 60_000);

  test("C02 gemini: an untrusted folder fails at once with gemini-cli's reason, not retried", async () => {
    const e = env();
    try {
      const cfg = target.config({ server, home: e.home, bin });
      const driver = createCliDriver("gemini", {
        ...cfg,
        env: { ...cfg.env, GEMINI_CLI_TRUST_WORKSPACE: "" },
      });
      const { outcome } = await turn(driver, e.task(prompt("[[reply: never]]")));
      expect(outcome.status).toBe("failed");
      expect(outcome.error).toMatch(/not trusted/);
      expect(outcome.transient).toBe(false);
    } finally {
      e.cleanup();
    }
  }, 60_000);
});
