/** The control channel (C05, C08, A14): requests as files that a run's owner takes in order. */
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import {
  type ControlMessage,
  consumeControl,
  controlDir,
  pendingControl,
  sendControl,
  watchControl,
} from "../../src/control/channel.js";

const runDir = () => mkdtempSync(join(tmpdir(), "weft-control-"));

test("C08 a request sent while no process owns the run waits on disk for the next owner, in order", async () => {
  const dir = runDir();
  const a = await sendControl(dir, { type: "pause" }, "ana");
  const b = await sendControl(dir, { type: "approve", gate: "Deploy?", by: "ana" });
  const c = await sendControl(dir, { type: "stop-agent", agent: 3 });
  const pending = await pendingControl(dir);
  expect(pending.map((m) => m.id)).toEqual([a.id, b.id, c.id]);
  expect(pending[0]).toMatchObject({ from: "ana", request: { type: "pause" } });
  await consumeControl(dir, b.id);
  expect((await pendingControl(dir)).map((m) => m.id)).toEqual([a.id, c.id]);
  // Consuming twice is harmless.
  await consumeControl(dir, b.id);
});

test("C05 a watcher delivers waiting requests first, then new ones, each once; junk files are skipped", async () => {
  const dir = runDir();
  await sendControl(dir, { type: "stop-agent", agent: "lint" });
  writeFileSync(join(controlDir(dir), "zz-broken.json"), "{ not json");
  writeFileSync(join(controlDir(dir), "half.json.123.tmp"), "{");
  const got: ControlMessage[] = [];
  let arrived: () => void = () => {};
  const w = watchControl(
    dir,
    (m) => {
      got.push(m);
      if (got.length === 2) arrived();
    },
    { pollMs: 50 },
  );
  try {
    const second = new Promise<void>((r) => {
      arrived = r;
    });
    await new Promise((r) => setTimeout(r, 100));
    await sendControl(dir, { type: "stop" });
    await second;
    await new Promise((r) => setTimeout(r, 150));
    expect(got.map((m) => m.request.type)).toEqual(["stop-agent", "stop"]);
    // Not consumed by the handler: still on disk for a later owner, but delivered once here.
    expect(readdirSync(controlDir(dir)).filter((n) => n.endsWith(".json"))).toHaveLength(3);
  } finally {
    w.close();
  }
});

test("C05 a handler that throws does not stop later requests from arriving", async () => {
  const dir = runDir();
  const errors: unknown[] = [];
  const got: string[] = [];
  const w = watchControl(
    dir,
    (m) => {
      got.push(m.request.type);
      if (m.request.type === "pause") throw new Error("handler failed");
    },
    { pollMs: 30, onError: (e) => errors.push(e) },
  );
  try {
    await sendControl(dir, { type: "pause" });
    await sendControl(dir, { type: "stop" });
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(["pause", "stop"]);
    expect(String(errors[0])).toContain("handler failed");
  } finally {
    w.close();
  }
});
