export const meta = {
  name: 'explore-plan-build',
  description: 'Explore the code, plan the change, then make it, with the built-in agent types',
  phases: [{ title: 'Explore' }, { title: 'Plan' }, { title: 'Build' }],
}

// Claude Code's built-in subagent types need no file under .claude/agents/.
phase('Explore')
const found = await agent('Find where the retry logic lives (thoroughness: quick)', {
  agentType: 'Explore',
  label: 'explore',
})

phase('Plan')
const plan = await agent(`Plan a change that makes the retry count configurable. What we know: ${found}`, {
  agentType: 'Plan',
  label: 'plan',
})

phase('Build')
const done = await agent(`Implement this plan:\n${plan}`, { agentType: 'general-purpose', label: 'build' })
return { found, plan, done }
