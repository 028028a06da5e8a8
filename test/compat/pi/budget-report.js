export const meta = {
  name: 'budget_report',
  description: 'Report what is left of the budget with the answer',
}

const answer = await agent('Report remaining budget after a short scan')
// Without a budget remaining() is Infinity, and spent/total is NaN: pi's result carries them as null.
return {
  answer,
  remaining: budget.remaining(),
  ratio: budget.spent() / (budget.total ?? 0),
  limits: [args?.limit ?? null, -Infinity],
}
