export const meta = {
  name: 'project_summary',
  description: 'Summarize the project with machine-readable output',
}

const Result = {
  type: 'object',
  properties: {
    summary: { type: 'string' },
    files: { type: 'array', items: { type: 'string' } },
  },
  required: ['summary', 'files'],
}

const result = await agent('Inspect this project and summarize it.', {
  label: 'project-summary',
  schema: Result,
  model: 'anthropic/claude-sonnet-4-5',
})
const notes = await agent('Write one sentence for a newcomer about ' + result.files.join(', '), {
  label: 'newcomer note',
  agentType: 'scout',
})
return { summary: result.summary, files: result.files, notes }
