export const meta = {
  name: 'check-packages',
  description: 'Check every package of the monorepo and summarize each, tolerating failures',
  phases: [{ title: 'Check' }, { title: 'Summarize' }],
}

const PACKAGES = ['core', 'cli', 'web', 'docs']

phase('Check')
// parallel() is a barrier that never rejects: a crashed agent or a throwing thunk is a null slot.
const checks = await parallel(PACKAGES.map(p => () => agent(`Run the checks for package ${p}`, { label: `check:${p}` })))
const mixed = await parallel([
  () => agent('Run the checks for package core'),
  () => { throw new Error('this thunk gave up') },
  async () => 'computed without an agent',
])

phase('Summarize')
// pipeline(): every stage gets (previous, item, index); a throwing stage makes its item null and
// skips the item's later stages, while the other items go on.
const lines = await pipeline(
  PACKAGES,
  (p, item, i) => agent(`Summarize package ${p} in one line`, { label: `summary:${p}` }),
  (summary, p, i) => {
    if (p === 'docs') throw new Error('docs has no changelog')
    return `${i + 1}. ${p}: ${summary}`
  },
  line => line.toUpperCase(),
)

return {
  passed: PACKAGES.filter((_, i) => checks[i] !== null),
  failed: PACKAGES.filter((_, i) => checks[i] === null),
  mixed,
  lines,
}
