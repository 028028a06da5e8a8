/**
 * What `weft show`, `weft ls`, `weft status` and final-report.md say about a run's agents and
 * about a run whose process died (U01, R09, U07).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  AGENT_CMD,
  journal,
  meta,
  project,
  runIdOf,
  runScript,
  sleep,
  startWeft,
  until,
  weft,
} from "../helpers/cli.js";

/** Start a run whose one agent never answers, and kill -9 weft once the agent has started. */
async function killedRun(dir: string, command: string): Promise<string> {
  const child = startWeft(["run", "wf.js", "--command", command], dir);
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const id = await until(() => /^run (\S+)/m.exec(stderr)?.[1]);
  await until(() => journal(dir, id).some((r) => r.type === "agent.started") || undefined);
  child.kill("SIGKILL");
  await new Promise((r) => child.on("close", r));
  return id;
}

describe("U01 weft show", () => {
  test("U01 weft show lists the run's agents (number, state, tokens, label); --agent takes a number or a label", async () => {
    const dir = project({
      "wf.js": `${meta("show")}return await parallel([() => agent("a", { label: "lint" }), () => agent("exit:1 b", { label: "lint" }), () => agent("usage:5,7 unlabelled prompt")])\n`,
    });
    const id = runIdOf(await runScript(dir, "wf.js"));
    const show = await weft(["show", id], dir);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/^ {2}#1 +completed +0 tokens {2}lint$/m);
    expect(show.stdout).toMatch(/^ {2}#2 +failed +0 tokens {2}lint$/m);
    expect(show.stdout).toMatch(/^ {2}#3 +completed +12 tokens {2}usage:5,7 unlabelled prompt$/m);
    const byLabel = await weft(["show", id, "--agent", "lint"], dir);
    expect(byLabel.code, byLabel.stderr).toBe(0);
    expect(byLabel.stdout).toContain("agent #1 lint — completed");
    expect(byLabel.stdout).toContain("agent #2 lint — failed");
    const json = await weft(["show", id, "--agent", "lint", "--json"], dir);
    expect(JSON.parse(json.stdout).map((a: { n: number }) => a.n)).toEqual([1, 2]);
    const byNumber = await weft(["show", id, "--agent", "#3"], dir);
    expect(byNumber.stdout).toContain("agent #3 — completed");
    const none = await weft(["show", id, "--agent", "nope"], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`run ${id} has no agent labelled "nope" (labels: lint)`);
  });
});

describe("R09 a run whose process died", () => {
  test("R09 weft ls and weft status (without --all) show it as such, and its elapsed time stops growing", async () => {
    const dir = project({ "wf.js": `${meta("dies")}return await agent("a")\n` });
    const id = await killedRun(dir, "sleep 60");
    const ls = await weft(["ls"], dir);
    expect(ls.stdout).toMatch(new RegExp(`^${id} +died `, "m"));
    expect(ls.stdout).toContain(`its process died while it was running: weft resume ${id} continues it`);
    const status = await weft(["status"], dir);
    expect(status.stdout).toContain(id);
    expect(status.stdout).toContain(`running, but no process owns it (it died): weft resume ${id}`);
    const first = JSON.parse((await weft(["status", id, "--json"], dir)).stdout);
    expect(first.orphaned).toBe(true);
    await sleep(1500);
    const later = JSON.parse((await weft(["status", id, "--json"], dir)).stdout);
    expect(later.elapsedMs).toBe(first.elapsedMs);
  });
});

describe("U07 final-report.md after a resume", () => {
  test("U07 the agents a killed execution left unfinished and a resume ran again are not failures", async () => {
    const dir = project({ "wf.js": `${meta("again")}return await agent("a", { label: "only" })\n` });
    const id = await killedRun(dir, "sleep 60");
    // The same call runs again (as agent 2) with a program that answers.
    const r = await weft(["resume", id, "--command", AGENT_CMD], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("echo: a");
    const report = readFileSync(join(dir, ".weft", "runs", id, "final-report.md"), "utf8");
    expect(report).toContain("- outcome: **completed**");
    expect(report).not.toContain("## Failures");
    expect(report).toMatch(
      /^\| 1 \| {2}\| {2}\| unfinished, superseded by agent 2 \(the same call, run again\) \|/m,
    );
    expect(report).toMatch(/^\| 2 \| only \| {2}\| completed \|/m);
  });

  test("U07 an unfinished agent whose call was not made again is still listed as a failure", async () => {
    const dir = project({
      "wf.js": `${meta("gone")}return await agent("a")\n`,
      "edited.js": `${meta("gone")}return await agent("b")\n`,
    });
    const id = await killedRun(dir, "sleep 60");
    const r = await weft(["run", "edited.js", "--resume", id, "--command", AGENT_CMD], dir);
    expect(r.code, r.stderr).toBe(0);
    const report = readFileSync(join(dir, ".weft", "runs", id, "final-report.md"), "utf8");
    expect(report).toContain("## Failures (1)");
    expect(report).toContain("- agent 1: unfinished (its execution ended before it did)");
  });
});
