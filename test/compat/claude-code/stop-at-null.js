export const meta = {
  name: 'fix-and-verify',
  description: 'Fix each failing test, then verify each fix; items whose fix failed are not verified',
  phases: [{ title: 'Fix' }, { title: 'Verify' }],
}

const TESTS = ['parser handles empty input', 'pager stops at the last page', 'cache survives restart']

// A stage that returns null (here: a fixer that crashed, or a test the first stage skips)
// ends that item: Claude Code does not call the later stages with null.
const results = await pipeline(
  TESTS,
  (t) => (t.startsWith('cache') ? null : agent(`Fix the failing test: ${t}`, { label: `fix:${t}`, phase: 'Fix' })),
  (fix, t) => agent(`Verify this fix of "${t}": ${fix}`, { label: `verify:${t}`, phase: 'Verify' }),
)

return {
  verified: TESTS.filter((_, i) => results[i] !== null),
  dropped: TESTS.filter((_, i) => results[i] === null),
  results,
}
