/** Gates (A14): a run waits for a person's approval, from any terminal, with or without its process. */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import {
  AGENT_CMD,
  collect,
  journal,
  meta,
  project,
  runJson,
  sleep,
  startWeft,
  until,
  WEFT_BIN,
  weft,
} from "../helpers/cli.js";

const deploy = (
  details: string,
) => `${meta("deploy")}const plan = await agent("log:" + cwd + "/starts.log plan")
const ok = await gate("Deploy to staging?", { details: ${details} })
if (!ok) return "rejected"
return await agent("log:" + cwd + "/starts.log deploy")\n`;

function starts(dir: string): string[] {
  const file = join(dir, "starts.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ").pop()!);
}

/** Start `weft run` (or resume) in the background and wait until the run waits at a gate. */
async function startWaiting(dir: string, args: string[] = ["run", "wf.js", "--command", AGENT_CMD]) {
  const child = startWeft(args, dir);
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const done = collect(child);
  const id = await until(() => /^run (\S+)/m.exec(stderr)?.[1]);
  await until(() => runJson(dir, id).status === "waiting");
  return { child, done, id };
}

const answers = (dir: string, id: string) => journal(dir, id).filter((r) => r.type === "gate.answered");

test("A14 approve from another process while the run waits: the run completes, the approval is recorded with who, when and the hash", async () => {
  const dir = project({ "wf.js": deploy('{ env: "staging", sha: "abc123" }') });
  const { done, id } = await startWaiting(dir);
  const waiting = runJson(dir, id);
  expect(waiting.gate).toMatchObject({
    n: 1,
    title: "Deploy to staging?",
    details: { env: "staging", sha: "abc123" },
  });
  expect(typeof waiting.gate.since).toBe("string");
  expect(starts(dir)).toEqual(["plan"]);

  const ok = await weft(["approve", id], dir, { USER: "ana" });
  expect(ok.code, ok.stderr).toBe(0);
  expect(ok.stdout).toMatch(/gate #1 "Deploy to staging\?" approved by ana@/);
  const r = await done;
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.trim()).toBe(`echo: log:${dir}/starts.log deploy`);
  expect(r.stderr).toContain(`? gate #1 "Deploy to staging?" waits: weft approve ${id} 1`);
  expect(r.stderr).toMatch(/gate #1 "Deploy to staging\?" approved by ana@/);
  const [a] = answers(dir, id);
  expect(a).toMatchObject({ gate: 1, title: "Deploy to staging?", approved: true });
  expect(a.by).toMatch(/^ana@/);
  expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  expect(Number.isNaN(Date.parse(a.at))).toBe(false);
  const fin = runJson(dir, id);
  expect(fin.status).toBe("completed");
  expect(fin.gate).toBeUndefined();
  // Nothing left on the channel.
  expect(existsSync(join(dir, ".weft", "runs", id, "control")) ? readdir(dir, id) : []).toEqual([]);
});

const readdir = (dir: string, id: string) =>
  (execFileSync("ls", [join(dir, ".weft", "runs", id, "control")], { encoding: "utf8" }) as string)
    .split("\n")
    .filter((n) => n.endsWith(".json"));

test("A14 reject: gate() resolves false and the script branches; the reason is recorded", async () => {
  const dir = project({ "wf.js": deploy("{ v: 1 }") });
  const { done, id } = await startWaiting(dir);
  const no = await weft(["reject", id, "Deploy to staging?", "--reason", "not on a Friday"], dir);
  expect(no.code, no.stderr).toBe(0);
  expect(no.stdout).toContain("rejected by");
  const r = await done;
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe("rejected");
  expect(starts(dir)).toEqual(["plan"]);
  expect(answers(dir, id)[0]).toMatchObject({ approved: false, reason: "not on a Friday" });
});

test("A14 while a gate waits no new agent starts; agents already running finish", async () => {
  const dir = project({
    "wf.js": `${meta("hold")}const slow = agent("sleep:1500 log:" + cwd + "/starts.log running")
await agent("log:" + cwd + "/starts.log first")
const [ok, late] = await parallel([() => gate("Go on?"), () => agent("log:" + cwd + "/starts.log late")])
return [ok, typeof late, typeof (await slow)]\n`,
  });
  const { done, id } = await startWaiting(dir);
  // The agent started before the gate finishes while it waits; the one asked for with it does not start.
  await until(() => journal(dir, id).some((r) => r.type === "agent.finished" && r.n === 1));
  await sleep(1000);
  expect(starts(dir).sort()).toEqual(["first", "running"]);
  expect(runJson(dir, id).status).toBe("waiting");
  expect((await weft(["approve", id], dir)).code).toBe(0);
  const r = await done;
  expect(r.code, r.stderr).toBe(0);
  expect(starts(dir).sort()).toEqual(["first", "late", "running"]);
  expect(JSON.parse(r.stdout)).toEqual([true, "string", "string"]);
});

test("A14 a gate waiting while weft is not running: kill -9, resume waits again, Ctrl-C leaves it waiting (exit 4), approve, resume completes", async () => {
  const dir = project({ "wf.js": deploy('{ env: "prod" }') });
  const first = await startWaiting(dir);
  const id = first.id;
  first.child.kill("SIGKILL");
  await first.done;

  // No answer yet: the resume waits at the same gate again; Ctrl-C ends it `waiting`, exit 4.
  const again = await startWaiting(dir, ["resume", id]);
  again.child.kill("SIGINT");
  const stopped = await again.done;
  expect(stopped.code, stopped.stderr).toBe(4);
  expect(runJson(dir, id)).toMatchObject({ status: "waiting", gate: { n: 1, title: "Deploy to staging?" } });

  const ok = await weft(["approve", id, "--reason", "checked"], dir, { USER: "bo" });
  expect(ok.code, ok.stderr).toBe(0);
  expect(ok.stdout).toContain(`recorded; weft resume ${id} continues from the gate`);
  const r = await weft(["resume", id], dir);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.trim()).toBe(`echo: log:${dir}/starts.log deploy`);
  // The plan agent finished before the kill and never started again.
  expect(starts(dir)).toEqual(["plan", "deploy"]);
  const [a] = answers(dir, id);
  expect(a).toMatchObject({ gate: 1, approved: true, reason: "checked" });
  expect(a.by).toMatch(/^bo@/);
  expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  expect(runJson(dir, id).status).toBe("completed");

  // A resume of the completed run answers the gate from the journal without asking.
  const replay = await weft(["resume", id], dir);
  expect(replay.code).toBe(0);
  expect(replay.stderr).toContain("(recorded earlier)");
  expect(answers(dir, id)).toHaveLength(1);
});

test("A14 weft approve with no process and no gate waiting is refused; the answer is not left behind", async () => {
  const dir = project({ "wf.js": deploy("{}") });
  const first = await startWaiting(dir);
  expect((await weft(["approve", first.id], dir)).code).toBe(0);
  expect((await first.done).code).toBe(0);
  const late = await weft(["approve", first.id], dir);
  expect(late.code).toBe(2);
  expect(late.stderr).toContain("no gate is waiting");
  const unknown = await weft(["approve", "nope-000000"], dir);
  expect(unknown.code).toBe(2);
});

test("A14 an edited gate asks again: run --resume with changed details waits, the old approval does not apply", async () => {
  const dir = project({ "wf.js": deploy("{ v: 1 }") });
  const first = await startWaiting(dir);
  expect((await weft(["approve", first.id], dir)).code).toBe(0);
  expect((await first.done).code).toBe(0);

  writeFileSync(join(dir, "wf.js"), deploy("{ v: 2 }"));
  const edited = await startWaiting(dir, ["run", "wf.js", "--resume", first.id]);
  expect(runJson(dir, first.id).gate.details).toEqual({ v: 2 });
  const ok = await weft(["approve", first.id, "1"], dir);
  expect(ok.code, ok.stderr).toBe(0);
  const r = await edited.done;
  expect(r.code, r.stderr).toBe(0);
  const [a, b] = answers(dir, first.id);
  expect(b).toBeDefined();
  expect(a.hash).not.toBe(b.hash);
  // The plan agent came from the cache both times.
  expect(starts(dir)).toEqual(["plan", "deploy"]);
});

test("A14 several gates waiting: approve without a name lists them; by title and by number; a stale answer is refused", async () => {
  const dir = project({
    "wf.js": `${meta("two")}const [a, b] = await parallel([() => gate("Ship web?"), () => gate("Ship api?", { details: { region: "eu" } })])
return { a, b }\n`,
  });
  const { done, id } = await startWaiting(dir);
  await until(() => runJson(dir, id).gates?.length === 2);
  const vague = await weft(["approve", id], dir);
  expect(vague.code).toBe(2);
  expect(vague.stderr).toContain('2 gates are waiting: #1 "Ship web?", #2 "Ship api?"');
  const web = await weft(["approve", id, "Ship web?"], dir);
  expect(web.code, web.stderr).toBe(0);
  const stale = await weft(["approve", id, "Ship web?"], dir);
  expect(stale.code).toBe(1);
  expect(stale.stderr).toContain('no gate titled "Ship web?" is waiting (waiting: #2 "Ship api?")');
  const api = await weft(["reject", id, "#2"], dir);
  expect(api.code, api.stderr).toBe(0);
  const r = await done;
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ a: true, b: false });
  // The vague approve was never sent; the stale one was refused by the run, on the record.
  const refused = journal(dir, id).filter((x) => x.type === "gate.refused");
  expect(refused).toHaveLength(1);
  expect(refused[0].reason).toContain('no gate titled "Ship web?" is waiting');
});

function tmux(socket: string, ...args: string[]): string {
  return execFileSync("/usr/bin/tmux", ["-L", socket, ...args], { encoding: "utf8" });
}

test.skipIf(!existsSync("/usr/bin/tmux"))(
  "A14 in a terminal the run prompts for the gate; the answer typed there approves it",
  async () => {
    const dir = project({ "wf.js": deploy('{ env: "staging" }') });
    const socket = `weft-gate-${process.pid}-${Date.now()}`;
    const cmd = `cd ${dir} && ${process.execPath} ${WEFT_BIN} run wf.js --command '${AGENT_CMD}'; echo EXIT:$?; sleep 60`;
    tmux(socket, "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "40", cmd);
    try {
      const screen = () => tmux(socket, "capture-pane", "-p", "-J");
      await until(() => (screen().includes('Approve "Deploy to staging?"? [y/N]') ? true : undefined));
      expect(screen()).toContain('"env": "staging"');
      tmux(socket, "send-keys", "y", "Enter");
      const end = await until(() => (/EXIT:\d+/.test(screen()) ? screen() : undefined));
      expect(end).toContain("EXIT:0");
      expect(end).toMatch(/gate #1 "Deploy to staging\?" approved by/);
      const id = /run (\S+)/.exec(end)![1]!;
      expect(answers(dir, id)[0]).toMatchObject({ approved: true });
    } finally {
      try {
        tmux(socket, "kill-server");
      } catch {}
    }
  },
);

test.skipIf(!existsSync("/usr/bin/tmux"))(
  "A14 the terminal prompt and weft approve from another terminal race safely: the first answer wins, the prompt is told",
  async () => {
    const dir = project({ "wf.js": deploy("{ v: 1 }") });
    const socket = `weft-race-${process.pid}-${Date.now()}`;
    const cmd = `cd ${dir} && ${process.execPath} ${WEFT_BIN} run wf.js --command '${AGENT_CMD}'; echo EXIT:$?; sleep 60`;
    tmux(socket, "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "40", cmd);
    try {
      const screen = () => tmux(socket, "capture-pane", "-p", "-J");
      await until(() => (screen().includes('Approve "Deploy to staging?"? [y/N]') ? true : undefined));
      const id = /run (\S+)/.exec(screen())![1]!;
      const other = await weft(["reject", id, "--reason", "from elsewhere"], dir, { USER: "cy" });
      expect(other.code, other.stderr).toBe(0);
      const end = await until(() => (/EXIT:\d+/.test(screen()) ? screen() : undefined));
      expect(end).toContain("EXIT:0");
      expect(end).toMatch(/gate #1 "Deploy to staging\?" rejected by cy@\S+: from elsewhere/);
      // The prompt's own answer never came: one answer in the journal, the script took the reject.
      expect(answers(dir, id)).toHaveLength(1);
      expect(runJson(dir, id).result).toBe("rejected");
    } finally {
      try {
        tmux(socket, "kill-server");
      } catch {}
    }
  },
);

test.skipIf(!existsSync("/usr/bin/tmux"))(
  "A14 Ctrl-C at the terminal prompt ends the run waiting (exit 4), with no answer recorded",
  async () => {
    const dir = project({ "wf.js": deploy("{ v: 1 }") });
    const socket = `weft-int-${process.pid}-${Date.now()}`;
    const cmd = `cd ${dir} && ${process.execPath} ${WEFT_BIN} run wf.js --command '${AGENT_CMD}'; echo EXIT:$?; sleep 60`;
    tmux(socket, "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "40", cmd);
    try {
      const screen = () => tmux(socket, "capture-pane", "-p", "-J");
      await until(() => (screen().includes('Approve "Deploy to staging?"? [y/N]') ? true : undefined));
      const id = /run (\S+)/.exec(screen())![1]!;
      tmux(socket, "send-keys", "C-c");
      const end = await until(() => (/EXIT:\d+/.test(screen()) ? screen() : undefined));
      expect(end).toContain("EXIT:4");
      expect(runJson(dir, id)).toMatchObject({ status: "waiting", gate: { n: 1 } });
      expect(answers(dir, id)).toHaveLength(0);
    } finally {
      try {
        tmux(socket, "kill-server");
      } catch {}
    }
  },
);

test("A14 S06 gate() hands the script only values of its own context; bad arguments throw where the call is made", async () => {
  const probe = (v: string) =>
    `try { out.push(String(${v}.constructor.constructor("return typeof process")())) } catch (e) { out.push(e.message) }`;
  const dir = project({
    "wf.js": `${meta("probe")}const out = []
const p = gate("Probe?")
${probe("gate")}
${probe("p")}
const errs = []
for (const f of [() => gate(42), () => gate(""), () => gate("x", { details: () => 1 }), () => gate("x", [1])]) {
  try { await f() } catch (e) { errs.push(e.name + ": " + e.message) }
}
const v = await p
${probe("v")}
return { out, errs, v }\n`,
  });
  const { done, id } = await startWaiting(dir);
  expect((await weft(["approve", id], dir)).code).toBe(0);
  const r = await done;
  expect(r.code, r.stderr).toBe(0);
  const { out, errs, v } = JSON.parse(r.stdout);
  expect(v).toBe(true);
  expect(out).toHaveLength(3);
  for (const line of out) expect(line).toMatch(/Code generation from strings disallowed/);
  expect(errs).toEqual([
    "TypeError: gate(title, opts?): title must be a non-empty string",
    "TypeError: gate(title, opts?): title must be a non-empty string",
    "TypeError: details is a function, which JSON cannot carry",
    "TypeError: gate(title, opts?): opts must be an object like { details }",
  ]);
});

test("A14 weft stop while a gate waits ends the run waiting (exit 4), and resume waits at the gate again", async () => {
  const dir = project({ "wf.js": deploy("{}") });
  const { done, id } = await startWaiting(dir);
  const stop = await weft(["stop", id], dir);
  expect(stop.code, stop.stderr).toBe(0);
  const r = await done;
  expect(r.code, r.stderr).toBe(4);
  expect(runJson(dir, id)).toMatchObject({ status: "waiting", gate: { n: 1, title: "Deploy to staging?" } });
  const again = await startWaiting(dir, ["resume", id]);
  expect((await weft(["approve", id], dir)).code).toBe(0);
  expect((await again.done).code).toBe(0);
  expect(starts(dir)).toEqual(["plan", "deploy"]);
});
