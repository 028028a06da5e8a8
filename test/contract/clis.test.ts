/**
 * D10: the contract tests run the pinned npm release of each agent CLI, installed into a cache
 * folder outside the checkout (and outside the user install: no CLI is in package.json).
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expect, test } from "vitest";
import { cliVersion } from "../../src/drivers/detect.js";
import { CLI_NAMES, CLIS, cliCacheDir, ensureCli } from "../support/clis.js";

const root = join(import.meta.dirname, "..", "..");

test("D10 each CLI is its pinned release, installed in the cache folder outside the checkout", async () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const deps = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies };
  for (const name of CLI_NAMES) {
    const { pkg: npmName, version } = CLIS[name];
    expect(deps[npmName], `${npmName} must not be a dependency of weftkit`).toBeUndefined();
    const bin = await ensureCli(name);
    expect(relative(cliCacheDir(), bin).startsWith("..")).toBe(false);
    expect(relative(root, bin).startsWith("..")).toBe(true);
    const installed = JSON.parse(
      readFileSync(
        join(cliCacheDir(), `${name}-${version}`, "node_modules", npmName, "package.json"),
        "utf8",
      ),
    );
    expect(installed.version).toBe(version);
    const reported = await cliVersion(bin);
    expect(reported.version, `${name} --version`).toContain(version);
  }
}, 120_000);
