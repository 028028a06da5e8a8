// The dashboard (U08), in a fresh process: prints one JSON line.
// - firstScreenMs: a finished 10,000-agent run's page in Chromium, from navigation until its first
//   agent rows and the run's final status are drawn (target under 1 s);
// - serverCpuPct: the server's processor time while a 1,000-agent run (in another process) streams
//   to one open run page, as a share of one core over the run's wall time (target under 10%).
// Needs the system program `chromium`; prints {"skipped": "..."} without it.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runWorkflow, startUi } from "../dist/index.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!CHROMIUM) {
  console.log(JSON.stringify({ skipped: "no chromium on this machine" }));
  process.exit(0);
}
const { chromium } = await import("playwright-core");

const meta = 'export const meta = { name: "ui-bench", description: "bench" }\n';
const dir = mkdtempSync(join(tmpdir(), "weft-bench-ui-"));
const instant = {
  name: "instant",
  async run(task) {
    return {
      status: "completed",
      text: `ok ${task.index}`,
      usage: { input: 1, output: 1, cached: 0, reasoning: 0 },
    };
  },
};
const big = await runWorkflow({
  script: {
    source: `${meta}phase("Fan out")\nconst out = await parallel(Array.from({ length: 10000 }, (_, i) => () => agent("task " + i, { label: "item " + i })))\nreturn out.length\n`,
    path: "big.js",
  },
  cwd: dir,
  settings: { concurrency: 64, maxAgents: 100_000, maxListItems: 100_000 },
  driver: instant,
});

const ui = await startUi({ cwd: dir });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
// Load the page's code once, so the figure is the run page, not the first fetch of app.js.
await page.goto(ui.url);
await page.locator("#runs tbody tr").first().waitFor();
const times = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  await page.goto(`${ui.url}#/run/${big.runId}`);
  await page.locator("#agents .row.agent").first().waitFor({ timeout: 60_000 });
  await page.locator("#run-header .state", { hasText: "completed" }).first().waitFor({ timeout: 60_000 });
  times.push(performance.now() - t0);
  await page.goto(`${ui.url}#/`);
}
times.sort((a, b) => a - b);

// A 1,000-agent run whose agents take 20 ms each, 16 at a time: about 1.5 s of events.
const streamScript = `${meta}phase("Stream")\nawait parallel(Array.from({ length: 1000 }, (_, i) => () => agent("task " + i, { label: "s" + i })))\nreturn 1\n`;
const child = `
import { runWorkflow } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
const slow = { name: "slow", async run(task) { await new Promise((r) => setTimeout(r, 20)); return { status: "completed", text: "ok", usage: { input: 1, output: 1, cached: 0, reasoning: 0 } }; } };
const r = await runWorkflow({ script: { source: ${JSON.stringify(streamScript)}, path: "stream.js" }, cwd: ${JSON.stringify(dir)}, settings: { concurrency: 16 }, driver: slow });
console.log(r.runId);
`;
const running = new Promise((resolve, reject) =>
  execFile(process.execPath, ["--input-type=module", "-e", child], (err, stdout) =>
    err ? reject(err) : resolve(stdout.trim()),
  ),
);
// Open the page as soon as the run exists: poll the list until it is there.
let streamId;
for (let i = 0; i < 400 && !streamId; i++) {
  const list = await (
    await fetch(`http://127.0.0.1:${ui.port}/api/runs`, { headers: { "x-weft-token": ui.token } })
  ).json();
  streamId = list.find((r) => r.name === "ui-bench" && r.runId !== big.runId)?.runId;
  if (!streamId) await new Promise((r) => setTimeout(r, 10));
}
await page.goto(`${ui.url}#/run/${streamId}`);
const c0 = process.cpuUsage();
const w0 = performance.now();
await running;
await page.locator("#run-header .state", { hasText: "completed" }).first().waitFor({ timeout: 60_000 });
const wallMs = performance.now() - w0;
const cpu = process.cpuUsage(c0);
const serverCpuMs = (cpu.user + cpu.system) / 1000;

await browser.close();
await ui.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    firstScreenMs: times[1],
    firstScreenBestMs: times[0],
    streamWallMs: wallMs,
    serverCpuMs,
    serverCpuPct: (serverCpuMs / wallMs) * 100,
  }),
);
