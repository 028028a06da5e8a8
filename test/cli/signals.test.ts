/**
 * C04: a closed terminal (SIGHUP) is one Ctrl-C; a closed stdout or stderr never ends a run, and
 * list commands whose reader went away exit quietly.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { isGroupAlive } from "../../dist/drivers/process.js";
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
  WEFT_BIN,
  weft,
} from "../helpers/cli.js";

test("C04 SIGHUP (the terminal closed) stops the run as one Ctrl-C: agents stopped, run stopped, exit 130", async () => {
  const dir = project({
    "wf.js": `${meta()}return await parallel([1, 2].map((i) => () => agent("hang " + i)))\n`,
  });
  const child = startWeft(["run", "wf.js", "--command", AGENT_CMD], dir);
  const done = collect(child);
  const id = (await until(() => readdirSync(join(dir, ".weft", "runs"))[0]))!;
  const spawned = await until(() => {
    const s = journal(dir, id).filter((x) => x.type === "agent.spawned");
    return s.length === 2 ? s : undefined;
  });
  child.kill("SIGHUP");
  const r = await done;
  expect(r.code).toBe(130);
  expect(runJson(dir, id).status).toBe("stopped");
  for (const s of spawned) expect(isGroupAlive(s.pgid)).toBe(false);
  // Resumable: the stopped agents were not recorded as failed (R06).
  expect(journal(dir, id).filter((x) => x.type === "agent.finished" && x.status === "failed")).toHaveLength(
    0,
  );
});

test("C04 a closed stdout and stderr (weft run ... 2>&1 | head -1) do not end the run: it completes and records its result", async () => {
  const dir = project({
    "wf.js": `${meta()}const out = []
for (let i = 0; i < 6; i++) { log("line " + i + " " + "x".repeat(2000)); out.push(await agent("sleep:150 n" + i)) }
return out.length\n`,
  });
  // The reader reads one line and goes away, as head -1 does; weft's later writes hit EPIPE.
  const sh = spawn(
    "sh",
    ["-c", `"${process.execPath}" "${WEFT_BIN}" run wf.js --command '${AGENT_CMD}' 2>&1 | head -1`],
    {
      cwd: dir,
      env: cleanEnv(dir),
    },
  );
  const r = await collect(sh);
  expect(r.stdout).toMatch(/^run \S+\n$/);
  const id = readdirSync(join(dir, ".weft", "runs"))[0]!;
  // weft itself goes on after head is gone: wait for its run to end.
  const summary = await until(() => {
    const s = runJson(dir, id);
    return s.status !== "running" ? s : undefined;
  }, 30_000);
  expect(summary.status).toBe("completed");
  expect(summary.result).toBe(6);
});

test("C04 list and log commands whose reader went away exit quietly, without a stack trace", async () => {
  const dir = project({
    "wf.js": `${meta()}for (let i = 0; i < 50; i++) log("narrator line " + i)\nreturn 1\n`,
  });
  for (let i = 0; i < 3; i++)
    expect((await weft(["run", "wf.js", "--command", AGENT_CMD], dir)).code).toBe(0);
  const id = readdirSync(join(dir, ".weft", "runs"))[0]!;
  for (const args of [["ls"], ["logs", id], ["show", id]]) {
    // The reader closes its end before weft writes anything.
    const child = spawn(process.execPath, [WEFT_BIN, ...args], {
      cwd: dir,
      env: cleanEnv(dir),
      stdio: "pipe",
    });
    child.stdout.destroy();
    const r = await collect(child);
    expect(r.stderr, args.join(" ")).not.toMatch(/EPIPE|at .*\.js:\d+|Error:/);
    expect(r.code, args.join(" ")).toBe(0);
  }
});
