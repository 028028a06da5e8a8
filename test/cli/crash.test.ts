import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import {
  AGENT_CMD,
  collect,
  journal,
  meta,
  project,
  runScript,
  sleep,
  startWeft,
  weft,
} from "../helpers/cli.js";

const script = `${meta("crash")}phase("Fan out")
const items = Array.from({ length: 40 }, (_, i) => "item-" + i)
const out = await parallel(items.map((it) => () => agent("sleep:rand:300 log:" + cwd + "/starts.log " + it, { label: it })))
phase("Sum up")
return { out, last: await agent("log:" + cwd + "/starts.log total " + out.length) }\n`;

function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    let text = "";
    const timer = setTimeout(resolve, 10_000);
    child.stderr?.on("data", (d) => {
      text += d;
      if (/^run \S+/m.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function startsByPrompt(dir: string): Map<string, number> {
  const m = new Map<string, number>();
  const file = join(dir, "starts.log");
  if (!existsSync(file)) return m;
  for (const l of readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const p = l.slice(l.indexOf("starts.log ") + 11);
    m.set(p, (m.get(p) ?? 0) + 1);
  }
  return m;
}

test("R02 crash test: kill -9 at 10 moments, resume each time; same result, no finished agent starts again", async () => {
  const refDir = project({ "wf.js": script });
  const reference = await runScript(refDir, "wf.js", ["--concurrency", "8"]);
  expect(reference.code).toBe(0);

  const dir = project({ "wf.js": script });
  const moments = [300, 600, 450, 800, 250, 1000, 500, 700, 400, 900];
  let id: string | undefined;
  for (const [i, ms] of moments.entries()) {
    const child = id
      ? startWeft(["resume", id], dir)
      : startWeft(["run", "wf.js", "--command", AGENT_CMD, "--concurrency", "8"], dir);
    const done = collect(child);
    if (!id) {
      for (let k = 0; k < 400 && !id; k++) {
        await sleep(10);
        id = existsSync(join(dir, ".weft", "runs")) ? readdirSync(join(dir, ".weft", "runs"))[0] : undefined;
      }
    }
    // The moments count from the run's start (its `run <id>` line), not from the process's: how
    // long node takes to load weft on a busy machine must not decide where the kills land.
    await started(child);
    await sleep(ms);
    child.kill("SIGKILL");
    const r = await done;
    // A resume that got to the end before the kill is fine too.
    expect([null, 0]).toContain(r.code);
    // Everything finished so far must never start again.
    const finished = journal(dir, id!)
      .filter((x) => x.type === "agent.finished" && x.status === "completed")
      .map((x) => (x.label as string | undefined) ?? "total");
    const before = startsByPrompt(dir);
    (globalThis as { snapshots?: unknown[] }).snapshots ??= [];
    ((globalThis as { snapshots?: unknown[] }).snapshots as unknown[]).push({ i, finished, before });
  }
  const final = await weft(["resume", id!], dir);
  expect(final.code).toBe(0);
  // The prompts name each project's folder; apart from that the results are the same.
  expect(final.stdout.replaceAll(dir, "<dir>")).toBe(reference.stdout.replaceAll(refDir, "<dir>"));
  const after = startsByPrompt(dir);
  const snaps = (globalThis as { snapshots?: { finished: string[]; before: Map<string, number> }[] })
    .snapshots!;
  let checked = 0;
  for (const s of snaps) {
    for (const label of s.finished) {
      const prompt = label === "total" ? "total 40" : label;
      expect(after.get(prompt), `${prompt} started again after it had finished`).toBe(s.before.get(prompt));
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(0);
  // The kills landed at different stages of the run, not all before or after it.
  const stages = new Set(snaps.map((s) => s.finished.length));
  expect(stages.size).toBeGreaterThanOrEqual(3);
  expect(Math.min(...stages)).toBeLessThan(41);
  // Every agent started at least once, and the run completed in the end.
  expect(after.size).toBe(41);
}, 180_000);
