/** `weft save` and `weft list-workflows` (SPEC U03): thin layers over src/workflows. */

import { forTerminal } from "../report/terminal-text.js";
import { listWorkflows, shownPath } from "../workflows/lookup.js";
import { saveWorkflow } from "../workflows/save.js";

export async function saveCommand(
  runId: string,
  name: string,
  flags: { global?: boolean; force?: boolean },
): Promise<number> {
  const cwd = process.cwd();
  const to = await saveWorkflow(runId, name, { cwd, env: process.env, ...flags });
  process.stdout.write(`saved ${shownPath(cwd, to)}; run it with \`weft run ${name}\`\n`);
  return 0;
}

export async function listWorkflowsCommand(flags: { json?: boolean }): Promise<number> {
  const cwd = process.cwd();
  const entries = await listWorkflows(cwd, process.env);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    return 0;
  }
  if (entries.length === 0) {
    process.stdout.write(
      "no saved workflows (.weft/workflows, ~/.config/weft/workflows, .claude/workflows, recipes)\n",
    );
    return 0;
  }
  const width = Math.max(...entries.map((e) => e.name.length));
  for (const e of entries) {
    const what = e.error ? `(does not load: ${e.error})` : (e.description ?? "");
    const alias = e.metaName && e.metaName !== e.name ? ` [meta.name ${e.metaName}]` : "";
    // C09: the description and when-to-use are the scripts' text.
    process.stdout.write(
      forTerminal(
        `${e.name.padEnd(width)}  ${e.source.padEnd(11)}  ${what}${alias}${e.shadowed ? "  (shadowed)" : ""}\n`,
      ),
    );
    if (e.whenToUse) process.stdout.write(forTerminal(`${" ".repeat(width + 15)}when: ${e.whenToUse}\n`));
    process.stdout.write(`${" ".repeat(width + 15)}${shownPath(cwd, e.path)}\n`);
  }
  return 0;
}
