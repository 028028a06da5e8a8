/**
 * U08 in a real browser: Debian's chromium driven by playwright-core (no browser download).
 * Needs the system program `chromium`; skipped where it is missing (.ci/run installs it).
 * Screenshots go to the test's temporary folder (WEFT_UI_SHOTS names another one).
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { AGENT_CMD, meta, project, runJson, startRunning, until, weft } from "../helpers/cli.js";
import { startUiProcess, stopUis } from "../helpers/ui.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

let browser: Browser;
beforeAll(async () => {
  if (CHROMIUM)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
});
afterAll(async () => {
  await browser?.close();
});
afterEach(stopUis);

async function shot(page: Page, dir: string, name: string): Promise<string> {
  const out = process.env.WEFT_UI_SHOTS ?? join(dir, "shots");
  mkdirSync(out, { recursive: true });
  const file = join(out, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

async function open(dir: string): Promise<{ page: Page; base: string; url: string }> {
  const ui = await startUiProcess(dir);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(20_000);
  return { page, base: `http://127.0.0.1:${ui.port}`, url: ui.url };
}

describe.skipIf(!CHROMIUM)("weft ui in Chromium", () => {
  test("U08 the runs page opens with the token (401 without it, and for a wrong Host), lists runs live and filters them", async () => {
    const dir = project({
      "wf.js": `${meta("listed")}return await agent("a")\n`,
      "b.js": `${meta("other")}return 1\n`,
    });
    await weft(["run", "wf.js", "--command", AGENT_CMD], dir);
    const { page, base, url } = await open(dir);
    const denied = await page.goto(`${base}/`);
    expect(denied?.status()).toBe(401);
    expect(await page.textContent("body")).toMatch(/needs its token/);
    const rebound = await page.request.get(url, { headers: { host: "evil.example" } });
    expect(rebound.status()).toBe(421);

    await page.goto(url);
    // The token leaves the address bar once the page has it.
    expect(page.url()).not.toContain("token=");
    await page.locator("#runs tbody tr").filter({ hasText: "listed" }).waitFor();
    // Live: a run started after the page opened appears without a reload.
    await weft(["run", "b.js", "--command", AGENT_CMD], dir);
    await page.locator("#runs tbody tr").filter({ hasText: "other" }).waitFor();
    await page.fill('input[type="search"]', "list");
    await expect.poll(() => page.locator("#runs tbody tr").count()).toBe(1);
    await shot(page, dir, "runs");
  });

  test("U08 a 30-agent run goes from running to completed on the run page; an agent shows its prompt, result and transcript", async () => {
    const dir = project({
      "wf.js": `${meta("thirty")}phase("Fan out")
const out = await parallel(Array.from({ length: 30 }, (_, i) => () => agent("sleep:300 n" + i, { label: "item-" + i })))
phase("Sum")
return { n: out.length, last: await agent("sum it", { label: "sum" }) }\n`,
    });
    const { page, url } = await open(dir);
    const run = await startRunning(dir, ["run", "wf.js", "--command", AGENT_CMD, "--concurrency", "4"]);
    await page.goto(`${url}#/run/${run.id}`);
    const status = page.locator("#run-header .state").first();
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe("running");
    await page.locator("#agents .row.agent .state.s-running").first().waitFor();
    await shot(page, dir, "run-running");
    expect((await run.done).code).toBe(0);
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe("completed");
    await expect.poll(() => page.locator("#run-header").textContent()).toMatch(/completed 31/);
    await page.locator("#agents .row.phase").filter({ hasText: "Fan out" }).waitFor();
    await page.locator("#result").filter({ hasText: '"n": 30' }).waitFor();
    await shot(page, dir, "run-completed");

    await page.locator('#agents .row.agent a[href$="/agent/1"]').click();
    await page.locator("#prompt").filter({ hasText: "sleep:300 n0" }).waitFor();
    expect(await page.textContent("#agent-result")).toBe("echo: sleep:300 n0");
    expect(await page.textContent("#transcript")).toContain("echo: sleep:300 n0");
    await shot(page, dir, "agent");
  });

  test("U08 a gate is approved from the page and the run continues", async () => {
    const dir = project({
      "wf.js": `${meta("gated")}await agent("plan")\nconst ok = await gate("Ship it?", { details: "two files" })\nreturn ok ? await agent("ship") : "no"\n`,
    });
    const run = await startRunning(dir, ["run", "wf.js", "--command", AGENT_CMD]);
    await until(() => runJson(dir, run.id).status === "waiting");
    const { page, url } = await open(dir);
    await page.goto(`${url}#/run/${run.id}`);
    const gate = page.locator("#gates .gate").filter({ hasText: "Ship it?" });
    await gate.waitFor();
    await gate.locator("input").fill("looks fine");
    await gate.getByRole("button", { name: "Approve" }).click();
    await gate
      .locator(".answer")
      .filter({ hasText: /applied|held/ })
      .waitFor();
    const end = await run.done;
    expect(end.code).toBe(0);
    expect(end.stdout.trim()).toBe("echo: ship");
    await expect
      .poll(() => page.locator("#run-header .state").first().textContent(), { timeout: 20_000 })
      .toBe("completed");
  });

  test("U08 one agent is stopped from the page; its call returns null and the run goes on", async () => {
    const dir = project({
      "wf.js": `${meta("stuck")}const a = await agent("hang", { label: "stuck" })\nreturn [a, await agent("after")]\n`,
    });
    const run = await startRunning(dir, ["run", "wf.js", "--command", AGENT_CMD]);
    const { page, url } = await open(dir);
    await page.goto(`${url}#/run/${run.id}`);
    const row = page.locator("#agents .row.agent").filter({ hasText: "stuck" });
    await row.locator(".state.s-running").waitFor();
    await row.getByRole("button", { name: "stop" }).click();
    const end = await run.done;
    expect(end.code).toBe(0);
    expect(JSON.parse(end.stdout)).toEqual([null, "echo: after"]);
    await expect.poll(() => row.locator(".state").textContent(), { timeout: 20_000 }).toBe("stopped");
  });

  test("U08 one running agent is restarted from the page; the same call starts again and answers", async () => {
    const dir = project({
      "wf.js": `${meta("redo")}return await agent("hang-until:2 slow", { label: "slow" })\n`,
    });
    const run = await startRunning(dir, ["run", "wf.js", "--command", AGENT_CMD]);
    const { page, url } = await open(dir);
    await page.goto(`${url}#/run/${run.id}`);
    const row = page.locator("#agents .row.agent").filter({ hasText: "slow" });
    await row.locator(".state.s-running").waitFor();
    await shot(page, dir, "restart-before");
    await row.getByRole("button", { name: "restart" }).click();
    const end = await run.done;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stdout.trim()).toBe("echo: hang-until:2 slow");
    expect(end.stderr).toMatch(/restarted: by weft ui/);
  });

  test("U08 a run compared with its edited resume: call by call, cached, re-run and new", async () => {
    const dir = project({
      "wf.js": `${meta("edited")}const a = await agent("first", { label: "a" })\nconst b = await agent("second", { label: "b" })\nreturn [a, b]\n`,
    });
    const first = await weft(["run", "wf.js", "--command", AGENT_CMD], dir);
    expect(first.code).toBe(0);
    const id = /^run (\S+)/m.exec(first.stderr)![1]!;
    writeFileSync(
      join(dir, "wf.js"),
      `${meta("edited")}const a = await agent("first", { label: "a" })\nconst b = await agent("second, edited", { label: "b" })\nreturn [a, b, await agent("third", { label: "c" })]\n`,
    );
    const again = await weft(["run", "wf.js", "--resume", id, "--command", AGENT_CMD], dir);
    expect(again.code, again.stderr).toBe(0);
    const { page, url } = await open(dir);
    await page.goto(`${url}#/compare?a=${id}`);
    const table = page.locator("#comparison table");
    await table.waitFor();
    const changes = async () =>
      Object.fromEntries(
        await Promise.all(
          (await table.locator("tbody tr").all()).map(async (tr) => [
            await tr.locator("td").nth(1).textContent(),
            await tr.getAttribute("data-change"),
          ]),
        ),
      );
    expect(await changes()).toEqual({ a: "cached", b: "re-run", c: "new" });
    await shot(page, dir, "compare");
  });
});
