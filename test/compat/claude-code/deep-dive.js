export const meta = {
  name: 'deep-dive',
  description: 'Research a question about this codebase from several angles',
  whenToUse: 'When a question needs several sources cross-checked',
  phases: [{ title: 'Scope' }, { title: 'Search' }, { title: 'Synthesize' }],
}

const question = (args && args.question) || 'what this repository is for'
const depth = args?.depth ?? 1

phase('Scope')
const { angles } = await agent(`Decompose into search angles: ${question}`, {
  schema: { type: 'object', required: ['angles'], properties: { angles: { type: 'array', items: { type: 'string' } } } },
})
log(`Scoped ${angles.length} angles; searching ${Math.min(depth, angles.length)}`)
if (angles.length > depth) log(`Dropped ${angles.length - depth} angles: ${angles.slice(depth).join(', ')}`)

phase('Search')
const notes = await pipeline(angles.slice(0, depth), angle => agent(`Search the codebase for: ${angle}`, { label: `search:${angle}` }))

phase('Synthesize')
const report = await agent(`Synthesize a short answer to "${question}" from these notes:\n${notes.filter(Boolean).join('\n')}`)
return { question, searched: angles.slice(0, depth), report, argsGiven: typeof args }
