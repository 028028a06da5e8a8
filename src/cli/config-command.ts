/** `weft config`: the merged settings and where each came from (U09). */
import { cpus } from "node:os";
import { UsageError } from "../api/errors.js";
import { resolveSettings } from "../config/settings.js";
import { forTerminal } from "../report/terminal-text.js";

export async function configCommand(flags: { json?: boolean }): Promise<number> {
  let resolved: ReturnType<typeof resolveSettings>;
  try {
    resolved = resolveSettings({ cwd: process.cwd(), cpus: cpus().length });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const rows = Object.entries(resolved.sources).map(([key, src]) => ({
    key,
    value: (resolved.settings as unknown as Record<string, unknown>)[key],
    source: src.source,
    where: src.where,
  }));
  // Values inside an object setting from another source (Claude Code's model for the claude driver).
  for (const [key, d] of Object.entries(resolved.details)) {
    rows.push({ key, value: d.value, source: d.source, where: d.where });
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ settings: rows, warnings: resolved.warnings }, null, 2)}\n`);
    return 0;
  }
  const w = Math.max(...rows.map((r) => r.key.length));
  for (const r of rows) {
    const v = r.value === undefined ? "(unset)" : JSON.stringify(r.value);
    // C09: .weft/config.json is a file an agent can write; its values are shown, not obeyed.
    process.stdout.write(
      forTerminal(`${r.key.padEnd(w)}  ${v.padEnd(12)}  ${r.source === "default" ? "default" : r.where}\n`),
    );
  }
  for (const warning of resolved.warnings) process.stderr.write(`! ${forTerminal(warning)}\n`);
  return 0;
}
