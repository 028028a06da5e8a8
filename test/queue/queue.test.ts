/**
 * X01, X02: agent calls on worker machines through BullMQ on a real Redis (Debian's
 * `redis-server`; skipped where it is missing, .ci/run installs it). The worker is the real
 * `weft worker` process with its own work folder, as on another machine.
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { applyToTree } from "../../dist/executor/queue/tree.js";
import {
  AGENT,
  collect,
  journal,
  meta,
  project,
  runIdOf,
  runJson,
  startRunning,
  startWeft,
  until,
  weft,
} from "../helpers/cli.js";
import { HAS_REDIS, startRedis, type TestRedis } from "../helpers/redis.js";

let redis: TestRedis;
beforeAll(async () => {
  if (HAS_REDIS) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const workers: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(
    workers.splice(0).map(
      (w) =>
        new Promise<void>((r) => {
          if (w.exitCode !== null || w.signalCode !== null) return r();
          w.once("exit", () => r());
          w.kill("SIGKILL");
        }),
    ),
  );
});

let queues = 0;
/** A fresh queue name per test, so tests never take each other's tasks. */
const queueName = () => `t${process.pid}-${++queues}`;

function gitProject(files: Record<string, string>): string {
  const dir = project(files);
  const g = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "ignore" });
  g("init", "-q");
  writeFileSync(join(dir, ".gitignore"), ".weft/\n");
  g("add", "-A");
  g("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
  return dir;
}

async function startWorker(
  name: string,
  extra: string[] = [],
): Promise<{ child: ChildProcess; log: () => string }> {
  const wd = project();
  const child = startWeft(
    [
      "worker",
      "--redis",
      redis.url,
      "--queue-name",
      name,
      "--workdir",
      join(wd, "work"),
      "--command",
      `node ${AGENT}`,
      ...extra,
    ],
    wd,
  );
  workers.push(child);
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  await until(() => err.includes("serving queue"));
  return { child, log: () => err };
}

/** `weft run wf.js --queue` in the background, once it has its run id. */
const startQueued = (dir: string, name: string) =>
  startRunning(dir, [
    "run",
    "wf.js",
    "--queue",
    redis.url,
    "--queue-name",
    name,
    "--driver",
    "command",
    "--command",
    "x",
  ]);

const runQ = (dir: string, name: string, flags: string[] = []) =>
  weft(
    [
      "run",
      "wf.js",
      "--queue",
      redis.url,
      "--queue-name",
      name,
      "--driver",
      "command",
      "--command",
      "unused",
      ...flags,
    ],
    dir,
  );

describe.skipIf(!HAS_REDIS)("agents on workers (BullMQ on Redis)", () => {
  test("X01 X02 --queue: agents run on a worker from the tree as it is (uncommitted work included), their changes come back, usage, transcripts and progress are recorded", async () => {
    const q = queueName();
    const w = await startWorker(q);
    const dir = gitProject({
      "wf.js": `${meta("remote")}const r = await parallel([
  () => agent("write:made.txt:from~worker", { label: "writer" }),
  () => agent("cat:draft.txt", { label: "reader" }),
  () => agent("usage:10,5 hello", { label: "counter" }),
])
return r\n`,
    });
    writeFileSync(join(dir, "draft.txt"), "not committed yet\n");
    const r = await runQ(dir, q);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      "echo: write:made.txt:from~worker",
      "not committed yet",
      "echo: usage:10,5 hello",
    ]);
    // The writer's change is in the driving tree, as if it had edited it here.
    expect(readFileSync(join(dir, "made.txt"), "utf8")).toBe("from worker\n");
    const id = runIdOf(r);
    const s = runJson(dir, id);
    expect(s.agents.completed).toBe(3);
    expect(s.tokens).toMatchObject({ input: 10, output: 5 });
    // Progress came back: every agent started and finished in the events, and has a transcript.
    expect(r.stderr).toMatch(/start\s+#1 writer/);
    expect(journal(dir, id).filter((x) => x.type === "agent.finished")).toHaveLength(3);
    for (const n of [1, 2, 3]) {
      expect(readFileSync(join(dir, ".weft", "runs", id, "transcripts", `${n}.jsonl`), "utf8")).toMatch(
        /stdout/,
      );
    }
    // No process group of the worker's machine is recorded here (R02 would kill it on resume).
    expect(journal(dir, id).filter((x) => x.type === "agent.spawned")).toEqual([]);
    expect(w.log()).toMatch(/end remote-\S+\.1: completed/);
  });

  test("X02 a remote agent's change that no longer applies fails that agent, naming the file; a change to .weft/ is refused", async () => {
    const q = queueName();
    await startWorker(q);
    const dir = gitProject({
      "wf.js": `${meta("clash")}const r = await parallel([
  () => agent("write:same.txt:one", { label: "first" }),
  () => agent("sleep:600 write:same.txt:two", { label: "second" }),
])
const sneaky = await agent("write:.weft/runs/planted.txt:x", { label: "sneaky" })
return [r, sneaky]\n`,
    });
    const r = await runQ(dir, q);
    const [pair, sneaky] = JSON.parse(r.stdout);
    expect(pair[0]).toBe("echo: write:same.txt:one");
    expect(pair[1]).toBeNull();
    expect(readFileSync(join(dir, "same.txt"), "utf8")).toBe("one\n");
    const failed = journal(dir, runIdOf(r)).find((x) => x.type === "agent.finished" && x.label === "second");
    expect(failed.error).toMatch(/do not apply to the working tree \(same\.txt\)/);
    // A change under .weft/ never travels back: the worker leaves weft's folder out of the patch.
    expect(existsSync(join(dir, ".weft", "runs", "planted.txt"))).toBe(false);
    expect(sneaky).toBe("echo: write:.weft/runs/planted.txt:x");
    // And a patch that names .weft/ anyway (a worker of another version, a forged outcome) is refused whole.
    const forged =
      "diff --git a/.weft/runs/x.txt b/.weft/runs/x.txt\nnew file mode 100644\n--- /dev/null\n+++ b/.weft/runs/x.txt\n@@ -0,0 +1 @@\n+x\n";
    await expect(applyToTree(dir, forged)).rejects.toThrow(
      /touch weft's own folder \(\.weft\/runs\/x\.txt\); nothing was applied/,
    );
    expect(existsSync(join(dir, ".weft", "runs", "x.txt"))).toBe(false);
  });

  test("X01 weft stop reaches an agent running on its worker; the run ends stopped", async () => {
    const q = queueName();
    const w = await startWorker(q);
    const dir = gitProject({ "wf.js": `${meta("halt")}return await agent("hang", { label: "stuck" })\n` });
    const { id, done } = await startQueued(dir, q);
    await until(() => w.log().includes(`start ${id}.1`));
    const stop = await weft(["stop", id], dir);
    expect(stop.code, stop.stderr).toBe(0);
    const end = await done;
    expect(runJson(dir, id).status).toBe("stopped");
    expect(end.code).not.toBe(0);
    await until(() => w.log().includes(`cancel ${id}.1`) && w.log().includes(`end ${id}.1: stopped`));
  });

  test("X01 a worker without the task's driver refuses it, and the reason reaches the run", async () => {
    const q = queueName();
    await startWorker(q, ["--driver", "codex"]);
    const dir = gitProject({ "wf.js": `${meta("nodriver")}return await agent("hello")\n` });
    const r = await runQ(dir, q);
    expect(r.stdout.trim()).toBe("null");
    const failed = journal(dir, runIdOf(r)).find((x) => x.type === "agent.finished");
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/does not serve the command driver \(it serves codex\)/);
  });

  test("X01 --queue with Redis unreachable is refused before the run starts (exit 2), with the URL but not its password", async () => {
    const dir = gitProject({ "wf.js": `${meta("nowhere")}return await agent("hello")\n` });
    const r = await weft(
      ["run", "wf.js", "--queue", "redis://user:s3cret@127.0.0.1:1", "--driver", "command", "--command", "x"],
      dir,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot reach the queue at redis:\/\/user:\*\*\*@127\.0\.0\.1:1/);
    expect(r.stderr).not.toContain("s3cret");
    expect(journalsIn(dir)).toEqual([]);
  });

  test("X01 weft worker stops cleanly on SIGTERM: the running task finishes and its result reaches the run", async () => {
    const q = queueName();
    const w = await startWorker(q);
    const dir = gitProject({ "wf.js": `${meta("drain")}return await agent("sleep:1500 done")\n` });
    const { id, done } = await startQueued(dir, q);
    await until(() => w.log().includes(`start ${id}.1`));
    w.child.kill("SIGTERM");
    const end = await done;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stdout.trim()).toBe("echo: sleep:1500 done");
    await new Promise<void>((r) => (w.child.exitCode !== null ? r() : w.child.once("exit", () => r())));
    expect(w.child.exitCode).toBe(0);
    expect(w.log()).toMatch(/stopping: running tasks finish/);
  });

  test("X03 a worker killed with kill -9 mid-task: the task runs again on another worker, and the agent is recorded once", async () => {
    const q = queueName();
    const first = await startWorker(q, ["--lock-ms", "1500"]);
    const dir = gitProject({ "wf.js": `${meta("handover")}return await agent("sleep:2500 done")\n` });
    const { id, done } = await startQueued(dir, q);
    await until(() => first.log().includes(`start ${id}.1`));
    first.child.kill("SIGKILL");
    const second = await startWorker(q, ["--lock-ms", "1500"]);
    const end = await done;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stdout.trim()).toBe("echo: sleep:2500 done");
    expect(second.log()).toContain(`start ${id}.1`);
    expect(journal(dir, id).filter((x) => x.type === "agent.finished")).toHaveLength(1);
    expect(runJson(dir, id).agents).toMatchObject({ completed: 1 });
  });

  test("X03 Redis lost mid-run: nothing new starts and the run ends paused, to be resumed later", async () => {
    const own = await startRedis();
    try {
      const q = queueName();
      const wd = project();
      const worker = startWeft(
        [
          "worker",
          "--redis",
          own.url,
          "--queue-name",
          q,
          "--workdir",
          join(wd, "work"),
          "--command",
          `node ${AGENT}`,
        ],
        wd,
      );
      workers.push(worker);
      let wlog = "";
      worker.stderr?.on("data", (d) => {
        wlog += d;
      });
      await until(() => wlog.includes("serving queue"));
      const dir = gitProject({
        "wf.js": `${meta("gone")}await agent("sleep:4000 first")\nreturn await agent("second")\n`,
      });
      const child = startWeft(
        ["run", "wf.js", "--queue", own.url, "--queue-name", q, "--driver", "command", "--command", "x"],
        dir,
      );
      let err = "";
      child.stderr?.on("data", (d) => {
        err += d;
      });
      const done = collect(child);
      const id = await until(() => /^run (\S+)/m.exec(err)?.[1]);
      await until(() => wlog.includes(`start ${id}.1`));
      await own.stop();
      const end = await done;
      expect(end.code, end.stderr).toBe(4);
      expect(runJson(dir, id).status).toBe("paused");
      expect(end.stderr).toMatch(/lost the queue at redis:\/\/127\.0\.0\.1:\d+/);
      // Nothing new was sent: the second call never started.
      expect(journal(dir, id).filter((x) => x.type === "agent.started" && x.n === 2)).toEqual([]);
    } finally {
      await own.stop();
    }
  });

  test("X01 nothing about the queue loads without --queue", async () => {
    const dir = gitProject({
      "wf.js": `${meta("plain")}return await agent("a")\n`,
      "hooks.mjs": `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (/bullmq|ioredis|executor\\/queue/.test(r.url)) appendFileSync(process.env.PROBE, r.url + "\\n");
  return r;
}\n`,
      "register.mjs": `import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\n`,
    });
    const probe = join(dir, "probe.txt");
    writeFileSync(probe, "");
    const r = await weft(["run", "wf.js", "--command", `node ${AGENT}`], dir, {
      NODE_OPTIONS: `--import ${join(dir, "register.mjs")}`,
      PROBE: probe,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(probe, "utf8")).toBe("");
  });
});

test.todo("X03 a late answer from a worker thought dead (frozen, then continued) is ignored");
test.todo("X04 weft resume of a queue run whose driver died adopts the tasks still on workers");
test.todo("X02 isolation: worktree agents on the queue (a worker rebuilds base + integrated patches)");

function journalsIn(dir: string): string[] {
  const runs = join(dir, ".weft", "runs");
  if (!existsSync(runs)) return [];
  return execFileSync("find", [runs, "-name", "journal.jsonl"], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
}
