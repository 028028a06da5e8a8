/** `weft plan <script|name>` (SPEC U06): the script's shape and an estimate, without running it. */
import { join, resolve } from "node:path";
import { UsageError } from "../api/errors.js";
import { DEFAULT_FAN_OUT, DEFAULT_TOKENS_PER_AGENT, planScript } from "../plan/analyze.js";
import { largeRunWarning } from "../plan/large-run.js";
import { planPackets, renderPlan } from "../plan/render.js";
import { forTerminal } from "../report/terminal-text.js";
import { loadScriptFile } from "../script/load.js";
import { ensureDir, writeFileAtomicSync } from "../store/safe-write.js";
import { resolveScriptArg, shownPath } from "../workflows/lookup.js";
import { parseArgsFlag } from "./run-command.js";

export interface PlanFlags {
  args?: string;
  json?: boolean;
  packets?: string;
  fanOut?: string;
  tokensPerAgent?: string;
}

function positive(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${flag} must be a whole number of 0 or more, got ${JSON.stringify(raw)}`);
  return n;
}

export async function planCommand(scriptArg: string, flags: PlanFlags): Promise<number> {
  const cwd = process.cwd();
  const path = await resolveScriptArg(scriptArg, cwd, process.env);
  const script = await loadScriptFile(path, cwd);
  const args = parseArgsFlag(flags.args);
  const plan = planScript(script, {
    args,
    argsGiven: flags.args !== undefined,
    defaultFanOut: positive(flags.fanOut, "--fan-out", DEFAULT_FAN_OUT),
    tokensPerAgent: positive(flags.tokensPerAgent, "--tokens-per-agent", DEFAULT_TOKENS_PER_AGENT),
    tokensPerAgentSource:
      flags.tokensPerAgent !== undefined ? "--tokens-per-agent" : "default; set with --tokens-per-agent",
  });
  if (flags.packets !== undefined) {
    const dir = resolve(cwd, flags.packets);
    const packets = planPackets(plan);
    try {
      // The folder may be under .weft/, where an agent may have planted links (safe-write.ts).
      ensureDir(dir);
      for (const p of packets) writeFileAtomicSync(join(dir, `${p.n}.md`), p.text, { sync: false });
    } catch (e) {
      throw new UsageError(`cannot write packets to ${flags.packets}: ${(e as Error).message}`);
    }
    process.stderr.write(`wrote ${packets.length} packet(s) to ${shownPath(cwd, dir)}\n`);
  }
  const large = largeRunWarning(plan.estimate);
  if (large) process.stderr.write(`! ${large}\n`);
  // C09: the plan quotes the script's titles, labels and prompts.
  const out = flags.json ? { ...plan, warnings: large ? [large] : [] } : undefined;
  process.stdout.write(out ? `${JSON.stringify(out, null, 2)}\n` : forTerminal(renderPlan(plan)));
  return 0;
}
