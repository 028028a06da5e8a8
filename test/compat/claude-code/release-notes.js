export const meta = {
  name: 'release-notes',
  description: 'Draft release notes for the changes since a date passed in args',
}

// Timestamps come in through args; new Date(value) works, the clock and randomness do not.
const since = new Date(args.since)
const refused = []
for (const [what, f] of [['Date.now()', () => Date.now()], ['new Date()', () => new Date()], ['Math.random()', () => Math.random()]]) {
  try {
    f()
  } catch (e) {
    refused.push(`${what}: ${e.name}`)
  }
}

const notes = await agent(`Draft release notes for the changes since ${since.toISOString().slice(0, 10)}`)
return {
  since: since.toISOString(),
  refused,
  // No filesystem, process, network or timers in the script: agents do that work.
  globals: [typeof require, typeof fetch, typeof setTimeout, typeof Buffer, typeof module].join(' '),
  builtins: [JSON.stringify([...new Set([3, 1, 3])].sort()), Math.max(2, 7), Array.from('ab').join('+'), new Map([['k', 1]]).get('k')],
  notes,
}
