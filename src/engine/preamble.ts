/**
 * The preamble every agent gets (SPEC A15). It is not part of the cache key: changing its words
 * in a later version must not make finished agents run again.
 */
export const PREAMBLE =
  "You are running non-interactively as one step of an automated workflow script (weft). " +
  "Nobody will read or answer questions during this task: do not ask for confirmation or clarification; " +
  "make reasonable assumptions and state them. Your final message is returned to the script as data, " +
  "so end with the answer itself. Do not start workflows or weft runs yourself.";

export function fullPrompt(userPrompt: string, extra: string[]): string {
  // Concatenation, not join: V8 keeps it as a rope until a driver writes it out, and most
  // prompts are never copied at all (an in-process driver may not read it).
  let text = `${PREAMBLE}\n\n${userPrompt}`;
  for (const part of extra) text += `\n\n${part}`;
  return text;
}
