import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { isGroupAlive } from "../../dist/drivers/process.js";
import {
  AGENT_CMD,
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

describe("CLI surfaces and bad input", () => {
  test("E02 exit codes: 0 completed, 1 failed, 2 script error, 3 budget_exhausted", async () => {
    const dir = project({
      "ok.js": `${meta()}return 1\n`,
      "fail.js": `${meta()}throw new Error("x")\n`,
      "syntax.js": `${meta()}return (\n`,
      "cap.js": `${meta()}await agent("a")\nreturn await agent("b")\n`,
    });
    expect((await runScript(dir, "ok.js")).code).toBe(0);
    expect((await runScript(dir, "fail.js")).code).toBe(1);
    expect((await runScript(dir, "syntax.js")).code).toBe(2);
    expect((await runScript(dir, "cap.js", ["--max-agents", "1"])).code).toBe(3);
    expect((await weft(["run", "missing.js", "--command", "true"], dir)).code).toBe(2);
  });

  test("E02 bad input: invalid --args JSON, unknown driver, driver command without a command", async () => {
    const dir = project({ "wf.js": `${meta()}return 1\n` });
    let r = await runScript(dir, "wf.js", ["--args", "{nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--args must be JSON/);
    r = await weft(["run", "wf.js", "--driver", "nope"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown driver "nope"');
    r = await weft(["run", "wf.js", "--driver", "command"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/command driver needs a command: set --command/);
    r = await weft(["run", "wf.js", "--command", AGENT_CMD, "--concurrency", "0"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--concurrency: concurrency must be a positive integer");
  });

  test("E02 an unwritable .weft (a file in its place) gives a clear error and no run", async () => {
    const dir = project({ "wf.js": `${meta()}return 1\n`, ".weft": "not a folder" });
    const r = await runScript(dir, "wf.js");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\.weft.*(is a file|not a directory)/);
  });

  test("D09 a command that exits 1 fails the agent with the last stderr lines; non-JSON for a schema throws", async () => {
    const dir = project({
      "wf.js": `${meta()}const a = await agent("exit:1")
let e = null
try { await agent("plain words", { schema: { type: "object" }, repairs: 0 }) } catch (err) { e = err.message }
return { a, e }\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.a).toBeNull();
    expect(out.e).toMatch(/no parseable JSON object/);
    expect(r.stderr).toMatch(/failed #1 .*something went wrong \| boom/);
  });

  test("U01 --help works for the program and every verb", async () => {
    const dir = project();
    for (const args of [
      ["--help"],
      ["run", "--help"],
      ["resume", "--help"],
      ["ls", "--help"],
      ["show", "--help"],
      ["config", "--help"],
    ]) {
      const r = await weft(args, dir);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: weft/);
    }
  });

  test("U01 ls and show list runs and one agent", async () => {
    const dir = project({ "wf.js": `${meta()}return await agent("a", { label: "first" })\n` });
    const r = await runScript(dir, "wf.js");
    const id = runIdOf(r);
    const ls = await weft(["ls"], dir);
    expect(ls.stdout).toContain(id);
    expect(ls.stdout).toContain("completed");
    const show = await weft(["show", id.slice(0, -2)], dir);
    expect(show.stdout).toContain("status   completed");
    const agent = await weft(["show", id, "--agent", "1"], dir);
    expect(agent.stdout).toContain("agent #1 first");
    expect(agent.stdout).toContain("result   echo: a");
  });

  test("U02 plain progress lines name phases, agents, time and tokens, then the result", async () => {
    const dir = project({
      "wf.js": `${meta()}phase("Scan")\nreturn await agent("usage:10,5 a", { label: "scanner" })\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.stderr).toContain("> Scan");
    expect(r.stderr).toMatch(/start +#1 scanner/);
    expect(r.stderr).toMatch(/done +#1 scanner \d+(\.\d)?m?s 15 tokens/);
    expect(r.stderr).toMatch(/completed in \d+(\.\d)?m?s · 1 agent completed · 15 tokens/);
    expect(r.stdout).toBe("echo: usage:10,5 a\n");
  });

  test("U02 --json prints one documented event per line", async () => {
    const dir = project({ "wf.js": `${meta()}phase("P")\nlog("hi")\nreturn await agent("a")\n` });
    const r = await runScript(dir, "wf.js", ["--json"]);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toEqual([
      "run.started",
      "phase",
      "log",
      // U02: called, waiting for a slot (counted in the tree's total as weft status counts it).
      "agent.queued",
      "agent.started",
      // The command driver's stdout line ("echo: a") is the agent's last activity.
      "agent.activity",
      "agent.finished",
      "run.finished",
    ]);
    expect(events[3]).toMatchObject({ n: 1, phase: "P" });
    expect(events[5]).toMatchObject({ n: 1, attempt: 1, text: "echo: a" });
    expect(events.at(-1)).toMatchObject({ status: "completed", result: "echo: a" });
  });

  test("U09 settings layer flags > env > run > .weft/config.json > user config; weft config shows sources", async () => {
    const dir = project({ ".weft/config.json": JSON.stringify({ concurrency: 3, repairs: 1, retries: 2 }) });
    mkdirSync(join(dir, ".xdg", "weft"), { recursive: true });
    writeFileSync(
      join(dir, ".xdg", "weft", "config.json"),
      JSON.stringify({ concurrency: 9, maxAgents: 7, repairs: 5 }),
    );
    const r = await weft(["config", "--json"], dir, { WEFT_REPAIRS: "2" });
    const rows = Object.fromEntries(
      JSON.parse(r.stdout).settings.map((x: { key: string }) => [x.key, x]),
    ) as Record<string, { value: unknown; source: string }>;
    expect(rows.concurrency).toMatchObject({ value: 3, source: "project" });
    expect(rows.maxAgents).toMatchObject({ value: 7, source: "user" });
    expect(rows.repairs).toMatchObject({ value: 2, source: "env" });
    expect(rows.maxListItems).toMatchObject({ value: 4096, source: "default" });
    const plain = await weft(["config"], dir);
    expect(plain.stdout).toMatch(/concurrency\s+3\s+.*\.weft\/config\.json/);
    const bad = await weft(["config"], dir, { WEFT_CONCURRENCY: "many" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("WEFT_CONCURRENCY");
  });

  test("C04 Ctrl-C stops new agents, terminates running ones, flushes, exits 130", async () => {
    const dir = project({
      "wf.js": `${meta()}return await parallel(Array.from({ length: 6 }, (_, i) => () => agent("sleep:30000 n" + i)))\n`,
    });
    const child = startWeft(["run", "wf.js", "--command", AGENT_CMD, "--concurrency", "2"], dir);
    const done = collect(child);
    let id: string | undefined;
    for (let i = 0; i < 400 && !id; i++) {
      await sleep(25);
      try {
        const rid = readdirSync(join(dir, ".weft", "runs"))[0];
        if (rid && journal(dir, rid).filter((x) => x.type === "agent.spawned").length === 2) id = rid;
      } catch {}
    }
    expect(id).toBeDefined();
    const groups = journal(dir, id!)
      .filter((x) => x.type === "agent.spawned")
      .map((x) => x.pgid as number);
    child.kill("SIGINT");
    const r = await done;
    expect(r.code).toBe(130);
    for (const g of groups) expect(isGroupAlive(g)).toBe(false);
    const j = journal(dir, id!);
    expect(j.filter((x) => x.type === "agent.started")).toHaveLength(2);
    expect(j.at(-1)).toMatchObject({ type: "run.finished", status: "stopped" });
  });
});
