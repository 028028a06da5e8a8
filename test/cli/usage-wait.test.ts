/**
 * C03 `waitForUsageReset`: on a usage limit that says when it resets (within 24 h), the run
 * waits for the reset and goes on by itself instead of pausing. A stand-in for the claude CLI
 * prints the limit banner on its first call and answers afterwards.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { collect, meta, project, runIdOf, runJson, startWeft, until, weft } from "../helpers/cli.js";

/** The first call prints the limit with a reset `resetInS` seconds from now; later calls answer. */
function fakeClaude(dir: string, resetInS: number): string {
  const bin = join(dir, "fake-claude.mjs");
  mkdirSync(join(dir, ".weft"), { recursive: true });
  writeFileSync(
    bin,
    `#!${process.execPath}
import { appendFileSync, existsSync, readFileSync } from "node:fs";
const calls = ${JSON.stringify(join(dir, "calls.log"))};
const first = !existsSync(calls);
const prompt = process.argv[process.argv.indexOf("--") + 1].split("\\n").at(-1);
appendFileSync(calls, prompt + "\\n");
const out = (o) => console.log(JSON.stringify({ session_id: "s1", ...o }));
out({ type: "system", subtype: "init", model: "claude-x" });
if (first) {
  const reset = Math.ceil(Date.now() / 1000) + ${resetInS};
  out({ type: "result", subtype: "success", is_error: false, result: "Claude AI usage limit reached|" + reset });
} else {
  out({ type: "result", subtype: "success", is_error: false, result: "done: " + prompt, usage: { input_tokens: 1, output_tokens: 1 } });
}
`,
  );
  chmodSync(bin, 0o755);
  writeFileSync(join(dir, ".weft", "config.json"), JSON.stringify({ drivers: { claude: { bin } } }));
  return bin;
}

const calls = (dir: string) =>
  existsSync(join(dir, "calls.log"))
    ? readFileSync(join(dir, "calls.log"), "utf8").split("\n").filter(Boolean)
    : [];

const SCRIPT = `${meta()}return await parallel([1, 2, 3].map((i) => () => agent("task " + i)))\n`;

test("C03 waitForUsageReset waits for a usage limit's reset, then the run goes on by itself", async () => {
  const dir = project({ "wf.js": SCRIPT });
  fakeClaude(dir, 3);
  const t0 = Date.now();
  const r = await weft(
    ["run", "wf.js", "--driver", "claude", "--concurrency", "1", "--wait-for-usage-reset"],
    dir,
  );
  expect(r.code, r.stderr).toBe(0);
  // It waited for the reset (2 to 3 s away at the first call).
  expect(Date.now() - t0).toBeGreaterThan(1500);
  const id = runIdOf(r);
  // Progress said so, with the time; so do the events and the journal.
  expect(r.stderr).toMatch(/waiting until \d{4}-\d\d-\d\dT[\d:.]+Z for it to reset/);
  expect(r.stderr).toMatch(/usage limit reset at .*: the run goes on/);
  const events = readFileSync(join(dir, ".weft", "runs", id, "events.jsonl"), "utf8");
  expect(events).toMatch(/"type":"warning","message":"usage limit \(agent #1, claude\): waiting until /);
  // The agent that hit the limit ran again, and nothing was handed the banner.
  expect(JSON.parse(r.stdout)).toEqual(["done: task 1", "done: task 2", "done: task 3"]);
  // (It queues again behind the agents already waiting.)
  expect(calls(dir).sort()).toEqual(["task 1", "task 1", "task 2", "task 3"]);
  const s = runJson(dir, id);
  expect(s.status).toBe("completed");
  expect(s.usageResetAt).toBeUndefined();
  expect(s.agents).toMatchObject({ completed: 3, failed: 1 });
});

test("C03 waitForUsageReset: a reset more than 24 h away pauses the run as without the setting", async () => {
  const dir = project({ "wf.js": SCRIPT });
  fakeClaude(dir, 25 * 3600);
  const r = await weft(
    ["run", "wf.js", "--driver", "claude", "--concurrency", "1", "--wait-for-usage-reset"],
    dir,
  );
  expect(r.code, r.stderr).toBe(4);
  const s = runJson(dir, runIdOf(r));
  expect(s.status).toBe("paused");
  expect(Date.parse(s.usageResetAt)).toBeGreaterThan(Date.now() + 24 * 3600_000);
  expect(r.stderr).not.toMatch(/waiting until/);
  expect(calls(dir)).toEqual(["task 1"]);
});

test("C03 without waitForUsageReset the run pauses at a near reset; Ctrl-C during a wait stops cleanly", async () => {
  let dir = project({ "wf.js": SCRIPT });
  fakeClaude(dir, 3);
  const paused = await weft(["run", "wf.js", "--driver", "claude", "--concurrency", "1"], dir);
  expect(paused.code, paused.stderr).toBe(4);

  dir = project({ "wf.js": SCRIPT });
  fakeClaude(dir, 600);
  // The setting from a settings file, this time.
  const cfg = join(dir, ".weft", "config.json");
  writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(cfg, "utf8")), waitForUsageReset: true }));
  const child = startWeft(["run", "wf.js", "--driver", "claude", "--concurrency", "1"], dir);
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const done = collect(child);
  await until(() => /waiting until/.test(err) || undefined);
  const id = /^run (\S+)/m.exec(err)![1]!;
  // run.json is rewritten about once a second: the status shows the wait once it is.
  let st = await weft(["status", id], dir);
  for (let i = 0; i < 20 && !/waiting for the usage limit/.test(st.stdout); i++) {
    await new Promise((res) => setTimeout(res, 250));
    st = await weft(["status", id], dir);
  }
  expect(st.stdout).toMatch(/waiting for the usage limit to reset at \S+; the run goes on then/);
  const t = Date.now();
  child.kill("SIGINT");
  const r = await done;
  expect(r.code).toBe(130);
  expect(Date.now() - t).toBeLessThan(10_000);
  expect(runJson(dir, id).status).toBe("stopped");
  // Nothing started during the wait; a resume runs every call, the one that hit the limit too.
  expect(calls(dir)).toEqual(["task 1"]);
  const again = await weft(["resume", id], dir);
  expect(again.code, again.stderr).toBe(0);
  expect(JSON.parse(again.stdout)).toEqual(["done: task 1", "done: task 2", "done: task 3"]);
});
