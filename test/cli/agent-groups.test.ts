/**
 * R02: agents' process groups. They die with the weft that started them, however it died; and a
 * resume kills only groups that are still the agents' (a journal is data an agent could write).
 */
import { spawn } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { isGroupAlive, leaseStillOurs, readProcStat } from "../../dist/drivers/process.js";
import { collect, journal, meta, project, reaperOf, sleep, startWeft, until, weft } from "../helpers/cli.js";

const linux = process.platform === "linux";
const cleanup: number[] = [];
afterEach(() => {
  for (const pgid of cleanup.splice(0)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {}
  }
});

/** A process group of our own (a detached sleep), as any other program's would be. */
function foreignGroup(): number {
  const c = spawn("sleep", ["120"], { detached: true, stdio: "ignore" });
  c.unref();
  cleanup.push(c.pid!);
  return c.pid!;
}

describe.runIf(linux)("agent process groups", () => {
  test("R02 an agent and its children die within 5 s of weft's kill -9, even one that ignores SIGTERM", async () => {
    // The agent starts a child that ignores SIGTERM, records both pids, and waits forever.
    const agentCmd = `trap '' TERM; (trap '' TERM; exec sleep 300) & echo "$$ $!" > pids; wait`;
    const dir = project({ "wf.js": `${meta()}return await agent("go")\n` });
    const child = startWeft(["run", "wf.js", "--command", agentCmd], dir);
    const done = collect(child);
    const pids = await until(() => {
      const t = readFileSync(join(dir, "pids"), "utf8").trim().split(" ").map(Number);
      return t.length === 2 ? t : undefined;
    });
    const id = readdirSync(join(dir, ".weft", "runs"))[0]!;
    const spawned = await until(() => journal(dir, id).find((x) => x.type === "agent.spawned"));
    for (const p of pids) cleanup.push(p);
    expect(spawned.startTime).toBe(readProcStat(spawned.pgid)?.startTime);
    child.kill("SIGKILL");
    await done;
    const killedAt = Date.now();
    // Checked from outside: poll until the group is gone or 5 s have passed.
    while (isGroupAlive(spawned.pgid) && Date.now() - killedAt < 5_000) await sleep(50);
    expect(isGroupAlive(spawned.pgid)).toBe(false);
    for (const p of pids) expect(readProcStat(p) === undefined || readProcStat(p)?.state === "Z").toBe(true);
  });

  test("R02 a weft that ends normally leaves its watcher nothing to kill, and the watcher exits", async () => {
    const dir = project({ "wf.js": `${meta()}return await agent("one")\n` });
    const r = await weft(["run", "wf.js", "--command", "cat >/dev/null; echo ok"], dir);
    expect(r.code).toBe(0);
    // The watcher got end of file with an empty list: no process of that command line is left.
    await until(() => {
      for (const d of readdirSync("/proc")) {
        if (!/^\d+$/.test(d)) continue;
        try {
          const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8");
          if (cmd.includes("groups=") && readFileSync(`/proc/${d}/environ`, "utf8").includes(dir))
            return undefined;
        } catch {}
      }
      return true;
    }, 5_000);
  });

  test("R02 resume kills no group that is not the agent's: a reused id, weft's own group, no start time (pgid <= 1 is refused as damage, R07)", async () => {
    const dir = project({ "wf.js": `${meta()}return await agent("one")\n` });
    const first = await weft(["run", "wf.js", "--command", "cat >/dev/null; echo ok"], dir);
    expect(first.code).toBe(0);
    const id = readdirSync(join(dir, ".weft", "runs"))[0]!;
    const foreign = foreignGroup();
    const own = readProcStat("self")!.pgrp; // weft, started by this test, runs in this group
    const at = new Date().toISOString();
    const records = [
      // A live group whose leader is another process than the one recorded (the id was reused).
      { type: "agent.started", n: 7, key: "x", attempt: 1, at },
      { type: "agent.spawned", n: 7, attempt: 1, pgid: foreign, startTime: "1" },
      // The test's (and so weft's) own group, with its leader's true start time.
      { type: "agent.started", n: 8, key: "y", attempt: 1, at },
      { type: "agent.spawned", n: 8, attempt: 1, pgid: own, startTime: readProcStat(own)?.startTime ?? "1" },
      // A group recorded without a start time (cannot be checked).
      { type: "agent.started", n: 10, key: "w", attempt: 1, at },
      { type: "agent.spawned", n: 10, attempt: 1, pgid: foreign },
    ];
    appendFileSync(
      join(dir, ".weft", "runs", id, "journal.jsonl"),
      records.map((r) => `${JSON.stringify(r)}\n`).join(""),
    );
    const r = await weft(["resume", id], dir);
    expect(r.code).toBe(0);
    expect(isGroupAlive(foreign)).toBe(true);
  });

  test("R02 a recorded group is the agent's only while its leader is the recorded process", () => {
    const foreign = foreignGroup();
    const startTime = readProcStat(foreign)!.startTime;
    expect(leaseStillOurs({ pgid: foreign, startTime })).toBe(true);
    expect(leaseStillOurs({ pgid: foreign, startTime: String(Number(startTime) - 1) })).toBe(false);
    expect(leaseStillOurs({ pgid: foreign })).toBe(false);
    for (const pgid of [0, 1, -1, -foreign, 1.5, Number.NaN, process.pid, readProcStat("self")!.pgrp]) {
      expect(leaseStillOurs({ pgid, startTime: "1" })).toBe(false);
    }
  });

  test("R02 with the watcher gone too, the resume kills what a kill -9 left running", async () => {
    const dir = project({ "wf.js": `${meta()}return await agent("go")\n` });
    const child = startWeft(["run", "wf.js", "--command", "echo $$ > pid; exec sleep 300"], dir);
    const done = collect(child);
    const id = (await until(() => readdirSync(join(dir, ".weft", "runs"))[0]))!;
    const spawned = await until(() => journal(dir, id).find((x) => x.type === "agent.spawned"));
    cleanup.push(spawned.pgid);
    const reaper = await until(() => reaperOf(child.pid!));
    process.kill(reaper, "SIGKILL");
    child.kill("SIGKILL");
    await done;
    await sleep(300);
    expect(isGroupAlive(spawned.pgid)).toBe(true);
    const again = startWeft(["resume", id, "--command", "cat >/dev/null; echo ok"], dir);
    const r = await collect(again);
    expect(r.code).toBe(0);
    expect(isGroupAlive(spawned.pgid)).toBe(false);
  });
});
