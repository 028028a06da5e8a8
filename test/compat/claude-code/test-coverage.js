export const meta = {
  name: 'test-coverage',
  description: 'Ask the project\'s test analyzer about the coverage of the open pull request',
}

// .claude/agents/pr-test-analyzer.md is written as published agent files are: its description
// holds unquoted "Context:", "user:" and "assistant:" lines, which Claude Code loads anyway.
const first = await agent('Analyze the test coverage of the parser changes', { agentType: 'pr-test-analyzer' })
const second = await agent('Analyze the test coverage of the lexer changes', { agentType: 'pr-test-analyzer' })
return { first, second }
