/**
 * U11: a run's OpenTelemetry trace, received as a collector would receive it: an HTTP listener
 * on loopback decoding the OTLP/JSON the official exporter POSTs.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, test } from "vitest";
import type { AgentTask, Driver, DriverRunContext } from "../../dist/index.js";
import { runWorkflow } from "../../dist/index.js";
import { AGENT_CMD, meta, project, runIdOf, runScript, weft } from "../helpers/cli.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status?: { code?: number; message?: string };
  attrs: Record<string, unknown>;
  events: { name: string; attrs: Record<string, unknown> }[];
}

function flatten(list: { key: string; value: Record<string, unknown> }[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list) {
    const [kind, v] = Object.entries(value)[0] ?? [];
    out[key] = kind === "intValue" ? Number(v) : v;
  }
  return out;
}

class Collector {
  readonly spans: OtlpSpan[] = [];
  readonly resources: Record<string, unknown>[] = [];
  requests = 0;
  private server?: Server;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        this.requests++;
        let body = Buffer.concat(chunks);
        if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
        const doc = JSON.parse(body.toString("utf8"));
        for (const rs of doc.resourceSpans ?? []) {
          this.resources.push(flatten(rs.resource?.attributes));
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              this.spans.push({
                ...s,
                parentSpanId: s.parentSpanId || undefined,
                attrs: flatten(s.attributes),
                events: (s.events ?? []).map((e: { name: string; attributes: never[] }) => ({
                  name: e.name,
                  attrs: flatten(e.attributes),
                })),
              });
            }
          }
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  byName(name: string): OtlpSpan[] {
    return this.spans.filter((s) => s.name === name);
  }
}

const collectors: Collector[] = [];
afterEach(async () => {
  await Promise.all(collectors.splice(0).map((c) => c.stop()));
});
async function collector(): Promise<Collector> {
  const c = await new Collector().start();
  collectors.push(c);
  return c;
}

/** An agent program that records the trace context weft gave it, then answers like the fixture. */
const ENV_AGENT = `import { appendFileSync, readFileSync } from "node:fs";
const prompt = readFileSync(process.env.WEFT_TASK_FILE, "utf8");
appendFileSync(process.env.ENV_LOG, JSON.stringify({ n: process.env.WEFT_AGENT_INDEX, attempt: process.env.WEFT_ATTEMPT, traceparent: process.env.TRACEPARENT, resource: process.env.OTEL_RESOURCE_ATTRIBUTES }) + "\\n");
if (prompt.includes("fail-first") && process.env.WEFT_ATTEMPT === "1") process.exit(1);
const m = /usage:(\\d+),(\\d+)/.exec(prompt);
if (m) (await import("node:fs")).writeFileSync(process.env.WEFT_USAGE_FILE, JSON.stringify({ input: +m[1], output: +m[2] }));
process.stdout.write("ok " + prompt);
`;

describe("tracing", () => {
  test("U11 a run exports one trace: run, phase and agent-attempt spans with GenAI and weft attributes; each agent gets its span as TRACEPARENT", async () => {
    const c = await collector();
    const dir = project({
      "agent.mjs": ENV_AGENT,
      "wf.js": `${meta("traced")}phase("Find")
await agent("usage:100,20 find", { label: "finder" })
phase("Fix")
await parallel([() => agent("fix one fail-first", { label: "one", retries: 1 }), () => agent("fix two", { label: "two" })])
return "done"\n`,
    });
    const envLog = join(dir, "env.jsonl");
    const r = await weft(["run", "wf.js", "--command", `node ${join(dir, "agent.mjs")}`], dir, {
      OTEL_EXPORTER_OTLP_ENDPOINT: c.url,
      OTEL_RESOURCE_ATTRIBUTES: "team=infra",
      ENV_LOG: envLog,
    });
    expect(r.code, r.stderr).toBe(0);
    const id = runIdOf(r);

    expect(new Set(c.spans.map((s) => s.traceId)).size).toBe(1);
    const [root] = c.byName("workflow traced");
    expect(root).toBeDefined();
    expect(root!.parentSpanId).toBeUndefined();
    expect(root!.attrs).toMatchObject({
      "weft.run_id": id,
      "weft.workflow": "traced",
      "weft.status": "completed",
      "gen_ai.usage.input_tokens": 100,
      "gen_ai.usage.output_tokens": 20,
    });
    expect(c.resources[0]).toMatchObject({ "service.name": "weft" });

    const [find] = c.byName("phase Find");
    const [fix] = c.byName("phase Fix");
    expect(find!.parentSpanId).toBe(root!.spanId);
    expect(fix!.parentSpanId).toBe(root!.spanId);

    const [finder] = c.byName("invoke_agent finder");
    expect(finder!.parentSpanId).toBe(find!.spanId);
    expect(finder!.attrs).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.system": "command",
      "gen_ai.usage.input_tokens": 100,
      "gen_ai.usage.output_tokens": 20,
      "weft.run_id": id,
      "weft.agent": 1,
      "weft.label": "finder",
      "weft.cached": false,
      "weft.status": "completed",
    });

    // The retried agent has one span per attempt; the first one ended in error.
    const one = c
      .byName("invoke_agent one")
      .sort((a, b) => Number(a.attrs["weft.attempt"]) - Number(b.attrs["weft.attempt"]));
    expect(one.map((s) => s.attrs["weft.attempt"])).toEqual([1, 2]);
    expect(one[0]!.status?.code).toBe(2);
    expect(one[0]!.attrs["weft.retried"]).toBe(true);
    expect(one[1]!.status?.code ?? 0).not.toBe(2);
    for (const s of [...one, ...c.byName("invoke_agent two")]) expect(s.parentSpanId).toBe(fix!.spanId);
    // A phase covers its agents.
    for (const s of one) expect(BigInt(s.endTimeUnixNano) <= BigInt(fix!.endTimeUnixNano)).toBe(true);

    // Each attempt's process got its own span as parent, and the run's resource attributes after the user's.
    const seen = readFileSync(envLog, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(seen).toHaveLength(4);
    for (const e of seen) {
      const span = c.spans.find(
        (s) => s.attrs["weft.agent"] === Number(e.n) && s.attrs["weft.attempt"] === Number(e.attempt),
      );
      expect(e.traceparent).toBe(`00-${span!.traceId}-${span!.spanId}-01`);
      expect(e.resource).toBe(`team=infra,workflow.run_id=${id},workflow.name=traced,weft.agent=${e.n}`);
    }
  });

  test("U11 a resumed execution exports its own trace, cached agents as zero-length spans with weft.cached", async () => {
    const c = await collector();
    const dir = project({ "wf.js": `${meta("again")}await agent("a", { label: "a" })\nreturn 1\n` });
    const first = await runScript(dir, "wf.js");
    expect(first.code).toBe(0);
    const id = runIdOf(first);
    const again = await weft(["resume", id, "--command", AGENT_CMD], dir, {
      OTEL_EXPORTER_OTLP_ENDPOINT: c.url,
    });
    expect(again.code, again.stderr).toBe(0);
    const [root] = c.byName("workflow again");
    expect(root!.attrs["weft.resumed"]).toBe(true);
    const [a] = c.byName("invoke_agent a");
    expect(a!.attrs).toMatchObject({ "weft.cached": true, "weft.agent": 1, "gen_ai.usage.input_tokens": 0 });
    expect(a!.startTimeUnixNano).toBe(a!.endTimeUnixNano);
    expect(a!.parentSpanId).toBe(root!.spanId);
  });

  test("U11 the otel setting names the endpoint, weft's own TRACEPARENT makes the run a child span, and 'off' or OTEL_SDK_DISABLED export nothing", async () => {
    const c = await collector();
    const dir = project({ "wf.js": `${meta("child")}return await agent("a")\n` });
    const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const r = await runScript(dir, "wf.js", ["--otel", c.url], { TRACEPARENT: parent });
    expect(r.code, r.stderr).toBe(0);
    const [root] = c.byName("workflow child");
    expect(root!.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(root!.parentSpanId).toBe("b7ad6b7169203331");

    const before = c.requests;
    const off = await runScript(dir, "wf.js", ["--otel", "off"], { OTEL_EXPORTER_OTLP_ENDPOINT: c.url });
    expect(off.code).toBe(0);
    writeFileSync(join(dir, ".weft", "config.json"), JSON.stringify({ otel: c.url }));
    const disabled = await runScript(dir, "wf.js", [], { OTEL_SDK_DISABLED: "true" });
    expect(disabled.code).toBe(0);
    expect(c.requests).toBe(before);
    // The project setting alone is enough.
    const fromConfig = await runScript(dir, "wf.js");
    expect(fromConfig.code).toBe(0);
    expect(c.requests).toBeGreaterThan(before);
  });

  test("U11 an unreachable collector never fails the run: it completes and says once that the export failed", async () => {
    const c = await collector();
    const url = c.url;
    await c.stop();
    collectors.length = 0;
    const dir = project({ "wf.js": `${meta("lost")}return await agent("a")\n` });
    const r = await runScript(dir, "wf.js", [], { OTEL_EXPORTER_OTLP_ENDPOINT: url });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("echo: a");
    expect(
      r.stderr.match(/tracing: could not export \d+ spans? to http:\/\/127\.0\.0\.1:\d+\/v1\/traces/g),
    ).toHaveLength(1);
  });

  test("U11 without an endpoint no OpenTelemetry module is loaded", async () => {
    const dir = project({
      "wf.js": `${meta("plain")}return await agent("a")\n`,
      "hooks.mjs": `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.includes("@opentelemetry")) appendFileSync(process.env.PROBE, r.url + "\\n");
  return r;
}\n`,
      "register.mjs": `import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\n`,
    });
    const probe = join(dir, "probe.txt");
    writeFileSync(probe, "");
    const env = { NODE_OPTIONS: `--import ${join(dir, "register.mjs")}`, PROBE: probe };
    const r = await runScript(dir, "wf.js", [], env);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(probe, "utf8")).toBe("");
    // The probe itself works: with an endpoint the SDK is loaded.
    const c = await collector();
    const traced = await runScript(dir, "wf.js", [], { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: c.url });
    expect(traced.code, traced.stderr).toBe(0);
    expect(readFileSync(probe, "utf8")).toMatch(/@opentelemetry\/sdk-trace/);
  });

  test("U11 tool calls a backend reports are events of the attempt's span (library Driver)", async () => {
    const c = await collector();
    const dir = project();
    const envs: (Record<string, string> | undefined)[] = [];
    const driver: Driver = {
      name: "claude",
      async run(task: AgentTask, ctx: DriverRunContext) {
        envs.push(task.env);
        ctx.onEvent({ type: "tool_call", name: "Read", input: { file_path: "a.ts" } });
        ctx.onEvent({ type: "tool_call", name: "Bash" });
        return {
          status: "completed",
          text: "ok",
          usage: { input: 5, output: 7, cached: 0, reasoning: 0 },
          model: "claude-x",
        };
      },
    };
    const res = await runWorkflow({
      script: {
        source: `${meta("tools")}return await agent("look", { label: "look" })\n`,
        path: "inline.js",
      },
      cwd: dir,
      driver,
      settings: { otel: c.url },
    });
    expect(res.status).toBe("completed");
    const [span] = c.byName("invoke_agent look");
    expect(span!.events.map((e) => [e.name, e.attrs["gen_ai.tool.name"]])).toEqual([
      ["gen_ai.tool.call", "Read"],
      ["gen_ai.tool.call", "Bash"],
    ]);
    expect(span!.attrs).toMatchObject({ "gen_ai.system": "anthropic", "gen_ai.usage.output_tokens": 7 });
    expect(envs[0]?.TRACEPARENT).toBe(`00-${span!.traceId}-${span!.spanId}-01`);
  });
});
