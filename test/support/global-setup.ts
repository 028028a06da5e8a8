/**
 * Before any test file: the pinned agent CLIs are installed into their cache folder, all at once
 * (about 15 s each, in parallel, on first use; nothing on later runs), and dist/ is rebuilt when
 * a source file is newer than it (the CLI tests run the built `weft`).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { CLI_NAMES, ensureCli } from "./clis.js";

function newest(dir: string, ext: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(ext)) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

function buildIfStale(): void {
  let built = 0;
  try {
    built = newest("dist", ".js");
  } catch {}
  if (newest("src", ".ts") > built) {
    try {
      execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
        stdio: "inherit",
      });
    } catch {
      // Type errors still emit JavaScript; `npm test` fails on them in its own typecheck step.
    }
  }
}

export default async function setup(): Promise<void> {
  buildIfStale();
  await Promise.all(CLI_NAMES.map((n) => ensureCli(n)));
}
