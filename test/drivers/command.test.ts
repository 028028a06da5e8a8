import { describe, expect, test } from "vitest";
import { CommandDriver } from "../../dist/index.js";
import { driverConformance, makeTask } from "./conformance.js";

// A shell "backend": answers pong, fails, or sleeps in a child process (to check the group kill).
const BACKEND = `case "$(cat "$WEFT_TASK_FILE")" in
  ping) echo '{"input":3,"output":1}' > "$WEFT_USAGE_FILE"; echo pong ;;
  fail) echo "quota? no: broken" >&2; exit 2 ;;
  slow) sleep 30 & wait ;;
esac`;

describe("command driver", () => {
  driverConformance("command", () => ({
    driver: new CommandDriver({ command: BACKEND, killGraceMs: 1000 }),
    prompts: { plain: "ping", fail: "fail", slow: "slow" },
  }));

  test("D09 stdin carries the full prompt; the task file holds the script's prompt verbatim; the schema file only with a schema", async () => {
    const driver = new CommandDriver({
      command:
        'cat; printf "|"; cat "$WEFT_TASK_FILE"; printf "|"; if [ -n "$WEFT_SCHEMA_FILE" ]; then cat "$WEFT_SCHEMA_FILE"; fi',
    });
    const plain = await driver.run(makeTask("do  it\n"), {
      signal: new AbortController().signal,
      onEvent() {},
    });
    expect(plain.text).toBe("preamble\n\ndo  it\n|do  it\n|");
    const task = makeTask("s", { schema: { type: "object" } });
    const withSchema = await driver.run(task, { signal: new AbortController().signal, onEvent() {} });
    expect(withSchema.text).toMatch(/\|s\|\{\n {2}"type": "object"\n\}$/);
  });

  test("D09 the usage file is read after a failing exit too; absent means zero", async () => {
    const driver = new CommandDriver({
      command: `echo '{"input":5,"output":7,"cached":2,"costUsd":0.01}' > "$WEFT_USAGE_FILE"; exit 1`,
    });
    const out = await driver.run(makeTask("x"), { signal: new AbortController().signal, onEvent() {} });
    expect(out.status).toBe("failed");
    expect(out.error).toBe("command exited with code 1");
    expect(out.usage).toEqual({ input: 5, output: 7, cached: 2, reasoning: 0, costUsd: 0.01 });
    const none = await new CommandDriver({ command: "echo hi" }).run(makeTask("x"), {
      signal: new AbortController().signal,
      onEvent() {},
    });
    expect(none.usage).toEqual({ input: 0, output: 0, cached: 0, reasoning: 0 });
  });

  test("D09 a program that does not read a 1 MB prompt is fine", async () => {
    const out = await new CommandDriver({ command: "echo done" }).run(
      { ...makeTask("x"), prompt: "y".repeat(1 << 20) },
      { signal: new AbortController().signal, onEvent() {} },
    );
    expect(out).toMatchObject({ status: "completed", text: "done" });
  });

  test("D09 optional variables are absent when the call has none, and never inherited", async () => {
    process.env.WEFT_MODEL = "leaked";
    try {
      const driver = new CommandDriver({
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
        command: 'echo "${WEFT_MODEL-none} ${WEFT_AGENT_LABEL-none} $WEFT_ATTEMPT"',
      });
      const out = await driver.run(makeTask("x"), { signal: new AbortController().signal, onEvent() {} });
      expect(out.text).toBe("none none 1");
      const labelled = await driver.run(makeTask("x", { model: "m", label: "l", attempt: 2 }), {
        signal: new AbortController().signal,
        onEvent() {},
      });
      expect(labelled.text).toBe("m l 2");
    } finally {
      delete process.env.WEFT_MODEL;
    }
  });

  test("D09 no command is an error naming the setting", async () => {
    await expect(
      new CommandDriver().run(makeTask("x"), { signal: new AbortController().signal, onEvent() {} }),
    ).rejects.toThrow(/--command, WEFT_COMMAND or "command" in .weft\/config.json/);
  });
});
