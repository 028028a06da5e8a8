/**
 * Source of the code that runs INSIDE the script's vm context, before the script.
 *
 * Why a string: everything the script can touch must be created by the context itself
 * (ARCHITECTURE "Values crossing into the sandbox"). A host function or object handed in carries
 * the host's Function on its constructor chain; code evaluated in the context only makes
 * context objects. The one host function, `send`, is captured in this closure and never
 * exposed; it takes and returns primitives only.
 *
 * Protocol (strings only):
 *   send("call", prompt, optsJson, id)       an agent() call
 *   send("phase" | "log" | "warn", text)
 *   send("done", json result) / send("error", json {name, message, stack})
 * The host calls the returned `deliver(json)` with a batch:
 *   {results: [{id, ok, value?, error?: {name, message}}], spent: {tokens, agents, costUsd}}
 * where `value` is the result itself (the host splices each result's JSON in without re-encoding).
 */
export const BOOTSTRAP_SOURCE = String.raw`(function (send, init) {
  "use strict";
  // Captured before the script runs: a script may replace JSON's methods in its own context,
  // and the bridge must keep speaking plain strings.
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const G = globalThis;
  const settings = parse(init);
  const RealDate = Date;
  const define = (obj, key, value) =>
    Object.defineProperty(obj, key, { value, writable: false, enumerable: false, configurable: false });

  class DeterminismError extends Error {
    constructor(what, instead) {
      super(what + " is not allowed in a workflow script: the script is replayed on resume and must do the same thing every time. " + instead);
      this.name = "DeterminismError";
    }
  }
  class WorkflowError extends Error {
    constructor(name, message) { super(message); this.name = name; }
  }

  // S05: the guard lives in the runtime, so aliases (const D = Date) are caught too.
  function GuardedDate(...a) {
    if (!new.target) throw new DeterminismError("Date()", "Pass the time in through args if the workflow needs it.");
    if (a.length === 0) throw new DeterminismError("new Date() without an argument", "Use new Date(value) with a value from args or from an agent's answer.");
    return Reflect.construct(RealDate, a, new.target);
  }
  GuardedDate.prototype = RealDate.prototype;
  define(RealDate.prototype, "constructor", GuardedDate);
  define(GuardedDate, "now", function now() {
    throw new DeterminismError("Date.now()", "Pass the time in through args if the workflow needs it.");
  });
  define(GuardedDate, "parse", RealDate.parse);
  define(GuardedDate, "UTC", RealDate.UTC);
  define(G, "Date", GuardedDate);
  define(Math, "random", function random() {
    throw new DeterminismError("Math.random()", "Vary prompts by index or by args instead.");
  });
  define(G, "performance", Object.freeze({ now() { throw new DeterminismError("performance.now()", "Timing is recorded by weft for every agent."); } }));
  const noRandom = () => { throw new DeterminismError("crypto random values", "Derive ids from the index or from args."); };
  define(G, "crypto", Object.freeze({ randomUUID: noRandom, getRandomValues: noRandom }));
  // Nothing that evaluates strings: code generation is off for the context, and these do not exist.
  for (const k of ["WebAssembly", "SharedArrayBuffer", "Atomics"]) { try { delete G[k]; } catch {} }

  // ---- bridge ----
  let nextId = 1;
  const pending = new Map();
  const spent = { tokens: 0, agents: 0, costUsd: 0 };
  const pathOf = (base, key) => (typeof key === "number" ? base + "[" + key + "]" : /^[A-Za-z_$][\w$]*$/.test(key) ? base + "." + key : base + "[" + stringify(key) + "]");

  // S02: refuse what JSON cannot carry exactly, naming the path of the bad value.
  function toJson(value, root) {
    const stack = [];
    function check(v, path) {
      if (v !== null && typeof v === "object" && typeof v.toJSON === "function") v = v.toJSON();
      switch (typeof v) {
        case "function": throw new TypeError(path + " is a function, which JSON cannot carry");
        case "symbol": throw new TypeError(path + " is a symbol, which JSON cannot carry");
        case "bigint": throw new TypeError(path + " is a bigint, which JSON cannot carry; convert it to a string or number");
        case "number": if (!Number.isFinite(v)) throw new TypeError(path + " is " + String(v) + ", which JSON cannot carry"); return;
        case "object": break;
        default: return;
      }
      if (v === null) return;
      // JSON would turn these into {} without a word; pi-dynamic-workflows refuses a promise too.
      if (typeof v.then === "function") throw new TypeError(path + " is a promise, which JSON cannot carry: await it (a missing await before agent(), parallel() or pipeline()?)");
      if (v instanceof Map || v instanceof Set) throw new TypeError(path + " is a " + (v instanceof Map ? "Map" : "Set") + ", which JSON cannot carry; convert it (Object.fromEntries(map), [...set])");
      if (stack.includes(v)) throw new TypeError(path + " refers back to itself (a cycle), which JSON cannot carry");
      stack.push(v);
      if (Array.isArray(v)) { for (let i = 0; i < v.length; i++) if (v[i] !== undefined) check(v[i], pathOf(path, i)); }
      else for (const k of Object.keys(v)) if (v[k] !== undefined) check(v[k], pathOf(path, k));
      stack.pop();
    }
    check(value, root);
    return stringify(value === undefined ? null : value);
  }

  function errorInfo(e) {
    if (e !== null && typeof e === "object") {
      return { name: String(e.name || "Error"), message: String(e.message), stack: typeof e.stack === "string" ? e.stack : "" };
    }
    return { name: "Error", message: "the script threw a non-error value: " + String(e), stack: "" };
  }

  function agent(prompt, opts) {
    if (typeof prompt !== "string") return Promise.reject(new TypeError("agent(prompt, opts): prompt must be a string, got " + (prompt === null ? "null" : typeof prompt)));
    if (opts !== undefined && (opts === null || typeof opts !== "object" || Array.isArray(opts))) return Promise.reject(new TypeError("agent(prompt, opts): opts must be an object"));
    let optsJson = "{}";
    if (opts !== undefined) {
      try {
        const keys = Object.keys(opts);
        for (const k of keys) {
          const t = typeof opts[k];
          if (t === "function" || t === "symbol" || t === "bigint") throw new TypeError("agent() option " + k + " must be JSON data, got a " + t);
        }
        if (keys.length > 0) optsJson = toJson(opts, "opts");
      } catch (e) { return Promise.reject(e); }
    }
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, site: new Error() });
      send("call", prompt, optsJson, id);
    });
  }

  // W04: apply finished worktree agents' patches to the main tree; agents by number or label.
  function integrate(which, opts) {
    let argsJson;
    try {
      if (which !== undefined && which !== null && !Array.isArray(which)) throw new TypeError("integrate(agents?, opts?): agents must be a list of agent numbers or labels");
      if (Array.isArray(which)) for (const w of which) if (typeof w !== "number" && typeof w !== "string") throw new TypeError("integrate(): each agent is a number or a label");
      argsJson = stringify({ which: Array.isArray(which) ? which : undefined, allowDirty: !!(opts && opts.allowDirty === true) });
    } catch (e) { return Promise.reject(e); }
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, site: new Error() });
      send("op", "integrate", argsJson, id);
    });
  }

  // A11: a saved workflow or {scriptPath} run inline, sharing this run's limits and stop. The
  // engine finds and checks the script, then the worker compiles it in this context and calls
  // startNested, whose body gets its own args and a workflow() that refuses to nest deeper.
  function workflow(ref, wargs) {
    let refJson;
    try {
      let r;
      if (typeof ref === "string" && ref !== "") r = { name: ref };
      else if (ref !== null && typeof ref === "object" && !Array.isArray(ref) && typeof ref.scriptPath === "string" && ref.scriptPath !== "") r = { scriptPath: ref.scriptPath };
      else throw new TypeError("workflow(nameOrRef, args?): give a saved workflow's name or { scriptPath }");
      if (wargs !== undefined) r.args = parse(toJson(wargs, "args"));
      refJson = stringify(r);
    } catch (e) { return Promise.reject(e); }
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, site: new Error() });
      send("op", "workflow", refJson, id);
    });
  }

  // A14: wait for a person's approval; the engine answers true (approved) or false (rejected).
  function gate(title, opts) {
    let argsJson;
    try {
      if (typeof title !== "string" || title === "") throw new TypeError("gate(title, opts?): title must be a non-empty string");
      if (opts !== undefined && (opts === null || typeof opts !== "object" || Array.isArray(opts))) throw new TypeError("gate(title, opts?): opts must be an object like { details }");
      const g = { title };
      if (opts !== undefined && opts.details !== undefined) g.details = parse(toJson(opts.details, "details"));
      argsJson = stringify(g);
    } catch (e) { return Promise.reject(e); }
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve: (v) => resolve(v === true), reject });
      send("op", "gate", argsJson, id);
    });
  }

  function callerOf(stack) {
    const lines = String(stack).split("\n").slice(1);
    for (const l of lines) {
      if (l.includes("weft:bootstrap")) continue;
      const m = /\(?([^()\s]+:\d+:\d+)\)?\s*$/.exec(l);
      if (m) return m[1];
    }
    return undefined;
  }
  function nestedWorkflow() {
    const where = callerOf(new Error().stack);
    throw new WorkflowError("NestingError", (where ? where + ": " : "") + "workflow() inside a nested workflow: nesting is one level; call it from the top-level script instead");
  }

  function startNested(id, body, argsJson) {
    const p = pending.get(id);
    if (!p) return;
    // No longer waiting on the engine: what the nested body awaits is pending instead (stall checks).
    pending.delete(id);
    let result;
    try { result = body(argsJson === undefined ? undefined : parse(argsJson), nestedWorkflow); }
    catch (e) { p.reject(e); return; }
    result.then(p.resolve, p.reject);
  }

  function checkList(list, fn) {
    if (!Array.isArray(list)) throw new TypeError(fn + "() takes an array, got " + (list === null ? "null" : typeof list));
    if (list.length > settings.maxListItems) throw new RangeError(fn + "() got " + list.length + " items, more than the limit of " + settings.maxListItems + " (setting maxListItems)");
  }
  const isDeterminism = (e) => e instanceof DeterminismError;

  function parallel(thunks) {
    try { checkList(thunks, "parallel"); } catch (e) { return Promise.reject(e); }
    return Promise.all(thunks.map(async (t, i) => {
      try { return await (typeof t === "function" ? t() : t); }
      catch (e) {
        if (isDeterminism(e)) throw e;
        send("warn", "parallel(): slot " + i + " threw " + errorInfo(e).name + ": " + errorInfo(e).message + "; its result is null");
        return null;
      }
    }));
  }

  function pipeline(items, ...stages) {
    try {
      checkList(items, "pipeline");
      for (const s of stages) if (typeof s !== "function") throw new TypeError("pipeline(items, ...stages): every stage must be a function");
    } catch (e) { return Promise.reject(e); }
    return Promise.all(items.map(async (item, index) => {
      let prev = item;
      for (let s = 0; s < stages.length; s++) {
        try { prev = await stages[s](prev, item, index); }
        catch (e) {
          if (isDeterminism(e)) throw e;
          send("warn", "pipeline(): item " + index + " stage " + (s + 1) + " threw " + errorInfo(e).name + ": " + errorInfo(e).message + "; the item is null");
          return null;
        }
        if (prev === undefined) prev = null;
      }
      return prev;
    }));
  }

  const fmt = (a) => a.map((x) => (typeof x === "string" ? x : (() => { try { return stringify(x); } catch { return String(x); } })())).join(" ");
  function phase(title) { send("phase", String(title)); }
  function log(...a) { send("log", fmt(a)); }
  const consoleObj = Object.freeze({ log, info: log, debug: log, warn: (...a) => send("warn", fmt(a)), error: (...a) => send("warn", fmt(a)) });

  // Without a limit remaining() is Infinity, as in Claude Code and pi-dynamic-workflows: their
  // scripts loop "while (budget.remaining() > 50_000)", and with null such a loop would never run.
  const counter = (key, total) => Object.freeze({
    total,
    spent: () => spent[key],
    remaining: () => (total === null ? Infinity : Math.max(0, total - spent[key])),
  });
  const tokenBudget = counter("tokens", settings.budget);
  const budget = Object.freeze({
    total: tokenBudget.total, spent: tokenBudget.spent, remaining: tokenBudget.remaining,
    agents: counter("agents", settings.maxAgents),
    costUsd: counter("costUsd", settings.maxCostUsd),
  });

  define(G, "agent", agent);
  define(G, "parallel", parallel);
  define(G, "integrate", integrate);
  define(G, "workflow", workflow);
  define(G, "gate", gate);
  define(G, "pipeline", pipeline);
  define(G, "phase", phase);
  define(G, "log", log);
  define(G, "console", consoleObj);
  define(G, "budget", budget);
  define(G, "args", settings.args === undefined ? undefined : parse(settings.args));
  define(G, "DeterminismError", DeterminismError);
  // pi-dynamic-workflows scripts read cwd and process.cwd(); nothing else of process exists.
  define(G, "cwd", settings.cwd);
  define(G, "process", Object.freeze({ cwd: () => settings.cwd }));

  // E01: a refusal (options, schema, a limit) carries the stack of the call that was refused, so
  // an uncaught one names the script's line, not the bridge's.
  function withSite(e, site) {
    if (site) { try { e.stack = e.name + ": " + e.message + "\n" + String(site.stack).split("\n").slice(1).join("\n"); } catch {} }
    return e;
  }

  function deliver(batchJson) {
    const batch = parse(batchJson);
    if (batch.spent) { spent.tokens = batch.spent.tokens; spent.agents = batch.spent.agents; spent.costUsd = batch.spent.costUsd; }
    for (const r of batch.results) {
      const p = pending.get(r.id);
      if (!p) continue;
      pending.delete(r.id);
      if (r.ok) p.resolve(r.value === undefined ? null : r.value);
      else p.reject(withSite(new WorkflowError(r.error.name, r.error.message), p.site));
    }
  }

  function start(body) {
    let result;
    try { result = body(); } catch (e) { send("error", stringify(errorInfo(e))); return; }
    result.then(
      (v) => {
        let json;
        try { json = toJson(v, "result"); } catch (e) { send("error", stringify(errorInfo(e))); return; }
        send("done", json);
      },
      (e) => send("error", stringify(errorInfo(e))),
    );
  }

  return { deliver, start, startNested, pendingCount: () => pending.size };
})`;
