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

  test("C01 an agent silent for idleTimeoutMs is killed and failed; timeoutMs bounds its whole life", async () => {
    const dir = project({
      "wf.js": `${meta()}return [await agent("hang"), await agent("sleep:5000 x", { timeoutMs: 300 })]\n`,
    });
    const r = await runScript(dir, "wf.js", ["--idle-timeout-ms", "400"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([null, null]);
    expect(r.stderr).toContain("no output for 400 ms (idleTimeoutMs)");
    expect(r.stderr).toContain("timed out after 300 ms (timeoutMs)");
    for (const s of journal(dir, runIdOf(r)).filter((x) => x.type === "agent.spawned")) {
      expect(isGroupAlive(s.pgid)).toBe(false);
    }
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
