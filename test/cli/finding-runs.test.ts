/**
 * R01, U01, R07: the ids runs get, and how every command finds a run again: from a subdirectory
 * of the project, by `last`, by a prefix (and what an ambiguous one says).
 */
import { existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { AGENT_CMD, gitProject, meta, project, runIdOf, runScript, weft } from "../helpers/cli.js";

describe("R01 run ids from any name", () => {
  for (const [name, id] of [
    ["日本語", /^run-[a-z0-9]{6}$/],
    ["ünïcødé", /^n-c-d--[a-z0-9]{6}$/],
    [".hidden", /^hidden-[a-z0-9]{6}$/],
    ["--flags", /^flags-[a-z0-9]{6}$/],
  ] as const) {
    test(`R01 meta.name ${JSON.stringify(name)} gives an id that show, status and resume find`, async () => {
      const dir = project({ "wf.js": `${meta(name)}return await agent("hi")\n` });
      const r = await runScript(dir, "wf.js");
      expect(r.code, r.stderr).toBe(0);
      const runId = runIdOf(r);
      expect(runId).toMatch(id);
      const show = await weft(["show", runId], dir);
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout).toContain(`run ${runId}`);
      const status = await weft(["status", runId], dir);
      expect(status.code, status.stderr).toBe(0);
      const again = await weft(["resume", runId], dir);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout.trim()).toBe("echo: hi");
    });
  }
});

describe("U01 the project's .weft/ from a subdirectory", () => {
  test("U01 weft run in a subdirectory uses the .weft/ at the git root, says so, and every command finds its runs", async () => {
    const dir = realpathSync(
      gitProject({
        "wf.js": `${meta("sub")}return await agent("hi")\n`,
        ".weft/config.json": JSON.stringify({ command: AGENT_CMD }),
      }),
    );
    const first = await weft(["run", "wf.js"], dir);
    expect(first.code, first.stderr).toBe(0);
    const deep = join(dir, "src", "deep");
    mkdirSync(deep, { recursive: true });
    // No --command: the root's config.json is the one read.
    const r = await weft(["run", "../../wf.js"], deep);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split("\n")[0]).toMatch(/^run sub-/);
    expect(r.stderr).toContain(`using the project's .weft/ at ${dir} (weft started in ${deep})`);
    expect(existsSync(join(deep, ".weft"))).toBe(false);
    expect(readdirSync(join(dir, ".weft", "runs")).sort()).toEqual([runIdOf(first), runIdOf(r)].sort());
    const ls = await weft(["ls"], deep);
    expect(ls.stdout).toContain(runIdOf(first));
    expect(ls.stdout).toContain(runIdOf(r));
    for (const cmd of [
      ["show", runIdOf(r)],
      ["status", runIdOf(r)],
      ["logs", runIdOf(r)],
      ["resume", runIdOf(r)],
    ]) {
      const out = await weft(cmd, deep);
      expect(out.code, `${cmd.join(" ")}: ${out.stderr}`).toBe(0);
    }
  });

  test("U01 outside a git repository, or with no .weft/ above, .weft/ is made where weft started", async () => {
    const dir = gitProject({ "wf.js": `${meta("here")}return await agent("hi")\n` });
    const sub = join(dir, "pkg");
    mkdirSync(sub);
    writeFileSync(join(sub, "wf.js"), `${meta("here")}return await agent("hi")\n`);
    const r = await runScript(sub, "wf.js");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("using the project's");
    expect(existsSync(join(sub, ".weft", "runs", runIdOf(r)))).toBe(true);
    expect(existsSync(join(dir, ".weft"))).toBe(false);
  });
});

describe("R01 last, R07 prefixes", () => {
  test("R01 show, status, logs and resume take `last` for the newest run", async () => {
    const dir = project({
      "a.js": `${meta("older")}return await agent("a")\n`,
      "b.js": `${meta("newer")}return await agent("b")\n`,
    });
    await runScript(dir, "a.js");
    const newest = runIdOf(await runScript(dir, "b.js"));
    const show = await weft(["show", "last"], dir);
    expect(show.stdout).toContain(`run ${newest} (newer)`);
    const status = await weft(["status", "last"], dir);
    expect(status.stdout).toContain(`run ${newest} (newer)`);
    const logs = await weft(["logs", "last"], dir);
    expect(logs.stdout).toContain(`run ${newest}`);
    const resume = await weft(["resume", "last"], dir);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stdout.trim()).toBe("echo: b");
    expect(resume.stderr).toContain(`run ${newest} (resumed)`);
  });

  test("R07 an ambiguous id prefix says ambiguous and lists the matches", async () => {
    const dir = project({ "wf.js": `${meta("dup")}return await agent("a")\n` });
    const a = runIdOf(await runScript(dir, "wf.js"));
    const b = runIdOf(await runScript(dir, "wf.js"));
    for (const cmd of ["show", "status", "resume", "logs"]) {
      const r = await weft([cmd, "dup"], dir);
      expect(r.code, cmd).toBe(2);
      expect(r.stderr, cmd).toContain('run id "dup" is ambiguous: 2 runs start with it');
      expect(r.stderr, cmd).toContain(a);
      expect(r.stderr, cmd).toContain(b);
    }
  });
});
