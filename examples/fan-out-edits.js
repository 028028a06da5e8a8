// Fan out edits over several files, one agent per file, each in its own git worktree with a
// write scope and a check, then integrate the patches into the working tree.
// Run it in a git repository with a clean working tree; here the "agent" is sed, which reads
// the file name as the last line of its prompt and puts a header on that file:
//   weft run examples/fan-out-edits.js --args '{"files":["a.txt","b.txt"]}' \
//     --command 'f=$(tail -n 1); sed -i "1i # edited by weft" "$f"'
// With a coding agent instead: --command 'claude -p' (or codex), and a prompt that says what to do.
export const meta = {
  name: "fan-out-edits",
  description: "Edit each file in its own worktree, check it, and integrate the patches",
  args: { type: "object", required: ["files"], properties: { files: { type: "array", items: { type: "string" } } } },
}

phase("Edit")
const edited = await parallel(
  args.files.map((f) => () =>
    agent(f, { label: f, isolation: "worktree", writes: [f], verify: `head -n 1 ${JSON.stringify(f)} | grep -q weft` }),
  ),
)
phase("Integrate")
const result = await integrate()
log(`${result.applied.length} patches applied, ${result.conflicts.length} conflicts`)
return { edited: edited.filter((e) => e !== null).length, ...result }
