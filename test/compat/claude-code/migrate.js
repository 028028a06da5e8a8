export const meta = {
  name: 'logger-migration',
  description: 'Move each module to the new logger in its own worktree, then review the plan',
  phases: [{ title: 'Migrate' }, { title: 'Review', model: 'sonnet' }],
}

const MODULES = ['alpha', 'beta']

phase('Migrate')
// Agents that write files in parallel each get a git worktree of their own.
const migrated = await parallel(MODULES.map(m => () =>
  agent(`Migrate module ${m} to the new logger`, { label: `migrate:${m}`, isolation: 'worktree' })
))

phase('Review')
// A custom subagent type from .claude/agents/, with a model override for this one call.
const review = await agent('Review the logger migration plan as a code reviewer', {
  agentType: 'code-reviewer',
  model: 'sonnet',
})
return { migrated, review }
