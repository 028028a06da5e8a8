export const meta = {
  name: 'bug-hunt',
  description: 'Find bugs for as long as the token budget allows',
}

const BUGS = {
  type: 'object',
  required: ['bugs'],
  properties: { bugs: { type: 'array', items: { type: 'string' } } },
}

// Static scaling on the budget, and a loop guarded on budget.total as the Workflow tool advises.
const FLEET = budget.total ? Math.floor(budget.total / 250) : 2
const bugs = []
while (budget.total && budget.remaining() > 150) {
  const result = await agent('Find bugs in this codebase.', { schema: BUGS })
  bugs.push(...result.bugs)
  log(`${bugs.length} found, ${budget.remaining()} tokens remaining`)
}

const sweeps = await parallel(Array.from({ length: FLEET }, (_, i) => () => agent(`Sweep shard ${i} for dead code.`)))

// The target is a hard ceiling: once spent() reaches total, agent() throws.
let ceiling = null
if (budget.total) {
  try {
    while (true) await agent('Find bugs in this codebase.', { schema: BUGS })
  } catch (e) {
    ceiling = e.message
  }
}

return {
  total: budget.total,
  unlimited: budget.remaining() === Infinity,
  spent: budget.spent(),
  fleet: FLEET,
  bugs: bugs.length,
  sweeps: sweeps.filter(Boolean).length,
  ceiling,
}
