export const meta = {
  name: 'read-config',
  description: 'Read the config file and ask an agent about it',
}

import { readFileSync } from 'node:fs'

const config = readFileSync('config.json', 'utf8')
return await agent(`Explain this config: ${config}`)
