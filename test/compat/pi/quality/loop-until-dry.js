export const meta = {
  name: 'todo_sweep',
  description: 'Ask for TODO markers until two rounds find nothing new',
}

const rounds = []
const found = await loopUntilDry({
  round: async (i) => {
    rounds.push(i)
    const r = await agent('List the TODO markers you have not listed yet, round ' + i, {
      label: 'sweep ' + i,
      schema: { type: 'object', properties: { items: { type: 'array', items: { type: 'string' } } }, required: ['items'] },
    })
    return r.items
  },
  consecutiveEmpty: 2,
  maxRounds: 10,
})
return { found, rounds }
