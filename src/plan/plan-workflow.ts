/** The library face of `weft plan` (U06, U10): load a script the way a run would, and read its plan. */
import { loadScriptFile, loadScriptSource } from "../script/load.js";
import { type Plan, type PlanOptions, planScript } from "./analyze.js";

export interface PlanWorkflowOptions extends Omit<PlanOptions, "argsGiven"> {
  /** Path of a .js or .ts script (relative to `cwd`), or its source. */
  script: string | { source: string; path?: string; typescript?: boolean };
  cwd?: string;
}

/** Reads the script without running it; throws a ScriptError (`format()` gives file:line) when it does not load. */
export async function planWorkflow(opts: PlanWorkflowOptions): Promise<Plan> {
  const { script, cwd = process.cwd(), ...rest } = opts;
  const loaded =
    typeof script === "string"
      ? await loadScriptFile(script, cwd)
      : await loadScriptSource(
          script.source,
          script.path ?? "<script>",
          script.typescript ?? /\.[cm]?ts$/.test(script.path ?? ""),
        );
  return planScript(loaded, { ...rest, argsGiven: opts.args !== undefined });
}
