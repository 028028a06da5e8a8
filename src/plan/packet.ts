/**
 * A work packet: one agent's task written out for a person (U06 `--packets`, U07 `packets/<n>.md`).
 * The same five sections whether it comes from a script read without running it or from a run's
 * agent record: objective, context, ownership, expected output, verification.
 */
export interface PacketData {
  title: string;
  /** Where it comes from: `script.js:12` or `agent 3 of run x`. */
  origin: string;
  objective: string;
  context: [string, string][];
  isolation?: string;
  writes?: string[] | string;
  permissions?: string;
  schema?: unknown;
  /** The schema as written, when it is not a literal (a constant's name, a call). */
  schemaSource?: string;
  verify?: string[] | string;
}

const fence = (text: string, lang = "") => {
  // A fence longer than any run of backticks in the text, so the text cannot close it.
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = "`".repeat(longest + 1);
  return `${f}${lang}\n${text}\n${f}`;
};

export function renderPacket(p: PacketData): string {
  const out: string[] = [
    `# ${p.title}`,
    "",
    `From ${p.origin}.`,
    "",
    "## Objective",
    "",
    fence(p.objective),
    "",
  ];
  out.push("## Context", "");
  if (p.context.length === 0) out.push("(none stated)");
  for (const [k, v] of p.context) out.push(`- ${k}: ${v}`);
  out.push("", "## Ownership", "");
  out.push(
    p.isolation === "worktree"
      ? "- works in its own git worktree; its diff is saved as a patch and integrated only by integrate()"
      : p.isolation
        ? `- isolation: ${p.isolation}`
        : "- works in the shared working directory (no isolation)",
  );
  if (p.writes !== undefined) {
    const w = Array.isArray(p.writes) ? p.writes.map((g) => `\`${g}\``).join(", ") : p.writes;
    out.push(`- may change only: ${w} (a change elsewhere fails the agent)`);
  } else if (p.isolation === "worktree") out.push("- write scope: not limited (no `writes`)");
  out.push(`- permissions: ${p.permissions ?? "edit (default)"}`);
  out.push("", "## Expected output", "");
  if (p.schema !== undefined) {
    if (p.schemaSource) out.push(`A JSON object matching \`${p.schemaSource}\`:`, "");
    else out.push("A JSON object matching this schema:", "");
    out.push(fence(JSON.stringify(p.schema, null, 2), "json"));
  } else if (p.schemaSource)
    out.push(`A JSON object matching \`${p.schemaSource}\` (not a literal: known at run time).`);
  else out.push("Its final message, as text.");
  out.push("", "## Verification", "");
  if (p.verify === undefined) out.push("None declared: the result is taken as the agent gives it.");
  else {
    const list = Array.isArray(p.verify) ? p.verify : [p.verify];
    out.push("Run in its worktree after it finishes; on failure it gets the output and tries again:", "");
    for (const v of list) out.push(`- \`${v}\``);
  }
  return `${out.join("\n")}\n`;
}
