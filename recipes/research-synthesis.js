// Research several questions in parallel, synthesise one answer, then let an adversarial checker
// attack each claim of the synthesis on its own; claims that do not survive are dropped and the
// final report is written from the ones that did.
//   weft run research-synthesis --driver claude --args '{"questions":["How does the cache expire entries?","What happens on a full disk?"]}'
export const meta = {
  name: "research-synthesis",
  description:
    "Research questions in parallel, synthesise the answers, check each claim adversarially and drop the claims that do not survive",
  whenToUse:
    "When an answer must be trustworthy: every claim in the final report has been attacked by an agent told to refute it",
  phases: [
    { title: "Research", detail: "one read-only researcher per question, claims with evidence" },
    { title: "Synthesis", detail: "one synthesis of all answers, as separate claims" },
    { title: "Check", detail: "one adversarial checker per claim: holds, refuted or unsupported" },
    { title: "Report", detail: "the report from the surviving claims only" },
  ],
  args: {
    type: "object",
    required: ["questions"],
    additionalProperties: false,
    properties: {
      questions: { type: "array", items: { type: "string" }, minItems: 1 },
      context: { type: "string", description: "what the research is for, given to every agent" },
      maxClaims: { type: "integer", minimum: 1, description: "check at most this many claims (default 20)" },
      readOnly: {
        type: "boolean",
        description: "every agent runs read-only (default true)",
      },
      model: { type: "string" },
    },
  },
}

const CLAIMS = {
  type: "object",
  required: ["answer", "claims"],
  additionalProperties: false,
  properties: {
    answer: { type: "string" },
    claims: {
      type: "array",
      items: {
        type: "object",
        required: ["claim", "evidence"],
        additionalProperties: false,
        properties: {
          claim: { type: "string", description: "one checkable statement" },
          evidence: { type: "string", description: "where it can be checked: file and line, command, source" },
        },
      },
    },
  },
}

const VERDICT = {
  type: "object",
  required: ["verdict", "reason"],
  additionalProperties: false,
  properties: {
    verdict: { enum: ["holds", "refuted", "unsupported"] },
    reason: { type: "string" },
  },
}

const common = {
  ...(args.readOnly === false ? {} : { permissions: "read-only" }),
  ...(args.model ? { model: args.model } : {}),
}
const context = args.context ? `Context: ${args.context}\n\n` : ""

phase("Research")
const answers = await parallel(
  args.questions.map(
    (q, i) => () =>
      agent(
        `${context}Research this question: ${q}\nLook at the actual sources (code, docs, command output); do not edit anything. ` +
          "Answer it, then list the claims your answer rests on, each with the evidence that shows it.",
        { label: `question ${i + 1}`, schema: CLAIMS, ...common },
      ),
  ),
)
const answered = args.questions
  .map((q, i) => ({ question: q, ...answers[i] }))
  .filter((_, i) => answers[i] !== null)
if (answered.length === 0) throw new Error("every researcher failed")

phase("Synthesis")
const synthesis = await agent(
  `${context}Several researchers answered these questions. Write one synthesis: an answer to all of them, as a list of separate, checkable claims, ` +
    "each with its evidence. Keep only what the research supports.\n\nRESEARCH:\n" +
    JSON.stringify(answered, null, 2),
  { label: "synthesis", schema: CLAIMS, ...common },
)
if (synthesis === null) throw new Error("the synthesis failed")
const claims = synthesis.claims.slice(0, args.maxClaims ?? 20)

phase("Check")
const verdicts = await parallel(
  claims.map(
    (c, i) => () =>
      agent(
        `${context}Try to refute this claim. Check the evidence yourself against the sources; do not trust it. Do not edit anything.\n` +
          `CLAIM: ${c.claim}\nEVIDENCE GIVEN: ${c.evidence}\n\n` +
          'Answer "holds" only if you checked it and it is true, "refuted" if it is false, "unsupported" if it cannot be checked.',
        { label: `check ${i + 1}`, schema: VERDICT, ...common },
      ),
  ),
)
// No checker finished: dropping every claim as "unchecked" would read as "nothing holds".
if (claims.length > 0 && verdicts.every((v) => v === null))
  throw new Error(`every checker failed (${claims.slice(0, 3).map((_, i) => `check ${i + 1}`).join(", ")}${claims.length > 3 ? ", ..." : ""}): no claim was checked`)
const kept = claims.filter((_, i) => verdicts[i]?.verdict === "holds")
const dropped = claims
  .map((c, i) => ({ ...c, verdict: verdicts[i]?.verdict ?? "unchecked", reason: verdicts[i]?.reason ?? "the checker failed" }))
  .filter((c) => c.verdict !== "holds")

phase("Report")
if (kept.length === 0) return { report: null, kept, dropped, questions: args.questions }
const report = await agent(
  `${context}Write the final answer to these questions:\n${args.questions.map((q) => `- ${q}`).join("\n")}\n\n` +
    "Use only these claims, each checked by an independent reviewer; say what remains unanswered.\n\nCLAIMS:\n" +
    JSON.stringify(kept, null, 2),
  { label: "report", ...common },
)
return { report, kept, dropped, questions: args.questions }
