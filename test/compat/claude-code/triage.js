export const meta = {
  name: 'triage-issues',
  description: 'Triage the open issues passed in args by priority and area',
}

const TRIAGE = {
  type: 'object',
  required: ['priority', 'area'],
  additionalProperties: false,
  properties: {
    priority: { type: 'string', enum: ['p0', 'p1', 'p2'] },
    area: { type: 'string' },
  },
}

// A thunk whose agent never produces a valid answer resolves to null, like a failed agent.
const triaged = await parallel(args.issues.map(issue => () =>
  agent(`Triage this issue: ${issue}`, { label: `triage:${issue}`, schema: TRIAGE })
))

// Called directly, output that never validates makes agent() throw.
let rambling = null
try {
  await agent('Triage this issue: the one with the rambling reporter', { schema: TRIAGE })
} catch (e) {
  rambling = e.message
}

// A schema no answer can satisfy is refused before any agent starts.
let impossible = null
try {
  await agent('Triage this issue: anything', {
    schema: { type: 'object', required: ['priority'], properties: {}, additionalProperties: false },
  })
} catch (e) {
  impossible = e.message
}

const byPriority = {}
args.issues.forEach((issue, i) => {
  const t = triaged[i]
  if (t) (byPriority[t.priority] ??= []).push(`${issue} [${t.area}]`)
})
return { byPriority, untriaged: args.issues.filter((_, i) => !triaged[i]), rambling, impossible }
