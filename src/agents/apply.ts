/**
 * `agentType` before the driver sees the call (SPEC A02). With a definition, weft handles it:
 * model, effort, permissions and driver come from the definition unless the call gives them
 * (explicit options win), and its instructions go into the prompt as a section after weft's
 * preamble; the driver never sees the name. Claude Code's built-in types (`general-purpose`,
 * `Explore`, `Plan`) have weft's own definitions, used when the user has none of that name; on a
 * driver that has those types itself (claude) the name goes to it, with the type's permissions.
 * Without any definition, the name goes to drivers with native named agents (claude and opencode
 * `--agent`) and is refused for the others.
 */
import type { Driver } from "../drivers/types.js";
import type { AgentOptions } from "../engine/options.js";
import { PREAMBLE } from "../engine/preamble.js";
import { BUILTIN_TYPES } from "./builtin.js";
import { type AgentDefinition, AgentDefinitions, placesFor } from "./definitions.js";

export interface TypedCall {
  opts: AgentOptions;
  driver: Driver;
  /** What the cache key holds for agentType: the name, plus the definition's hash when weft read one. */
  keyAgentType?: string;
}

export class AgentTypes {
  private readonly defs: AgentDefinitions;
  /** One instructions-adding wrapper per driver and definition, not one per call. */
  private readonly wrapped = new WeakMap<Driver, Map<string, Driver>>();

  constructor(
    cwd: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.defs = new AgentDefinitions(cwd, env);
  }

  /**
   * Resolve `opts.agentType` and choose the driver. `warn` gets messages to show once per run;
   * throws (an OptionsError for the script) when nothing can honour the type.
   */
  apply(
    opts: AgentOptions,
    defaultDriver: Driver,
    driverFor: (name: string) => Driver,
    warn: (message: string) => void,
  ): TypedCall {
    const name = opts.agentType;
    if (name === undefined) {
      return { opts, driver: opts.driver ? driverFor(opts.driver) : defaultDriver };
    }
    const def = this.defs.find(name);
    if (!def) {
      const driver = opts.driver ? driverFor(opts.driver) : defaultDriver;
      if (driver.capabilities && !driver.capabilities.agentType) {
        // Claude Code's names are case-sensitive, and so are weft's: point at the near miss.
        const near = BUILTIN_TYPES.find((b) => b.toLowerCase() === name.toLowerCase());
        throw new TypeRefused(
          `agent() option "agentType": no definition of agent type "${name}" (weft looked for ${placesFor(name, this.env).join(", ")}) and the ${driver.name} driver has no named agents of its own${near ? `; did you mean Claude Code's built-in "${near}"?` : ""}`,
        );
      }
      return { opts, driver, keyAgentType: name };
    }
    if (def.format === "builtin") {
      const driver = opts.driver ? driverFor(opts.driver) : defaultDriver;
      if (driver.capabilities?.builtinAgentTypes?.includes(name)) {
        // The backend's own type of that name (its tools, its prompt); the permissions are the
        // type's, so the same script is as read-only on claude as elsewhere.
        const permissions = opts.permissions ?? def.permissions;
        return { opts: permissions ? { ...opts, permissions } : opts, driver, keyAgentType: name };
      }
    }
    // A02: once per file (the warning names it), and the agent is used all the same.
    if (def.lenient) warn(def.lenient);
    if (def.ignored.length > 0) {
      warn(`agent type "${name}" (${def.file}): ${def.ignored.join(", ")} not used by weft and ignored`);
    }
    const { agentType: _handled, ...rest } = opts;
    const merged: AgentOptions = {
      ...rest,
      driver: opts.driver ?? def.driver,
      model: opts.model ?? def.model,
      effort: opts.effort ?? def.effort,
      permissions: opts.permissions ?? def.permissions,
    };
    for (const k of ["driver", "model", "effort", "permissions"] as const) {
      if (merged[k] === undefined) delete merged[k];
    }
    const base = merged.driver ? driverFor(merged.driver) : defaultDriver;
    const driver = def.instructions ? this.withInstructions(base, def) : base;
    return { opts: merged, driver, keyAgentType: `${name}@${def.hash}` };
  }

  private withInstructions(driver: Driver, def: AgentDefinition): Driver {
    let byDef = this.wrapped.get(driver);
    if (!byDef) {
      byDef = new Map();
      this.wrapped.set(driver, byDef);
    }
    const key = `${def.name}@${def.hash}`;
    let d = byDef.get(key);
    if (!d) {
      const section = `## Your role: ${def.name}${def.description ? ` (${def.description})` : ""}\n\n${def.instructions}`;
      d = {
        name: driver.name,
        capabilities: driver.capabilities,
        defaultRetries: driver.defaultRetries,
        run: (task, ctx) => driver.run({ ...task, prompt: withSection(task.prompt, section) }, ctx),
      };
      byDef.set(key, d);
    }
    return d;
  }
}

/** The role section goes right after the preamble, before the script's prompt. */
function withSection(prompt: string, section: string): string {
  const head = `${PREAMBLE}\n\n`;
  return prompt.startsWith(head)
    ? `${head}${section}\n\n## Your task\n\n${prompt.slice(head.length)}`
    : `${section}\n\n## Your task\n\n${prompt}`;
}

export class TypeRefused extends Error {
  override name = "OptionsError";
}
