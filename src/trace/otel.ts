/**
 * U11: one OpenTelemetry trace per execution, built from the run's event stream (the same one
 * every reporter renders) plus two engine hooks (AgentTrace) for what the stream does not carry:
 * the attempt's TRACEPARENT for the agent CLI, and each tool call.
 *
 * Spans: the run (root, or a child of the TRACEPARENT weft itself was started with), one per
 * phase, one per agent attempt (GenAI semantic conventions: invoke_agent). A cached agent is a
 * zero-length attempt span with `weft.cached`. Usage is the agent's total, on its last attempt.
 *
 * The provider is private to the run, never registered globally: a library user's own
 * OpenTelemetry setup is left alone.
 */
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { ExportResultCode, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { Reporter, RunEvent } from "../report/events.js";
import { VERSION } from "../version.js";
import type { AgentTrace } from "./agent-trace.js";
import type { TraceTarget } from "./endpoint.js";

/** How long the end of a run waits for the last spans to leave (an unreachable collector must not hold weft). */
const FLUSH_MS = 3_000;

export interface RunTracing extends Reporter, AgentTrace {
  /** Ends what is open, sends the rest; resolves to a warning when the export failed. */
  flush(): Promise<string | undefined>;
}

export interface TracingOptions {
  target: TraceTarget;
  /** The environment weft runs in: TRACEPARENT/TRACESTATE there make the run a child span. */
  env: NodeJS.ProcessEnv;
}

interface Attempt {
  span: Span;
  attempt: number;
  phase?: Phase;
}

interface Phase {
  span: Span;
  ctx: Context;
  start: number;
  /** The latest end of anything under it, so the phase covers its agents. */
  last: number;
}

export function createRunTracing(o: TracingOptions): RunTracing {
  return new OtelRunTracing(o);
}

class OtelRunTracing implements RunTracing {
  private readonly provider: TracerProvider;
  private readonly tracer;
  private readonly exporter: CountingExporter;
  private parent: Context;
  private run?: Span;
  private runCtx?: Context;
  private runId = "";
  private name = "";
  private readonly phases = new Map<string, Phase>();
  private readonly phaseList: Phase[] = [];
  private readonly attempts = new Map<number, Attempt>();
  private flushed?: Promise<string | undefined>;

  constructor(private readonly o: TracingOptions) {
    this.exporter = new CountingExporter(
      new OTLPTraceExporter({ url: o.target.url, headers: o.target.headers, timeoutMillis: FLUSH_MS }),
    );
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({
        "service.name": o.env.OTEL_SERVICE_NAME || "weft",
        "service.version": VERSION,
      }),
      spanProcessors: [new BatchSpanProcessor({ exporter: this.exporter, scheduledDelayMillis: 1_000 })],
    });
    this.tracer = this.provider.getTracer("weftkit", VERSION);
    this.parent = new W3CTraceContextPropagator().extract(
      ROOT_CONTEXT,
      { traceparent: o.env.TRACEPARENT, tracestate: o.env.TRACESTATE },
      {
        get: (c, k) => (c as Record<string, string | undefined>)[k],
        keys: (c) => Object.keys(c as object),
      },
    );
  }

  event(e: RunEvent): void {
    try {
      this.on(e);
    } catch {
      // Tracing is an observer: nothing it does may change the run.
    }
  }

  private on(e: RunEvent): void {
    const now = Date.now();
    switch (e.type) {
      case "run.started": {
        this.runId = e.runId;
        this.name = e.name;
        this.run = this.tracer.startSpan(
          `workflow ${e.name}`,
          {
            kind: SpanKind.INTERNAL,
            startTime: now,
            attributes: {
              "weft.run_id": e.runId,
              "weft.workflow": e.name,
              "weft.resumed": e.resumed,
              "weft.driver": e.driver,
              ...(e.limits?.budget != null ? { "weft.limits.budget": e.limits.budget } : {}),
              ...(e.limits ? { "weft.limits.max_agents": e.limits.maxAgents } : {}),
            },
          },
          this.parent,
        );
        this.runCtx = trace.setSpan(this.parent, this.run);
        return;
      }
      case "phase": {
        const span = this.tracer.startSpan(
          `phase ${e.title}`,
          { startTime: now, attributes: { "weft.run_id": this.runId, "weft.phase": e.title } },
          this.rootCtx(),
        );
        const p: Phase = { span, ctx: trace.setSpan(this.rootCtx(), span), start: now, last: now };
        this.phases.set(e.title, p);
        this.phaseList.push(p);
        return;
      }
      case "agent.started": {
        this.endAttempt(e.n, now, { error: "ended for another attempt" });
        const { span, phase } = this.agentSpan(e, now, {
          "gen_ai.system": providerOf(e.driver, e.model),
          "gen_ai.provider.name": providerOf(e.driver, e.model),
          ...(e.model ? { "gen_ai.request.model": e.model } : {}),
          "weft.attempt": e.attempt,
          "weft.driver": e.driver,
          "weft.cached": false,
        });
        this.attempts.set(e.n, { span, attempt: e.attempt, phase });
        return;
      }
      case "agent.activity": {
        if (e.model) this.attempts.get(e.n)?.span.setAttribute("gen_ai.response.model", e.model);
        return;
      }
      case "agent.retry":
        this.endAttempt(e.n, now, { error: e.error, retried: true });
        return;
      case "agent.repair": {
        const a = this.attempts.get(e.n);
        a?.span.addEvent("weft.repair", { "weft.errors": e.errors.slice(0, 10).join("\n") }, now);
        this.endAttempt(e.n, now, { error: "the output did not match the schema" });
        return;
      }
      case "agent.finished": {
        const usage = {
          "gen_ai.usage.input_tokens": e.usage.input,
          "gen_ai.usage.output_tokens": e.usage.output,
          "weft.usage.cached_tokens": e.usage.cached,
          "weft.usage.reasoning_tokens": e.usage.reasoning,
          ...(e.usage.costUsd !== undefined ? { "weft.cost_usd": e.usage.costUsd } : {}),
          "weft.status": e.status,
          "weft.attempts": e.attempts,
        };
        if (e.cached) {
          const { span, phase } = this.agentSpan(e, now, { "weft.cached": true, ...usage });
          span.end(now);
          if (phase) phase.last = Math.max(phase.last, now);
          return;
        }
        const a = this.attempts.get(e.n);
        if (!a) return;
        a.span.setAttributes(usage);
        this.endAttempt(e.n, now, e.status === "failed" ? { error: e.error ?? "the agent failed" } : {});
        return;
      }
      case "agent.refused":
        this.run?.addEvent("weft.refused", {
          "weft.reason": e.reason,
          ...(e.label ? { "weft.label": e.label } : {}),
        });
        return;
      case "gate.waiting":
        this.run?.addEvent("weft.gate.waiting", { "weft.gate": e.n, "weft.gate.title": e.title });
        return;
      case "gate.answered":
        this.run?.addEvent("weft.gate.answered", {
          "weft.gate": e.n,
          "weft.gate.title": e.title,
          "weft.gate.approved": e.approved,
          "weft.gate.by": e.by,
        });
        return;
      case "warning":
        this.run?.addEvent("weft.warning", { "weft.message": e.message });
        return;
      case "run.finished": {
        for (const n of [...this.attempts.keys()]) this.endAttempt(n, now, { open: true });
        this.endPhases(now);
        const s = e.summary;
        this.run?.setAttributes({
          "weft.status": e.status,
          "gen_ai.usage.input_tokens": s.tokens.input,
          "gen_ai.usage.output_tokens": s.tokens.output,
          "weft.usage.cached_tokens": s.tokens.cached,
          "weft.usage.reasoning_tokens": s.tokens.reasoning,
          "weft.cost_usd": s.costUsd,
          ...Object.fromEntries(Object.entries(s.agents).map(([k, v]) => [`weft.agents.${k}`, v])),
        });
        if (e.status === "failed") this.run?.setStatus({ code: SpanStatusCode.ERROR, message: e.error });
        this.run?.end(now);
        this.run = undefined;
        return;
      }
      default:
        return;
    }
  }

  envFor(n: number, attempt: number): Record<string, string> | undefined {
    const a = this.attempts.get(n);
    if (!a || a.attempt !== attempt) return undefined;
    const sc = a.span.spanContext();
    const resource = [
      ["workflow.run_id", this.runId],
      ["workflow.name", this.name],
      ["weft.agent", String(n)],
    ]
      .map(([k, v]) => `${k}=${encodeURIComponent(v as string)}`)
      .join(",");
    const own = this.o.env.OTEL_RESOURCE_ATTRIBUTES?.trim();
    const env: Record<string, string> = {
      TRACEPARENT: `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 1).toString(16).padStart(2, "0")}`,
      OTEL_RESOURCE_ATTRIBUTES: own ? `${own},${resource}` : resource,
    };
    if (sc.traceState) env.TRACESTATE = sc.traceState.serialize();
    return env;
  }

  toolCall(n: number, attempt: number, name: string): void {
    const a = this.attempts.get(n);
    if (a && a.attempt === attempt) a.span.addEvent("gen_ai.tool.call", { "gen_ai.tool.name": name });
  }

  flush(): Promise<string | undefined> {
    this.flushed ??= (async () => {
      const now = Date.now();
      // A run that ended without run.finished (lock lost, crash on the way out) still sends what it has.
      for (const n of [...this.attempts.keys()]) this.endAttempt(n, now, { open: true });
      this.endPhases(now);
      this.run?.end(now);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, FLUSH_MS + 1_000);
        timer.unref();
      });
      await Promise.race([this.provider.shutdown().catch(() => {}), timeout]);
      clearTimeout(timer);
      const { failed, error } = this.exporter;
      if (failed === 0) return undefined;
      return `could not export ${failed} span${failed === 1 ? "" : "s"} to ${this.o.target.url}${error ? `: ${error}` : ""}`;
    })();
    return this.flushed;
  }

  /** An agent's span (GenAI invoke_agent) under its phase's span, or the run's. */
  private agentSpan(
    e: { n: number; label?: string; phase?: string },
    now: number,
    extra: Attributes,
  ): { span: Span; phase?: Phase } {
    const phase = e.phase !== undefined ? this.phases.get(e.phase) : undefined;
    const name = e.label ?? `agent ${e.n}`;
    const span = this.tracer.startSpan(
      `invoke_agent ${name}`,
      {
        kind: SpanKind.CLIENT,
        startTime: now,
        attributes: {
          "gen_ai.operation.name": "invoke_agent",
          "gen_ai.agent.name": name,
          "weft.run_id": this.runId,
          "weft.agent": e.n,
          ...(e.label !== undefined ? { "weft.label": e.label } : {}),
          ...(e.phase !== undefined ? { "weft.phase": e.phase } : {}),
          ...extra,
        },
      },
      phase?.ctx ?? this.rootCtx(),
    );
    return { span, phase };
  }

  private rootCtx(): Context {
    return this.runCtx ?? this.parent;
  }

  private endAttempt(n: number, at: number, o: { error?: string; retried?: boolean; open?: boolean }): void {
    const a = this.attempts.get(n);
    if (!a) return;
    this.attempts.delete(n);
    if (o.open) a.span.setAttribute("weft.status", "interrupted");
    if (o.retried) a.span.setAttribute("weft.retried", true);
    if (o.error !== undefined) a.span.setStatus({ code: SpanStatusCode.ERROR, message: o.error });
    a.span.end(at);
    if (a.phase) a.phase.last = Math.max(a.phase.last, at);
  }

  private endPhases(now: number): void {
    // A phase ends where the next begins, or later if its agents ran on (phases are marks in a
    // script, and parallel agents of an earlier phase often outlive the next mark).
    this.phaseList.forEach((p, i) => {
      const next = this.phaseList[i + 1]?.start ?? now;
      p.span.end(Math.max(next, p.last));
    });
    this.phaseList.length = 0;
    this.phases.clear();
  }
}

/** The GenAI `gen_ai.system` of a backend: its vendor when the driver has one, else the model's prefix. */
function providerOf(driver: string, model: string | undefined): string {
  const fixed: Record<string, string> = { claude: "anthropic", codex: "openai", gemini: "gcp.gemini" };
  if (fixed[driver]) return fixed[driver];
  const prefix = model?.includes("/") ? model.split("/")[0] : undefined;
  return prefix || driver;
}

/** Counts spans the collector did not take, so the run can say the export failed. */
class CountingExporter implements SpanExporter {
  failed = 0;
  error?: string;
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: Parameters<SpanExporter["export"]>[1]): void {
    this.inner.export(spans, (r) => {
      if (r.code !== ExportResultCode.SUCCESS) {
        this.failed += spans.length;
        this.error ??= r.error?.message;
      }
      done(r);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
