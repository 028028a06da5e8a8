// One task, split over the parts of a codebase: each section gets its own agent in its own git
// worktree, allowed to change only its section's files; the patches are then integrated.
//   weft run split-by-sections --driver codex --args '{"task":"Replace console.log with the logger","verify":"npm run lint"}'
//   weft run split-by-sections --args '{"task":"...","sections":[{"name":"api","paths":["src/api/**"]},{"name":"cli","paths":["src/cli/**"]}]}'
export const meta = {
  name: "split-by-sections",
  description:
    "Split a task over sections of the code (given, or found by a scout), one agent per section in a worktree limited to its files, then integrate",
  whenToUse:
    "For a change that touches many modules the same way: sections with separate write scopes run in parallel without stepping on each other",
  phases: [
    { title: "Split", detail: "a read-only scout divides the code into sections, unless they are given" },
    { title: "Work", detail: "one agent per section, in its own worktree, writes limited to the section" },
    { title: "Integrate", detail: "apply the sections' patches in order; conflicts are reported" },
  ],
  args: {
    type: "object",
    required: ["task"],
    additionalProperties: false,
    properties: {
      task: { type: "string", description: "what to do in every section" },
      sections: {
        type: "array",
        minItems: 1,
        description: "the sections; without them a scout proposes them",
        items: {
          type: "object",
          required: ["paths"],
          additionalProperties: false,
          properties: {
            name: { type: "string" },
            paths: { type: "array", items: { type: "string" }, minItems: 1, description: "globs of the section's files" },
          },
        },
      },
      maxSections: { type: "integer", minimum: 1, description: "at most this many sections from the scout (default 8)" },
      verify: { type: "string", description: "command that must pass in each section's worktree" },
      readOnly: {
        type: "boolean",
        description: "the scout runs read-only (default true)",
      },
      allowDirty: { type: "boolean", description: "integrate into a working tree with uncommitted changes" },
      model: { type: "string" },
    },
  },
}

const SECTIONS = {
  type: "object",
  required: ["sections"],
  additionalProperties: false,
  properties: {
    sections: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "paths"],
        additionalProperties: false,
        properties: {
          name: { type: "string" },
          paths: {
            type: "array",
            items: { type: "string" },
            description: "globs relative to the repository root, e.g. src/api/**",
          },
        },
      },
    },
  },
}

const model = args.model ? { model: args.model } : {}
let sections = args.sections
if (!sections) {
  phase("Split")
  const split = await agent(
    `This task will be done by several agents in parallel, one per section of the code: ${args.task}\n` +
      `Divide the files this task touches into at most ${args.maxSections ?? 8} sections that do not overlap ` +
      "(a module or folder each), as globs relative to the repository root. Do not edit anything.",
    { label: "split", schema: SECTIONS, ...(args.readOnly === false ? {} : { permissions: "read-only" }), ...model },
  )
  if (split === null) throw new Error("the scout could not split the work")
  sections = split.sections.slice(0, args.maxSections ?? 8)
}
const nameOf = (s, i) => s.name ?? `section ${i + 1}`

phase("Work")
const work = await parallel(
  sections.map(
    (s, i) => () =>
      agent(
        `${args.task}\n\nDo this only in your section, "${nameOf(s, i)}": the files matching ${s.paths.join(", ")}. ` +
          "Other agents handle the rest of the code at the same time: do not change anything outside your section. " +
          "End with a short summary of what you changed." +
          (args.verify ? `\nThe check \`${args.verify}\` must pass.` : ""),
        {
          label: nameOf(s, i),
          isolation: "worktree",
          writes: s.paths,
          ...(args.verify ? { verify: args.verify } : {}),
          ...model,
        },
      ),
  ),
)

if (sections.length > 0 && work.every((w) => w === null))
  throw new Error(`every section's agent failed (${sections.slice(0, 3).map(nameOf).join(", ")}${sections.length > 3 ? ", ..." : ""}): nothing was changed`)

phase("Integrate")
const merged = await integrate(null, { allowDirty: args.allowDirty === true })
return {
  sections: sections.map((s, i) => ({ name: nameOf(s, i), paths: s.paths, done: work[i] !== null, summary: work[i] })),
  applied: merged.applied.map((a) => ({ section: a.label, files: a.files })),
  conflicts: merged.conflicts.map((c) => ({ section: c.label, files: c.files, error: c.error })),
}
