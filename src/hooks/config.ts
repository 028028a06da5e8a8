/**
 * The `hooks` setting (issue 17 item 11): shell commands weft runs on run events, as Claude Code's
 * hooks let users notify or gate from their own tools. In a config file:
 * `{ "hooks": { "runFinished": "notify-send done", "agentFinished": ["a", "b"] } }`.
 */
export const HOOK_NAMES = ["runStarted", "runFinished", "agentFinished", "gateWaiting", "breaker"] as const;
export type HookName = (typeof HOOK_NAMES)[number];
export type Hooks = Partial<Record<HookName, string[]>>;

export class HooksError extends Error {
  override name = "SettingsError";
}

/** One layer's `hooks`: an object of known hook names, each a command or a list of commands. */
export function parseHooks(raw: unknown, where: string): Hooks {
  let v = raw;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch (e) {
      throw new HooksError(`${where}: hooks must be a JSON object: ${(e as Error).message}`);
    }
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new HooksError(`${where}: hooks must be an object of hook names (${HOOK_NAMES.join(", ")})`);
  }
  const out: Hooks = {};
  for (const [k, cmds] of Object.entries(v as Record<string, unknown>)) {
    // A misspelt hook would never run: refuse it by name rather than ignore it.
    if (!(HOOK_NAMES as readonly string[]).includes(k)) {
      throw new HooksError(`${where}: hooks.${k} is not a hook (hooks: ${HOOK_NAMES.join(", ")})`);
    }
    const list = typeof cmds === "string" ? [cmds] : cmds;
    if (!Array.isArray(list) || list.some((c) => typeof c !== "string" || c.trim() === "")) {
      throw new HooksError(`${where}: hooks.${k} must be a shell command or a list of them`);
    }
    out[k as HookName] = list as string[];
  }
  return out;
}

/** Layers' hooks together, lowest layer first: every layer's commands run, as in Claude Code. */
export function mergeHooks(layers: Hooks[]): Hooks {
  const out: Hooks = {};
  for (const h of layers) {
    for (const name of HOOK_NAMES) {
      const cmds = h[name];
      if (cmds) out[name] = [...(out[name] ?? []), ...cmds];
    }
  }
  return out;
}
