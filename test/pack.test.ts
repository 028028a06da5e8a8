/** The published package works on its own: pack, install in an empty folder, run the bin. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

test("U01 npm pack gives a tarball that installs in an empty folder and runs `npx weft --help` and a workflow", () => {
  const out = mkdtempSync(join(tmpdir(), "weft-pack-"));
  execFileSync("npm", ["pack", "--pack-destination", out, "--ignore-scripts"], { cwd: root, stdio: "pipe" });
  const tarball = readdirSync(out).find((f) => f.endsWith(".tgz"))!;
  const app = mkdtempSync(join(tmpdir(), "weft-app-"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", join(out, tarball)], {
    cwd: app,
    stdio: "pipe",
  });
  const help = execFileSync("npx", ["weft", "--help"], { cwd: app, encoding: "utf8" });
  expect(help).toMatch(/Usage: weft/);
  expect(help).toContain("run [options] <script>");
  writeFileSync(
    join(app, "wf.ts"),
    'export const meta = { name: "p", description: "d" }\nconst n: number = 2\nreturn [n, await agent("hi")]\n',
  );
  const result = execFileSync("npx", ["weft", "run", "wf.ts", "--command", "tail -n 1"], {
    cwd: app,
    encoding: "utf8",
  });
  expect(JSON.parse(result)).toEqual([2, "hi"]);
}, 300_000);
