export const meta = {
  name: 'narrated_scan',
  description: 'Scan the repository and narrate progress',
}

log('starting the scan of ' + cwd)
console.log('console.log goes to the log too')
console.info('so does console.info')
const found = await agent('List the TODO comments in the repository', { label: 'todo scan' })
console.warn('a warning line')
console.error('an error line')
return { found }
