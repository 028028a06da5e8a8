export const meta = {
  name: 'coverage_critic',
  description: 'Ask a critic what the gathered results still miss',
}

const verdict = await completenessCheck({ topic: 'auth' }, [{ area: 'login', done: true }])
return verdict
