// Review a change from three angles at once, then merge what they found. Meant for a real coding
// agent, read-only: each reviewer reads the repository and runs git itself.
//   weft run examples/review.js --driver claude            (or codex, pi, opencode, gemini)
//   weft run examples/review.js --args '{"range":"main..HEAD"}'
export const meta = {
  name: "review",
  description: "Review a git range for correctness, security and tests in parallel, then merge the findings",
  args: {
    type: "object",
    properties: { range: { type: "string", description: "what `git diff` compares; default HEAD~1..HEAD" } },
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

const range = args?.range ?? "HEAD~1..HEAD"
const lenses = ["correctness and edge cases", "security", "tests and error handling"]

phase("Review")
const reviews = await parallel(
  lenses.map(
    (lens) => () =>
      agent(
        `Review the change shown by \`git diff ${range}\` in this repository, for ${lens} only. ` +
          "Read the surrounding code as needed; do not edit anything. Report only real problems, each with its file and line.",
        { label: lens, schema: FINDINGS, permissions: "read-only" },
      ),
  ),
)

phase("Merge")
const found = reviews.filter((r) => r !== null).flatMap((r) => r.findings)
if (found.length === 0) return { findings: [], reviewers: reviews.filter((r) => r !== null).length }
return await agent(
  "Merge these code review findings into one list: join duplicates (same problem, same place), " +
    "keep the highest severity of a group, and sort by severity.\n" +
    JSON.stringify(found, null, 2),
  { label: "merge", schema: FINDINGS, permissions: "read-only" },
)
