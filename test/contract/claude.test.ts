/**
 * Contract tests (D10) for the claude driver against the pinned Claude Code and the scripted
 * server speaking Anthropic Messages; then what only claude has: effort, named agents, and
 * permission levels that are claude's own flags.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { turn } from "../drivers/conformance.js";
import { ensureCli } from "../support/clis.js";
import { type ModelServer, startModelServer } from "../support/model-server/index.js";
import type { Reply } from "../support/model-server/rules.js";
import { type ContractTarget, contractEnv, contractSuite } from "./suite.js";

const target: ContractTarget = {
  name: "claude",
  model: "claude-sonnet-4-5",
  config({ server, home, bin, noRetries }) {
    const config = join(home, ".claude");
    const tmp = join(home, "tmp");
    for (const d of [config, tmp]) mkdirSync(d, { recursive: true });
    return {
      bin,
      env: {
        HOME: home,
        TMPDIR: tmp,
        XDG_CONFIG_HOME: join(home, ".config"),
        XDG_DATA_HOME: join(home, ".local", "share"),
        XDG_CACHE_HOME: join(home, ".cache"),
        XDG_STATE_HOME: join(home, ".local", "state"),
        CLAUDE_CONFIG_DIR: config,
        // The scripted server; claude appends /v1/messages itself.
        ANTHROPIC_BASE_URL: server.url,
        ANTHROPIC_API_KEY: "x",
        // No telemetry, update checks or other calls beyond the model server.
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        // claude's own retries of a failed request (default 10); 0 lets weft's retries (C02) show.
        ...(noRetries ? { CLAUDE_CODE_MAX_RETRIES: "0" } : {}),
      },
    };
  },
  // claude has no sandbox: the permission flags refuse the write before it runs.
  readOnly: "flags",
  // Anthropic counts thinking inside output_tokens and never reports the split (see claude.ts).
  expectedUsage: (sent) => ({
    input: sent.input,
    output: sent.output + sent.reasoning,
    cached: sent.cached,
    reasoning: 0,
  }),
};

contractSuite(target);

const WEFT_BIN = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");
const EXAMPLES = join(import.meta.dirname, "..", "..", "examples");

/** claude-only options, each checked in what reached the server. */
function withClaude(fn: (env: ReturnType<typeof contractEnv>) => Promise<void>) {
  return async () => {
    const bin = await ensureCli("claude");
    const server: ModelServer = await startModelServer();
    const env = contractEnv(target, server, bin);
    try {
      await fn(env);
    } finally {
      env.cleanup();
      await server.close();
    }
  };
}

const prompt = (text: string) => ({ prompt: text, userPrompt: text });

test(
  "D04 claude: effort reaches the API as output_config.effort",
  withClaude(async (env) => {
    // claude sends an effort only to the models that take one (sonnet 4.6, opus 4.5 and later).
    const { outcome } = await turn(
      env.driver(),
      env.task({ ...prompt("[[reply: with effort]]"), model: "claude-sonnet-4-6", effort: "low" }),
    );
    expect(outcome.status).toBe("completed");
    const sent = env.server.modelRequests().map((r) => r.body?.output_config);
    expect(sent).toContainEqual({ effort: "low" });
  }),
);

test(
  "D04 claude: an effort claude has no level for is refused, not ignored",
  withClaude(async (env) => {
    await expect(
      turn(env.driver(), env.task({ ...prompt("[[reply: no]]"), effort: "extreme" })),
    ).rejects.toThrow(/effort "extreme"/);
    expect(env.server.modelRequests()).toEqual([]);
  }),
);

test(
  "A02 claude: agentType runs claude's named agent (its tools and system prompt)",
  withClaude(async (env) => {
    const { outcome } = await turn(
      env.driver(),
      env.task({ ...prompt("[[reply: explored]]"), agentType: "Explore" }),
    );
    expect(outcome.status).toBe("completed");
    expect(outcome.text).toBe("explored");
    const req = env.server.modelRequests()[0]!;
    // The Explore agent is read-only: claude offers it no file-editing tools.
    expect(req.conversation?.tools).toContain("Bash");
    expect(req.conversation?.tools).not.toContain("Write");
    expect(JSON.stringify(req.body?.system)).toMatch(/search/i);
  }),
);

test(
  "D05 claude: read-only still runs read-only shell commands",
  withClaude(async (env) => {
    const { outcome, events } = await turn(
      env.driver(),
      env.task({ ...prompt("[[run: echo visible]]"), permissions: "read-only" }),
    );
    expect(outcome.status).toBe("completed");
    expect(outcome.text).toBe("ran: visible");
    expect(events).toContainEqual(
      expect.objectContaining({ type: "tool_result", name: "Bash", isError: false }),
    );
  }),
);

test(
  "D05 claude: edit refuses a shell command no allow rule permits (nothing waits), and runs one the user's settings allow",
  withClaude(async (env) => {
    const refused = await turn(
      env.driver(),
      env.task({ ...prompt("[[run: git init -q no-rule-repo]]"), permissions: "edit" }),
    );
    expect(refused.outcome.status).toBe("completed");
    expect(existsSync(join(env.cwd, "no-rule-repo"))).toBe(false);
    expect(refused.events).toContainEqual(
      expect.objectContaining({ type: "tool_result", name: "Bash", isError: true }),
    );
    // The user's own allow rule (their settings, which claude reads itself) lets that command run.
    writeFileSync(
      join(env.home, ".claude", "settings.json"),
      JSON.stringify({ permissions: { allow: ["Bash(git init:*)"] } }),
    );
    const ruled = await turn(
      env.driver(),
      env.task({ ...prompt("[[run: git init -q ruled-repo]]"), permissions: "edit" }),
    );
    expect(ruled.outcome.status).toBe("completed");
    expect(existsSync(join(env.cwd, "ruled-repo"))).toBe(true);
  }),
);

test(
  "D05 claude: full permissions run a shell write without any allow rule",
  withClaude(async (env) => {
    const { outcome } = await turn(
      env.driver(),
      env.task({
        ...prompt("[[run: mkdir -p deep/dir && echo full > deep/dir/f.txt]]"),
        permissions: "full",
      }),
    );
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe("completed");
    expect(existsSync(join(env.cwd, "deep", "dir", "f.txt"))).toBe(true);
  }),
);

test(
  "D07 claude: the cost is claude's own report",
  withClaude(async (env) => {
    const { outcome } = await turn(
      env.driver(),
      env.task(prompt("[[usage: in=1000000 out=0]] [[reply: priced]]")),
    );
    expect(outcome.status).toBe("completed");
    // The driver alone (no engine, which would price usage without a cost): the cost is claude's
    // total_cost_usd, a million uncached input tokens of claude-sonnet-4-5 at $3.
    expect(outcome.usage?.costUsd).toBeCloseTo(3, 5);
  }),
);

test(
  "D06 claude: a schema goes as --json-schema, and the object is claude's StructuredOutput",
  withClaude(async (env) => {
    const schema = {
      type: "object",
      properties: { name: { type: "string" } },
      required: ["name"],
    };
    const { outcome, events } = await turn(
      env.driver(),
      env.task({ ...prompt('Name it [[json: {"name": "weft"}]]'), schema }),
    );
    expect(outcome.status).toBe("completed");
    expect(outcome.object).toEqual({ name: "weft" });
    expect(events).toContainEqual({ type: "tool_call", name: "StructuredOutput", input: { name: "weft" } });
    // The request offered the tool with the schema as its input schema.
    const offered = env.server.modelRequests()[0]?.conversation?.schema as Record<string, unknown>;
    expect(offered).toMatchObject({ properties: schema.properties, required: ["name"] });
  }),
);

test(
  "C02 claude: without noRetries claude retries a 429 itself, within one start",
  withClaude(async (env) => {
    const key = `own-retry-${Date.now()}`;
    const { outcome } = await turn(
      env.driver(),
      env.task(prompt(`[[status: 429 ${key} x1]] [[reply: retried by claude]]`)),
    );
    expect(outcome.status).toBe("completed");
    expect(outcome.text).toBe("retried by claude");
    expect(env.server.modelRequests().filter((r) => r.conversation?.userText.includes(key))).toHaveLength(2);
  }),
);

test(
  "D02 claude: a prompt that starts with a dash is the prompt, not an option",
  withClaude(async (env) => {
    const { outcome } = await turn(env.driver(), env.task(prompt("--help me [[reply: dashed]]")));
    expect(outcome.status).toBe("completed");
    expect(outcome.text).toBe("dashed");
  }),
);

test("U01 examples/review.js with claude: read-only reviewers run git diff, the merge answers in the schema", async () => {
  const bin = await ensureCli("claude");
  // The example's prompts carry no markers: this server plays a reviewer who reads the diff.
  const server = await startModelServer({
    respond(conv) {
      if (conv.userText.includes("Merge these code review findings")) {
        return json({
          findings: [{ file: "app.js", line: 2, severity: "high", issue: "eval of user input" }],
        });
      }
      if (conv.toolResult === undefined) return { kind: "shell", command: "git diff HEAD~1..HEAD" };
      const lens = /for (.*?) only/.exec(conv.userText)?.[1] ?? "";
      const sawEval = conv.toolResult.includes("+const out = eval(input)");
      return json({
        findings:
          sawEval && lens !== "tests and error handling"
            ? [
                {
                  file: "app.js",
                  line: 2,
                  severity: lens === "security" ? "high" : "medium",
                  issue: `eval (${lens})`,
                },
              ]
            : [],
      });
    },
  });
  const env = contractEnv(target, server, bin);
  try {
    const git = (...a: string[]) => execFileSync("git", a, { cwd: env.cwd, stdio: "pipe" });
    git("init", "-q");
    git("config", "user.email", "t@example.com");
    git("config", "user.name", "t");
    writeFileSync(join(env.cwd, "app.js"), "const input = process.argv[2];\n");
    git("add", ".");
    git("commit", "-qm", "one");
    writeFileSync(join(env.cwd, "app.js"), "const input = process.argv[2];\nconst out = eval(input);\n");
    git("commit", "-qam", "two");
    mkdirSync(join(env.cwd, ".weft"));
    const cfg = target.config({ server, home: env.home, bin });
    writeFileSync(join(env.cwd, ".weft", "config.json"), JSON.stringify({ drivers: { claude: cfg } }));
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      // Not execFileSync: the scripted server answers from this very process.
      execFile(
        process.execPath,
        [WEFT_BIN, "run", join(EXAMPLES, "review.js"), "--driver", "claude"],
        { cwd: env.cwd, timeout: 120_000 },
        (err, stdout, stderr) => done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      findings: [{ file: "app.js", line: 2, severity: "high", issue: "eval of user input" }],
    });
    // Each of the three reviewers really ran git diff under read-only and saw the change.
    const lenses = server
      .modelRequests()
      .filter((q) => q.conversation?.toolResult?.includes("+const out = eval(input)"))
      .map((q) => /for (.*?) only/.exec(q.conversation?.userText ?? "")?.[1])
      // claude also sends the command's output to a side request of its own.
      .filter((lens) => lens !== undefined);
    expect(new Set(lenses)).toEqual(
      new Set(["correctness and edge cases", "security", "tests and error handling"]),
    );
  } finally {
    env.cleanup();
    await server.close();
  }
});

function json(value: unknown): Reply {
  return { kind: "json", value, text: JSON.stringify(value) };
}
