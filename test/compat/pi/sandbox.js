export const meta = {
  name: 'sandbox_probe',
  description: 'Use only what the workflow sandbox provides',
}

const since = new Date(args.since)
const areas = new Map([['api', 2], ['ui', 1]])
const unique = new Set(['a', 'b', 'a'])
const answers = await Promise.all([...areas.keys()].map((a) => agent('Count the files in the ' + a + ' area')))
return {
  year: since.getUTCFullYear(),
  process: Object.keys(process),
  cwdType: typeof process.cwd(),
  missing: [typeof require, typeof fetch, typeof setTimeout, typeof Buffer].join(' '),
  sizes: Object.fromEntries(areas),
  unique: [...unique],
  answers,
  math: Math.max(...[...areas.values()]),
  json: JSON.parse(JSON.stringify({ n: Number('3'), s: String(4), b: Boolean(1) })),
  arrays: Array.isArray(answers) && Object.entries({ x: 1 }).length,
}
