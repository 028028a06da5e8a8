/**
 * Background runs (U01): `weft run --detach` returns once the run has started; the run is then
 * seen (status, logs, attach) and steered (stop --agent, pause, resume --detach) only from other
 * processes, each a separate `weft` command.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { liveOwner } from "../../src/store/lock.js";
import {
  AGENT_CMD,
  collect,
  journal,
  meta,
  project,
  runJson,
  startWeft,
  until,
  weft,
} from "../helpers/cli.js";

const started: string[] = [];

// A failed test must not leave a background run going: its owner gets SIGTERM (as Ctrl-C).
afterEach(() => {
  for (const runDir of started.splice(0)) {
    const owner = liveOwner(runDir);
    if (owner) process.kill(owner.pid, "SIGTERM");
  }
});

async function detach(dir: string, args: string[]) {
  const r = await weft([...args, "--detach"], dir, { USER: "ana" });
  const id = r.stdout.trim();
  if (r.code === 0) started.push(join(dir, ".weft", "runs", id));
  return { ...r, id };
}

const starts = (dir: string) =>
  existsSync(join(dir, "starts.log"))
    ? readFileSync(join(dir, "starts.log"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ").pop()!)
    : [];

/** /proc/<pid>/stat field 6, counted after the command name (which may hold spaces). */
function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
}

const spawned = (dir: string, id: string, n: number) =>
  journal(dir, id).filter((r) => r.type === "agent.spawned" && r.n === n).length;

test("U01 C05 C08 R06 a detached run: one agent stopped, paused, resumed detached, the agent stopped again, attached to its end; status and logs show it", async () => {
  const dir = project({
    "wf.js": `${meta("bg")}const log = "log:" + cwd + "/starts.log"
phase("scan")
const a = await parallel([
  () => agent("hang " + log + " stuck", { label: "stuck" }),
  () => agent("sleep:300 " + log + " a2"),
])
phase("work")
const b = await parallel([1, 2].map((i) => () => agent("sleep:2500 " + log + " b" + i)))
const c = await parallel([1, 2].map((i) => () => agent(log + " c" + i)))
return { a, b: b.length, c: c.length }\n`,
  });
  const run = await detach(dir, ["run", "wf.js", "--command", AGENT_CMD]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.id).toMatch(/^bg-[a-z0-9]{6}$/);
  expect(run.stderr).toBe(`run ${run.id}\n`);
  const id = run.id;
  const runDir = join(dir, ".weft", "runs", id);
  // The command returned; the run goes on in a process of its own, with its output in its directory.
  expect(liveOwner(runDir)?.pid).toBeGreaterThan(0);
  expect(liveOwner(runDir)?.pid).not.toBe(process.pid);
  // Its own session (setsid): a terminal that closes does not reach it.
  const owner = liveOwner(runDir)!.pid;
  if (existsSync(`/proc/${owner}/stat`)) expect(sessionOf(owner)).toBe(owner);
  await until(() => spawned(dir, id, 1));

  const status = await weft(["status", id], dir);
  expect(status.code, status.stderr).toBe(0);
  expect(status.stdout).toContain(`run ${id} (bg): running`);
  expect(status.stdout).toMatch(/process {2}pid \d+/);
  const all = await weft(["status"], dir);
  expect(all.stdout).toMatch(new RegExp(`^${id} {2}running .* pid \\d+`, "m"));

  const stop = await weft(["stop", id, "--agent", "stuck"], dir, { USER: "ana" });
  expect(stop.code, stop.stderr).toBe(0);
  expect(stop.stdout).toContain("stopped agent 1 (stuck)");
  await until(() => spawned(dir, id, 3) && spawned(dir, id, 4));
  const pause = await weft(["pause", id], dir, { USER: "bo" });
  expect(pause.code, pause.stderr).toBe(0);
  await until(() => runJson(dir, id).status === "paused");
  expect(starts(dir).sort()).toEqual(["a2", "b1", "b2", "stuck"]);

  const paused = await weft(["status", id, "--json"], dir);
  expect(JSON.parse(paused.stdout)).toMatchObject({
    runId: id,
    status: "paused",
    // A stopped agent is not done (it runs again on resume); it is in the total.
    done: 3,
    total: 4,
    agents: { completed: 3, stopped: 1 },
  });
  expect(JSON.parse(paused.stdout).owner).toBeUndefined();
  expect((await weft(["status"], dir)).stdout).toMatch(
    new RegExp(`^${id} {2}paused {2}3/4 agents .* no process`, "m"),
  );
  const refused = await weft(["stop", id], dir);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain(
    `run ${id} is not running (status paused); weft resume ${id} continues it`,
  );

  const logs = await weft(["logs", id], dir);
  expect(logs.code, logs.stderr).toBe(0);
  expect(logs.stdout).toMatch(/stopped #1 stuck .*stopped by ana@/);
  expect(logs.stdout).toContain(`paused by bo@`);
  const raw = (await weft(["logs", id, "--json"], dir)).stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(raw[0]).toMatchObject({ type: "run.started", runId: id });
  expect(raw.filter((e) => e.type === "control").map((e) => e.request.type)).toEqual(["stop-agent", "pause"]);
  expect(raw.at(-1)).toMatchObject({ type: "run.finished", status: "paused" });

  // Resume in the background: the stopped agent runs again (R06), and is stopped again.
  const resumed = await detach(dir, ["resume", id, "--command", AGENT_CMD]);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.id).toBe(id);
  // A new number: calls that are not answered from the journal are numbered after the highest.
  await until(() => starts(dir).filter((s) => s === "stuck").length === 2);
  const follow = weft(["logs", id, "--follow"], dir);
  const attach = weft(["attach", id], dir);
  const again = await weft(["stop", id, "--agent", "stuck"], dir);
  expect(again.stdout).toMatch(/^stopped agent 5 \(stuck\)$/m);
  const seen = await attach;
  expect(seen.code, seen.stderr).toBe(0);
  expect(JSON.parse(seen.stdout)).toEqual({ a: [null, expect.stringMatching(/^echo: .* a2$/)], b: 2, c: 2 });
  expect(seen.stderr).toContain(`run ${id} (resumed)`);
  // R03: the stopped writer runs again, so the calls made after it (command agents are writers)
  // run again too; only the one made before it is served from the journal.
  expect(seen.stderr).toMatch(/completed in .* · 5 agents completed \(1 cached, 0 tokens\) · 1 stopped/);
  const followed = await follow;
  expect(followed.code).toBe(0);
  expect(followed.stdout).toContain("paused by bo@");
  expect(followed.stdout.trim().split("\n").at(-1)).toMatch(/^completed in /);
  // The stopped agent ran again (R06); the calls made after it saw the tree without its work, so
  // they ran again too (R03's writer rule); a2, made before it stopped, did not.
  expect(starts(dir).sort()).toEqual(["a2", "b1", "b1", "b2", "b2", "c1", "c2", "stuck", "stuck"]);
  expect(runJson(dir, id).status).toBe("completed");
  expect(readFileSync(join(runDir, "stderr.log"), "utf8")).toContain(`run ${id} (resumed)`);
  expect((await weft(["status"], dir)).stdout).toContain("no run is running, waiting or paused");
});

test("U01 C04 weft stop of a detached run stops it; weft attach ends with its exit code (130)", async () => {
  const dir = project({
    "wf.js": `${meta("halt")}return await parallel([1, 2].map((i) => () => agent("hang x" + i)))\n`,
  });
  const { id, code, stderr } = await detach(dir, ["run", "wf.js", "--command", AGENT_CMD]);
  expect(code, stderr).toBe(0);
  await until(() => spawned(dir, id, 1) && spawned(dir, id, 2));
  const attach = weft(["attach", id], dir);
  const stop = await weft(["stop", id], dir);
  expect(stop.stdout).toContain(`stopping run ${id}`);
  const seen = await attach;
  expect(seen.code).toBe(130);
  expect(seen.stderr).toContain(`resume with: weft resume ${id}`);
  expect(runJson(dir, id)).toMatchObject({ status: "stopped", agents: { stopped: 2 } });
});

test("U01 E01 a script error that prevents the start: --detach reports it as weft run does (exit 2) and leaves no run", async () => {
  const dir = project({ "wf.js": `${meta("bad")}const x = \nreturn await agent(\n` });
  const r = await weft(["run", "wf.js", "--detach", "--command", AGENT_CMD], dir);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^wf\.js:\d+:\d+: SyntaxError: /m);
  expect(r.stdout).toBe("");
  const runs = join(dir, ".weft", "runs");
  expect(existsSync(runs) ? readdirSync(runs).filter((n) => n !== "detached") : []).toEqual([]);
  expect(readdirSync(join(dir, ".weft", "detached"))).toEqual([]);
  const unknown = await weft(["resume", "nope-000000", "--detach"], dir);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("nothing to resume");
});

test("U01 Ctrl-C in weft attach detaches and says so; the run goes on", async () => {
  const dir = project({ "wf.js": `${meta("watch")}return await agent("sleep:2500 x")\n` });
  const { id, code, stderr } = await detach(dir, ["run", "wf.js", "--command", AGENT_CMD]);
  expect(code, stderr).toBe(0);
  await until(() => spawned(dir, id, 1));
  const child = startWeft(["attach", id], dir);
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const done = collect(child);
  await until(() => err.includes("start  #1"));
  child.kill("SIGINT");
  const r = await done;
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`detached from run ${id}; it goes on`);
  expect(liveOwner(join(dir, ".weft", "runs", id))).toBeDefined();
  await until(() => runJson(dir, id).status === "completed");
});
