// Several independent drafts of a solution, each from a different angle; one judge picks the
// best with its reasons (and what to borrow from the others); the chosen one is refined.
//   weft run options-sprint --driver claude --args '{"problem":"Design the retry policy for the sync client","count":3}'
export const meta = {
  name: "options-sprint",
  description:
    "Draft several independent options for a problem, choose one with reasons, and refine it with the best of the others",
  whenToUse:
    "For design questions with more than one reasonable answer: comparing real drafts beats refining the first idea",
  phases: [
    { title: "Draft", detail: "independent drafts, one per angle, in parallel" },
    { title: "Choose", detail: "a judge compares them and picks one, with reasons" },
    { title: "Refine", detail: "the chosen draft, improved with what the judge would borrow" },
  ],
  args: {
    type: "object",
    required: ["problem"],
    additionalProperties: false,
    properties: {
      problem: { type: "string" },
      count: { type: "integer", minimum: 2, maximum: 8, description: "number of drafts (default 3)" },
      angles: {
        type: "array",
        items: { type: "string" },
        minItems: 2,
        description: "one draft per angle (overrides count)",
      },
      criteria: { type: "string", description: "what the judge weighs (default: correctness, simplicity, cost of change)" },
      readOnly: {
        type: "boolean",
        description: "every agent runs read-only (default true)",
      },
      model: { type: "string" },
    },
  },
}

const DRAFT = {
  type: "object",
  required: ["title", "approach", "tradeoffs"],
  additionalProperties: false,
  properties: {
    title: { type: "string" },
    approach: { type: "string", description: "the option, concretely enough to build" },
    tradeoffs: { type: "array", items: { type: "string" } },
  },
}

const CHOICE = {
  type: "object",
  required: ["chosen", "reasons", "borrow"],
  additionalProperties: false,
  properties: {
    chosen: { type: "integer", minimum: 1, description: "the number of the chosen option" },
    reasons: { type: "array", items: { type: "string" } },
    borrow: { type: "array", items: { type: "string" }, description: "ideas from the other options worth adding" },
  },
}

const DEFAULT_ANGLES = [
  "the simplest thing that could work",
  "the most robust option",
  "the option with the least change to existing code",
  "an unconventional option",
  "the option that is easiest to test",
  "the fastest option",
  "the option that scales best",
  "the option a newcomer would understand first",
]
const angles = args.angles ?? DEFAULT_ANGLES.slice(0, args.count ?? 3)
const common = {
  ...(args.readOnly === false ? {} : { permissions: "read-only" }),
  ...(args.model ? { model: args.model } : {}),
}

phase("Draft")
const drafts = await parallel(
  angles.map(
    (angle, i) => () =>
      agent(
        `Problem: ${args.problem}\n\nPropose one solution, aiming for ${angle}. Read the code it concerns; do not edit anything. ` +
          "Be concrete: what changes where, and what it costs.",
        { label: `draft ${i + 1}`, schema: DRAFT, ...common },
      ),
  ),
)
const options = angles.map((angle, i) => ({ n: i + 1, angle, ...drafts[i] })).filter((_, i) => drafts[i] !== null)
if (options.length === 0) throw new Error("every draft failed")

phase("Choose")
const choice = await agent(
  `Problem: ${args.problem}\n\nChoose the best of these options, weighing ${args.criteria ?? "correctness, simplicity and the cost of the change"}. ` +
    "Give your reasons, and list ideas from the other options worth adding to it.\n\nOPTIONS:\n" +
    JSON.stringify(options, null, 2),
  { label: "choose", schema: CHOICE, ...common },
)
if (choice === null) throw new Error("the judge failed")
const chosen = options.find((o) => o.n === choice.chosen)
if (!chosen) throw new Error(`the judge chose option ${choice.chosen}, which is not one of ${options.map((o) => o.n).join(", ")}`)

phase("Refine")
const refined = await agent(
  `Problem: ${args.problem}\n\nThis option was chosen:\n${JSON.stringify(chosen, null, 2)}\n\nBecause:\n${choice.reasons.map((r) => `- ${r}`).join("\n")}\n\n` +
    `Refine it into a final proposal, adding these ideas where they fit:\n${choice.borrow.map((b) => `- ${b}`).join("\n") || "- (none)"}\n` +
    "Do not edit anything; write the proposal.",
  { label: "refine", schema: DRAFT, ...common },
)
return { options, chosen: chosen.n, reasons: choice.reasons, borrowed: choice.borrow, refined }
