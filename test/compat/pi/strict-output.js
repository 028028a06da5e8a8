export const meta = {
  name: 'strict_output',
  description: 'Ask for refactor plans as structured output',
}

const Plan = {
  type: 'object',
  properties: { steps: { type: 'array', items: { type: 'string' } } },
  required: ['steps'],
}

const plans = await parallel([
  () => agent('Plan the refactor of the parser', { label: 'parser plan', schema: Plan }),
  () => agent('Plan the refactor of the chatty module', { label: 'chatty plan', schema: Plan }),
])

let direct = 'not reached'
try {
  direct = await agent('Plan the refactor of the chatty module', { label: 'chatty again', schema: Plan })
} catch (e) {
  direct = 'threw ' + e.name
}
return { plans, direct }
