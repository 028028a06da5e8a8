export const meta = {
  name: 'claim_check',
  description: 'Verify claims with reviewers and pick the best draft with a judge panel',
}

// Three reviewers cycle the two lenses: source, logic, source.
const solid = await verify('The parser handles empty input', { reviewers: 3, lens: ['source', 'logic'] })
// Every reviewer fails: no votes, so not real.
const shaky = await verify({ claim: 'The cache never expires' })
const strict = await verify('Retries are bounded', { reviewers: 2, threshold: 1 })

const best = await judgePanel(['draft A: terse', 'draft B: thorough', 'draft C: thorough'], { judges: 2, rubric: 'clarity' })
// A candidate whose judges all fail scores 0; the other still has its score.
const partial = await judgePanel(['draft D', 'draft E'], { judges: 1 })
const none = await judgePanel([])

return {
  solid,
  shaky,
  strict: { real: strict.real, realCount: strict.realCount, total: strict.total },
  best: { index: best.index, attempt: best.attempt, score: best.score, judged: best.judgments.length },
  partial: { index: partial.index, score: partial.score, judged: partial.judgments.length },
  none: none === undefined,
}
