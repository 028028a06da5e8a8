export const meta = {
  name: 'guarded_release',
  description: 'Ask a person before releasing; take the defaults when nobody is there',
}

const go = await checkpoint('Release the new version?')
const branch = await checkpoint('Name the release branch', { kind: 'input', default: 'release/next' })
const channel = await checkpoint('Which channel?', { kind: 'select', choices: ['stable', 'beta'], default: 'beta' })
if (args && args.mustAsk) await checkpoint('Really publish?', { headless: 'abort' })
return { go, branch, channel }
