import { expect, test } from "vitest";
import { buildReplay, cheapRecord } from "../../dist/engine/records.js";

test("R03 journal records read without full parsing give the same replay as JSON.parse", () => {
  const finished = {
    type: "agent.finished",
    n: 3,
    key: "abc0#1",
    status: "completed",
    usage: { input: 1, output: 2, cached: 0, reasoning: 0 },
    attempts: 1,
    label: 'tricky ,"result": label',
    driver: "command",
    startedAt: "t",
    durationMs: 5,
    result: { nested: { result: ',"result":' }, list: [1, "}"] },
  };
  const lines = [
    JSON.stringify({ type: "agent.started", n: 3, key: "abc0#1", attempt: 1, at: "t" }),
    JSON.stringify(finished),
    JSON.stringify({ ...finished, n: 4, key: "def0#1", status: "failed", result: undefined, error: "x" }),
  ];
  const cheap = lines.map((l) => cheapRecord(l) ?? JSON.parse(l));
  const replay = buildReplay(cheap);
  const full = buildReplay(lines.map((l) => JSON.parse(l)));
  expect(replay.maxIndex).toBe(4);
  expect(full.maxIndex).toBe(4);
  const hit = replay.cache.get("abc0#1")!;
  expect(hit).toMatchObject({ n: 3, key: "abc0#1", status: "completed" });
  // agent.finished lines are parsed whole (R07 checks them); a result in either form is the same.
  expect(hit.resultJson === undefined ? hit.result : JSON.parse(hit.resultJson)).toEqual(finished.result);
  expect([...replay.cache.keys()]).toEqual([...full.cache.keys()]);
});
