export const meta = {
  name: 'parallel_edits',
  description: 'Write two notes in parallel without the agents getting in each other\'s way',
}

const edits = await parallel(['alpha', 'beta'].map((name) => () =>
  agent('Create the file notes/' + name + '.md with a title', { label: 'note ' + name, isolation: 'worktree' }),
))
return { edits }
