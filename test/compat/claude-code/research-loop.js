export const meta = {
  name: 'research-loop',
  description: 'Research one more angle while more than 50k tokens of the budget are left',
}

// The loop Claude Code's documentation shows: budget.remaining() is what is left of the output
// tokens the run may still generate, so agents that read a lot and write a little run many times.
const notes = []
while (budget.remaining() > 50_000) {
  notes.push(await agent(`Research one more angle of the question (angle ${notes.length + 1})`))
}
return { angles: notes.length, spent: budget.spent(), remaining: budget.remaining() }
