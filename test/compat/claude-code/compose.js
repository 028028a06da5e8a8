export const meta = {
  name: 'repo-report',
  description: 'Compose saved workflows into one report',
}

// A saved workflow by name (.claude/workflows/), and a script file by path.
const summary = await workflow('summarize-dir', { dir: 'src' })
const counted = await workflow({ scriptPath: './helpers/count-files.js' }, ['a.js', 'b.js', 'c.js'])

let missing = null
try {
  await workflow('no-such-workflow')
} catch (e) {
  missing = e.message
}
return { summary, counted, missing }
