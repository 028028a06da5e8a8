/**
 * The live tree in a real terminal (U02) and Ctrl-C there (C04): weft runs in a tmux pane of
 * 120×40 on a private tmux server; the test reads the screen as a person would.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { AGENT, meta, project, runJson, WEFT_BIN } from "../helpers/cli.js";

const servers: string[] = [];
afterEach(() => {
  for (const sock of servers.splice(0)) {
    try {
      execFileSync("tmux", ["-S", sock, "kill-server"], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
});

const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Start `weft run` in a fresh tmux server; the pane's shell records the terminal's modes around it.
 * `conf` is the server's configuration (none by default).
 */
function startInTmux(dir: string, args: string[], conf = "/dev/null") {
  const sock = join(dir, "tmux.sock");
  servers.push(sock);
  const script = [
    // The pane's shell outlives Ctrl-C, as an interactive shell would, to report what followed.
    "trap : INT",
    // A clean environment: no WEFT_* settings, no CI (ink draws no live frames in CI), own config.
    "for v in $(env | sed -n 's/^\\(WEFT_[A-Za-z0-9_]*\\)=.*/\\1/p'); do unset \"$v\"; done",
    "unset CI CONTINUOUS_INTEGRATION",
    `export XDG_CONFIG_HOME=${sh(join(dir, ".xdg"))} TERM=xterm-256color`,
    "stty -g > stty.before",
    `${sh(process.execPath)} ${sh(WEFT_BIN)} run ${args.map(sh).join(" ")}`,
    'echo "EXIT=$?"',
    "stty -g > stty.after",
    "sleep 600",
  ].join("\n");
  writeFileSync(join(dir, "term.sh"), `${script}\n`);
  const tmux = (...a: string[]) => execFileSync("tmux", ["-S", sock, ...a], { encoding: "utf8" });
  tmux("-f", conf, "new-session", "-d", "-x", "120", "-y", "40", "-c", dir, `sh ${sh(join(dir, "term.sh"))}`);
  const screen = () => tmux("capture-pane", "-p", "-S", "-200");
  return { tmux, screen };
}

async function until(
  screen: () => string,
  ok: (s: string) => boolean,
  what: string,
  ms = 90_000,
): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const s = screen();
    if (ok(s)) return s;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; the screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const SCRIPT = `${meta("tty-demo")}phase("Scan")
await parallel(Array.from({ length: 12 }, (_, i) => () => agent("scan sleep:SLEEP usage:100,20", { label: "f" + i + ".ts" })))
phase("Review")
await parallel(Array.from({ length: 18 }, (_, i) => () => agent("review " + i + " sleep:SLEEP usage:300,40")))
return "reviewed"
`;

describe("terminal", () => {
  test("U02 a run of 30 agents shows a live tree in a terminal, and its final frame and summary stay", async () => {
    const dir = project({ "wf.js": SCRIPT.replaceAll("SLEEP", "900") });
    const { screen } = startInTmux(dir, ["wf.js", "--command", `node ${AGENT}`, "--concurrency", "3"]);
    // While it runs: the header, the open phase with its counts, running agents and a finished one's tokens.
    const live = await until(
      screen,
      (s) => /^ {2}✓ #\d+ +f\d+\.ts +120 tok/m.test(s) && /^ {2}• #\d+ /m.test(s),
      "a running and a finished agent in the tree",
    );
    expect(live).toMatch(/^run tty-demo-[a-z0-9]{6}$/m);
    expect(live).toMatch(/^running {2}tty-demo tty-demo-[a-z0-9]{6} {2}agents \d+\/\d+ · \d running/m);
    expect(live).toMatch(/^▸ Scan {2}\d running · \d+ done {2}\(\d+ agents\) {2}[\d.k]+ tokens/m);
    // Drawn in place: one header on the screen, not one per frame.
    expect(live.match(/^running {2}tty-demo/gm)).toHaveLength(1);

    const end = await until(screen, (s) => s.includes("EXIT="), "the end of the run");
    expect(end).toContain("EXIT=0");
    expect(end).toMatch(/^! large run: more than 25 agents scheduled/m);
    expect(end).toMatch(/^completed {2}tty-demo tty-demo-[a-z0-9]{6} {2}agents 30\/30 {2}7\.6k tokens/m);
    expect(end).toMatch(/^✓ Scan {2}12 done {2}\(12 agents\) {2}1\.4k tokens/m);
    expect(end).toMatch(/^✓ Review {2}18 done {2}\(18 agents\) {2}6\.1k tokens/m);
    expect(end).toMatch(/^completed in [\d.]+s · 30 agents completed · 7,560 tokens$/m);
    expect(end).toMatch(/^reviewed$/m);
    // The final frame replaced the live one: no agent rows or running header left on the screen.
    expect(end).not.toMatch(/^running {2}tty-demo/m);
    expect(end).not.toMatch(/^ {2}[•✓] #\d+/m);
  }, 180_000);

  test("C04 Ctrl-C in the terminal stops the run cleanly: exit 130, run.json stopped, the terminal as it was", async () => {
    const dir = project({ "wf.js": SCRIPT.replaceAll("SLEEP", "30000") });
    const { tmux, screen } = startInTmux(dir, ["wf.js", "--command", `node ${AGENT}`, "--concurrency", "4"]);
    await until(screen, (s) => /^ {2}• #4 /m.test(s), "four running agents in the tree");
    tmux("send-keys", "C-c");
    const end = await until(screen, (s) => s.includes("EXIT="), "the run to stop");
    expect(end).toContain("EXIT=130");
    // The message of the first Ctrl-C is printed whole, above the final frame.
    expect(end).toMatch(
      /^stopping: no new agents; running agents get SIGTERM \(Ctrl-C again to kill at once\)$/m,
    );
    expect(end).toMatch(/^stopped {2}tty-demo tty-demo-[a-z0-9]{6} {2}agents 0\/4 · 4 stopped/m);
    expect(end).toMatch(/^■ Scan {2}0 done · 4 stopped {2}\(4 agents\)/m);
    expect(end).toMatch(/^resume with: weft resume tty-demo-[a-z0-9]{6}$/m);
    expect(end.indexOf("stopping:")).toBeLessThan(end.indexOf("stopped  tty-demo"));
    const id = /^run (tty-demo-[a-z0-9]{6})$/m.exec(end)![1]!;
    expect(runJson(dir, id).status).toBe("stopped");
    // Not left broken: the same terminal modes as before (no raw mode), and the cursor shown.
    await until(
      () => (existsSync(join(dir, "stty.after")) ? "y" : ""),
      Boolean,
      "stty -g after the run",
      10_000,
    );
    expect(readFileSync(join(dir, "stty.after"), "utf8")).toBe(
      readFileSync(join(dir, "stty.before"), "utf8"),
    );
    expect(tmux("display-message", "-p", "#{cursor_flag}").trim()).toBe("1");
  }, 180_000);

  test("C09 a script's and an agent's terminal controls do not reach a real terminal: no clipboard write, no title, no overwrite; weft's colours stay", async () => {
    // OSC 52 (the clipboard: tmux keeps it as a buffer when set-clipboard is on), OSC 2 (the
    // window title), a screen clear, a C1 CSI, a carriage return and a bidi override.
    const evil = String.raw`\x1b]52;c;ZXZpbA==\x07\x1b]2;PWNED\x07\x1b[2J\x9b31m\rOVER\u202e`;
    const dir = project({
      "tmux.conf": "set -g set-clipboard on\n",
      "evil.mjs": `const E = "${evil}";
process.stdout.write("reading" + E + "\\n");
await new Promise((r) => setTimeout(r, 1500));
process.stdout.write("result" + E + "\\n");
`,
      "wf.js": `export const meta = { name: "evil${evil}", description: "t" }
const E = "${evil}"
phase("Scan" + E)
log("log" + E)
const out = await agent("look", { label: "f" + E })
await gate("G" + E, { details: { d: E } })
return out
`,
    });
    const { tmux, screen } = startInTmux(
      dir,
      ["wf.js", "--command", "node evil.mjs"],
      join(dir, "tmux.conf"),
    );
    const live = await until(screen, (s) => s.includes("[y/N]"), "the gate's question");
    tmux("send-keys", "y", "Enter");
    const end = await until(screen, (s) => s.includes("EXIT="), "the end of the run");
    expect(end).toContain("EXIT=0");
    // Nothing set the clipboard or the title.
    expect(tmux("list-buffers")).toBe("");
    expect(tmux("display-message", "-p", "#{pane_title}")).not.toContain("PWNED");
    for (const s of [live, end]) {
      // No carriage return put "OVER" over the start of a line; the first line is still there.
      expect(s).not.toMatch(/^OVER/m);
      expect(s).toMatch(/^run evil-[a-z0-9._-]+$/m);
    }
    const shown = String.raw`\rOVER\u202e`;
    expect(live).toContain(`Approve "G${shown}"? [y/N]`);
    expect(end).toContain(`  log${shown}`);
    expect(end).toMatch(/^✓ Scan\\rOVER\\u202e {2}1 done/m);
    expect(end).toContain(`f${shown}`);
    // The result, on the terminal: made safe too.
    expect(end).toMatch(/^result\\rOVER\\u202e$/m);
    // weft's own styling still works: the final frame's ✓ is green.
    expect(tmux("capture-pane", "-p", "-e", "-S", "-200")).toContain("\x1b[32m✓");
  }, 180_000);
});
