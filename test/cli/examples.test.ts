/** The README's examples run as the README says. */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { gitProject, project, weft } from "../helpers/cli.js";

const examples = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "examples");

test("U01 examples/count-lines.js runs with a plain Unix pipeline as the agent", async () => {
  const dir = project({ "README.md": "a\nb\n", "package.json": "{}\n" });
  mkdirSync(join(dir, "examples"));
  copyFileSync(join(examples, "count-lines.js"), join(dir, "examples", "count-lines.js"));
  const r = await weft(["run", "examples/count-lines.js", "--command", "tail -n 1 | xargs wc -l"], dir);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ "README.md": 2, "package.json": 1, "examples/count-lines.js": 21 });
});

test("W04 examples/fan-out-edits.js edits files in worktrees and integrates them", async () => {
  const dir = gitProject({ "a.txt": "one\n", "b.txt": "two\n" });
  const r = await weft(
    [
      "run",
      join(examples, "fan-out-edits.js"),
      "--args",
      '{"files":["a.txt","b.txt"]}',
      "--command",
      'f=$(tail -n 1); sed -i "1i # edited by weft" "$f"',
    ],
    dir,
  );
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ edited: 2, conflicts: [] });
  expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("# edited by weft\none\n");
  expect(readFileSync(join(dir, "b.txt"), "utf8")).toBe("# edited by weft\ntwo\n");
});
