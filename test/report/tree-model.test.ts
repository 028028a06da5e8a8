/** The live tree's model and frames (U02, C06, C07), read as the text a person would see. */
import { describe, expect, test } from "vitest";
import type { RunEvent, RunSummary } from "../../dist/index.js";
import { frame, lineText } from "../../dist/report/tree/frame.js";
import { RECENT_KEEP, TreeModel } from "../../dist/report/tree/model.js";
import { endLines } from "../../dist/report/tree/summary.js";

const T0 = Date.parse("2026-11-29T10:00:00.000Z");
const usage = (input: number, output: number, costUsd?: number) => ({
  input,
  output,
  cached: 0,
  reasoning: 0,
  costUsd,
});

function started(limits?: { budget: number | null; maxAgents: number; maxCostUsd: number | null }): RunEvent {
  return {
    type: "run.started",
    runId: "demo-abc123",
    name: "demo",
    runDir: "/p/.weft/runs/demo-abc123",
    resumed: false,
    driver: "command",
    limits: limits ?? { budget: null, maxAgents: 1000, maxCostUsd: null },
  };
}
const start = (n: number, phase?: string, label?: string): RunEvent => ({
  type: "agent.started",
  n,
  label,
  phase,
  attempt: 1,
  driver: "command",
  prompt: `do task ${n}\nmore lines`,
});
const finish = (
  n: number,
  phase?: string,
  extra: Partial<Extract<RunEvent, { type: "agent.finished" }>> = {},
) =>
  ({
    type: "agent.finished",
    n,
    phase,
    status: "completed",
    cached: false,
    durationMs: 1500,
    usage: usage(100, 20),
    attempts: 1,
    ...extra,
  }) as RunEvent;

function summary(over: Partial<RunSummary> = {}): RunSummary {
  return {
    id: "demo-abc123",
    name: "demo",
    status: "completed",
    agents: { completed: 2 },
    refused: [],
    tokens: { input: 200, output: 40, cached: 0, reasoning: 0 },
    costUsd: 0,
    startedAt: new Date(T0).toISOString(),
    durationMs: 4000,
    script: "wf.js",
    driver: "command",
    ...over,
  };
}

function feed(m: InstanceType<typeof TreeModel>, events: RunEvent[], at = T0): void {
  for (const e of events) m.apply(e, at);
}

const show = (m: InstanceType<typeof TreeModel>, o: Partial<Parameters<typeof frame>[1]> = {}) =>
  frame(m, { rows: 40, columns: 120, now: T0 + 5000, perPhase: 10, ...o }).map(lineText);

describe("tree model", () => {
  test("U02 header and phase rows count agents by state, tokens and cost", () => {
    const m = new TreeModel();
    feed(m, [
      started(),
      { type: "phase", title: "Scan" },
      start(1, "Scan", "a.ts"),
      start(2, "Scan", "b.ts"),
      start(3, "Scan"),
      finish(1, "Scan", { usage: usage(1000, 234, 0.0125) }),
      finish(2, "Scan", { status: "failed", error: "something\nboom\n" }),
    ]);
    const lines = show(m);
    expect(lines[0]).toContain(
      "running  demo demo-abc123  agents 2/3 · 1 running · 1 failed  1.4k tokens  $0.0125",
    );
    expect(lines[0]).toContain("5.0s");
    expect(lines[1]).toMatch(/^▸ Scan {2}1 running · 1 done · 1 failed {2}\(3 agents\) {2}1\.4k tokens/);
    // Running first, then the latest finished; a failed agent shows its error's last line.
    expect(lines[2]).toMatch(/^ {2}• #3 do task 3 +5\.0s$/);
    expect(lines[3]).toMatch(/^ {2}✗ #2 b\.ts +120 tok +1\.5s +boom$/);
    expect(lines[4]).toMatch(/^ {2}✓ #1 a\.ts +1\.2k tok +1\.5s$/);
    expect(lines).toHaveLength(5);
    expect(m.drain()).toEqual(["✗ #2 b.ts failed: boom"]);
  });

  test("U02 the header counts queued agents as weft status does; stopped agents are not done", () => {
    const m = new TreeModel();
    const queued = (n: number): RunEvent => ({ type: "agent.queued", n, phase: "Scan" });
    feed(m, [started(), { type: "phase", title: "Scan" }, queued(1), queued(2), queued(3), queued(4)]);
    expect(show(m)[0]).toContain("agents 0/4 · 4 queued");
    feed(m, [start(1, "Scan"), start(2, "Scan")]);
    expect(show(m)[0]).toContain("agents 0/4 · 2 running · 2 queued");
    feed(m, [finish(1, "Scan"), finish(2, "Scan", { status: "stopped" })]);
    expect(show(m)[0]).toContain("agents 1/4 · 2 queued · 1 stopped");
    // Refused when its turn came: it leaves the queue (and is counted as a refusal).
    feed(m, [{ type: "agent.refused", n: 3, reason: "token budget reached" }]);
    expect(show(m)[0]).toContain("agents 1/3 · 1 queued · 1 stopped · 1 refused");
    // Still queued at the end (a stop): it never started, it is not counted any more.
    feed(m, [{ type: "run.finished", runId: "demo-abc123", status: "stopped", summary: summary() }]);
    expect(show(m)[0]).toContain("agents 1/2 · 1 stopped · 1 refused");
  });

  test("U02 finished phases collapse to one line; the current phase stays open", () => {
    const m = new TreeModel();
    feed(m, [started(), { type: "phase", title: "Scan" }]);
    for (let n = 1; n <= 4; n++) feed(m, [start(n, "Scan"), finish(n, "Scan")]);
    feed(m, [{ type: "phase", title: "Review" }, start(5, "Review", "r1"), finish(5, "Review")]);
    const lines = show(m);
    expect(lines[1]).toMatch(/^✓ Scan {2}4 done {2}\(4 agents\) {2}480 tokens/);
    expect(lines[2]).toMatch(/^▸ Review {2}1 done {2}\(1 agent\)/);
    expect(lines[3]).toMatch(/✓ #5 r1 +120 tok/);
    expect(lines.some((l) => l.includes("#1 "))).toBe(false);
    // At the end every phase is one line.
    feed(m, [{ type: "run.finished", runId: "demo-abc123", status: "completed", summary: summary() }]);
    const end = show(m);
    expect(end[0]).toMatch(/^completed {2}demo/);
    expect(end[0]).toContain("4.0s");
    expect(end.slice(1)).toEqual([expect.stringMatching(/^✓ Scan/), expect.stringMatching(/^✓ Review/)]);
  });

  test("U02 at most N agents per phase: running first, then the latest finished, and a '+ k more' line", () => {
    const m = new TreeModel();
    feed(m, [started(), { type: "phase", title: "Map" }]);
    for (let n = 1; n <= 95; n++) feed(m, [start(n, "Map"), finish(n, "Map")]);
    for (let n = 96; n <= 100; n++) feed(m, [start(n, "Map")]);
    const lines = show(m, { perPhase: 8 });
    const agents = lines.filter((l) => /^ {2}[•✓✗■↺] #/.test(l));
    expect(agents.map((l) => /#(\d+)/.exec(l)?.[1])).toEqual(["96", "97", "98", "99", "100", "95", "94"]);
    expect(lines).toContain("  + 93 more");
    // Five running, more than the room: the hidden ones are counted.
    const busy = show(m, { perPhase: 4 });
    expect(busy).toContain("  + 97 more (2 running)");
  });

  test("U02 a frame fits a short terminal and its cost does not grow with the number of agents", () => {
    const m = new TreeModel();
    feed(m, [started()]);
    let n = 0;
    for (let p = 0; p < 12; p++) {
      feed(m, [{ type: "phase", title: `P${p}` }]);
      for (let i = 0; i < 1000; i++) {
        n++;
        feed(m, [start(n, `P${p}`), finish(n, `P${p}`)]);
      }
    }
    for (let i = 0; i < 30; i++) feed(m, [start(++n, "P11")]);
    // Finished agents are kept only as the latest few of each phase.
    for (const p of m.phases) expect(p.recent.length).toBeLessThan(2 * RECENT_KEEP);
    const lines = show(m, { rows: 15, columns: 60 });
    expect(lines.length).toBeLessThan(15);
    expect(lines.every((l) => l.length <= 60)).toBe(true);
    expect(lines.join("\n")).toMatch(/… \d+ earlier phases \([\d,]+ agents\)/);
    expect(lines.join("\n")).toContain("▸ P11");
    expect(lines[0]).toContain("agents 12000/12030 · 30 running");
  });

  test("U02 last activity shows on the agent's row, with the model the backend reported", () => {
    const m = new TreeModel();
    feed(m, [
      started(),
      start(1, undefined, "lint"),
      { type: "agent.activity", n: 1, label: "lint", attempt: 1, text: "started", model: "gpt-9" },
      { type: "agent.activity", n: 1, label: "lint", attempt: 1, text: "Bash npm run lint" },
    ]);
    const lines = show(m);
    expect(lines[1]).toMatch(/^▸ agents {2}1 running/);
    expect(lines[2]).toMatch(/• #1 lint {2}gpt-9 +5\.0s {2}Bash npm run lint$/);
    feed(m, [{ type: "agent.retry", n: 1, label: "lint", attempt: 1, error: "exit 1\nnpm ERR! boom" }]);
    expect(show(m)[2]).toContain("retry after attempt 1: npm ERR! boom");
  });

  test("U02 events joined midway (weft attach): agents first seen finishing, times taken from each event's at", () => {
    const m = new TreeModel();
    const at = (ms: number) => new Date(T0 + ms).toISOString();
    // Events read back from a file carry their time.
    const timed = (e: RunEvent, ms: number) => ({ ...e, at: at(ms) }) as unknown as RunEvent;
    // A warning and an agent's end before run.started, as a stream read from its middle gives them.
    m.apply({ type: "warning", message: "settings file has an unknown key", at: at(0) } as RunEvent, 0);
    m.apply(timed(finish(7, "Old"), 1000), 0);
    m.apply(timed(started(), 2000), 0);
    m.apply(timed(start(8, "New", "x"), 2500), 0);
    m.apply(
      { type: "agent.activity", n: 9, phase: "New", attempt: 1, text: "Read a.ts", at: at(2600) } as RunEvent,
      0,
    );
    const lines = frame(m, { rows: 40, columns: 120, now: T0 + 4000, perPhase: 10 }).map(lineText);
    expect(lines[0]).toContain("agents 1/3 · 2 running");
    expect(lines[0]).toMatch(/2\.0s$/);
    expect(lines.join("\n")).toMatch(/• #8 x +1\.5s/);
    expect(lines.join("\n")).toMatch(/• #9 +1\.4s {2}Read a\.ts/);
    expect(m.drain()).toEqual(["! settings file has an unknown key"]);
  });

  test("C06 A10 the budget line shows each limit that is set, spent of the limit (generated tokens for the budget)", () => {
    const m = new TreeModel();
    feed(m, [
      started({ budget: 1000, maxAgents: 50, maxCostUsd: 2 }),
      start(1),
      finish(1, undefined, { usage: usage(700, 150, 0.5) }),
    ]);
    expect(show(m)[1]).toBe("budget  generated 150 of 1.0k · agents 1 of 50 · cost $0.5000 of $2.00");
    const plain = new TreeModel();
    feed(plain, [started(), start(1)]);
    expect(show(plain)[1]).toMatch(/^▸ agents/);
  });

  test("C06 a limit that ended the run is named, with the resume command and a higher limit", () => {
    const s = summary({
      status: "budget_exhausted",
      refused: [
        { reason: "token budget reached: 1020 of 1000 tokens spent (setting budget, flag --budget)" },
      ],
    });
    const lines = endLines("demo-abc123", s, undefined, { budget: 1000, maxAgents: 1000, maxCostUsd: null });
    expect(lines).toEqual([
      expect.stringMatching(/^budget_exhausted in 4\.0s · 2 agents completed · 1 refused · 240 tokens/),
      "limit reached: token budget reached: 1020 of 1000 tokens spent (setting budget, flag --budget)",
      "resume with a higher limit: weft resume demo-abc123 --budget 2000",
    ]);
    const agents = summary({
      status: "budget_exhausted",
      refused: [
        {
          reason:
            "agent limit reached: 5 agents already started in this execution (setting maxAgents, flag --max-agents)",
        },
      ],
    });
    expect(endLines("r", agents, undefined, { budget: null, maxAgents: 5, maxCostUsd: null }).at(-1)).toBe(
      "resume with a higher limit: weft resume r --max-agents 10",
    );
  });

  test("C07 refusals and the large-run warning are printed once above the tree; refusals beyond the first are counted", () => {
    const m = new TreeModel();
    feed(m, [
      started(),
      {
        type: "warning",
        message: "large run: more than 25 agents scheduled (limit 1000, setting maxAgents)",
      },
    ]);
    for (let i = 0; i < 6; i++)
      feed(m, [{ type: "agent.refused", label: `f${i}`, reason: "agent limit reached" }]);
    expect(m.drain()).toEqual([
      "! large run: more than 25 agents scheduled (limit 1000, setting maxAgents)",
      "  refused f0: agent limit reached",
      "  refused f1: agent limit reached",
      "  refused f2: agent limit reached",
      "  (further refusals are counted in the header and listed in run.json)",
    ]);
    expect(show(m)[0]).toContain("6 refused");
  });

  test("U02 a waiting gate shows in the header with the commands that answer it", () => {
    const m = new TreeModel();
    feed(m, [
      started(),
      { type: "gate.waiting", n: 1, title: "Deploy?", hash: "h", since: new Date(T0).toISOString() },
    ]);
    const lines = show(m);
    expect(lines[0]).toMatch(/^waiting {2}demo/);
    expect(lines[1]).toBe(
      '? gate #1 "Deploy?" waits: weft approve demo-abc123 1 / weft reject demo-abc123 1',
    );
    feed(m, [
      {
        type: "gate.answered",
        n: 1,
        title: "Deploy?",
        approved: true,
        by: "ann",
        answeredAt: new Date(T0).toISOString(),
        replayed: false,
      },
    ]);
    expect(show(m)[0]).toMatch(/^running/);
  });

  test("C09 titles, labels, activity, errors, gates and messages from the script or an agent are shown as text, not as terminal controls", () => {
    const E = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m\rOVER\u202e";
    const shown = String.raw`\rOVER\u202e`;
    const m = new TreeModel();
    feed(m, [
      { ...started(), name: `demo${E}` } as RunEvent,
      { type: "phase", title: `Scan${E}` },
      { type: "log", message: `log${E}\nsecond` },
      { type: "warning", message: `warn${E}` },
      { ...start(1, `Scan${E}`, `lint${E}`) },
      {
        type: "agent.activity",
        n: 1,
        label: `lint${E}`,
        phase: `Scan${E}`,
        attempt: 1,
        text: `Bash ${E}`,
        model: `m${E}`,
      },
      start(2, `Scan${E}`),
      { ...start(3, `Scan${E}`), prompt: `fix${E}\nmore` } as RunEvent,
      { type: "agent.retry", n: 2, phase: `Scan${E}`, attempt: 1, error: `x\nretry${E}` },
      finish(3, `Scan${E}`, { status: "failed", error: `boom${E}` }),
      { type: "agent.refused", label: `r${E}`, reason: `no${E}` },
      { type: "gate.waiting", n: 1, title: `Deploy${E}`, hash: "h", since: new Date(T0).toISOString() },
    ]);
    const lines = show(m);
    const pending = m.drain();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
    const control = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
    for (const l of [...lines, ...pending]) expect(l).not.toMatch(control);
    expect(lines[0]).toMatch(/^waiting {2}demo\\rOVER\\u202e demo-abc123/);
    expect(lines).toContain(
      `? gate #1 "Deploy${shown}" waits: weft approve demo-abc123 1 / weft reject demo-abc123 1`,
    );
    expect(lines.some((l) => l.startsWith(`▸ Scan${shown}  `))).toBe(true);
    // One phase: the agents' phase field and the phase() title meet on the same shown title.
    expect(m.phases).toHaveLength(1);
    expect(lines.join("\n")).toContain(`#1 lint${shown}  m${shown}`);
    expect(lines.join("\n")).toContain(`Bash ${shown}`);
    expect(lines.join("\n")).toContain(`retry after attempt 1: retry${shown}`);
    expect(lines.join("\n")).toContain(`#3 fix${shown}`);
    expect(pending).toEqual([
      `  log${shown}\n  second`,
      `! warn${shown}`,
      `✗ #3 fix${shown} failed: boom${shown}`,
      `  refused r${shown}: no${shown}`,
      `? gate #1 "Deploy${shown}" waits: weft approve demo-abc123 1 / weft reject demo-abc123 1`,
    ]);
    const end = endLines("demo-abc123", summary({ status: "failed" }), `wf.js:3:1: Error: x${E}`);
    expect(end[0]).toBe(`wf.js:3:1: Error: x${shown}`);
  });
});
