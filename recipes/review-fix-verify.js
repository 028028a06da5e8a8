// Review, then fix what the review found, one fixer per file in its own git worktree with a
// check that must pass, then integrate the fixes into the working tree.
//   weft run review-fix-verify --driver codex --args '{"target":"src/","verify":"npm test"}'
export const meta = {
  name: "review-fix-verify",
  description:
    "Review code for real problems, fix them one file per agent in worktrees checked by a command, and integrate the fixes",
  whenToUse:
    "When you want problems found and fixed in one go, with every fix checked by your tests before it reaches the working tree",
  phases: [
    { title: "Review", detail: "one reviewer lists problems with file and line" },
    { title: "Fix", detail: "one fixer per file, in its own worktree, limited to that file, checked by verify" },
    { title: "Integrate", detail: "apply the fixes that passed to the working tree" },
  ],
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      target: {
        type: "string",
        description: "what to review: a git range (`main..HEAD`) or paths (default: the whole repository)",
      },
      focus: { type: "string", description: "what kind of problem to look for (default: bugs)" },
      verify: {
        type: "string",
        description: "command that must pass in each fixer's worktree, e.g. `npm test` (default: none)",
      },
      maxFiles: { type: "integer", minimum: 1, description: "fix at most this many files (default 10)" },
      minSeverity: { enum: ["high", "medium", "low"], description: "fix findings at least this severe (default low)" },
      readOnly: {
        type: "boolean",
        description: "the reviewer runs read-only (default true)",
      },
      allowDirty: {
        type: "boolean",
        description: "integrate even if the working tree has uncommitted changes (default false)",
      },
      model: { type: "string" },
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
          file: { type: "string", description: "path relative to the repository root" },
          line: { type: "integer" },
          severity: { enum: ["high", "medium", "low"] },
          issue: { type: "string" },
        },
      },
    },
  },
}

const target = args?.target
const what = target ? (target.includes("..") ? `the change shown by \`git diff ${target}\`` : target) : "this repository"
const focus = args?.focus ?? "bugs: wrong results, crashes, unhandled errors"
const model = args?.model ? { model: args.model } : {}
const rank = { high: 0, medium: 1, low: 2 }
const floor = rank[args?.minSeverity ?? "low"]

phase("Review")
const review = await agent(
  `Review ${what} for ${focus}. Do not edit anything. Report each real problem with its file (relative to the repository root), line, severity and a one-sentence description of what is wrong.`,
  { label: "review", schema: FINDINGS, ...(args?.readOnly === false ? {} : { permissions: "read-only" }), ...model },
)
if (review === null) throw new Error("the review failed: nothing to fix")

const byFile = new Map()
for (const f of review.findings) {
  if (rank[f.severity] > floor) continue
  if (!byFile.has(f.file)) byFile.set(f.file, [])
  byFile.get(f.file).push(f)
}
const files = [...byFile.keys()].slice(0, args?.maxFiles ?? 10)
if (files.length === 0) return { findings: review.findings, fixed: [], failed: [], conflicts: [] }

phase("Fix")
const fixes = await parallel(
  files.map(
    (file) => () =>
      agent(
        `Fix these problems in ${file}, and only in that file:\n` +
          byFile
            .get(file)
            .map((f) => `- line ${f.line} (${f.severity}): ${f.issue}`)
            .join("\n") +
          "\nMake the smallest change that fixes each one. If a finding is wrong, leave the code as it is and say why." +
          (args?.verify ? `\nThe check \`${args.verify}\` must pass afterwards.` : ""),
        {
          label: `fix ${file}`,
          isolation: "worktree",
          writes: [file],
          ...(args?.verify ? { verify: args.verify } : {}),
          ...model,
        },
      ),
  ),
)

if (fixes.every((f) => f === null))
  throw new Error(`every fixer failed (${files.slice(0, 3).map((f) => `fix ${f}`).join(", ")}${files.length > 3 ? ", ..." : ""}): nothing was fixed`)

phase("Integrate")
const merged = await integrate(null, { allowDirty: args?.allowDirty === true })
return {
  findings: review.findings,
  fixed: merged.applied.flatMap((a) => a.files),
  failed: files.filter((_, i) => fixes[i] === null),
  conflicts: merged.conflicts.map((c) => ({ files: c.files, error: c.error })),
  notes: Object.fromEntries(files.map((f, i) => [f, fixes[i]])),
}
