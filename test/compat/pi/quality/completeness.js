export const meta = {
  name: 'coverage_critic',
  description: 'Ask a critic what the gathered results still miss',
}

const results = args && args.results ? args.results : [{ area: 'login', done: true }]
const verdict = await completenessCheck({ topic: 'auth' }, results)
return verdict
