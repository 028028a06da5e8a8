export const meta = {
  name: 'poll-ci',
  description: 'Poll the CI run between rounds until it has finished',
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const rounds = []
for (let round = 1; round <= 5; round++) {
  const status = await agent(`Check whether the CI run has finished (round ${round})`, { label: `poll ${round}` })
  rounds.push(status)
  if (status.includes('finished')) break
  log(`round ${round}: ${status}; waiting before the next check`)
  await sleep(300)
}

// A timer that is cleared never fires.
let fired = false
clearTimeout(setTimeout(() => { fired = true }, 10))
await sleep(50)

return { rounds, fired }
