/**
 * Hooks (issue 17 item 11): the `hooks` setting's shell commands on run events, with the event's
 * JSON on stdin; failures and timeouts are warnings, never fatal; they never hold up the run; a
 * run's own agents cannot add hooks to it; hooks are never replayed from a run's journal.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { resolveSettings } from "../../dist/config/settings.js";
import { journal, meta, project, runIdOf, runScript, weft } from "../helpers/cli.js";

const config = (dir: string, value: unknown) => {
  mkdirSync(join(dir, ".weft"), { recursive: true });
  writeFileSync(join(dir, ".weft", "config.json"), JSON.stringify(value));
};
/** A hook command appending `<event> <run id> <stdin>` as one line to `file`, in one write (hooks run side by side). */
const record = (file: string) => `line="$WEFT_EVENT $WEFT_RUN_ID $(cat)"; printf '%s\\n' "$line" >> ${file}`;
const recorded = (file: string) =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const [event, runId, ...json] = l.split(" ");
          return { event, runId, data: JSON.parse(json.join(" ")) };
        })
    : [];

test("CC hooks runStarted, agentFinished and runFinished get the event as JSON on stdin, WEFT_RUN_ID and WEFT_EVENT", async () => {
  const dir = project({
    "wf.js": `${meta("hooked")}return await parallel([1, 2].map((i) => () => agent("n" + i)))\n`,
  });
  const log = join(dir, "hooks.log");
  config(dir, { hooks: { runStarted: record(log), agentFinished: [record(log)], runFinished: record(log) } });
  const r = await runScript(dir, "wf.js");
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toContain("! hook");
  const id = runIdOf(r);
  const got = recorded(log);
  expect(got.map((g) => g.event).sort()).toEqual([
    "agentFinished",
    "agentFinished",
    "runFinished",
    "runStarted",
  ]);
  for (const g of got) expect(g.runId).toBe(id);
  const started = got.find((g) => g.event === "runStarted")!.data;
  expect(started).toMatchObject({
    hook: "runStarted",
    type: "run.started",
    runId: id,
    name: "hooked",
    cwd: dir,
  });
  const agents = got.filter((g) => g.event === "agentFinished").map((g) => g.data);
  expect(agents.map((a) => a.n).sort()).toEqual([1, 2]);
  expect(agents[0]).toMatchObject({ type: "agent.finished", status: "completed", cached: false });
  const finished = got.find((g) => g.event === "runFinished")!.data;
  expect(finished).toMatchObject({
    type: "run.finished",
    status: "completed",
    result: ["echo: n1", "echo: n2"],
  });
});

test("CC hooks gateWaiting and breaker get their events", async () => {
  const dir = project({ "wf.js": `${meta()}return await gate("Ship it?", { details: "v2" })\n` });
  const log = join(dir, "hooks.log");
  config(dir, { hooks: { gateWaiting: record(log) } });
  // No terminal, nobody answers: the run ends waiting (exit 4) once stopped.
  const r = await runScript(dir, "wf.js", ["--detach"]);
  expect(r.code, r.stderr).toBe(0);
  const id = r.stdout.trim();
  for (let i = 0; i < 200 && recorded(log).length === 0; i++) await new Promise((res) => setTimeout(res, 50));
  expect(recorded(log)[0]).toMatchObject({
    event: "gateWaiting",
    data: { type: "gate.waiting", n: 1, title: "Ship it?", details: "v2" },
  });
  await weft(["reject", id], dir);

  // The breaker: a stand-in claude that reports a usage limit.
  const bin = join(dir, "fake-claude.mjs");
  writeFileSync(
    bin,
    `#!${process.execPath}\nconsole.log(JSON.stringify({ type: "result", subtype: "success", is_error: false, result: "Claude AI usage limit reached|1798761600" }));\n`,
  );
  chmodSync(bin, 0o755);
  writeFileSync(join(dir, "b.js"), `${meta()}return await agent("x")\n`);
  config(dir, { drivers: { claude: { bin } }, hooks: { breaker: record(log) } });
  const b = await weft(["run", "b.js", "--driver", "claude"], dir);
  expect(b.code, b.stderr).toBe(4);
  expect(recorded(log).find((g) => g.event === "breaker")?.data).toMatchObject({
    type: "breaker",
    n: 1,
    driver: "claude",
    reason: expect.stringContaining("usage limit"),
  });
});

test("CC a failing or timed-out hook is a warning naming it; the run still completes", async () => {
  const dir = project({ "wf.js": `${meta()}return await agent("hi")\n` });
  config(dir, {
    hooks: { agentFinished: ["echo broken >&2; exit 3", "sleep 5"], runStarted: "no-such-program-x" },
  });
  const r = await runScript(dir, "wf.js", [], { WEFT_HOOK_TIMEOUT_MS: "300" });
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe("echo: hi");
  expect(r.stderr).toContain("! hook agentFinished `echo broken >&2; exit 3` failed: exit 3: broken");
  expect(r.stderr).toContain("! hook agentFinished `sleep 5` timed out after 300 ms and was killed");
  expect(r.stderr).toMatch(/! hook runStarted `no-such-program-x` failed: exit 127/);
});

test("CC hooks never hold up the run: a slow hook is killed after the grace once the run ends", async () => {
  const dir = project({
    "wf.js": `${meta()}return await parallel([1, 2, 3].map((i) => () => agent("n" + i)))\n`,
  });
  const slow = join(dir, "slow-done");
  config(dir, { hooks: { agentFinished: `sleep 20; touch ${slow}` }, killGraceMs: 500 });
  const t = Date.now();
  const r = await runScript(dir, "wf.js");
  expect(r.code, r.stderr).toBe(0);
  expect(Date.now() - t).toBeLessThan(15_000);
  expect(r.stderr).toMatch(
    /hooks: the run ended; 3 hook command\(s\) still running after 500 ms were killed/,
  );
  await new Promise((res) => setTimeout(res, 300));
  expect(existsSync(slow)).toBe(false);
});

test("CC a run's agents cannot add hooks to their own run; the change is reported, and the next run has them", async () => {
  const dir = project({
    "wf.js": `${meta()}return await agent('write:.weft/config.json:{"hooks":{"runFinished":"touch~pwned"}}')\n`,
  });
  config(dir, {});
  const r = await runScript(dir, "wf.js");
  expect(r.code, r.stderr).toBe(0);
  expect(readFileSync(join(dir, ".weft", "config.json"), "utf8")).toContain("touch pwned");
  expect(existsSync(join(dir, "pwned"))).toBe(false);
  expect(r.stderr).toContain(
    "the hooks in .weft/config.json changed during this run (agents with edit permission can write that file); this run did not run them",
  );
  expect(r.stderr).toContain('(now {"runFinished":"touch pwned"})');
  writeFileSync(join(dir, "plain.js"), `${meta()}return 1\n`);
  await runScript(dir, "plain.js");
  expect(existsSync(join(dir, "pwned"))).toBe(true);
});

test("CC hooks are never stored with a run nor taken from its stored settings; a misspelt hook is refused", async () => {
  const dir = project({ "wf.js": `${meta()}return 1\n` });
  const log = join(dir, "hooks.log");
  const r = await runScript(dir, "wf.js", [], { WEFT_HOOKS: JSON.stringify({ runStarted: record(log) }) });
  expect(r.code, r.stderr).toBe(0);
  expect(recorded(log)).toHaveLength(1);
  const started = journal(dir, runIdOf(r)).find((x) => x.type === "run.started");
  expect(started.settings.hooks).toBeUndefined();
  // A journal edited to carry hooks adds none.
  const s = resolveSettings({
    cwd: dir,
    cpus: 2,
    env: { XDG_CONFIG_HOME: join(dir, "x"), HOME: dir },
    stored: { hooks: { runStarted: "touch evil" } },
  });
  expect(s.settings.hooks).toEqual({});
  config(dir, { hooks: { runFinish: "true" } });
  const bad = await runScript(dir, "wf.js");
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain(
    "hooks.runFinish is not a hook (hooks: runStarted, runFinished, agentFinished, gateWaiting, breaker)",
  );
});

test("CC hooks from every layer run: the user's and the project's", async () => {
  const dir = project({ "wf.js": `${meta()}return 1\n` });
  const log = join(dir, "hooks.log");
  mkdirSync(join(dir, ".xdg", "weft"), { recursive: true });
  writeFileSync(
    join(dir, ".xdg", "weft", "config.json"),
    JSON.stringify({ hooks: { runStarted: record(log) } }),
  );
  config(dir, { hooks: { runStarted: record(log) } });
  const r = await runScript(dir, "wf.js");
  expect(r.code, r.stderr).toBe(0);
  expect(recorded(log)).toHaveLength(2);
  const c = await weft(["config"], dir);
  expect(c.stdout).toMatch(/^hooks\s+.*\.xdg\/weft\/config\.json \+ .*\.weft\/config\.json$/m);
});
