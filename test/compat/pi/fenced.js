```js
export const meta = {
  name: 'fenced_summary',
  description: 'A script pasted with its Markdown fence, as a model writes it',
}

const summary = await agent('Summarize the repository layout in one line', { label: 'summary' })
return { summary }
```
