export const meta = {
  name: 'bounded_retries',
  description: 'Retry a draft until it fits, and gate a changelog on a validator',
}

const seen = []
const haiku = await retry(async (attempt) => {
  seen.push(attempt)
  return await agent('Write a haiku about retries, attempt ' + attempt)
}, { attempts: 4, until: (text) => text.includes('5-7-5') })

// Exhausted: the last result, nothing else.
const name = await retry((attempt) => agent('Name a release, try ' + attempt), {
  attempts: 2,
  until: (text) => /^v\d/.test(text),
})

const changelog = await gate(
  (feedback, attempt) => agent('Draft the changelog' + (feedback ? ', fixing: ' + feedback : '') + ' (attempt ' + attempt + ')'),
  (text) => (text.startsWith('## Changes') ? { ok: true } : { ok: false, feedback: 'add a ## Changes heading' }),
  { attempts: 3 },
)

// A bare true is not { ok: true }: every attempt is used.
let calls = 0
const bare = await gate(() => ++calls, () => true, { attempts: 2 })

return { haiku, seen, name, changelog, bare, calls }
