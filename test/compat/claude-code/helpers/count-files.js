export const meta = {
  name: 'count-files',
  description: 'Count the files passed in args',
}

const checked = await parallel(args.map(f => () => agent(`Check that ${f} still compiles`)))
return { files: args.length, ok: checked.filter(Boolean).length }
