/**
 * R05 fencing: an owner frozen past its heartbeat (SIGSTOP, a laptop asleep) is taken over by a
 * resume; when it continues (SIGCONT) it must not drive the run a second time.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { AGENT_CMD, collect, journal, meta, project, runJson, startWeft, until } from "../helpers/cli.js";

const starts = (dir: string) => {
  try {
    return readFileSync(join(dir, "starts.log"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => /n\d+/.exec(l)![0]);
  } catch {
    return [];
  }
};

test("R05 an owner frozen, taken over, then continued writes nothing more and starts nothing; each prompt runs once after the takeover", async () => {
  const dir = project({
    "wf.js": `${meta()}const out = []
for (let i = 1; i <= 4; i++) out.push(await agent("sleep:1200 log:" + cwd + "/starts.log n" + i))
return out.filter(Boolean).length\n`,
  });
  const first = startWeft(["run", "wf.js", "--command", AGENT_CMD], dir);
  const firstDone = collect(first);
  const id = (await until(() => readdirSync(join(dir, ".weft", "runs"))[0]))!;
  await until(() => starts(dir).length === 1 || undefined);
  first.kill("SIGSTOP");
  // Time passes for the lock as if the owner had been frozen past the 30 s heartbeat: its last
  // heartbeat is made old. (The frozen process cannot write it back.)
  const lockPath = join(dir, ".weft", "runs", id, "lock.json");
  const lock = JSON.parse(readFileSync(lockPath, "utf8"));
  writeFileSync(lockPath, JSON.stringify({ ...lock, heartbeatAt: lock.heartbeatAt - 60_000 }));

  const second = startWeft(["resume", id, "--command", AGENT_CMD], dir);
  const secondDone = collect(second);
  // The new owner has started the run's second agent: now the first process continues.
  await until(() => starts(dir).filter((s) => s === "n2").length === 1 || undefined);
  first.kill("SIGCONT");
  const a = await firstDone;
  const b = await secondDone;

  expect(a.code).toBe(2);
  expect(a.stderr).toContain(`was taken over by pid ${second.pid}`);
  expect(b.code).toBe(0);
  expect(runJson(dir, id).status).toBe("completed");
  expect(runJson(dir, id).result).toBe(4);
  const records = journal(dir, id);
  expect(records.filter((r) => r.type === "run.finished")).toHaveLength(1);
  // n1 started by the first owner and again by the new one (it had not finished); every other
  // prompt once: the first process started nothing after it continued.
  expect(starts(dir).sort()).toEqual(["n1", "n1", "n2", "n3", "n4"]);
  // Every agent.finished in the journal is the new owner's: one per prompt, all completed.
  const finished = records.filter((r) => r.type === "agent.finished");
  expect(finished.map((r) => r.status)).toEqual(["completed", "completed", "completed", "completed"]);
});
