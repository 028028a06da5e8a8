/** U09: every setting the README names is a flag of `weft run` (the key in kebab case), and works. */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { SETTING_KEYS } from "../../src/config/settings.js";
import { gitProject, journal, meta, project, runIdOf, runScript, weft } from "../helpers/cli.js";

const finishedRecords = (dir: string, id: string) =>
  journal(dir, id).filter((x) => x.type === "agent.finished");

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const kebab = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The keys the README's "## Settings" section lists as flags, and those it says are files only. */
function readmeSettings(): { flags: string[]; filesOnly: string[] } {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## Settings\n");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  const split = section.indexOf("in files or as JSON");
  expect(split, "the Settings section names the file-only settings").toBeGreaterThan(0);
  const keys = (text: string) => [...text.matchAll(/`([a-z][A-Za-z]+)`/g)].map((m) => m[1]!);
  const flags = keys(section.slice(section.indexOf("Keys are camelCase"), split));
  // The file-only keys are named in that paragraph; what follows (Claude Code's table) is not weft's.
  const end = section.indexOf("\n\n", split);
  const filesOnly = keys(section.slice(split, end < 0 ? undefined : end)).filter(
    (k) => !k.startsWith("WEFT"),
  );
  return { flags, filesOnly };
}

test("U09 every settings key the README names is a flag in `weft run --help`, and every setting is named", async () => {
  const { flags, filesOnly } = readmeSettings();
  expect(flags).toEqual(expect.arrayContaining(["killGraceMs", "verifyRepairs", "verifyTimeoutMs"]));
  const help = (await weft(["run", "--help"], project())).stdout;
  for (const key of flags) expect(help, `weft run --help lists ${kebab(key)}`).toContain(`${kebab(key)} `);
  // And the README leaves none out.
  expect([...flags, ...filesOnly].sort()).toEqual([...SETTING_KEYS].sort());
  for (const cmd of ["resume", "fork"]) {
    const h = (await weft([cmd, "--help"], project())).stdout;
    for (const key of ["killGraceMs", "verifyRepairs", "verifyTimeoutMs"]) expect(h).toContain(kebab(key));
  }
});

test("U09 --kill-grace-ms, --verify-repairs and --verify-timeout-ms are checked and take effect", async () => {
  const dir = project({ "wf.js": `${meta()}return 1\n` });
  for (const [flag, bad] of [
    ["--kill-grace-ms", "-1"],
    ["--verify-repairs", "x"],
    ["--verify-timeout-ms", "0"],
  ] as const) {
    const r = await runScript(dir, "wf.js", [flag, bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(flag);
  }
  const git = gitProject({
    "wf.js": `${meta()}return await agent("write:x.txt:y", { isolation: "worktree", verify: "echo broken; exit 1" })\n`,
  });
  const r = await runScript(git, "wf.js", ["--verify-repairs", "0"]);
  const [rec] = finishedRecords(git, runIdOf(r));
  expect(rec.attempts).toBe(1);
  expect(rec.error).toMatch(/verify failed after 0 repairs/);
  const slow = gitProject({
    "wf.js": `${meta()}return await agent("write:x.txt:y", { isolation: "worktree", verify: "sleep 5" })\n`,
  });
  const t = await runScript(slow, "wf.js", ["--verify-timeout-ms", "300", "--verify-repairs", "0"]);
  expect(finishedRecords(slow, runIdOf(t))[0].error).toContain(
    "timed out after 300 ms (setting verifyTimeoutMs)",
  );
});
