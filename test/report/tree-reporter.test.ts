/** The tree reporter drawing with ink onto a fake terminal stream (U02, C04). */
import { afterAll, expect, test } from "vitest";
import type { RunEvent } from "../../dist/index.js";

// Ink draws no live frames when it believes it runs in CI; this test is about the live frames.
const saved = { CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION };
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
const { createTreeReporter } = await import("../../dist/report/tree/reporter.js");
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes
const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

function fakeTty() {
  const chunks: string[] = [];
  const tty = {
    isTTY: true,
    columns: 100,
    rows: 30,
    write(s: string) {
      chunks.push(String(s));
      return true;
    },
  };
  return { tty, chunks, text: () => strip(chunks.join("")) };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > 30_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const usage = { input: 100, output: 20, cached: 0, reasoning: 0 };

test("U02 the tree draws frames in place, prints other writes above it, and leaves the final frame and summary", async () => {
  const { tty, chunks, text } = fakeTty();
  const original = tty.write;
  const r = createTreeReporter(tty, { fps: 50 });
  r.event({ type: "warning", message: "held until the run line" });
  r.event({
    type: "run.started",
    runId: "demo-abc123",
    name: "demo",
    runDir: "/x",
    resumed: false,
    driver: "command",
    limits: { budget: 5000, maxAgents: 1000, maxCostUsd: null },
  });
  // R01: the run line first, at once, before ink has loaded.
  expect(chunks[0]).toBe("run demo-abc123\n");
  expect(chunks[1]).toBe("! held until the run line\n");
  r.event({ type: "phase", title: "Scan" });
  for (let n = 1; n <= 30; n++)
    r.event({ type: "agent.started", n, label: `f${n}.ts`, phase: "Scan", attempt: 1, driver: "command" });
  for (let n = 1; n <= 10; n++)
    r.event({
      type: "agent.finished",
      n,
      label: `f${n}.ts`,
      phase: "Scan",
      status: "completed",
      cached: false,
      durationMs: 40,
      usage,
      attempts: 1,
    });
  r.event({ type: "agent.activity", n: 30, label: "f30.ts", phase: "Scan", attempt: 1, text: "Bash make" });
  await until(() => text().includes("▸ Scan"), "the first frame");
  const live = text();
  expect(live).toContain("running  demo demo-abc123  agents 10/30 · 20 running  1.2k tokens");
  expect(live).toContain("budget  generated 200 of 5.0k · agents 30 of 1000");
  expect(live).toContain("▸ Scan  20 running · 10 done  (30 agents)");
  expect(live).toMatch(/\+ 21 more \(11 running\)/);
  // Another write to the stream (driveRun's Ctrl-C message) goes above the frame, which is drawn again.
  const before = chunks.length;
  tty.write("stopping: no new agents\n");
  expect(tty.write).not.toBe(original);
  const after = strip(chunks.slice(before).join(""));
  expect(after).toContain("stopping: no new agents\n");
  expect(after.indexOf("stopping")).toBeLessThan(after.lastIndexOf("▸ Scan"));
  expect(r.stats.frames).toBeGreaterThan(0);

  const finished: RunEvent = {
    type: "run.finished",
    runId: "demo-abc123",
    status: "stopped",
    summary: {
      id: "demo-abc123",
      name: "demo",
      status: "stopped",
      agents: { completed: 10, stopped: 20 },
      refused: [],
      tokens: { input: 1000, output: 200, cached: 0, reasoning: 0 },
      costUsd: 0,
      startedAt: "2026-11-29T10:00:00.000Z",
      durationMs: 2500,
      script: "wf.js",
      driver: "command",
    },
  };
  for (let n = 11; n <= 30; n++)
    r.event({
      type: "agent.finished",
      n,
      phase: "Scan",
      status: "stopped",
      cached: false,
      durationMs: 50,
      usage,
      attempts: 1,
    });
  r.event(finished);
  await r.close();
  // The stream is given back, and the last frame and the summary are the last things written.
  expect(tty.write).toBe(original);
  const end = text();
  const tail = end.slice(end.lastIndexOf("stopped  demo"));
  expect(tail).toMatch(
    /^stopped {2}demo demo-abc123 {2}agents 10\/30 · 20 stopped {2}3\.6k tokens {2}2\.5s\nbudget {2}generated 600 of 5\.0k · agents 30 of 1000\n■ Scan {2}10 done · 20 stopped {2}\(30 agents\)/,
  );
  expect(tail).toContain(
    "stopped in 2.5s · 10 agents completed · 20 stopped · 1,200 tokens\nresume with: weft resume demo-abc123\n",
  );
  // Events after the end (a late warning) are plain lines.
  r.event({ type: "warning", message: "late" });
  expect(chunks.at(-1)).toBe("! late\n");
});

test("U02 a prompt on the terminal (a gate's question) makes the tree step aside until the gate is answered", async () => {
  const { tty, chunks, text } = fakeTty();
  const r = createTreeReporter(tty, { fps: 50 });
  r.event({
    type: "run.started",
    runId: "g-abc123",
    name: "g",
    runDir: "/x",
    resumed: false,
    driver: "command",
  });
  r.event({ type: "agent.started", n: 1, label: "slow", attempt: 1, driver: "command" });
  r.event({ type: "gate.waiting", n: 1, title: "Deploy?", hash: "h", since: "2026-11-29T10:00:00.000Z" });
  await until(() => r.stats.frames > 0 && text().includes("? gate #1"), "the gate in the frame");
  tty.write('Approve "Deploy?" [y/N] ');
  tty.write("y");
  const mark = chunks.length;
  const frames = r.stats.frames;
  r.event({ type: "agent.activity", n: 1, label: "slow", attempt: 1, text: "Bash deploy" });
  await new Promise((res) => setTimeout(res, 300));
  // The question and the answer went out as they were, after the last frame, and nothing was drawn since.
  expect(chunks.slice(mark - 2, mark)).toEqual(['Approve "Deploy?" [y/N] ', "y"]);
  expect(JSON.stringify(chunks.slice(mark))).toBe("[]");
  expect(r.stats.frames).toBe(frames);
  tty.write("\n");
  r.event({
    type: "gate.answered",
    n: 1,
    title: "Deploy?",
    approved: true,
    by: "ann@host",
    answeredAt: "2026-11-29T10:00:01.000Z",
    replayed: false,
  });
  await until(() => strip(chunks.slice(mark).join("")).includes("Bash deploy"), "the tree again");
  const after = strip(chunks.slice(mark).join(""));
  expect(after).toContain('gate #1 "Deploy?" approved by ann@host');
  expect(after).toMatch(/running {2}g g-abc123/);
  expect(after).toContain("Bash deploy");
  r.event({
    type: "run.finished",
    runId: "g-abc123",
    status: "completed",
    summary: {
      id: "g-abc123",
      name: "g",
      status: "completed",
      agents: { completed: 1 },
      refused: [],
      tokens: { input: 0, output: 0, cached: 0, reasoning: 0 },
      costUsd: 0,
      startedAt: "2026-11-29T10:00:00.000Z",
      durationMs: 1000,
      script: "wf.js",
      driver: "command",
    },
  });
  await r.close();
  expect(text()).toMatch(/completed in 1\.0s · 1 agent completed · 0 tokens\n$/);
});

test("C09 the tree writes a script's and an agent's text without their terminal controls", async () => {
  const E = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m\rOVER\u202e";
  const { tty, chunks, text } = fakeTty();
  const r = createTreeReporter(tty, { fps: 50 });
  r.event({ type: "warning", message: `early${E}` });
  r.event({
    type: "run.started",
    runId: "evil-abc123",
    name: `evil${E}`,
    runDir: "/x",
    resumed: false,
    driver: "command",
  });
  r.event({ type: "phase", title: `Scan${E}` });
  r.event({ type: "log", message: `log${E}` });
  r.event({ type: "agent.started", n: 1, label: `f${E}`, phase: `Scan${E}`, attempt: 1, driver: "command" });
  r.event({ type: "agent.activity", n: 1, label: `f${E}`, phase: `Scan${E}`, attempt: 1, text: `Bash ${E}` });
  r.event({ type: "gate.waiting", n: 1, title: `G${E}`, hash: "h", since: "2026-11-29T10:00:00.000Z" });
  await until(() => text().includes("Bash "), "the activity in a frame");
  r.event({
    type: "agent.finished",
    n: 1,
    label: `f${E}`,
    phase: `Scan${E}`,
    status: "failed",
    cached: false,
    durationMs: 40,
    usage,
    attempts: 1,
    error: `boom${E}`,
  });
  r.event({
    type: "run.finished",
    runId: "evil-abc123",
    status: "failed",
    error: `wf.js:2:1: Error: x${E}`,
    summary: {
      id: "evil-abc123",
      name: `evil${E}`,
      status: "failed",
      agents: { failed: 1 },
      refused: [],
      tokens: { input: 100, output: 20, cached: 0, reasoning: 0 },
      costUsd: 0,
      startedAt: "2026-11-29T10:00:00.000Z",
      durationMs: 100,
      script: "wf.js",
      driver: "command",
    },
  });
  await r.close();
  r.event({ type: "warning", message: `late${E}` });
  const raw = chunks.join("");
  // None of the script's controls went out: no OSC at all (ink writes none), no screen clear,
  // no C1 CSI, no carriage return, no bidi override.
  expect(raw).not.toContain("\x1b]");
  expect(raw).not.toContain("\x1b[2J");
  expect(raw).not.toContain("\x9b");
  expect(raw).not.toContain("\r");
  expect(raw).not.toContain("\u202e");
  // Its text is there, with what it carried shown (the tree's own colours: tty.test.ts).
  const shown = String.raw`\rOVER\u202e`;
  const seen = text();
  for (const s of [
    `! early${shown}\n`,
    `  log${shown}\n`,
    `evil${shown}`,
    `Scan${shown}`,
    `f${shown}`,
    `Bash ${shown}`,
    `? gate #1 "G${shown}" waits`,
    `✗ #1 f${shown} failed: boom${shown}`,
    `wf.js:2:1: Error: x${shown}\n`,
    `! late${shown}\n`,
  ])
    expect(seen).toContain(s);
});
