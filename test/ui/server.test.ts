/**
 * U08: who may talk to `weft ui`, and what it answers, over plain HTTP against the real CLI. The
 * page itself is tested in Chromium (dashboard.test.ts).
 */
import { spawn } from "node:child_process";
import { request } from "node:http";
import { afterEach, describe, expect, test } from "vitest";
import { cleanEnv, meta, project, runIdOf, runScript, WEFT_BIN } from "../helpers/cli.js";
import { startUiProcess, stopUis } from "../helpers/ui.js";

afterEach(stopUis);

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  port: number,
  path: string,
  o: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: o.method ?? "GET", headers: o.headers },
      (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
}

describe("weft ui server", () => {
  test("U08 every request needs the token, the Host header must be this server's, no CORS headers are sent, and a change needs the token in a header", async () => {
    const dir = project({ "wf.js": `${meta("one")}return await agent("a")\n` });
    const r = await runScript(dir, "wf.js");
    const id = runIdOf(r);
    const ui = await startUiProcess(dir);
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);

    for (const path of [
      "/",
      "/app.js",
      "/api/runs",
      `/api/runs/${id}`,
      `/api/runs/${id}/agents/1`,
      "/api/runs/stream",
    ]) {
      expect((await call(ui.port, path)).status, path).toBe(401);
      expect(
        (await call(ui.port, `${path}${path.includes("?") ? "&" : "?"}token=wrong${ui.token.slice(5)}`))
          .status,
      ).toBe(401);
    }
    // The first load sets an HttpOnly, SameSite=Strict cookie that the page's later requests carry.
    const first = await call(ui.port, `/?token=${ui.token}`);
    expect(first.status).toBe(200);
    const cookie = String(first.headers["set-cookie"]);
    expect(cookie).toMatch(/weft_token=[^;]+; HttpOnly; SameSite=Strict/);
    expect(first.headers["content-security-policy"]).toMatch(/script-src 'self'/);
    const withCookie = await call(ui.port, "/api/runs", { headers: { cookie: cookie.split(";")[0]! } });
    expect(withCookie.status).toBe(200);
    expect(JSON.parse(withCookie.body)[0]).toMatchObject({ runId: id, status: "completed" });

    // DNS rebinding: the right token but another host name.
    const rebound = await call(ui.port, `/api/runs?token=${ui.token}`, {
      headers: { host: `attacker.example:${ui.port}` },
    });
    expect(rebound.status).toBe(421);

    // No CORS, even when asked.
    const cors = await call(ui.port, "/api/runs", {
      headers: { "x-weft-token": ui.token, origin: "http://attacker.example" },
    });
    expect(Object.keys(cors.headers).filter((h) => h.startsWith("access-control"))).toEqual([]);
    const preflight = await call(ui.port, "/api/runs", {
      method: "OPTIONS",
      headers: { origin: "http://attacker.example" },
    });
    expect(preflight.status).toBe(401);

    // A POST with only the cookie (what a cross-site form could send) is refused; so is another Origin.
    const body = JSON.stringify({ action: "stop" });
    const formPost = await call(ui.port, `/api/runs/${id}/control`, {
      method: "POST",
      headers: { cookie: cookie.split(";")[0]!, "content-type": "application/json" },
      body,
    });
    expect(formPost.status).toBe(403);
    const otherOrigin = await call(ui.port, `/api/runs/${id}/control`, {
      method: "POST",
      headers: { "x-weft-token": ui.token, origin: "http://attacker.example" },
      body,
    });
    expect(otherOrigin.status).toBe(403);
    const ok = await call(ui.port, `/api/runs/${id}/control`, {
      method: "POST",
      headers: { "x-weft-token": ui.token, origin: `http://127.0.0.1:${ui.port}` },
      body,
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ state: "not-running" });
  });

  test("U08 run ids and agent numbers from the URL never name a path outside the runs folder", async () => {
    const dir = project({ "wf.js": `${meta("one")}return await agent("a")\n` });
    await runScript(dir, "wf.js");
    const ui = await startUiProcess(dir);
    const h = { "x-weft-token": ui.token };
    for (const path of [
      "/api/runs/..%2F..%2F..%2Fetc",
      "/api/runs/..",
      "/api/runs/%2Fetc%2Fpasswd/agents/1",
      "/api/runs/.hidden/agents/1",
      "/api/compare?a=..%2F..",
      "/app.js/../../package.json",
      "/../package.json",
    ]) {
      const r = await call(ui.port, path, { headers: h });
      expect(r.status, path).toBe(404);
    }
    const unknown = await call(ui.port, "/api/runs/nope-123456", { headers: h });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error).toMatch(/no run nope-123456/);
  });

  test("U08 --port takes a given port, a bad one is a usage error (exit 2)", async () => {
    const dir = project();
    const bad = spawn(process.execPath, [WEFT_BIN, "ui", "--port", "99999"], {
      cwd: dir,
      env: cleanEnv(dir),
    });
    let err = "";
    bad.stderr.on("data", (d) => {
      err += d;
    });
    const code = await new Promise((r) => bad.on("close", r));
    expect(code).toBe(2);
    expect(err).toMatch(/--port must be a port number/);
  });
});
