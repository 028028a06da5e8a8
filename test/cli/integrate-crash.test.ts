/**
 * W04: integration is crash-safe. A kill while patches are being applied leaves the main tree
 * with part of them; the resume recognises what is there, finishes the rest, applies nothing
 * twice, and does not refuse its own work as "the user's changes".
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import {
  AGENT_CMD,
  collect,
  gitOut,
  gitProject,
  journal,
  meta,
  sleep,
  startWeft,
  until,
  weft,
} from "../helpers/cli.js";

const AGENTS = 6;
const agents = `const out = await parallel(Array.from({ length: ${AGENTS} }, (_, i) => () =>
  agent("write:a" + i + ".txt:one write:b" + i + ".txt:two write:shared.txt:" + "x".repeat(i + 1), { isolation: "worktree", label: "w" + i })))
`;

function expectAllApplied(dir: string, id: string): void {
  for (let i = 0; i < AGENTS; i++) {
    expect(readFileSync(join(dir, `a${i}.txt`), "utf8")).toBe("one\n");
    expect(readFileSync(join(dir, `b${i}.txt`), "utf8")).toBe("two\n");
  }
  // Every agent's patch is recorded as integrated.
  const integrated = new Set(
    journal(dir, id)
      .filter((r) => r.type === "integrated")
      .map((r) => r.n),
  );
  const made = journal(dir, id)
    .filter((r) => r.type === "agent.finished" && r.patch)
    .map((r) => r.n);
  expect([...integrated].sort()).toEqual([...made].sort());
}

test("W04 a half-applied integration (some files of some patches in the tree) is finished by the resume, not refused", async () => {
  // The first execution makes the patches and stops before integrating.
  const dir = gitProject({
    "shared.txt": "base\n",
    "wf.js": `${meta()}${agents}return out.filter(Boolean).length\n`,
  });
  const first = await weft(["run", "wf.js", "--command", AGENT_CMD], dir);
  expect(first.code).toBe(0);
  const id = readdirSync(join(dir, ".weft", "runs"))[0]!;
  // Only the first patch applies on top of the base for shared.txt; the others conflict there. Put
  // the tree where a kill in the middle of applying would leave it: a0 done, b0 not yet; a1 done.
  writeFileSync(join(dir, "a0.txt"), "one\n");
  writeFileSync(join(dir, "a1.txt"), "one\n");
  writeFileSync(join(dir, "shared.txt"), "x\n");
  // The resumed script integrates; its agent calls are answered from the journal.
  writeFileSync(
    join(dir, "wf.js"),
    `${meta()}${agents}const r = await integrate()
return { applied: r.applied.map((a) => a.label), conflicts: r.conflicts.map((c) => c.label) }\n`,
  );
  const again = await weft(["run", "wf.js", "--resume", id, "--command", AGENT_CMD], dir);
  expect(again.stderr).not.toMatch(/refuses/);
  expect(again.code).toBe(0);
  const out = JSON.parse(again.stdout);
  expect(out.applied).toEqual(["w0", "w1", "w2", "w3", "w4", "w5"].filter((l) => !out.conflicts.includes(l)));
  for (const l of out.applied) {
    const i = Number(l.slice(1));
    expect(readFileSync(join(dir, `a${i}.txt`), "utf8")).toBe("one\n");
    expect(readFileSync(join(dir, `b${i}.txt`), "utf8")).toBe("two\n");
  }
  expect(readFileSync(join(dir, "shared.txt"), "utf8")).toBe("x\n");
  // Nothing of a conflicting patch reached the tree.
  for (const l of out.conflicts) expect(() => readFileSync(join(dir, `b${l.slice(1)}.txt`))).toThrow();
});

test("W04 kill -9 at moments during integration, resume each time: every patch applied once, no refusal", async () => {
  // Each agent changes only its own files, so all six apply.
  const own = `const out = await parallel(Array.from({ length: ${AGENTS} }, (_, i) => () =>
  agent("write:a" + i + ".txt:one write:b" + i + ".txt:two", { isolation: "worktree", label: "w" + i })))
const r = await integrate()
return r.applied.length\n`;
  for (const delay of [0, 2, 5, 10, 20, 40]) {
    const dir = gitProject({ "wf.js": `${meta()}${own}` });
    const child = startWeft(["run", "wf.js", "--command", AGENT_CMD], dir);
    const done = collect(child);
    const id = await until(() => readdirSync(join(dir, ".weft", "runs"))[0]);
    await until(
      () => journal(dir, id).filter((r) => r.type === "agent.finished").length === AGENTS || undefined,
      30_000,
    );
    await sleep(delay);
    child.kill("SIGKILL");
    await done;
    const again = await weft(["resume", id, "--command", AGENT_CMD], dir);
    expect(again.stderr, `kill after ${delay} ms`).not.toMatch(/refuses/);
    expect(again.code, `kill after ${delay} ms: ${again.stderr}`).toBe(0);
    expect(JSON.parse(again.stdout)).toBe(AGENTS);
    expectAllApplied(dir, id);
    // The main tree holds the six agents' files and nothing else changed.
    const status = gitOut(dir, "status", "--porcelain").split("\n");
    expect(status.filter((l) => l && !l.includes(".weft")).sort()).toEqual(
      Array.from({ length: AGENTS }, (_, i) => [`?? a${i}.txt`, `?? b${i}.txt`])
        .flat()
        .sort(),
    );
  }
}, 120_000);
