/**
 * What the engine asks of tracing (U11), without loading any OpenTelemetry module: the SDK is
 * imported only when a run is configured to export (src/trace/otel.ts), so a run without tracing
 * pays nothing for it.
 */
export interface AgentTrace {
  /** Environment for attempt `attempt` of agent `n`: TRACEPARENT of its span, resource attributes. */
  envFor(n: number, attempt: number): Record<string, string> | undefined;
  /** A tool call the backend reported, recorded as an event of the attempt's span. */
  toolCall(n: number, attempt: number, name: string): void;
}
