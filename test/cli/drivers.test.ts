import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { isGroupAlive } from "../../dist/drivers/process.js";
import {
  collect,
  journal,
  meta,
  project,
  runIdOf,
  runScript,
  sleep,
  startWeft,
  weft,
} from "../helpers/cli.js";

describe("command driver through the CLI", () => {
  test("D08 agents run in their own process group with the WEFT_* variables; raw output goes to transcripts/", async () => {
    const dir = project({
      "wf.js": `${meta()}return await agent("x", { label: "L" })\n`,
    });
    // The command reports its own pid and process group, and a variable.
    const cmd = `echo "$$ $(cut -d' ' -f5 /proc/$$/stat) $WEFT_AGENT_INDEX $WEFT_AGENT_LABEL"; echo to-stderr >&2`;
    const r = await weft(["run", "wf.js", "--command", cmd], dir);
    expect(r.code).toBe(0);
    const [pid, pgid, index, label] = r.stdout.trim().split(" ");
    expect(pgid).toBe(pid);
    expect(Number(pgid)).not.toBe(process.pid);
    expect([index, label]).toEqual(["1", "L"]);
    const id = runIdOf(r);
    const t = readFileSync(join(dir, ".weft", "runs", id, "transcripts", "1.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(t.find((x) => x.stream === "stderr").data).toBe("to-stderr\n");
    expect(t.at(-1)).toMatchObject({ exit: 0 });
    expect(journal(dir, id).find((x) => x.type === "agent.spawned")).toMatchObject({
      n: 1,
      pgid: Number(pgid),
    });
  });

  test("C01 an agent silent for its idle limit is killed and started again 5 times, then agent() throws; timeoutMs bounds its whole life", async () => {
    const dir = project({
      "wf.js": `${meta()}let stalled
try { await agent("hang") } catch (e) { stalled = e.name + ": " + e.message }
return [stalled, await agent("sleep:5000 x", { timeoutMs: 300 })]\n`,
    });
    const r = await runScript(dir, "wf.js", ["--idle-timeout-ms", "300"]);
    expect(r.code).toBe(0);
    const [stalled, timedOut] = JSON.parse(r.stdout);
    expect(stalled).toMatch(
      /^StallError: agent stalled on all 6 attempts \(no output for 300 ms \(stallMs, setting idleTimeoutMs\)\)/,
    );
    expect(timedOut).toBeNull();
    expect(r.stderr).toContain("timed out after 300 ms (timeoutMs)");
    const j = journal(dir, runIdOf(r));
    expect(j.filter((x) => x.type === "agent.started" && x.n === 1)).toHaveLength(6);
    expect(j.find((x) => x.type === "agent.finished" && x.n === 1)).toMatchObject({
      status: "failed",
      attempts: 6,
    });
    for (const s of j.filter((x) => x.type === "agent.spawned")) {
      expect(isGroupAlive(s.pgid)).toBe(false);
    }
  });

  test("C01 stallMs per call sets that call's idle limit; an agent that answers after a stall restart is kept", async () => {
    const dir = project({
      // "stall-until:3" is silent on its first two starts and answers on the third.
      "wf.js": `${meta()}const t0 = await agent("hang", { stallMs: 200, retries: 0 }).catch((e) => e.message)
return [t0, await agent("stall-until:3 x", { stallMs: 1500 })]\n`,
    });
    // The setting would take ten minutes; the call's stallMs decides.
    const r = await runScript(dir, "wf.js", ["--idle-timeout-ms", "600000"]);
    expect(r.code).toBe(0);
    const [t0, second] = JSON.parse(r.stdout);
    expect(t0).toMatch(/agent stalled on all 6 attempts \(no output for 200 ms/);
    expect(second).toBe("echo: stall-until:3 x");
    expect(r.stderr).not.toContain('option "stallMs" is unknown');
    const j = journal(dir, runIdOf(r));
    expect(j.find((x) => x.type === "agent.finished" && x.n === 2)).toMatchObject({
      status: "completed",
      attempts: 3,
    });
  });

  test("C04 a second Ctrl-C kills every agent group at once", async () => {
    const dir = project({
      // The agent ignores SIGTERM, so only the second Ctrl-C (SIGKILL) ends it quickly.
      "wf.js": `${meta()}return await agent("x")\n`,
    });
    const child = startWeft(["run", "wf.js", "--command", "trap '' TERM; sleep 30 & wait"], dir);
    const done = collect(child);
    let spawned: { pgid: number } | undefined;
    for (let i = 0; i < 400 && !spawned; i++) {
      await sleep(25);
      try {
        const id = readdirSync(join(dir, ".weft", "runs"))[0]!;
        spawned = journal(dir, id).find((x) => x.type === "agent.spawned");
      } catch {}
    }
    expect(spawned).toBeDefined();
    child.kill("SIGINT");
    await sleep(200);
    expect(isGroupAlive(spawned!.pgid)).toBe(true);
    child.kill("SIGINT");
    const r = await done;
    expect(r.code).toBe(130);
    expect(isGroupAlive(spawned!.pgid)).toBe(false);
  });

  test("R03 cache: false always runs the agent again on resume", async () => {
    const dir = project({
      "wf.js": `${meta()}return [await agent("log:" + cwd + "/s.log a"), await agent("log:" + cwd + "/s.log b", { cache: false })]\n`,
    });
    const r = await runScript(dir, "wf.js");
    await weft(["resume", runIdOf(r)], dir);
    const starts = readFileSync(join(dir, "s.log"), "utf8").trim().split("\n");
    expect(starts.map((l) => l.split(" ").at(-1))).toEqual(["a", "b", "b"]);
  });
});
