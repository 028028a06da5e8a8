/** S06's second wall: the script's sandbox is a process Node's permission model confines. */
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, test } from "vitest";
import { sandboxCommand, sandboxNodeFlags } from "../../dist/sandbox/process-flags.js";
import { collect, meta, project, runIdOf, runJson, sleep, startWeft } from "../helpers/cli.js";

const linux = process.platform === "linux" && existsSync("/proc/self/stat");
const ENTRY = resolve("dist/sandbox/process-entry.js");

/** Tries each thing a vm escape would try, and says which worked. */
const PROBE = (dir: string) => `
const fs = require("node:fs");
const out = {};
const tryIt = (k, f) => { try { f(); out[k] = "allowed"; } catch (e) { out[k] = e.code || e.message; } };
tryIt("write", () => fs.writeFileSync(${JSON.stringify(join(dir, "by-fs"))}, "x"));
tryIt("read", () => fs.readFileSync(${JSON.stringify(join(dir, "secret.txt"))}, "utf8"));
tryIt("child", () => require("node:child_process").execFileSync("/bin/sh", ["-c", "echo x > " + ${JSON.stringify(join(dir, "by-child"))}]));
tryIt("worker", () => new (require("node:worker_threads").Worker)(
  "require('node:fs').writeFileSync(" + ${JSON.stringify(JSON.stringify(join(dir, "by-worker")))} + ", 'x')", { eval: true }));
setTimeout(() => console.log(JSON.stringify(out)), 300);
`;

describe("S06 the second wall", () => {
  test("S06 the sandbox process's flags deny file writes and reads, child processes and worker threads", () => {
    const dir = project({ "secret.txt": "s3cret" });
    // The same probe without the flags does all of it: the probe itself works.
    const open = JSON.parse(execFileSync(process.execPath, ["-e", PROBE(dir)], { encoding: "utf8" }));
    expect(open).toEqual({ write: "allowed", read: "allowed", child: "allowed", worker: "allowed" });
    for (const f of ["by-fs", "by-child", "by-worker"]) expect(existsSync(join(dir, f))).toBe(true);

    const walled = project({ "secret.txt": "s3cret" });
    const out = JSON.parse(
      execFileSync(process.execPath, [...sandboxNodeFlags(), "-e", PROBE(walled)], { encoding: "utf8" }),
    );
    expect(out).toEqual({
      write: "ERR_ACCESS_DENIED",
      read: "ERR_ACCESS_DENIED",
      child: "ERR_ACCESS_DENIED",
      worker: "ERR_ACCESS_DENIED",
    });
    for (const f of ["by-fs", "by-child", "by-worker"]) expect(existsSync(join(walled, f))).toBe(false);
  });

  test("S06 code in the sandbox process's own realm (an escape) cannot signal the engine or compile strings", async () => {
    const dir = project();
    const probe = join(dir, "probe.mjs");
    writeFileSync(
      probe,
      `import ${JSON.stringify(pathToFileURL(ENTRY).href)};
const out = {};
for (const k of ["kill", "_kill", "_debugProcess", "dlopen", "binding"]) out[k] = typeof process[k];
try { out.fn = Function("return 1")(); } catch (e) { out.fn = e.name; }
out.env = Object.keys(process.env);
process.send({ probe: out });
`,
    );
    const { execPath, execArgv } = sandboxCommand();
    const child = fork(probe, [], {
      execPath,
      execArgv: [...execArgv, `--allow-fs-read=${probe}`],
      env: {},
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const got = await new Promise<any>((res, rej) => {
      child.on("message", (m: any) => m?.probe && res(m.probe));
      child.on("exit", (code) => rej(new Error(`probe exited ${code}`)));
    });
    child.kill("SIGKILL");
    expect(got).toEqual({
      kill: "undefined",
      _kill: "undefined",
      _debugProcess: "undefined",
      dlopen: "undefined",
      binding: "undefined",
      fn: "EvalError",
      env: [],
    });
  });
});

/** The live children of `pid` (Linux /proc), with their command lines. */
function children(pid: number): { pid: number; argv: string[] }[] {
  const out: { pid: number; argv: string[] }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) !== pid || fields[0] === "Z") continue;
      out.push({
        pid: Number(name),
        argv: readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").slice(0, -1),
      });
    } catch {}
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function sandboxOf(engine: ChildProcess): Promise<{ pid: number; argv: string[] }> {
  for (let i = 0; i < 100; i++) {
    const found = children(engine.pid!).find((c) => c.argv.includes(ENTRY));
    if (found) return found;
    await sleep(50);
  }
  throw new Error("no sandbox process among the engine's children");
}

async function gone(pid: number, ms: number): Promise<boolean> {
  for (let t = 0; t < ms; t += 50) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return false;
}

describe.skipIf(!linux)("S06 the sandbox process of a real run", () => {
  test("S06 runs with the host's flags, no environment but time zone and locale, and dies with the engine (kill -9)", async () => {
    const dir = project({ "wf.js": `${meta()}await agent("a")\nreturn 1\n` });
    const engine = startWeft(["run", "wf.js", "--command", "sleep 30"], dir, {
      WEFT_TEST_SECRET: "s3cret",
      TZ: "Asia/Tokyo",
    });
    const done = collect(engine);
    const sandbox = await sandboxOf(engine);
    expect(sandbox.argv).toEqual([process.execPath, ...sandboxNodeFlags(), ENTRY]);
    const environ = readFileSync(`/proc/${sandbox.pid}/environ`, "utf8").split("\0").filter(Boolean);
    // fork's own numbers for the channel, the time zone and locale; nothing else of the engine's.
    expect(environ).toContain("TZ=Asia/Tokyo");
    for (const e of environ)
      expect(e).toMatch(/^(NODE_CHANNEL_FD|NODE_CHANNEL_SERIALIZATION_MODE|TZ|LANG|LANGUAGE|LC_\w+)=/);
    const agents = children(engine.pid!).filter((c) => c.pid !== sandbox.pid);
    engine.kill("SIGKILL");
    await done;
    try {
      expect(await gone(sandbox.pid, 3000)).toBe(true);
    } finally {
      for (const a of agents) {
        try {
          process.kill(-a.pid, "SIGKILL");
        } catch {}
      }
    }
  });

  test("S06 a sandbox stuck in a loop dies with the engine too (it never reads the closed channel)", async () => {
    const dir = project({ "wf.js": `${meta()}while (true) {}\n` });
    const engine = startWeft(["run", "wf.js", "--command", "true", "--script-time-ms", "600000"], dir);
    const done = collect(engine);
    const sandbox = await sandboxOf(engine);
    // Spinning: its processor time grows.
    await sleep(300);
    engine.kill("SIGKILL");
    await done;
    const dead = await gone(sandbox.pid, 3000);
    if (!dead) process.kill(sandbox.pid, "SIGKILL");
    expect(dead).toBe(true);
  });

  test("S06 Ctrl-C reaches the sandbox process too, and the run still stops as a stop, not a crash", async () => {
    const dir = project({ "wf.js": `${meta()}await agent("a")\nreturn 1\n` });
    const engine = startWeft(["run", "wf.js", "--command", "sleep 30"], dir);
    const done = collect(engine);
    const sandbox = await sandboxOf(engine);
    // Once the agent runs, the script has started: the sandbox is up.
    while (!children(engine.pid!).some((c) => c.pid !== sandbox.pid)) await sleep(50);
    // The terminal sends SIGINT to its whole foreground group; here the sandbox gets it first,
    // the order in which it would do harm.
    process.kill(sandbox.pid, "SIGINT");
    await sleep(300);
    expect(alive(sandbox.pid)).toBe(true);
    engine.kill("SIGINT");
    const r = await done;
    expect(r.stderr).not.toContain("sandbox failed");
    expect(runJson(dir, runIdOf(r)).status).toBe("stopped");
    expect(await gone(sandbox.pid, 3000)).toBe(true);
  });
});
