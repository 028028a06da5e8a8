/**
 * S06, S07: no script work outside a timed slice, and a script waiting on a promise nothing can
 * settle ends with StalledScript whatever built-ins it replaced. The time bound is checked from
 * outside: the CLI is killed after BOUND_MS, and a run that had to be killed fails the test.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { AGENT_CMD, collect, meta, project, runIdOf, runJson, runScript, startWeft } from "../helpers/cli.js";

const BOUND_MS = 20_000;

async function runBounded(body: string) {
  const dir = project();
  writeFileSync(join(dir, "wf.js"), meta() + body);
  const child = startWeft(["run", "wf.js", "--command", AGENT_CMD], dir);
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, BOUND_MS);
  const r = await collect(child);
  clearTimeout(timer);
  return { dir, r, killed };
}

describe("work outside a slice", () => {
  test("S06 WeakRef and FinalizationRegistry do not exist in the script", async () => {
    const dir = project({
      "wf.js": `${meta()}return [typeof WeakRef, typeof FinalizationRegistry, typeof globalThis.WeakRef, "FinalizationRegistry" in globalThis]\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(["undefined", "undefined", "undefined", false]);
  });

  test.each([
    ["Map.prototype.size returns 1", 'Object.defineProperty(Map.prototype, "size", { get() { return 1 } })'],
    ["Map.prototype.size spins", 'Object.defineProperty(Map.prototype, "size", { get() { for (;;) {} } })'],
    // The agent's answer arrives while nothing waits for it: only then is the script stalled.
    [
      "Map.prototype.get finds nothing while an agent runs",
      'Map.prototype.get = () => undefined\nagent("y")',
    ],
  ])(
    "S07 a script that sabotages a built-in (%s) and awaits a promise nothing settles ends with StalledScript",
    async (_, sabotage) => {
      const { dir, r, killed } = await runBounded(
        `const first = await agent("x")\n${sabotage}\nawait new Promise(() => {})\nreturn first\n`,
      );
      expect(killed, "the run did not end by itself").toBe(false);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain("StalledScript");
      expect(runJson(dir, runIdOf(r)).status).toBe("failed");
    },
    BOUND_MS + 10_000,
  );
});
