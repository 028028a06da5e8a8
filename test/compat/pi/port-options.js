export const meta = {
  name: 'port_options',
  description: 'Survey areas under a phase sub-budget, with the port option shapes',
  model: 'pi-default-model',
  phases: [{ title: 'Survey', model: 'survey-model' }, { title: 'Report' }],
}

// A token sub-budget for the Survey phase: its agents stop once it is spent.
phase('Survey', { budget: 100 })
const surveys = []
for (const area of ['api', 'ui', 'db', 'cli']) {
  try {
    // timeoutMs: null and isolation: false are the ports' way of saying "not set".
    surveys.push(await agent('Survey the ' + area + ' area', { label: 'survey ' + area, timeoutMs: null, isolation: false }))
  } catch (e) {
    surveys.push('skipped: ' + e.message)
  }
}

phase('Report')
let reader
try {
  reader = await agent('Read the report draft', { readOnly: true })
} catch (e) {
  reader = 'refused: ' + e.message
}
const report = await agent('Write the report from: ' + surveys.length + ' surveys')
return { surveys, reader, report }
