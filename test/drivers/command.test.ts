/**
 * The command driver against its contract (SPEC D09, row by row), process groups (D08), stops
 * (C04) and time limits (C01), plus the shared Driver conformance suite (D01). The "backends"
 * are small sh and node programs written by the tests.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { CommandDriver } from "../../src/drivers/command.js";
import { isGroupAlive } from "../../src/drivers/process.js";
import type { AgentTask } from "../../src/drivers/types.js";
import { driverConformance, turn } from "./conformance.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "weft-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function makeTask(overrides: Partial<AgentTask> = {}, base = root): AgentTask {
  const runDir = overrides.runDir ?? fs.mkdtempSync(path.join(base, "run-"));
  const index = overrides.index ?? 3;
  return {
    runId: "probe-abc123",
    index,
    attempt: 1,
    prompt: "PREAMBLE\n\nhello",
    userPrompt: "hello",
    permissions: "edit",
    cwd: runDir,
    runDir,
    transcriptPath: path.join(runDir, "transcripts", `${index}.jsonl`),
    ...overrides,
  };
}

const sh = (command: string, killGraceMs = 1000) => new CommandDriver({ command, killGraceMs });

/** A node program that reports what it was given: stdin, the D09 files and variables, its cwd. */
const probePath = path.join(root, "probe.mjs");
fs.writeFileSync(
  probePath,
  `import fs from "node:fs";
const read = (p) => (p && fs.existsSync(p) ? fs.readFileSync(p, "utf8") : null);
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k.startsWith("WEFT_") || k.startsWith("PROBE_")),
);
const report = {
  stdin: fs.readFileSync(0, "utf8"),
  env,
  taskFile: read(env.WEFT_TASK_FILE),
  schemaFile: read(env.WEFT_SCHEMA_FILE),
  usageExists: env.WEFT_USAGE_FILE ? fs.existsSync(env.WEFT_USAGE_FILE) : null,
  cwd: process.cwd(),
};
process.stdout.write(JSON.stringify(report) + "\\n \\t\\n");
`,
);
const probe = sh(`"${process.execPath}" "${probePath}"`);

interface ProbeReport {
  stdin: string;
  env: Record<string, string>;
  taskFile: string | null;
  schemaFile: string | null;
  usageExists: boolean | null;
  cwd: string;
}

async function runProbe(task: AgentTask): Promise<ProbeReport> {
  const { outcome } = await turn(probe, task);
  expect(outcome.status).toBe("completed");
  return JSON.parse(outcome.text!) as ProbeReport;
}

/** Gone, or a zombie that nothing reaps (a container whose PID 1 does not): either way not running. */
function processGone(pid: number): boolean {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = st.slice(st.lastIndexOf(")") + 2)[0];
    return state === "Z" || state === "X";
  } catch {
    if (fs.existsSync("/proc/self")) return true;
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }
}

const onLinux = process.platform === "linux";

describe("command driver", () => {
  driverConformance("command", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "weft-"));
    return {
      driver: new CommandDriver({ killGraceMs: 1000 }),
      makeTask: (overrides) => makeTask(overrides, dir),
      scenario: {
        plain: { command: `echo '{"input":3,"output":1}' > "$WEFT_USAGE_FILE"; echo pong` },
        fail: { command: "echo broken >&2; exit 2" },
        slow: { command: "sleep 30 & wait" },
      },
      cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  });

  describe("D09 contract", () => {
    test("D09 stdin is a pipe carrying the full prompt, then end of file", async () => {
      const prompt = "PREAMBLE line\n\nthe script's prompt ü\n\nReply with JSON matching the schema.\n";
      const report = await runProbe(makeTask({ prompt, userPrompt: "the script's prompt ü" }));
      expect(report.stdin).toBe(prompt);
    });

    test("D09 WEFT_TASK_FILE holds the script's prompt verbatim, no added newline, in the run directory", async () => {
      const userPrompt = "  do  it\n\n\tnow ü";
      const task = makeTask({ userPrompt, prompt: `PRE\n\n${userPrompt}` });
      const report = await runProbe(task);
      expect(report.taskFile).toBe(userPrompt);
      expect(report.env.WEFT_TASK_FILE?.startsWith(task.runDir + path.sep)).toBe(true);
      expect(fs.readFileSync(report.env.WEFT_TASK_FILE!, "utf8")).toBe(userPrompt);
    });

    test("D09 WEFT_SCHEMA_FILE is set only with a schema, and holds the schema as JSON", async () => {
      const previous = process.env.WEFT_SCHEMA_FILE;
      process.env.WEFT_SCHEMA_FILE = "/inherited/schema.json";
      try {
        const without = await runProbe(makeTask());
        expect(without.env.WEFT_SCHEMA_FILE).toBeUndefined();
        const schema = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] };
        const task = makeTask({ schema });
        const withSchema = await runProbe(task);
        expect(withSchema.env.WEFT_SCHEMA_FILE?.startsWith(task.runDir + path.sep)).toBe(true);
        expect(JSON.parse(withSchema.schemaFile!)).toEqual(schema);
      } finally {
        if (previous === undefined) delete process.env.WEFT_SCHEMA_FILE;
        else process.env.WEFT_SCHEMA_FILE = previous;
      }
    });

    test("D09 WEFT_USAGE_FILE does not exist yet when the program starts, even if an earlier start wrote it", async () => {
      const first = makeTask();
      const wrote = await turn(sh(`echo '{"input":1,"output":1}' > "$WEFT_USAGE_FILE"; echo x`), first);
      expect(wrote.outcome.usage).toMatchObject({ input: 1, output: 1 });
      // Same run directory, agent and attempt: the path is the same, and must be fresh again.
      const report = await runProbe(makeTask({ runDir: first.runDir }));
      expect(report.env.WEFT_USAGE_FILE).toBe(path.join(first.runDir, "tasks", "3-1.usage.json"));
      expect(report.usageExists).toBe(false);
    });

    test("D09 WEFT_USAGE_FILE is read after a failing exit too, and reported as an event", async () => {
      const { outcome, events } = await turn(
        sh(
          `echo '{"input":5,"output":7,"cached":2,"reasoning":4,"costUsd":0.01}' > "$WEFT_USAGE_FILE"; exit 1`,
        ),
        makeTask(),
      );
      expect(outcome.status).toBe("failed");
      expect(outcome.usage).toEqual({ input: 5, output: 7, cached: 2, reasoning: 4, costUsd: 0.01 });
      expect(events).toContainEqual({ type: "usage", usage: outcome.usage });
    });

    test("D09 no usage file means usage 0; an unparsable one means 0, and a failed agent's error says so", async () => {
      const zero = { input: 0, output: 0, cached: 0, reasoning: 0 };
      const none = await turn(sh("echo hi"), makeTask());
      expect(none.outcome.usage).toEqual(zero);
      expect(none.events.some((e) => e.type === "usage")).toBe(false);
      const partial = await turn(sh(`echo '{"output":2}' > "$WEFT_USAGE_FILE"`), makeTask());
      expect(partial.outcome.usage).toEqual({ ...zero, output: 2 });
      const junkOk = await turn(sh(`echo 'not json' > "$WEFT_USAGE_FILE"; echo fine`), makeTask());
      expect(junkOk.outcome).toMatchObject({ status: "completed", text: "fine", usage: zero });
      const junkFailed = await turn(
        sh(`echo 'not json' > "$WEFT_USAGE_FILE"; echo bad >&2; exit 4`),
        makeTask(),
      );
      expect(junkFailed.outcome.status).toBe("failed");
      expect(junkFailed.outcome.usage).toEqual(zero);
      expect(junkFailed.outcome.error).toMatch(/^bad\n\(WEFT_USAGE_FILE is not JSON/);
    });

    test("D09 WEFT_RUN_ID, WEFT_AGENT_INDEX and WEFT_ATTEMPT are set; the user's environment and the call's env pass through", async () => {
      process.env.PROBE_USER = "from-user";
      try {
        const report = await runProbe(makeTask({ index: 7, attempt: 2, env: { PROBE_CALL: "from-call" } }));
        expect(report.env).toMatchObject({
          WEFT_RUN_ID: "probe-abc123",
          WEFT_AGENT_INDEX: "7",
          WEFT_ATTEMPT: "2",
          PROBE_USER: "from-user",
          PROBE_CALL: "from-call",
        });
        expect(report.env.WEFT_TASK_FILE).toMatch(/7-2\.prompt\.txt$/);
        expect(report.env.WEFT_USAGE_FILE).toMatch(/7-2\.usage\.json$/);
      } finally {
        delete process.env.PROBE_USER;
      }
    });

    test("D09 WEFT_AGENT_LABEL, WEFT_AGENT_PHASE and WEFT_MODEL are set only when the call has one, never inherited", async () => {
      const names = ["WEFT_AGENT_LABEL", "WEFT_AGENT_PHASE", "WEFT_MODEL"] as const;
      for (const k of names) process.env[k] = "leaked";
      try {
        const bare = await runProbe(makeTask({ env: { WEFT_MODEL: "leaked-too" } }));
        for (const k of names) expect(bare.env[k]).toBeUndefined();
        const full = await runProbe(makeTask({ label: "lbl", phase: "Review", model: "gpt-x" }));
        expect(full.env).toMatchObject({
          WEFT_AGENT_LABEL: "lbl",
          WEFT_AGENT_PHASE: "Review",
          WEFT_MODEL: "gpt-x",
        });
      } finally {
        for (const k of names) delete process.env[k];
      }
    });

    test("D09 WEFT_PERMISSIONS tells the program read-only, edit or full, never an inherited value; the driver takes all three as told, not enforced", async () => {
      process.env.WEFT_PERMISSIONS = "full";
      try {
        for (const level of ["read-only", "edit", "full"] as const) {
          const r = await runProbe(makeTask({ permissions: level, env: { WEFT_PERMISSIONS: "leaked" } }));
          expect(r.env.WEFT_PERMISSIONS).toBe(level);
        }
      } finally {
        delete process.env.WEFT_PERMISSIONS;
      }
      expect(probe.capabilities).toMatchObject({
        permissions: ["read-only", "edit", "full"],
        advisoryPermissions: true,
      });
    });

    test("D09 the result is stdout as UTF-8 with trailing white space removed, leading kept", async () => {
      const { outcome } = await turn(sh(`printf '  ü a\\n b \\n\\n\\t \\r\\n'`), makeTask());
      expect(outcome).toMatchObject({ status: "completed", text: "  ü a\n b", exitCode: 0 });
      // JSON is left to the engine (A03): the driver returns the text as printed.
      const json = await turn(sh(`echo 'Here: {"a":1}'`), makeTask({ schema: { type: "object" } }));
      expect(json.outcome.text).toBe('Here: {"a":1}');
      expect(json.outcome.object).toBeUndefined();
    });

    test("D09 a non-zero exit fails, with the last lines of stderr as the error", async () => {
      const { outcome } = await turn(
        sh(`i=1; while [ $i -le 30 ]; do echo "err line $i" >&2; i=$((i+1)); done; echo out; exit 3`),
        makeTask(),
      );
      expect(outcome.status).toBe("failed");
      expect(outcome.exitCode).toBe(3);
      expect(outcome.transient).toBe(false);
      const lines = outcome.error!.split("\n");
      expect(lines).toHaveLength(20);
      expect(lines[0]).toBe("err line 11");
      expect(lines[19]).toBe("err line 30");
      expect(outcome.text).toBe("out");
    });

    test("D09 exit 1 without stderr fails with the exit code as the error", async () => {
      const { outcome, events } = await turn(sh("exit 1"), makeTask());
      expect(outcome).toMatchObject({
        status: "failed",
        exitCode: 1,
        error: "command exited with code 1",
        transient: false,
      });
      expect(events).toContainEqual({ type: "error", message: "command exited with code 1" });
    });

    test("D09 a command killed by a signal weft did not send fails saying so", async () => {
      const { outcome } = await turn(sh("kill -KILL $$"), makeTask());
      expect(outcome.status).toBe("failed");
      expect(outcome.error).toBe("command killed by SIGKILL");
    });

    test("D09 a program that does not read a 1 MB prompt is fine; one that reads it gets all of it", async () => {
      const prompt = "y".repeat(1 << 20);
      const ignores = await turn(sh("echo done"), makeTask({ prompt }));
      expect(ignores.outcome).toMatchObject({ status: "completed", text: "done" });
      const exitsEarly = await turn(sh("head -c 10 >/dev/null; echo early"), makeTask({ prompt }));
      expect(exitsEarly.outcome).toMatchObject({ status: "completed", text: "early" });
      const reads = await turn(sh("wc -c"), makeTask({ prompt }));
      expect(reads.outcome.text?.trim()).toBe(String(1 << 20));
    });

    test("D09 per call, task.command overrides the driver's command", async () => {
      const { outcome } = await turn(sh("echo driver"), makeTask({ command: "echo call" }));
      expect(outcome.text).toBe("call");
    });

    test("D09 with no command at all, run throws an error naming the setting", async () => {
      await expect(
        new CommandDriver().run(makeTask(), { signal: new AbortController().signal, onEvent() {} }),
      ).rejects.toThrow(
        'the command driver needs a command: set --command, WEFT_COMMAND or "command" in .weft/config.json',
      );
    });

    test("D09 a working directory that does not exist fails with a clear message", async () => {
      const cwd = path.join(root, "no-such-dir");
      const { outcome, events } = await turn(sh("echo hi"), makeTask({ cwd }));
      expect(outcome.status).toBe("failed");
      expect(outcome.error).toBe(`cannot start the command: its working directory ${cwd} does not exist`);
      expect(events.some((e) => e.type === "started")).toBe(false);
    });

    test("D09 each complete stdout line is a text event; stderr stays out of events on success", async () => {
      const { outcome, events } = await turn(
        sh("echo one; echo noise >&2; echo; printf 'two\\nthree'"),
        makeTask(),
      );
      expect(outcome.status).toBe("completed");
      expect(events.filter((e) => e.type === "text")).toEqual([
        { type: "text", text: "one" },
        { type: "text", text: "two" },
        { type: "text", text: "three" },
      ]);
      expect(events.some((e) => e.type === "error")).toBe(false);
    });
  });

  describe("D08 process groups and transcripts", () => {
    test.skipIf(!onLinux)(
      "D08 the command runs in its own process group: its pgid equals its pid and differs from weft's",
      async () => {
        const { outcome, events } = await turn(sh("cat /proc/$$/stat"), makeTask());
        const started = events[0];
        expect(started?.type).toBe("started");
        if (started?.type !== "started") return;
        const fields = (stat: string) => [
          stat.split(" ")[0],
          ...stat.slice(stat.lastIndexOf(")") + 2).split(" "),
        ];
        // pid, then state, ppid, pgrp.
        const [pid, , , pgrp] = fields(outcome.text!).map(Number);
        expect(pid).toBe(started.pid);
        expect(pgrp).toBe(pid);
        expect(started.pgid).toBe(pid);
        const ours = Number(fields(fs.readFileSync("/proc/self/stat", "utf8"))[3]);
        expect(pgrp).not.toBe(ours);
      },
    );

    test("D08 the working directory is the task's cwd", async () => {
      const cwd = fs.mkdtempSync(path.join(root, "cwd-"));
      const { outcome } = await turn(sh("pwd -P"), makeTask({ cwd }));
      expect(outcome.text).toBe(fs.realpathSync(cwd));
    });

    test("D08 a stop kills the whole group: a grandchild sleep started by the command is gone", async () => {
      const pidFile = path.join(root, `grandchild-${Date.now()}.pid`);
      const { outcome, events, ms } = await turn(
        sh(`sleep 30 & echo $! > "${pidFile}"; wait`),
        makeTask(),
        300,
      );
      expect(outcome.status).toBe("stopped");
      expect(ms).toBeLessThan(5000);
      const pgid = events[0]?.type === "started" ? events[0].pgid : undefined;
      expect(isGroupAlive(pgid!)).toBe(false);
      const sleepPid = Number(fs.readFileSync(pidFile, "utf8"));
      expect(sleepPid).toBeGreaterThan(0);
      expect(processGone(sleepPid)).toBe(true);
    });

    test("C04 a group that ignores SIGTERM gets SIGKILL after the grace period", async () => {
      const { outcome, events, ms } = await turn(sh(`trap '' TERM; sleep 30 & wait`, 400), makeTask(), 100);
      expect(outcome.status).toBe("stopped");
      expect(ms).toBeGreaterThanOrEqual(400);
      expect(ms).toBeLessThan(5000);
      const pgid = events[0]?.type === "started" ? events[0].pgid : undefined;
      expect(isGroupAlive(pgid!)).toBe(false);
    });

    test("D08 processes a finished command leaves in its group end with it, and the agent does not wait for them", async () => {
      const { outcome, events, ms } = await turn(sh("sleep 30 & echo ok"), makeTask());
      expect(outcome).toMatchObject({ status: "completed", text: "ok" });
      expect(ms).toBeLessThan(5000);
      const pgid = events[0]?.type === "started" ? events[0].pgid : undefined;
      expect(isGroupAlive(pgid!)).toBe(false);
    });

    test("D08 the transcript holds stdout and stderr records and the exit, appended, written before run resolves", async () => {
      const task = makeTask();
      fs.mkdirSync(path.dirname(task.transcriptPath), { recursive: true });
      fs.writeFileSync(task.transcriptPath, '{"earlier":true}\n');
      await turn(sh("echo out-ü; echo err >&2; exit 5"), task);
      const records = fs
        .readFileSync(task.transcriptPath, "utf8")
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records[0]).toEqual({ earlier: true });
      const data = (stream: string) =>
        records
          .filter((r) => r.stream === stream)
          .map((r) => r.data)
          .join("");
      expect(data("stdout")).toBe("out-ü\n");
      expect(data("stderr")).toBe("err\n");
      for (const r of records.slice(1)) expect(r.t).toEqual(expect.any(Number));
      expect(records.at(-1)).toMatchObject({ exit: 5, signal: null });
    });
  });

  describe("C01 time limits", () => {
    test("C01 timeoutMs ends the group and fails with the limit in the message", async () => {
      const { outcome, events, ms } = await turn(
        sh("echo working; sleep 30 & wait"),
        makeTask({ timeoutMs: 300 }),
      );
      expect(outcome).toMatchObject({ status: "failed", error: "timed out after 300 ms (timeoutMs)" });
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(5000);
      const pgid = events[0]?.type === "started" ? events[0].pgid : undefined;
      expect(isGroupAlive(pgid!)).toBe(false);
    });

    test("C01 idleTimeoutMs ends a command that goes quiet; steady output keeps it alive", async () => {
      const quiet = await turn(
        sh("echo a; sleep 0.1; echo b >&2; sleep 30 & wait"),
        makeTask({ idleTimeoutMs: 400 }),
      );
      expect(quiet.outcome).toMatchObject({
        status: "failed",
        error: "no output for 400 ms (stallMs, setting idleTimeoutMs)",
        stalled: true,
      });
      expect(quiet.ms).toBeLessThan(5000);
      const pgid = quiet.events[0]?.type === "started" ? quiet.events[0].pgid : undefined;
      expect(isGroupAlive(pgid!)).toBe(false);

      // 8 lines 150 ms apart: 1.2 s in all, longer than the idle limit but never idle that long.
      const steady = await turn(
        sh("i=0; while [ $i -lt 8 ]; do echo tick $i; sleep 0.15; i=$((i+1)); done"),
        makeTask({ idleTimeoutMs: 600 }),
      );
      expect(steady.outcome.status).toBe("completed");
      expect(steady.ms).toBeGreaterThan(600);
    });
  });
});
