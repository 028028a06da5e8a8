export const meta = {
  name: 'read_only_audit',
  description: 'Audit modules with a read-only agent type from .pi/agents',
}

// The auditor's tools have no edit or write: a read-only agent, whatever the backend.
const auth = await agent('Audit module auth and report what you find', { label: 'audit auth', agentType: 'auditor' })
// The same read-only type in a worktree; this agent "fixes" what it audits anyway.
const billing = await agent('Audit module billing and report what you find', {
  label: 'audit billing',
  agentType: 'auditor',
  isolation: 'worktree',
})
return { auth, billing }
