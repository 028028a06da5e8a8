/**
 * C09 through the CLI as a user meets it: a script's and an agent's text that carries terminal
 * controls (an OSC 52 clipboard write, a screen clear, a C1 CSI, a carriage return that overwrites
 * the line, a bidi override) reaches no terminal output of weft as controls, and `--json` keeps it
 * exact. The live tree is tested in test/cli/tty.test.ts and test/report/tree-reporter.test.ts.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { collect, project, runIdOf, runJson, startWeft, until, weft } from "../helpers/cli.js";

/** The hostile text, as the script's source spells it... */
const EVIL_SRC = String.raw`\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m\rOVER\u202e`;
/** ... and as it is at run time. */
const EVIL = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m\rOVER\u202e";
/** What weft shows of it: the sequences gone, the carriage return and the override visible. */
const SHOWN = String.raw`\rOVER\u202e`;

/** Anything a terminal acts on but a newline. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

function clean(what: string, text: string): void {
  const at = text.search(CONTROL);
  if (at >= 0)
    throw new Error(`${what} carries ${JSON.stringify(text.slice(Math.max(0, at - 20), at + 20))}`);
}

const script = `export const meta = { name: "evil${EVIL_SRC}", description: "t" }
const E = "${EVIL_SRC}"
phase("P" + E)
log("log" + E + "\\n  done   #9 forged")
console.warn("warn" + E)
await agent("hello", { label: "L" + E })
if (!args || args.gate !== false) await gate("G" + E, { details: { d: E } })
throw new Error("boom" + E)
`;

describe("terminal text (C09)", () => {
  test("C09 a script's name, phase, log, warning, label, gate and thrown message reach weft run, status, approve, logs, show and ls as text; --json keeps them exact", async () => {
    const dir = project({ "wf.js": script });
    const child = startWeft(["run", "wf.js", "--command", "cat >/dev/null; echo ok"], dir);
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    const done = collect(child);
    const id = await until(() => /^run (\S+)/m.exec(stderr)?.[1]);
    await until(() => runJson(dir, id).status === "waiting");

    // While it waits at the gate: weft status, for all runs and for this one.
    const list = await weft(["status"], dir);
    clean("weft status", list.stdout + list.stderr);
    expect(list.stdout).toContain(`waiting at gate "G${SHOWN}"`);
    const one = await weft(["status", id], dir);
    clean("weft status <run>", one.stdout + one.stderr);
    expect(one.stdout).toContain(`run ${id} (evil${SHOWN}): waiting`);
    expect(one.stdout).toContain(`waiting at gate "G${SHOWN}" (#1)`);
    const json = JSON.parse((await weft(["status", id, "--json"], dir)).stdout);
    expect(json.name).toBe(`evil${EVIL}`);
    expect(json.gate.title).toBe(`G${EVIL}`);

    const approve = await weft(["approve", id], dir);
    clean("weft approve", approve.stdout + approve.stderr);
    expect(approve.stdout).toMatch(/^gate #1 "G\\rOVER\\u202e" approved by /m);

    const r = await done;
    expect(r.code).toBe(1);
    clean("weft run's stderr", r.stderr);
    clean("weft run's stdout", r.stdout);
    expect(r.stderr).toContain(`> P${SHOWN}\n`);
    expect(r.stderr).toContain(`  log${SHOWN}\n`);
    // A log's further lines are indented under it: it cannot pass for a line of weft's own.
    expect(r.stderr).toContain("\n    done   #9 forged\n");
    expect(r.stderr).toContain(`! warn${SHOWN}\n`);
    expect(r.stderr).toContain(`  start  #1 L${SHOWN}\n`);
    expect(r.stderr).toContain(`? gate #1 "G${SHOWN}" waits`);
    // JSON escapes ESC and BEL itself; the C1 CSI it leaves raw is removed, the override shown.
    expect(r.stderr).toContain(
      String.raw`  details: {"d":"\u001b]52;c;ZXZpbA==\u0007\u001b[2J\rOVER\u202e"}`,
    );
    // E01's format is kept: <file>:<line>:<col>: <Name>: <message>.
    expect(r.stderr).toMatch(/^wf\.js:8:7: Error: boom\\rOVER\\u202e$/m);

    const logs = await weft(["logs", id], dir);
    clean("weft logs", logs.stdout + logs.stderr);
    expect(logs.stdout).toContain(`> P${SHOWN}\n`);
    expect(logs.stdout).toMatch(/^wf\.js:8:7: Error: boom\\rOVER\\u202e$/m);
    const events = (await weft(["logs", id, "--json"], dir)).stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(events.find((e) => e.type === "phase").title).toBe(`P${EVIL}`);
    expect(events.find((e) => e.type === "log").message).toBe(`log${EVIL}\n  done   #9 forged`);
    expect(events.find((e) => e.type === "agent.started").label).toBe(`L${EVIL}`);
    expect(events.find((e) => e.type === "gate.waiting").title).toBe(`G${EVIL}`);

    const show = await weft(["show", id], dir);
    clean("weft show", show.stdout + show.stderr);
    expect(show.stdout).toContain(`run ${id} (evil${SHOWN})`);
    expect(show.stdout).toMatch(/^error {4}wf\.js:8:7: Error: boom\\rOVER\\u202e$/m);
    expect(JSON.parse((await weft(["show", id, "--json"], dir)).stdout).error).toContain(`boom${EVIL}`);
    const agent = await weft(["show", id, "--agent", "1"], dir);
    clean("weft show --agent", agent.stdout + agent.stderr);
    expect(agent.stdout).toContain(`agent #1 L${SHOWN} — completed`);

    const ls = await weft(["ls"], dir);
    clean("weft ls", ls.stdout + ls.stderr);
    expect(JSON.parse((await weft(["ls", "--json"], dir)).stdout)[0].name).toBe(`evil${EVIL}`);

    // weft run --json: the events as they are.
    const j = await weft(
      ["run", "wf.js", "--command", "cat >/dev/null; echo ok", "--json", "--args", '{"gate":false}'],
      dir,
    );
    const runEvents = j.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(runEvents.find((e) => e.type === "phase").title).toBe(`P${EVIL}`);
    expect(runEvents.find((e) => e.type === "warning" && e.message.startsWith("warn")).message).toBe(
      `warn${EVIL}`,
    );
    expect(runEvents.find((e) => e.type === "run.finished").error).toContain(`boom${EVIL}`);
    clean("weft run --json's stderr", j.stderr);
  }, 60_000);

  test("C09 an agent's output and stderr reach weft run, show and logs as text; --json and a piped result keep them exact", async () => {
    const dir = project({
      "evil.mjs": `import { readFileSync } from "node:fs";
const prompt = readFileSync(process.env.WEFT_TASK_FILE, "utf8");
const E = "${EVIL_SRC}";
if (prompt.includes("fail")) {
  process.stderr.write("bad" + E + "\\n");
  process.exit(1);
}
process.stdout.write("line1" + E + "\\nresult" + E + "\\n");
`,
      "wf.js": `export const meta = { name: "agent-out", description: "t" }
const good = await agent("ok", { label: "good" })
await agent("fail", { label: "bad" })
return good
`,
    });
    const r = await weft(["run", "wf.js", "--command", "node evil.mjs"], dir);
    expect(r.code).toBe(0);
    clean("weft run's stderr", r.stderr);
    expect(r.stderr).toContain(`  failed #2 bad`);
    expect(r.stderr).toContain(`: bad${SHOWN}\n`);
    // stdout is a pipe here: the result is data and stays exact (on a terminal it is made safe: tty.test.ts).
    expect(r.stdout).toBe(`line1${EVIL}\nresult${EVIL}\n`);
    const id = runIdOf(r);

    const show = await weft(["show", id], dir);
    clean("weft show", show.stdout + show.stderr);
    expect(show.stdout).toContain(
      String.raw`result   "line1\u001b]52;c;ZXZpbA==\u0007\u001b[2J\rOVER\u202e\nresult`,
    );
    const good = await weft(["show", id, "--agent", "1"], dir);
    clean("weft show --agent 1", good.stdout + good.stderr);
    expect(good.stdout).toContain(`result   line1${SHOWN}\nresult${SHOWN}\n`);
    const bad = await weft(["show", id, "--agent", "2"], dir);
    clean("weft show --agent 2", bad.stdout + bad.stderr);
    expect(bad.stdout).toContain(`error    bad${SHOWN}`);
    const exact = JSON.parse((await weft(["show", id, "--agent", "1", "--json"], dir)).stdout);
    expect(exact.result).toBe(`line1${EVIL}\nresult${EVIL}`);
    expect(JSON.parse((await weft(["show", id, "--agent", "2", "--json"], dir)).stdout).error).toContain(
      `bad${EVIL}`,
    );

    const logs = await weft(["logs", id], dir);
    clean("weft logs", logs.stdout + logs.stderr);
    expect(logs.stdout).toContain(`: bad${SHOWN}\n`);
    // The transcript on disk keeps what the agent wrote.
    expect(readFileSync(join(dir, ".weft", "runs", id, "transcripts", "1.jsonl"), "utf8")).toContain(
      JSON.stringify(`line1${EVIL}`).slice(1, -1),
    );
  }, 60_000);

  test("C09 a run.json an agent rewrote cannot reach the terminal through weft ls, status or show", async () => {
    const dir = project({ "wf.js": `export const meta = { name: "t", description: "t" }\nreturn 1\n` });
    const r = await weft(["run", "wf.js", "--command", "true"], dir);
    const id = runIdOf(r);
    const file = join(dir, ".weft", "runs", id, "run.json");
    const s = JSON.parse(readFileSync(file, "utf8"));
    Object.assign(s, {
      name: `n${EVIL}`,
      status: `completed${EVIL}`,
      startedAt: `2026${EVIL}`,
      error: `e${EVIL}`,
      result: `r${EVIL}\u009b2J`,
      tokens: { input: `1${EVIL}`, output: 0, cached: 0, reasoning: 0 },
      agents: { [`completed${EVIL}`]: 1 },
      refused: [{ label: `l${EVIL}`, reason: `why${EVIL}` }],
      gate: { n: 1, title: `G${EVIL}`, since: "2026" },
    });
    writeFileSync(file, JSON.stringify(s));
    for (const args of [["ls"], ["status", "--all"], ["status", id], ["show", id]]) {
      const out = await weft(args, dir);
      clean(`weft ${args.join(" ")}`, out.stdout + out.stderr);
      expect(out.stdout, `weft ${args.join(" ")}`).toContain(SHOWN);
    }
    expect(JSON.parse((await weft(["ls", "--json"], dir)).stdout)[0].status).toBe(`completed${EVIL}`);
  }, 60_000);

  test("C09 a script error found before the run (E01) is printed as <file>:<line>:<col> with its text made safe", async () => {
    const dir = project({
      "bad.js": `export const meta = { name: "x", description: "t" }\nconst a = 1 ${EVIL}\n`,
    });
    const r = await weft(["run", "bad.js", "--command", "true"], dir);
    expect(r.code).toBe(2);
    clean("weft run's stderr", r.stderr);
    expect(r.stderr).toMatch(/^bad\.js:2:13: SyntaxError: Unexpected character '\\x1b'$/m);
  });
});
