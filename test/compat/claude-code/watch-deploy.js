export const meta = {
  name: 'watch-deploy',
  description: 'Watch a deploy; an agent that goes silent is restarted, and gives up after six tries',
}

// stallMs: how long an agent may go without any event before Claude Code restarts it; after the
// last restart agent() throws "agent stalled on all 6 attempts".
let watched
try {
  watched = await agent('Watch the deploy of build 42 and report when it is live', { stallMs: 300, label: 'watch' })
} catch (e) {
  watched = `gave up: ${e.message}`
}
// Without stallMs the idle limit is the default (10 minutes).
const summary = await agent('Summarize the deploy status')
return { watched, summary }
