export const meta = {
  name: 'object_isolation',
  description: 'A writer in its own worktree, with the fork\'s object form of isolation',
}

const wrote = await agent('Create the file notes/gamma.md with a title', {
  label: 'note gamma',
  isolation: { mode: 'worktree', branchPrefix: 'notes/' },
})
return { wrote }
