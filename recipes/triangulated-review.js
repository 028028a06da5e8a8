// Review one change from several angles at once, then merge what the reviewers found into one
// de-duplicated list. Each reviewer reads the repository and runs git itself.
//   weft run triangulated-review --driver claude --args '{"target":"main..HEAD"}'
export const meta = {
  name: "triangulated-review",
  description:
    "Review a change through several lenses in parallel, then merge the findings into one de-duplicated list",
  whenToUse:
    "Before merging a change that matters: independent reviewers with different focus catch more than one, and the merge keeps one entry per real problem",
  phases: [
    { title: "Review", detail: "one read-only reviewer per lens, in parallel" },
    { title: "Merge", detail: "join duplicates across lenses, keep the highest severity" },
  ],
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      target: {
        type: "string",
        description: "what to review: a git range for `git diff` (default HEAD~1..HEAD), or paths",
      },
      lenses: {
        type: "array",
        items: { type: "string" },
        minItems: 1,
        description: "one reviewer per lens (default: correctness, security, tests, performance)",
      },
      readOnly: {
        type: "boolean",
        description: "reviewers run with permissions read-only (default true)",
      },
      model: { type: "string", description: "model for every reviewer and the merge" },
    },
  },
}

const FINDINGS = {
  type: "object",
  required: ["findings"],
  additionalProperties: false,
  properties: {
    findings: {
      type: "array",
      items: {
        type: "object",
        required: ["file", "line", "severity", "issue"],
        additionalProperties: false,
        properties: {
          file: { type: "string" },
          line: { type: "integer" },
          severity: { enum: ["high", "medium", "low"] },
          issue: { type: "string" },
        },
      },
    },
  },
}

const MERGED = {
  type: "object",
  required: ["findings"],
  additionalProperties: false,
  properties: {
    findings: {
      type: "array",
      items: {
        type: "object",
        required: ["file", "line", "severity", "issue", "lenses"],
        additionalProperties: false,
        properties: {
          file: { type: "string" },
          line: { type: "integer" },
          severity: { enum: ["high", "medium", "low"] },
          issue: { type: "string" },
          lenses: { type: "array", items: { type: "string" } },
        },
      },
    },
  },
}

const target = args?.target ?? "HEAD~1..HEAD"
const lenses = args?.lenses ?? ["correctness and edge cases", "security", "tests and error handling", "performance"]
const common = {
  ...(args?.readOnly === false ? {} : { permissions: "read-only" }),
  ...(args?.model ? { model: args.model } : {}),
}

phase("Review")
const reviews = await parallel(
  lenses.map(
    (lens) => () =>
      agent(
        `Review ${target.includes("..") ? `the change shown by \`git diff ${target}\`` : target} in this repository, through one lens only: ${lens}.\n` +
          "Read the surrounding code as needed; do not edit anything. Report only real problems, each with its file, line and severity. " +
          "An empty list is a good answer when the change is fine.",
        { label: `review: ${lens}`, schema: FINDINGS, ...common },
      ),
  ),
)

phase("Merge")
const found = []
reviews.forEach((r, i) => {
  for (const f of r?.findings ?? []) found.push({ ...f, lens: lenses[i] })
})
const failedLenses = lenses.filter((_, i) => reviews[i] === null)
// No reviewer finished: an empty list here would read as "the change is fine".
if (failedLenses.length === lenses.length)
  throw new Error(`every reviewer failed (${failedLenses.slice(0, 3).map((l) => `review: ${l}`).join(", ")}${lenses.length > 3 ? ", ..." : ""}): nothing was reviewed`)
// Exact repeats (same file, line and wording) need no agent to be merged: one entry, every lens.
const byKey = new Map()
for (const { lens, ...f } of found) {
  const key = `${f.file}:${f.line}:${f.issue.trim().toLowerCase()}`
  const seen = byKey.get(key)
  if (seen) {
    if (!seen.lenses.includes(lens)) seen.lenses.push(lens)
  } else byKey.set(key, { ...f, lenses: [lens] })
}
const distinct = [...byKey.values()]
if (distinct.length === 0) return { findings: [], lenses, failedLenses }

const merged = await agent(
  "Merge these code review findings into one list. Findings from different lenses that describe the same problem at the same place " +
    "are one finding: keep the clearest wording, the highest severity, and every lens that reported it. Sort by severity (high first), then file and line. " +
    "Do not add findings that are not in the list.\n\nFINDINGS:\n" +
    JSON.stringify(distinct, null, 2),
  { label: "merge", schema: MERGED, ...common },
)
if (merged === null) {
  log("the merge agent failed: returning the reviewers' findings unmerged")
  return { findings: distinct, merged: false, reported: found.length, lenses, failedLenses }
}
const order = { high: 0, medium: 1, low: 2 }
return {
  merged: true,
  findings: [...merged.findings].sort(
    (a, b) => order[a.severity] - order[b.severity] || a.file.localeCompare(b.file) || a.line - b.line,
  ),
  reported: found.length,
  lenses,
  failedLenses,
}
