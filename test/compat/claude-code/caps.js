export const meta = {
  name: 'flaky-sweep',
  description: 'Look for flaky tests until nothing new turns up',
}

// A single parallel()/pipeline() call takes at most 4096 items; more is an explicit error.
let tooMany = null
try {
  await parallel(Array.from({ length: 4097 }, (_, i) => () => i))
} catch (e) {
  tooMany = e.message
}

// The lifetime agent cap is the backstop for a loop that never ends.
const found = []
let stopped = null
try {
  while (true) found.push(await agent(`Find one more flaky test (round ${found.length + 1}).`))
} catch (e) {
  stopped = e.message
}
return { tooMany, rounds: found.length, stopped }
