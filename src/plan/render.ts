/** A plan as text (what `weft plan` prints and `plan.md` holds) and as work packets. */

import type { Count, Plan, PlanAgent, PlanOption } from "./analyze.js";
import { largeRunWarning } from "./large-run.js";
import { type PacketData, renderPacket } from "./packet.js";

const num = (n: number) => n.toLocaleString("en-US");
const countText = (c: Count) => (c.exact ? num(c.n) : `~${num(c.n)}`);

function optionText(o: PlanOption): string {
  return o.when ? `${optionValue(o)} (if ${o.when})` : optionValue(o);
}

function optionValue(o: PlanOption): string {
  if (o.name === "schema")
    return o.known ? `schema=${o.source.length <= 30 ? o.source : "{…}"}` : `schema=${o.source}`;
  if (o.known && typeof o.value === "string") return `${o.name}=${JSON.stringify(o.value)}`;
  if (o.known) return `${o.name}=${JSON.stringify(o.value)}`;
  return `${o.name}=‹${o.source}›`;
}

const oneLine = (s: string, max = 100) => {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

/** The plan as Markdown; readable in a terminal as it is. */
export function renderPlan(plan: Plan): string {
  const m = plan.meta;
  const out: string[] = [`# Plan: ${m.name}`, "", `Script: ${plan.path} (read, not run)`, "", m.description];
  if (m.whenToUse) out.push("", `When to use: ${m.whenToUse}`);
  if (m.args) out.push("", "Args schema:", "", "```json", JSON.stringify(m.args, null, 2), "```");
  out.push(
    "",
    plan.args.given ? `Args: \`${JSON.stringify(plan.args.value)}\`` : "Args: none given (--args)",
  );

  out.push("", "## Phases", "");
  if (plan.phases.length === 0) out.push("(none)");
  let i = 0;
  for (const p of plan.phases) {
    const calls = p.lines.length > 0 ? `phase() at line ${p.lines.join(", ")}` : "no phase() call";
    const where = p.source === "meta" ? `meta.phases; ${calls}` : calls;
    out.push(`${++i}. ${p.title}${p.detail ? ` — ${p.detail}` : ""} (${where})`);
  }

  out.push("", "## Agent calls", "");
  if (plan.agents.length === 0) out.push("(no literal agent() call)");
  for (const a of plan.agents) out.push(...agentLines(a));

  out.push("", "## Fan-out", "");
  if (plan.fanOuts.length === 0) out.push("(none: every agent call runs once)");
  for (const f of plan.fanOuts) {
    const what =
      f.origin.kind === "literal"
        ? `a literal list of ${f.count.n}`
        : f.origin.kind === "args"
          ? `args path \`${f.origin.path}\`${f.count.exact ? ` (${f.count.n} in --args)` : ""}`
          : f.origin.kind === "agent"
            ? `the result of the agent() at line ${f.origin.line}`
            : f.origin.kind === "loop"
              ? "a loop"
              : `\`${f.origin.source}\``;
    out.push(
      `- line ${f.line}: ${f.kind} over \`${f.over}\`: ${what}; ${countText(f.count)} ${f.kind === "parallel" ? "thunks" : "items"}${f.count.exact ? "" : " (assumed)"}; agent calls ${f.agents.map((n) => `#${n}`).join(", ")}${f.parallel !== undefined ? `; run by parallel() at line ${f.parallel}` : ""}`,
    );
  }
  for (const o of plan.others) out.push(`- line ${o.line}: \`${o.call}\`: ${o.note}`);

  const e = plan.estimate;
  out.push("", "## Estimate", "");
  out.push(
    `- agents: ${countText(e.agents)}${e.agents.exact ? " (exact, if every call is reached)" : " (estimate)"}`,
  );
  out.push(`- tokens: ~${num(e.tokens)} (${num(e.tokensPerAgent)} per agent: ${e.tokensPerAgentSource})`);
  const large = largeRunWarning(e);
  if (large) out.push(`- warning: ${large}`);
  if (e.agents.assumptions.length > 0) {
    out.push("- assumptions:");
    for (const a of e.agents.assumptions) out.push(`  - ${a}`);
  }
  out.push(`- not counted: ${e.notCounted.join("; ")}`);
  return `${out.join("\n")}\n`;
}

function agentLines(a: PlanAgent): string[] {
  const head = [`#${a.n} line ${a.line}`];
  if (a.label) head.push(`label ${JSON.stringify(a.label)}`);
  if (a.phase) head.push(`phase ${JSON.stringify(a.phase)}`);
  head.push(`runs ${countText(a.runs)}×`);
  const lines = [`- ${head.join(", ")}`, `  - prompt: ${oneLine(a.prompt)}`];
  const opts = a.options.filter((o) => o.name !== "label" && o.name !== "phase");
  if (opts.length > 0) lines.push(`  - options: ${opts.map(optionText).join(", ")}`);
  if (a.fanOuts.length > 0) lines.push(`  - under fan-out at line ${a.fanOuts.join(", ")}`);
  if (a.inFunction) lines.push(`  - in function \`${a.inFunction}\` (counted from its calls)`);
  if (a.conditional) lines.push("  - under a condition");
  return lines;
}

/** One packet per literal agent call (U06 `--packets`): from the script, before anything runs. */
export function planPackets(plan: Plan): { n: number; text: string }[] {
  return plan.agents.map((a) => {
    const opt = (k: string) => a.options.find((o) => o.name === k);
    const val = (k: string) => {
      const o = opt(k);
      if (!o) return undefined;
      return o.known ? (o.value as string | string[]) : `‹${o.source}›`;
    };
    const context: [string, string][] = [];
    if (a.phase) context.push(["phase", a.phase]);
    if (a.label) context.push(["label", a.label]);
    context.push(["workflow", `${plan.meta.name}: ${plan.meta.description}`]);
    context.push([
      "runs",
      `${countText(a.runs)} time(s)${a.fanOuts.length ? `, fan-out at line ${a.fanOuts.join(", ")}` : ""}`,
    ]);
    for (const k of ["model", "effort", "agentType", "driver", "timeoutMs", "retries"]) {
      const v = val(k);
      if (v !== undefined) context.push([k, String(v)]);
    }
    if (a.prompt.includes("${"))
      context.push(["note", "the prompt has parts known only at run time (shown as `$" + "{...}`)"]);
    const schema = opt("schema");
    const data: PacketData = {
      title: `Packet ${a.n}${a.label ? `: ${a.label}` : ""}`,
      origin: `${plan.path}:${a.line}`,
      objective: a.prompt,
      context,
      isolation: val("isolation") as string | undefined,
      writes: val("writes"),
      permissions: val("permissions") as string | undefined,
      schema: schema?.known ? schema.value : undefined,
      schemaSource:
        schema && (!schema.known || /^[A-Za-z_$][\w$]*$/.test(schema.source)) ? schema.source : undefined,
      verify: val("verify"),
    };
    return { n: a.n, text: renderPacket(data) };
  });
}
