/**
 * Control from another process (C04, C05, C08, R06): `weft stop`, `weft stop --agent`, `weft pause`
 * run as separate CLI processes against a run a foreground `weft run` drives; the owner journals
 * a control record for each request and the sender prints what happened.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { controlRun, followEvents, runStatus, startWorkflow } from "../../dist/index.js";
import {
  AGENT_CMD,
  cleanEnv,
  collect,
  journal,
  meta,
  project,
  runJson,
  startWeft,
  until,
  weft,
} from "../helpers/cli.js";

/** Start `weft run wf.js` with the fixture agent in the background; resolves once it has an id. */
async function start(dir: string, args: string[] = ["run", "wf.js", "--command", AGENT_CMD]) {
  const child = startWeft(args, dir, { USER: "ana" });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const done = collect(child);
  const id = await until(() => /^run (\S+)/m.exec(stderr)?.[1]);
  return { done, id };
}

const starts = (dir: string) =>
  existsSync(join(dir, "starts.log"))
    ? readFileSync(join(dir, "starts.log"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ").pop()!)
    : [];

const spawned = (dir: string, id: string, n: number) =>
  journal(dir, id).some((r) => r.type === "agent.spawned" && r.n === n);

const controls = (dir: string, id: string) => journal(dir, id).filter((r) => r.type === "control");

const pendingRequests = (dir: string, id: string) => {
  const c = join(dir, ".weft", "runs", id, "control");
  return existsSync(c) ? readdirSync(c).filter((n) => n.endsWith(".json")) : [];
};

test("C05 weft stop --agent <label> from another process: that agent is stopped, its agent() is null, the others finish", async () => {
  const dir = project({
    "wf.js": `${meta("one")}return await parallel([
  () => agent("hang", { label: "stuck" }),
  () => agent("sleep:1500 b", { label: "b" }),
  () => agent("sleep:1500 c"),
])\n`,
  });
  const { done, id } = await start(dir);
  await until(() => spawned(dir, id, 1));
  const stop = await weft(["stop", id, "--agent", "stuck"], dir, { USER: "bo" });
  expect(stop.code, stop.stderr).toBe(0);
  expect(stop.stdout).toContain("stopped agent 1 (stuck)");
  const r = await done;
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual([null, "echo: sleep:1500 b", "echo: sleep:1500 c"]);
  const fin = journal(dir, id).filter((x) => x.type === "agent.finished");
  expect(fin.find((x) => x.n === 1)).toMatchObject({
    status: "stopped",
    error: expect.stringMatching(/^stopped by bo@/),
  });
  expect(
    fin
      .filter((x) => x.status === "completed")
      .map((x) => x.n)
      .sort(),
  ).toEqual([2, 3]);
  expect(controls(dir, id)[0]).toMatchObject({
    request: { type: "stop-agent", agent: "stuck" },
    ok: true,
    from: expect.stringMatching(/^bo@/),
    outcome: "stopped agent 1 (stuck)",
  });
  expect(runJson(dir, id)).toMatchObject({ status: "completed", agents: { completed: 2, stopped: 1 } });
  expect(pendingRequests(dir, id)).toEqual([]);
});

test("C05 weft stop --agent by number; an unknown or finished agent is refused with a message, and the run goes on", async () => {
  const dir = project({
    "wf.js": `${meta("num")}const first = await agent("quick")
return await parallel([() => agent("hang"), () => agent("sleep:2500 slow")]).then((r) => [first, ...r])\n`,
  });
  const { done, id } = await start(dir);
  await until(() => spawned(dir, id, 2) && spawned(dir, id, 3));
  const unknown = await weft(["stop", id, "--agent", "9"], dir);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain("there is no agent 9");
  const finished = await weft(["stop", id, "--agent", "#1"], dir);
  expect(finished.code).toBe(1);
  expect(finished.stderr).toContain("agent 1 is not running: it has finished");
  const label = await weft(["stop", id, "--agent", "nobody"], dir);
  expect(label.code).toBe(1);
  expect(label.stderr).toContain('no queued or running agent has the label "nobody"');
  const ok = await weft(["stop", id, "--agent", "2"], dir);
  expect(ok.code, ok.stderr).toBe(0);
  expect(ok.stdout).toContain("stopped agent 2");
  const r = await done;
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual(["echo: quick", null, "echo: sleep:2500 slow"]);
  expect(controls(dir, id).map((c) => c.ok)).toEqual([false, false, false, true]);
});

test("C05 a queued agent stopped by label never starts; its agent() is null", async () => {
  const dir = project({
    "wf.js": `${meta("queue")}const log = "log:" + cwd + "/starts.log"
return await parallel([() => agent("hang " + log + " first"), () => agent(log + " later", { label: "later" })])\n`,
  });
  const { done, id } = await start(dir, ["run", "wf.js", "--command", AGENT_CMD, "--concurrency", "1"]);
  await until(() => spawned(dir, id, 1));
  const later = await weft(["stop", id, "--agent", "later"], dir);
  expect(later.code, later.stderr).toBe(0);
  expect(later.stdout).toContain("stopped agent 2 (later)");
  const first = await weft(["stop", id, "--agent", "1"], dir);
  expect(first.code, first.stderr).toBe(0);
  const r = await done;
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual([null, null]);
  expect(starts(dir)).toEqual(["first"]);
  expect(journal(dir, id).find((x) => x.type === "agent.finished" && x.n === 2)).toMatchObject({
    status: "stopped",
    attempts: 0,
  });
});

test("C04 R06 weft stop from another process stops the run as Ctrl-C does: running agents stopped, not failed; exit 130; resume finishes it", async () => {
  const dir = project({
    "wf.js": `${meta("halt")}return await parallel([1, 2].map((i) => () => agent("sleep:4000 log:" + cwd + "/starts.log a" + i)))\n`,
  });
  const { done, id } = await start(dir);
  await until(() => spawned(dir, id, 1) && spawned(dir, id, 2));
  const stop = await weft(["stop", id], dir);
  expect(stop.code, stop.stderr).toBe(0);
  expect(stop.stdout).toContain(`stopping run ${id}: no new agents; 2 running agents get SIGTERM`);
  const r = await done;
  expect(r.code).toBe(130);
  expect(runJson(dir, id)).toMatchObject({ status: "stopped", agents: { stopped: 2, failed: 0 } });
  const fin = journal(dir, id).filter((x) => x.type === "agent.finished");
  expect(fin.map((x) => x.status)).toEqual(["stopped", "stopped"]);
  const again = await weft(["resume", id, "--command", AGENT_CMD], dir);
  expect(again.code, again.stderr).toBe(0);
  expect(starts(dir).sort()).toEqual(["a1", "a1", "a2", "a2"]);
});

test("C08 weft pause: no new agents start, running ones finish, the run ends paused (exit 4); resume runs the rest and nothing twice", async () => {
  const dir = project({
    "wf.js": `${meta("pz")}const log = "log:" + cwd + "/starts.log"
const a = await parallel([1, 2].map((i) => () => agent("sleep:3000 " + log + " first" + i)))
const b = await parallel([1, 2, 3].map((i) => () => agent(log + " second" + i)))
return [...a, ...b].length\n`,
  });
  const { done, id } = await start(dir);
  await until(() => spawned(dir, id, 1) && spawned(dir, id, 2));
  const pause = await weft(["pause", id], dir);
  expect(pause.code, pause.stderr).toBe(0);
  expect(pause.stdout).toMatch(
    new RegExp(`^pausing run ${id}: no new agents start; waiting for [12] running agents? to finish`),
  );
  const r = await done;
  expect(r.code).toBe(4);
  expect(runJson(dir, id)).toMatchObject({ status: "paused", agents: { completed: 2 } });
  expect(starts(dir).sort()).toEqual(["first1", "first2"]);
  expect(r.stderr).toContain(`weft resume ${id}`);
  const again = await weft(["resume", id, "--command", AGENT_CMD], dir);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stdout.trim()).toBe("5");
  expect(starts(dir).sort()).toEqual(["first1", "first2", "second1", "second2", "second3"]);
  expect(runJson(dir, id)).toMatchObject({ status: "completed", agents: { cached: 2, completed: 3 } });
});

test("C04 C05 C08 stop, stop --agent and pause of a run no process owns fail at once (exit 2) and leave no request behind", async () => {
  const dir = project({ "wf.js": `${meta("gone")}return await agent("x")\n` });
  const first = await weft(["run", "wf.js", "--command", AGENT_CMD], dir);
  expect(first.code, first.stderr).toBe(0);
  const id = /^run (\S+)/m.exec(first.stderr)![1]!;
  for (const args of [
    ["pause", id],
    ["stop", id],
    ["stop", id, "--agent", "1"],
  ]) {
    const r = await weft(args, dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`run ${id} is not running (status completed)`);
  }
  expect(pendingRequests(dir, id)).toEqual([]);
  const unknown = await weft(["stop", "nope-000000"], dir);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('no run "nope-000000"');
});

test("C08 a stop or pause left on disk by an earlier execution does not stop the next one", async () => {
  const dir = project({ "wf.js": `${meta("late")}return await agent("sleep:800 x", { cache: false })\n` });
  const first = await weft(["run", "wf.js", "--command", AGENT_CMD], dir);
  const id = /^run (\S+)/m.exec(first.stderr)![1]!;
  // As if sent just as the last owner ended: the request file stays behind.
  const { sendControl } = await import("../../src/control/channel.js");
  await sendControl(join(dir, ".weft", "runs", id), { type: "stop" }, "late@host");
  await new Promise((r) => setTimeout(r, 20));
  const again = await weft(["run", "wf.js", "--resume", id, "--command", AGENT_CMD], dir);
  expect(again.code, again.stderr).toBe(0);
  expect(controls(dir, id)[0]).toMatchObject({
    ok: false,
    outcome: expect.stringContaining("was sent before this execution"),
  });
  expect(pendingRequests(dir, id)).toEqual([]);
});

test("U10 C05 the library: runStatus, controlRun and followEvents on a run started with startWorkflow", async () => {
  const dir = project({
    "wf.js": `${meta("lib")}return await parallel([() => agent("hang", { label: "slow" }), () => agent("sleep:300 b")])\n`,
  });
  const h = await startWorkflow({
    script: "wf.js",
    cwd: dir,
    settings: { command: AGENT_CMD },
    env: cleanEnv(dir),
  });
  await until(() => spawned(dir, h.runId, 1));
  const st = await runStatus(h.runId, { cwd: dir });
  expect(st).toMatchObject({
    runId: h.runId,
    status: "running",
    owner: { pid: process.pid },
    orphaned: false,
  });
  const out = await controlRun(h.runId, { type: "stop-agent", agent: "slow" }, { cwd: dir, from: "lib" });
  expect(out).toMatchObject({ state: "applied", outcome: "stopped agent 1 (slow)" });
  const res = await h.done;
  expect(res.result).toEqual([null, "echo: sleep:300 b"]);
  const types: string[] = [];
  for await (const e of followEvents(h.runDir)) types.push(e.type);
  expect(types[0]).toBe("run.started");
  expect(types.at(-1)).toBe("run.finished");
  expect(types).toContain("control");
  const after = await controlRun(h.runDir, { type: "pause" });
  expect(after).toMatchObject({
    state: "not-running",
    outcome: `run ${h.runId} is not running (status completed)`,
  });
});

test("U01 C05 weft restart --agent from another process: the running attempt is stopped and the same call starts again at once, without a resume", async () => {
  const dir = project({
    "wf.js": `${meta("again")}return await parallel([
  () => agent("hang-until:2 slow", { label: "slow" }),
  () => agent("sleep:300 other"),
])\n`,
  });
  const { done, id } = await start(dir);
  await until(() => spawned(dir, id, 1));
  const restart = await weft(["restart", id, "--agent", "slow"], dir, { USER: "bo" });
  expect(restart.code, restart.stderr).toBe(0);
  expect(restart.stdout).toContain(
    "restarting agent 1 (slow): the attempt is stopped and the same call starts again",
  );
  const r = await done;
  expect(r.code, r.stderr).toBe(0);
  // The second attempt answered; the call was not stopped and needed no retries (command default 0).
  expect(JSON.parse(r.stdout)).toEqual(["echo: hang-until:2 slow", "echo: sleep:300 other"]);
  const fin = journal(dir, id).find((x) => x.type === "agent.finished" && x.n === 1);
  expect(fin).toMatchObject({ status: "completed", attempts: 2 });
  expect(
    journal(dir, id)
      .filter((x) => x.type === "agent.started" && x.n === 1)
      .map((x) => x.attempt),
  ).toEqual([1, 2]);
  expect(controls(dir, id)[0]).toMatchObject({ request: { type: "restart-agent", agent: "slow" }, ok: true });
  expect(r.stderr).toMatch(/restarted: by bo@/);
});

test("U01 C05 weft restart needs --agent; a finished or unknown agent is refused with a message", async () => {
  const dir = project({
    "wf.js": `${meta("fin")}await agent("a")\nreturn await agent("hang-until:2 b", { label: "b" })\n`,
  });
  const { done, id } = await start(dir);
  await until(() => spawned(dir, id, 2));
  const none = await weft(["restart", id], dir);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain("weft restart needs --agent");
  const finished = await weft(["restart", id, "--agent", "1"], dir);
  expect(finished.code).toBe(1);
  expect(finished.stderr).toContain("agent 1 is not running: it has finished");
  const unknown = await weft(["restart", id, "--agent", "nope"], dir);
  expect(unknown.stderr).toContain('no running agent has the label "nope"');
  const ok = await weft(["restart", id, "--agent", "b"], dir);
  expect(ok.code, ok.stderr).toBe(0);
  expect((await done).code).toBe(0);
});
