export const meta = {
  name: 'promise_leak',
  description: 'Return an agent promise without awaiting it',
}

phase('Leak promise')
const scan = agent('Scan the repository layout', { label: 'scan' })
return { scan }
