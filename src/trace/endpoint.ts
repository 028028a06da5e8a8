/**
 * Where a run's trace goes (U11): the `otel` setting (an OTLP/HTTP endpoint, or "off"), else the
 * standard OpenTelemetry variables, so a user who already exports from other tools needs nothing
 * new. `OTEL_SDK_DISABLED=true` turns it off as it does for every OpenTelemetry SDK.
 */
export interface TraceTarget {
  /** Full URL the spans are POSTed to (…/v1/traces). */
  url: string;
  /** Extra headers from OTEL_EXPORTER_OTLP_(TRACES_)HEADERS (`k=v,k2=v2`). */
  headers: Record<string, string>;
}

export function traceTarget(setting: string | undefined, env: NodeJS.ProcessEnv): TraceTarget | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  if (setting !== undefined && ["off", "false", "0", "none"].includes(setting.trim().toLowerCase())) {
    return undefined;
  }
  const headers = parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS, env.OTEL_EXPORTER_OTLP_TRACES_HEADERS);
  if (setting !== undefined && setting.trim() !== "") return { url: signalUrl(setting.trim()), headers };
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  // The signal-specific variable is used as given; the general one gets the signal's path (as
  // the OpenTelemetry specification says for OTLP/HTTP).
  if (traces) return { url: traces, headers };
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) return { url: signalUrl(base), headers };
  return undefined;
}

function signalUrl(base: string): string {
  if (/\/v1\/traces\/?$/.test(base)) return base;
  return `${base.replace(/\/+$/, "")}/v1/traces`;
}

function parseHeaders(...lists: (string | undefined)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const list of lists) {
    for (const part of (list ?? "").split(",")) {
      const eq = part.indexOf("=");
      if (eq <= 0) continue;
      const key = part.slice(0, eq).trim();
      const value = part.slice(eq + 1).trim();
      try {
        out[decodeURIComponent(key)] = decodeURIComponent(value);
      } catch {
        out[key] = value;
      }
    }
  }
  return out;
}
