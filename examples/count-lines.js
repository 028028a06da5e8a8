// Count the lines of several files, one agent each, in parallel.
// The "agent" here is any program that reads the prompt on stdin; with the command below it is
// `tail` + `wc`, so this runs on any machine:
//   weft run examples/count-lines.js --command 'tail -n 1 | xargs wc -l'
// For a workflow meant for a real coding agent, see examples/review.js (--driver claude, codex, ...).
export const meta = {
  name: "count-lines",
  description: "Count the lines of each file, one agent per file",
  args: { type: "object", properties: { files: { type: "array", items: { type: "string" } } } },
}

const files = args?.files ?? ["README.md", "package.json", "examples/count-lines.js"]
phase("Count")
const answers = await parallel(files.map((f) => () => agent(f, { label: f })))
phase("Report")
const counts = {}
files.forEach((f, i) => {
  counts[f] = answers[i] === null ? null : Number.parseInt(answers[i], 10)
})
log(`counted ${Object.keys(counts).length} files`)
return counts
