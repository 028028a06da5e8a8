export const meta = {
  name: 'budgeted_scan',
  description: 'Scan directories until the token budget is spent',
}

const scans = []
if (budget.total === null) {
  scans.push(await agent('Scan the next directory for TODO comments', { label: 'scan 1' }))
  return { limited: false, remaining: String(budget.remaining()), scans: scans.length }
}

let error = null
try {
  while (budget.remaining() > 0) {
    scans.push(await agent('Scan the next directory for TODO comments', { label: 'scan ' + (scans.length + 1) }))
  }
  await agent('Scan the next directory for TODO comments', { label: 'one too many' })
} catch (e) {
  error = e.message
}
return { limited: true, total: budget.total, spent: budget.spent(), remaining: budget.remaining(), scans: scans.length, error }
