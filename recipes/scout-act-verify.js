// Scout first (read-only: what is there, what to change, what could break), then one agent acts
// on that in a git worktree with a check, the change is integrated, and an independent verifier
// checks the result against the task.
//   weft run scout-act-verify --driver claude --args '{"task":"Add a --quiet flag to the CLI","verify":"npm test"}'
export const meta = {
  name: "scout-act-verify",
  description:
    "Scout the code for a task, make the change in a worktree checked by a command, integrate it, then have an independent agent verify it",
  whenToUse:
    "For one focused change in code you do not know well: the scout's map keeps the change small, the verifier catches what the tests do not",
  phases: [
    { title: "Scout", detail: "read-only: relevant files, the plan, the risks" },
    { title: "Act", detail: "one agent makes the change in a worktree; verify must pass" },
    { title: "Verify", detail: "read-only: does the integrated change do the task, and nothing else?" },
  ],
  args: {
    type: "object",
    required: ["task"],
    additionalProperties: false,
    properties: {
      task: { type: "string", description: "what to change" },
      verify: { type: "string", description: "command that must pass in the worktree, e.g. `npm test`" },
      writes: {
        type: "array",
        items: { type: "string" },
        description: "globs the change may touch (default: not limited)",
      },
      readOnly: {
        type: "boolean",
        description: "scout and verifier run read-only (default true)",
      },
      allowDirty: { type: "boolean", description: "integrate into a working tree with uncommitted changes" },
      model: { type: "string" },
    },
  },
}

const SCOUTED = {
  type: "object",
  required: ["summary", "files", "steps", "risks"],
  additionalProperties: false,
  properties: {
    summary: { type: "string", description: "how the relevant code works today" },
    files: { type: "array", items: { type: "string" }, description: "files the change will touch" },
    steps: { type: "array", items: { type: "string" } },
    risks: { type: "array", items: { type: "string" } },
  },
}

const VERDICT = {
  type: "object",
  required: ["ok", "problems"],
  additionalProperties: false,
  properties: {
    ok: { type: "boolean", description: "the change does the task and nothing else" },
    problems: { type: "array", items: { type: "string" } },
  },
}

const task = args.task
const model = args.model ? { model: args.model } : {}
const readOnly = args.readOnly === false ? {} : { permissions: "read-only" }

phase("Scout")
const scout = await agent(
  `Before anyone changes code, map what this task needs. Task: ${task}\n` +
    "Read the code; do not edit anything. Say how the relevant code works today, which files the change should touch, the steps, and what could break.",
  { label: "scout", schema: SCOUTED, ...readOnly, ...model },
)
if (scout === null) throw new Error("the scout failed: nothing to act on")

phase("Act")
const done = await agent(
  `Task: ${task}\n\nWhat a scout found:\n${scout.summary}\n\nFiles to touch: ${scout.files.join(", ") || "(none named)"}\n` +
    `Steps:\n${scout.steps.map((s, i) => `${i + 1}. ${s}`).join("\n")}\n` +
    `Risks to avoid:\n${scout.risks.map((r) => `- ${r}`).join("\n") || "- none named"}\n\n` +
    "Make the change. Keep it as small as the task allows. End with a short summary of what you changed." +
    (args.verify ? `\nThe check \`${args.verify}\` must pass.` : ""),
  {
    label: "act",
    isolation: "worktree",
    ...(args.writes ? { writes: args.writes } : {}),
    ...(args.verify ? { verify: args.verify } : {}),
    ...model,
  },
)
if (done === null) throw new Error('the agent "act" failed: nothing was changed')
const merged = await integrate(null, { allowDirty: args.allowDirty === true })
const changed = merged.applied.flatMap((a) => a.files)
if (merged.conflicts.length > 0) return { scout, summary: done, changed, conflicts: merged.conflicts, verdict: null }

phase("Verify")
const verdict = await agent(
  `A change was just made to the working tree of this repository for this task: ${task}\n` +
    `Files changed: ${changed.join(", ") || "(none)"}. Its author says:\n${done}\n\n` +
    "Check it with `git diff` and by reading the code. Does it do the task completely, and nothing else? Do not edit anything. List every problem.",
  { label: "verify", schema: VERDICT, ...readOnly, ...model },
)
return { scout, summary: done, changed, verdict }
