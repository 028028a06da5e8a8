// A migration over a list of files: one agent per file, each in its own git worktree, allowed to
// change only its file, checked by a command per file; then the patches are integrated. The list
// comes from args, or a read-only scout finds the files.
//   weft run migration --driver codex --args '{"instructions":"Replace moment with date-fns","find":"files that import moment","verify":"npx tsc --noEmit"}'
//   weft run migration --args '{"instructions":"...","files":["src/a.ts","src/b.ts"],"verify":"npx eslint {file}"}'
export const meta = {
  name: "migration",
  description:
    "Migrate a list of files (given, or found by a scout), one agent per file in a worktree with a check per file, then integrate",
  whenToUse:
    "For a mechanical change repeated over many files: each file's change is checked on its own, and one bad file does not block the rest",
  phases: [
    { title: "Find", detail: "a read-only scout lists the files, unless they are given" },
    { title: "Migrate", detail: "one agent per file, in its own worktree, limited to that file, checked by verify" },
    { title: "Integrate", detail: "apply every file that passed" },
  ],
  args: {
    type: "object",
    required: ["instructions"],
    additionalProperties: false,
    properties: {
      instructions: { type: "string", description: "the change to make in every file" },
      files: { type: "array", items: { type: "string" }, minItems: 1, description: "the files (default: ask a scout)" },
      find: { type: "string", description: "what the scout looks for (default: files the instructions apply to)" },
      verify: {
        type: "string",
        description: "command that must pass in each file's worktree; {file} is replaced by the file's path, quoted",
      },
      maxFiles: { type: "integer", minimum: 1, description: "at most this many files (default 200)" },
      readOnly: {
        type: "boolean",
        description: "the scout runs read-only (default true)",
      },
      allowDirty: { type: "boolean", description: "integrate into a working tree with uncommitted changes" },
      model: { type: "string" },
    },
  },
}

const FILES = {
  type: "object",
  required: ["files"],
  additionalProperties: false,
  properties: { files: { type: "array", items: { type: "string" }, description: "paths relative to the repository root" } },
}

const model = args.model ? { model: args.model } : {}
const quote = (s) => `'${s.replaceAll("'", "'\\''")}'`

let files = args.files
if (!files) {
  phase("Find")
  const found = await agent(
    `List the files this migration applies to: ${args.find ?? args.instructions}\n` +
      "Search the repository (e.g. with grep); do not edit anything. Give paths relative to the repository root, one entry per file.",
    { label: "find files", schema: FILES, ...(args.readOnly === false ? {} : { permissions: "read-only" }), ...model },
  )
  if (found === null) throw new Error("the scout could not list the files")
  files = [...new Set(found.files)]
}
const max = args.maxFiles ?? 200
if (files.length > max) log(`${files.length} files found; migrating the first ${max} (maxFiles)`)
files = files.slice(0, max)

phase("Migrate")
const done = await parallel(
  files.map(
    (file) => () =>
      agent(
        `${args.instructions}\n\nApply this to one file only: ${file}. Other agents handle the other files; change nothing else.` +
          (args.verify ? `\nThe check \`${args.verify.replaceAll("{file}", quote(file))}\` must pass.` : ""),
        {
          label: file,
          isolation: "worktree",
          writes: [file],
          ...(args.verify ? { verify: args.verify.replaceAll("{file}", quote(file)) } : {}),
          ...model,
        },
      ),
  ),
)

// Every agent failed: nothing was migrated, which is a failure of the run, not an empty result.
if (files.length > 0 && done.every((d) => d === null))
  throw new Error(`every migration agent failed (${files.slice(0, 3).join(", ")}${files.length > 3 ? ", ..." : ""}): nothing was migrated`)

phase("Integrate")
const merged = await integrate(null, { allowDirty: args.allowDirty === true })
return {
  files: files.length,
  migrated: merged.applied.flatMap((a) => a.files),
  failed: files.filter((_, i) => done[i] === null),
  conflicts: merged.conflicts.map((c) => ({ file: c.label, error: c.error })),
}
