export const meta = {
  name: 'module_fixes',
  description: 'Review modules in parallel, then fix and verify each one',
  phases: [{ title: 'Review' }, { title: 'Fix' }],
}

phase('Review')
const reviews = await parallel(args.modules.map((m) => () => agent('Review module ' + m + ' for bugs', { label: 'review ' + m })))

// Failed branches come back as null: check before synthesizing.
const reviewed = args.modules.filter((m, i) => reviews[i] !== null)
const failed = args.modules.filter((m, i) => reviews[i] === null)
if (failed.length) log('review failed for: ' + failed.join(', '))

phase('Fix')
const fixes = await pipeline(
  reviewed,
  (m) => agent('Fix the bugs found in module ' + m, { label: 'fix ' + m }),
  (fix, m, index) => agent('Verify the fix for module ' + m + ' (item ' + index + '): ' + fix, { label: 'verify ' + m }),
)

const verdict = await agent('Assert the overall result: ' + JSON.stringify(fixes), { label: 'final assertion' })
return { ok: failed.length === 0, reviewed, failed, fixes, verdict }
