/** D03: choosing a backend by what is on PATH, and `weft doctor`. */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import { meta, project, weft } from "../helpers/cli.js";

/** A folder of fake CLIs that only answer --version, and a PATH with it, node and the system. */
function fakeClis(dir: string, names: string[]): string {
  const bin = join(dir, "fake-bin");
  mkdirSync(bin, { recursive: true });
  for (const name of names) {
    const file = join(bin, name);
    // pi prints its version on stderr, the others on stdout.
    const to = name === "pi" ? " >&2" : "";
    writeFileSync(file, `#!/bin/sh\necho "${name}-cli 9.9.${names.indexOf(name)}"${to}\n`);
    chmodSync(file, 0o755);
  }
  return [bin, dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":");
}

describe("D03 choosing a backend", () => {
  test("D03 weft doctor lists the CLIs found with their versions, what is missing, and the driver runs would use", async () => {
    const dir = project();
    const PATH = fakeClis(dir, ["claude", "gemini", "pi"]);
    const r = await weft(["doctor"], dir, { PATH });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/pi\s+pi-cli 9\.9\.2 {2}\(/);
    expect(r.stdout).toMatch(/claude\s+claude-cli 9\.9\.0 {2}\(.*fake-bin\/claude\)/);
    expect(r.stdout).toMatch(/gemini\s+gemini-cli 9\.9\.1/);
    expect(r.stdout).toMatch(
      /codex\s+missing: codex is not on PATH; install with `npm install -g @openai\/codex`/,
    );
    // codex comes before claude in D03's order, but is missing.
    expect(r.stdout).toContain("Runs use: claude (the first agent CLI found on PATH)");

    const j = await weft(["doctor", "--json"], dir, { PATH });
    const report = JSON.parse(j.stdout);
    expect(report.driver).toBe("claude");
    expect(report.clis.map((c: { driver: string }) => c.driver)).toEqual([
      "codex",
      "claude",
      "pi",
      "opencode",
      "gemini",
    ]);
  });

  test("D03 a driver's bin setting is where weft looks for it, and a chosen driver is reported with its source", async () => {
    const dir = project();
    const PATH = fakeClis(dir, []);
    const own = join(dir, "tools", "my-codex");
    mkdirSync(dirname(own), { recursive: true });
    writeFileSync(own, '#!/bin/sh\necho "codex-cli 1.2.3"\n');
    chmodSync(own, 0o755);
    mkdirSync(join(dir, ".weft"), { recursive: true });
    writeFileSync(join(dir, ".weft", "config.json"), JSON.stringify({ drivers: { codex: { bin: own } } }));
    const r = await weft(["doctor"], dir, { PATH });
    expect(r.stdout).toMatch(/codex\s+codex-cli 1\.2\.3/);
    expect(r.stdout).toContain("Runs use: codex (the first agent CLI found on PATH)");
    const chosen = await weft(["doctor"], dir, { PATH, WEFT_DRIVER: "gemini" });
    // gemini is not there: the source is still named, and no run could start.
    expect(chosen.stdout).toContain(
      "Runs would use: gemini (setting driver, from WEFT_DRIVER), but cannot start: gemini is not on PATH",
    );
    expect(chosen.code).toBe(1);
  });

  test("D03 with no CLI on PATH and no driver chosen, weft says what to install, and doctor exits 1", async () => {
    const dir = project({ "wf.js": `${meta()}return await agent("x")\n` });
    const PATH = fakeClis(dir, []);
    const r = await weft(["run", "wf.js"], dir, { PATH });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "no agent CLI found on PATH: install one of codex (npm install -g @openai/codex)",
    );
    expect(r.stderr).toContain("--command");
    const d = await weft(["doctor"], dir, { PATH });
    expect(d.code).toBe(1);
    expect(d.stdout).toContain("Runs use: nothing yet. no agent CLI found on PATH");
  });

  test("D03 without a driver, a run uses the first CLI on PATH", async () => {
    const dir = project({ "wf.js": `${meta()}return await agent("x")\n` });
    const PATH = fakeClis(dir, ["pi", "opencode"]);
    const r = await weft(["run", "wf.js", "--json"], dir, { PATH });
    const started = r.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((e) => e.type === "run.started");
    expect(started.driver).toBe("pi");
  });

  test("D03 doctor exits 0 when a run could start: a command set counts, with no agent CLI on PATH", async () => {
    const dir = project();
    const PATH = fakeClis(dir, []);
    const envs: Record<string, string>[] = [
      { WEFT_COMMAND: "cat" },
      { WEFT_DRIVER: "command", WEFT_COMMAND: "cat" },
    ];
    for (const env of envs) {
      const r = await weft(["doctor"], dir, { PATH, ...env });
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toMatch(/command\s+set to `cat` \(from WEFT_COMMAND\)/);
      expect(r.stdout).toMatch(/Runs use: command \(setting (command|driver), from WEFT_(COMMAND|DRIVER)\)/);
      const j = JSON.parse((await weft(["doctor", "--json"], dir, { PATH, ...env })).stdout);
      expect(j).toMatchObject({ driver: "command", usable: true, command: { value: "cat" } });
    }
    // From the project's config file too.
    mkdirSync(join(dir, ".weft"), { recursive: true });
    writeFileSync(join(dir, ".weft", "config.json"), JSON.stringify({ command: "tail -n 1" }));
    expect((await weft(["doctor"], dir, { PATH })).code).toBe(0);
  });

  test("D03 doctor exits 1 when the chosen driver cannot start, and never tells the user to run doctor", async () => {
    const dir = project();
    const PATH = fakeClis(dir, []);
    const missing = await weft(["doctor"], dir, { PATH, WEFT_DRIVER: "codex" });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(
      "cannot start: codex is not on PATH; install with `npm install -g @openai/codex`",
    );
    const noCommand = await weft(["doctor"], dir, { PATH, WEFT_DRIVER: "command" });
    expect(noCommand.code).toBe(1);
    expect(noCommand.stdout).toContain("the command driver needs a command");
    expect(noCommand.stdout).toMatch(/command\s+not set: --command "<program>"/);
    const none = await weft(["doctor"], dir, { PATH });
    expect(none.code).toBe(1);
    for (const r of [missing, noCommand, none]) expect(r.stdout).not.toContain("weft doctor");
    const j = JSON.parse((await weft(["doctor", "--json"], dir, { PATH })).stdout);
    expect(j.usable).toBe(false);
    expect(j.problem).not.toContain("weft doctor");
  });
});
