export const meta = {
  name: 'repo_inventory',
  description: 'Inventory the repository area by area',
  whenToUse: 'When you need a quick map of an unfamiliar repository',
  phases: [{ title: 'Review' }],
}

if (args.needsReview) {
  phase('Review')
  await agent('Review the open pull request', { label: 'review' })
}

const inventory = []
for (const area of args.areas) {
  phase('Inspect ' + area)
  const summary = await agent('Inspect the ' + area + ' code under ' + cwd + ' and summarize it in one line', {
    label: 'inspect ' + area,
  })
  inventory.push({ area, summary })
}

return { ok: true, root: process.cwd(), sameRoot: cwd === process.cwd(), inventory }
