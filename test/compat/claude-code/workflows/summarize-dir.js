export const meta = {
  name: 'summarize-dir',
  description: 'Summarize one directory of the repository',
}

const summary = await agent(`Summarize the directory ${args.dir}`)

// Nesting is one level only: a child cannot start another workflow.
let nested = null
try {
  await workflow('summarize-dir', { dir: 'deeper' })
} catch (e) {
  nested = e.message
}
return { dir: args.dir, summary, nested }
