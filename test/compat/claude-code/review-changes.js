export const meta = {
  name: 'review-changes',
  description: 'Review the changed files across dimensions, verify each finding',
  whenToUse: 'Before merging a branch with non-trivial changes',
  phases: [
    { title: 'Review', detail: 'one reviewer per dimension' },
    { title: 'Verify', detail: 'one skeptic per finding', model: 'haiku' },
  ],
}

const FINDINGS_SCHEMA = {
  type: 'object',
  required: ['findings'],
  properties: {
    findings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['title', 'file', 'severity'],
        properties: {
          title: { type: 'string' },
          file: { type: 'string' },
          line: { type: 'number' },
          severity: { type: 'string', enum: ['low', 'medium', 'high'] },
        },
      },
    },
  },
}

const VERDICT_SCHEMA = {
  type: 'object',
  required: ['isReal', 'reason'],
  properties: { isReal: { type: 'boolean' }, reason: { type: 'string' } },
}

const DIMENSIONS = [
  { key: 'bugs', prompt: 'Review the diff for correctness bugs. Report every finding with its file.' },
  { key: 'perf', prompt: 'Review the diff for performance problems. Report every finding with its file.' },
]

// Pipeline by default: a dimension's findings are verified as soon as its review is done.
const results = await pipeline(
  DIMENSIONS,
  d => agent(d.prompt, { label: `review:${d.key}`, phase: 'Review', schema: FINDINGS_SCHEMA }),
  review => parallel(review.findings.map(f => () =>
    agent(`Adversarially verify this finding: ${f.title} in ${f.file}. Default to not real if unsure.`, {
      label: `verify:${f.file}`,
      phase: 'Verify',
      schema: VERDICT_SCHEMA,
      effort: 'low',
    }).then(v => ({ ...f, verdict: v }))
  ))
)

const all = results.flat().filter(Boolean)
const confirmed = all.filter(f => f.verdict?.isReal)
log(`${confirmed.length} of ${all.length} findings confirmed`)
return {
  confirmed: confirmed.map(f => `${f.severity}: ${f.title} (${f.file})`),
  rejected: all.filter(f => !f.verdict?.isReal).map(f => f.title),
}
