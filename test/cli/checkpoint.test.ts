/**
 * checkpoint() with a person at the terminal (SPEC A14): it asks by its kind and resolves to the
 * answer; it can be answered from another terminal with `weft approve --answer`, while the run's
 * process is gone too; timeoutMs takes the default. In a real terminal (tmux), as the gate prompt
 * is tested. The headless side is in test/compat/pi-quality.test.ts.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { AGENT_CMD, journal, meta, project, runJson, until, WEFT_BIN, weft } from "../helpers/cli.js";

const hasTmux = existsSync("/usr/bin/tmux");

function tmux(socket: string, ...args: string[]): string {
  return execFileSync("/usr/bin/tmux", ["-L", socket, ...args], { encoding: "utf8" });
}

/** `weft run wf.js` in a tmux terminal; `body` gets the screen and a key sender. */
async function inTerminal(
  dir: string,
  body: (screen: () => string, keys: (...k: string[]) => void) => Promise<void>,
  command = "run wf.js",
): Promise<void> {
  const socket = `weft-cp-${process.pid}-${Date.now()}`;
  const cmd = `cd ${dir} && ${process.execPath} ${WEFT_BIN} ${command} --command '${AGENT_CMD}'; echo EXIT:$?; sleep 60`;
  tmux(socket, "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "40", cmd);
  try {
    await body(
      () => tmux(socket, "capture-pane", "-p", "-J"),
      (...k) => void tmux(socket, "send-keys", ...k),
    );
  } finally {
    try {
      tmux(socket, "kill-server");
    } catch {}
  }
}

const shows = (screen: () => string, text: string) =>
  until(() => (screen().includes(text) ? true : undefined));
const exitOf = (screen: () => string) => until(() => /EXIT:(\d+)/.exec(screen())?.[1]);
/** The one run in the project (its id line may have scrolled off the screen). */
const onlyRun = (dir: string) => readdirSync(join(dir, ".weft", "runs"))[0]!;
const answers = (dir: string, id: string) => journal(dir, id).filter((r) => r.type === "gate.answered");

test.skipIf(!hasTmux)(
  "A14 in a terminal checkpoint() asks by its kind and resolves to the answer: y/n, text, a choice by number; Enter takes the default; a wrong choice asks again",
  async () => {
    const dir = project({
      "wf.js": `${meta("ask")}const go = await checkpoint("Release now?")
const keep = await checkpoint("Keep the old build?", { default: false })
const name = await checkpoint("Name the branch", { kind: "input", default: "release/next" })
const note = await checkpoint("A note for the log", { kind: "input" })
const where = await checkpoint("Which channel?", { kind: "select", choices: ["stable", "beta", "nightly"] })
return { go, keep, name, note, where }\n`,
    });
    await inTerminal(dir, async (screen, keys) => {
      await shows(screen, "Release now? [y/n]");
      // Not an answer of a yes/no question: asked again.
      keys("maybe", "Enter");
      await shows(screen, "answer y or n: Release now? [y/n]");
      keys("y", "Enter");
      await shows(screen, "Keep the old build? [y/N]");
      keys("Enter");
      await shows(screen, "Name the branch [release/next]:");
      keys("Enter");
      await shows(screen, "A note for the log:");
      keys("shipped on a Thursday", "Enter");
      await shows(screen, "  3. nightly");
      expect(screen()).toContain("choose 1-3:");
      keys("7", "Enter");
      await shows(screen, "that is not one of the choices: Which channel?");
      keys("2", "Enter");
      expect(await exitOf(screen)).toBe("0");
      const id = onlyRun(dir);
      expect(runJson(dir, id).result).toEqual({
        go: true,
        keep: false,
        name: "release/next",
        note: "shipped on a Thursday",
        where: "beta",
      });
      expect(answers(dir, id).map((a) => [a.gate, a.approved, a.value, a.checkpoint])).toEqual([
        [1, true, true, true],
        [2, false, false, true],
        [3, true, "release/next", true],
        [4, true, "shipped on a Thursday", true],
        [5, true, "beta", true],
      ]);
      expect(answers(dir, id)[4].by).not.toBe("headless");
    });
  },
);

test.skipIf(!hasTmux)(
  "A14 a waiting checkpoint is answered from another terminal with weft approve --answer; an answer that does not fit is refused before it is sent",
  async () => {
    const dir = project({
      "wf.js": `${meta("other")}return await checkpoint("Which region?", { kind: "select", choices: ["eu", "us"] })\n`,
    });
    await inTerminal(dir, async (screen) => {
      await shows(screen, "choose 1-2:");
      const id = onlyRun(dir);
      // run.json is written just after the prompt shows (its writes are batched).
      await until(() => (runJson(dir, id).status === "waiting" ? true : undefined));
      expect(runJson(dir, id)).toMatchObject({
        status: "waiting",
        gate: { n: 1, title: "Which region?", checkpoint: { kind: "select", choices: ["eu", "us"] } },
      });
      const wrong = await weft(["approve", id, "--answer", "mars"], dir);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain('"mars" is not a choice of checkpoint #1 "Which region?": 1. eu, 2. us');
      const none = await weft(["approve", id], dir);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain(`asks for an answer: weft approve ${id} 1 --answer <eu|us>`);
      const ok = await weft(["approve", id, "--answer", "us"], dir, { USER: "ana" });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/checkpoint #1 "Which region\?" answered "us" by ana@/);
      expect(await exitOf(screen)).toBe("0");
      expect(runJson(dir, id).result).toBe("us");
    });
  },
);

test.skipIf(!hasTmux)(
  "A14 Ctrl-C while a checkpoint waits leaves the run waiting; weft approve --answer with no process records it, and a resume where nobody can answer takes that answer, not the default",
  async () => {
    const dir = project({
      "wf.js": `${meta("later")}const first = await agent("json:{\\"step\\":1}")
const name = await checkpoint("Name the tag", { kind: "input", default: "v0" })
return { first, name }\n`,
    });
    let id = "";
    await inTerminal(dir, async (screen, keys) => {
      await shows(screen, "Name the tag [v0]:");
      id = onlyRun(dir);
      keys("C-c");
      expect(await exitOf(screen)).toBe("4");
    });
    expect(runJson(dir, id)).toMatchObject({ status: "waiting", gate: { title: "Name the tag" } });
    const sent = await weft(["approve", id, "--answer", "v1.2.0"], dir);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain('approval of checkpoint #1 "Name the tag" recorded');
    // Not a terminal: headless, but the answer left for this very checkpoint is taken.
    const r = await weft(["resume", id], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ first: '{"step":1}', name: "v1.2.0" });
    expect(answers(dir, id).map((a) => a.value)).toEqual(["v1.2.0"]);
    // And the recorded answer is replayed by a later resume, not asked again.
    const again = await weft(["run", "wf.js", "--resume", id, "--command", AGENT_CMD], dir);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).name).toBe("v1.2.0");
    expect(again.stderr).toContain('checkpoint #1 "Name the tag" answered "v1.2.0" by');
    expect(again.stderr).toContain("(recorded earlier)");
  },
);

test.skipIf(!hasTmux)(
  "A14 checkpoint timeoutMs: nobody answers in time, so the default is taken (by timeout); with headless: 'abort' the run fails",
  async () => {
    const dir = project({
      "wf.js": `${meta("slow")}const v = await checkpoint("Proceed?", { default: "later", timeoutMs: 1500 })
if (args && args.strict) await checkpoint("Really?", { timeoutMs: 1000, headless: "abort" })
return v\n`,
    });
    await inTerminal(dir, async (screen) => {
      await shows(screen, "Proceed? [y/n]");
      expect(await exitOf(screen)).toBe("0");
      const id = onlyRun(dir);
      expect(runJson(dir, id).result).toBe("later");
      expect(answers(dir, id)).toMatchObject([{ by: "timeout", value: "later" }]);
    });
    await inTerminal(
      dir,
      async (screen) => {
        await shows(screen, "Really? [y/n]");
        expect(await exitOf(screen)).toBe("1");
        expect(screen()).toContain('checkpoint "Really?" was not answered within 1000 ms');
      },
      `run wf.js --args '{"strict":true}'`,
    );
  },
);

test.skipIf(!hasTmux)(
  "A14 started from a terminal with --json or --detach, nobody answers at that terminal: checkpoint() takes its default at once",
  async () => {
    const dir = project({
      "wf.js": `${meta("unattended")}return await checkpoint("Pick one", { kind: "select", choices: ["a", "b"], default: "b" })\n`,
    });
    await inTerminal(
      dir,
      async (screen) => {
        expect(await exitOf(screen)).toBe("0");
        expect(runJson(dir, onlyRun(dir)).result).toBe("b");
      },
      "run wf.js --json",
    );
    const detached = project({ "wf.js": `${meta("detached")}return await checkpoint("Go?")\n` });
    await inTerminal(
      detached,
      async (screen) => {
        expect(await exitOf(screen)).toBe("0");
        const id = onlyRun(detached);
        await until(() => (runJson(detached, id).status === "completed" ? true : undefined));
        expect(runJson(detached, id).result).toBe(true);
        expect(answers(detached, id)).toMatchObject([{ by: "headless", value: true }]);
      },
      "run wf.js --detach",
    );
  },
);
