/**
 * Source of the code that runs INSIDE the script's vm context, before the script.
 *
 * Why a string: everything the script can touch must be created by the context itself
 * (ARCHITECTURE "Values crossing into the sandbox"). A host function or object handed in carries
 * the host's Function on its constructor chain; code evaluated in the context only makes
 * context objects. The one host function, `send`, is captured in this closure and never
 * exposed; it takes and returns primitives only.
 *
 * The script may replace any built-in of its context (Map.prototype.get, Array iterators,
 * JSON.stringify, Promise.prototype.then, Object.prototype setters...). So the bridge captures
 * every built-in it needs before the script runs, calls them through Reflect.apply, keeps its own
 * state in null-prototype objects, never iterates with for...of or spread, and every entry point
 * the host calls (deliver, start, startNested, pendingCount, unhandled) catches everything: no
 * value of the script is ever thrown or handed to the host, where Node would format or inspect it
 * with host objects (S06).
 *
 * Protocol (strings only):
 *   send("call", prompt, optsJson, id)       an agent() call
 *   send("op", name, argsJson, id)           integrate(), workflow(), gate(), checkpoint()
 *   send("phase" | "log" | "warn", text)
 *   send("done", json result) / send("error", json {name, message, stack})
 * The host calls the returned `deliver(json)` with a batch:
 *   {results: [{id, ok, value?, error?: {name, message}}], spent: {tokens, agents, costUsd}}
 * where `value` is the result itself (the host splices each result's JSON in without re-encoding).
 */
import { HELPERS_SOURCE } from "./bootstrap-helpers.js";

export const BOOTSTRAP_SOURCE = String.raw`(function (send, init) {
  "use strict";
  // ---- built-ins, captured before the script can replace them ----
  const G = globalThis;
  const R = Reflect;
  const apply = R.apply, construct = R.construct, defineProperty = R.defineProperty;
  const getOwnPropertyDescriptor = R.getOwnPropertyDescriptor;
  const O = Object;
  const objectKeys = O.keys, hasOwn = O.hasOwn, freeze = O.freeze, create = O.create;
  const objectDefineProperty = O.defineProperty;
  const isArray = Array.isArray;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const RealString = String;
  const RealError = Error, RealTypeError = TypeError, RealRangeError = RangeError;
  const RealPromise = Promise;
  const promiseThen = Promise.prototype.then, promiseReject = Promise.reject;
  const rejected = (e) => apply(promiseReject, RealPromise, [e]);
  const toPrimitiveKey = Symbol.toPrimitive;
  const floor = Math.floor, max = Math.max;
  const symbolToString = Symbol.prototype.toString;
  const numberValueOf = Number.prototype.valueOf, stringValueOf = String.prototype.valueOf;
  const booleanValueOf = Boolean.prototype.valueOf, bigintValueOf = BigInt.prototype.valueOf;
  const mapSize = getOwnPropertyDescriptor(Map.prototype, "size").get;
  const setSize = getOwnPropertyDescriptor(Set.prototype, "size").get;
  const regexExec = RegExp.prototype.exec;
  const strIndexOf = String.prototype.indexOf, strSlice = String.prototype.slice;
  const isFiniteNumber = Number.isFinite;
  const RealWeakMap = WeakMap, weakGet = WeakMap.prototype.get, weakSet = WeakMap.prototype.set;
  const RealWeakSet = WeakSet, weakAdd = WeakSet.prototype.add, weakHas = WeakSet.prototype.has;
  const noop = () => {};

  const settings = parse(init);
  const define = (obj, key, value) =>
    objectDefineProperty(obj, key, { __proto__: null, value, writable: false, enumerable: false, configurable: false });
  // An own property set without [[Set]]: a setter the script put on a prototype is not called.
  const own = (obj, key, value) =>
    defineProperty(obj, key, { __proto__: null, value, writable: true, enumerable: true, configurable: true });
  const hidden = (obj, key, value) =>
    defineProperty(obj, key, { __proto__: null, value, writable: true, enumerable: false, configurable: true });
  const matches = (re, s) => apply(regexExec, re, [s]) !== null;
  const indexOf = (s, part, from) => apply(strIndexOf, s, [part, from]);
  const slice = (s, a, b) => apply(strSlice, s, [a, b]);

  // Any value as text, without throwing: names and messages may be symbols, objects whose
  // toString throws or returns an object, or getters (S06).
  function text(v) {
    try {
      switch (typeof v) {
        case "string": return v;
        case "symbol": return apply(symbolToString, v, []);
        default: return RealString(v);
      }
    } catch { return "[a value that cannot be shown as text]"; }
  }

  class DeterminismError extends RealError {
    constructor(what, instead) {
      super(what + " is not allowed in a workflow script: the script is replayed on resume and must do the same thing every time. " + instead);
      hidden(this, "name", "DeterminismError");
    }
  }
  class WorkflowError extends RealError {
    constructor(name, message) { super(message); hidden(this, "name", name); }
  }
  freeze(DeterminismError.prototype); freeze(DeterminismError);
  freeze(WorkflowError.prototype); freeze(WorkflowError);

  // ---- stack traces (S06) ----
  // V8 formats a stack through Node's host callback, which uses this realm's
  // Error.prepareStackTrace when it is a function and otherwise formats the error itself in
  // the host realm: there a Symbol name or message throws a host TypeError into the script, and
  // its constructor chain is the host's Function. So the context always has a formatter of its
  // own that cannot be removed (an accessor on a locked Error); a formatter the script assigns
  // is kept and called by it, so scripts that use the V8 stack API still work.
  let callSiteToString;
  RealError.prepareStackTrace = (e, sites) => { callSiteToString = sites[0].toString; return ""; };
  void new RealError().stack;
  let scriptFormatter;
  function header(e) {
    try {
      const n = e.name;
      const m = e.message;
      const name = n === undefined ? "Error" : text(n);
      const message = m === undefined ? "" : text(m);
      return name === "" ? message : message === "" ? name : name + ": " + message;
    } catch { return "Error"; }
  }
  function formatStack(error, sites) {
    if (typeof scriptFormatter === "function") return apply(scriptFormatter, RealError, [error, sites]);
    let out = header(error);
    try {
      for (let i = 0; i < sites.length; i++) {
        let line;
        try { line = apply(callSiteToString, sites[i], []); } catch { line = "<unknown>"; }
        out += "\n    at " + line;
      }
    } catch {}
    return out;
  }
  delete RealError.prepareStackTrace;
  objectDefineProperty(RealError, "prepareStackTrace", {
    __proto__: null,
    get: () => formatStack,
    set: (f) => { scriptFormatter = f === formatStack ? undefined : f; },
    enumerable: false,
    configurable: false,
  });
  define(G, "Error", RealError);

  // ---- determinism (S05) ----
  // The guard lives in the runtime, so aliases (const D = Date) are caught too.
  const RealDate = Date;
  const D = RealDate.prototype;
  const dateUTC = RealDate.UTC, dateParse = RealDate.parse;
  const dateMethod = (k) => D[k];
  const realTzOffset = D.getTimezoneOffset, realValueOf = D.valueOf;
  const dateToISO = D.toISOString;
  // Why UTC: the machine's time zone is an input a resume on another machine (or after a
  // daylight-saving change) would not see again, and blocking every local-time method would
  // refuse ordinary code like new Date(x).getFullYear(). So "local time" in a script is UTC on
  // every machine: the local getters and setters are the UTC ones, dates built from parts or
  // from a date-time string without a zone are read as UTC, and formatters without a timeZone
  // format in UTC. Reading the zone itself (getTimezoneOffset, resolvedOptions().timeZone of a
  // formatter made without one) throws, so a script never takes UTC for the user's zone.
  const ISO_LOCAL = /^[+-]?\d{4,6}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?$/;
  const ISO_DATE = /^[+-]?\d{4,6}(?:-\d\d(?:-\d\d)?)?(?:T\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d))?$/i;
  const ZONE = /\b(?:GMT|UTC?|Z|[ECMP][SD]T)\b|\d\d:\d\d(?::\d\d(?:\.\d+)?)?\s*[+-]\d\d:?\d\d\b/i;
  function parseUTC(s) {
    if (matches(ISO_LOCAL, s)) return apply(dateParse, RealDate, [s + "Z"]);
    const t = apply(dateParse, RealDate, [s]);
    if (t !== t || matches(ISO_DATE, s) || matches(ZONE, s)) return t;
    // A legacy format without a zone is read as local time: read it again with a zone.
    const u = apply(dateParse, RealDate, [s + " Z"]);
    return u === u ? u : t;
  }
  // ToPrimitive(v, default), so that a string it gives is read as UTC too.
  function toPrimitive(v) {
    const exotic = v[toPrimitiveKey];
    const isPrimitive = (r) => r === null || (typeof r !== "object" && typeof r !== "function");
    if (exotic !== undefined && exotic !== null) {
      const r = apply(exotic, v, ["default"]);
      if (isPrimitive(r)) return r;
    } else {
      const valueOf = v.valueOf;
      if (typeof valueOf === "function") { const r = apply(valueOf, v, []); if (isPrimitive(r)) return r; }
      const toString = v.toString;
      if (typeof toString === "function") { const r = apply(toString, v, []); if (isPrimitive(r)) return r; }
    }
    throw new RealTypeError("Cannot convert object to primitive value");
  }
  function GuardedDate(...a) {
    if (!new.target) throw new DeterminismError("Date()", "Pass the time in through args if the workflow needs it.");
    if (a.length === 0) throw new DeterminismError("new Date() without an argument", "Use new Date(value) with a value from args or from an agent's answer.");
    if (a.length === 1) {
      let v = a[0];
      if (v !== null && (typeof v === "object" || typeof v === "function")) {
        let t;
        try { t = apply(realValueOf, v, []); } catch { v = toPrimitive(v); }
        if (t !== undefined) return construct(RealDate, [t], new.target);
      }
      return construct(RealDate, [typeof v === "string" ? parseUTC(v) : v], new.target);
    }
    return construct(RealDate, [apply(dateUTC, RealDate, a)], new.target);
  }
  GuardedDate.prototype = D;
  define(D, "constructor", GuardedDate);
  define(GuardedDate, "now", function now() {
    throw new DeterminismError("Date.now()", "Pass the time in through args if the workflow needs it.");
  });
  define(GuardedDate, "parse", function parse(s) { return parseUTC(text(s)); });
  define(GuardedDate, "UTC", dateUTC);
  define(G, "Date", GuardedDate);
  for (const k of ["FullYear", "Month", "Date", "Day", "Hours", "Minutes", "Seconds", "Milliseconds"]) {
    const get = dateMethod("getUTC" + k);
    hidden(D, "get" + k, { ["get" + k]() { return apply(get, this, []); } }["get" + k]);
    if (k === "Day") continue;
    const set = dateMethod("setUTC" + k);
    hidden(D, "set" + k, { ["set" + k](...a) { return apply(set, this, a); } }["set" + k]);
  }
  const utcYear = dateMethod("getUTCFullYear"), utcSetYear = dateMethod("setUTCFullYear");
  hidden(D, "getYear", function getYear() { return apply(utcYear, this, []) - 1900; });
  hidden(D, "setYear", function setYear(y) {
    let n = +y;
    if (n === n) { n = n < 0 ? -floor(-n) : floor(n); if (n >= 0 && n <= 99) n += 1900; }
    return apply(utcSetYear, this, [n]);
  });
  hidden(D, "getTimezoneOffset", function getTimezoneOffset() {
    apply(realTzOffset, this, []); // the usual TypeError on a non-date
    throw new DeterminismError("getTimezoneOffset()", "The machine's time zone differs between machines; dates in a script are in UTC.");
  });
  const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const two = (n) => (n < 10 ? "0" + n : "" + n);
  const utc = (d, k) => apply(dateMethod("getUTC" + k), d, []);
  const dayPart = (d) => {
    const y = utc(d, "FullYear");
    const ys = y < 0 ? "-" + slice("00000" + -y, -6) : slice("000" + y, -4);
    return DAYS[utc(d, "Day")] + " " + MONTHS[utc(d, "Month")] + " " + two(utc(d, "Date")) + " " + ys;
  };
  const timePart = (d) => two(utc(d, "Hours")) + ":" + two(utc(d, "Minutes")) + ":" + two(utc(d, "Seconds")) + " GMT+0000 (Coordinated Universal Time)";
  const valid = (d) => { const t = apply(realValueOf, d, []); return t === t; };
  hidden(D, "toString", function toString() { return valid(this) ? dayPart(this) + " " + timePart(this) : "Invalid Date"; });
  hidden(D, "toDateString", function toDateString() { return valid(this) ? dayPart(this) : "Invalid Date"; });
  hidden(D, "toTimeString", function toTimeString() { return valid(this) ? timePart(this) : "Invalid Date"; });

  // Intl formatters default to UTC (see above); format() and formatToParts() without a date read the clock.
  const RealDTF = Intl.DateTimeFormat;
  const DTF = RealDTF.prototype;
  const dtfFormat = getOwnPropertyDescriptor(DTF, "format").get;
  const dtfFormatToParts = DTF.formatToParts, dtfResolved = DTF.resolvedOptions;
  const givenZone = new RealWeakSet();
  const boundFormats = new RealWeakMap();
  function zoneOf(options) {
    if (options === undefined) return [{ __proto__: null, timeZone: "UTC" }, false];
    if (options === null) return [options, false];
    const o = O(options);
    if (o.timeZone !== undefined) return [o, true];
    return [create(o, { timeZone: { __proto__: null, value: "UTC", enumerable: true } }), false];
  }
  function DateTimeFormat(locales, options) {
    const [opts, given] = zoneOf(options);
    const f = construct(RealDTF, [locales, opts], new.target === undefined ? DateTimeFormat : new.target);
    if (given) apply(weakAdd, givenZone, [f]);
    return f;
  }
  DateTimeFormat.prototype = DTF;
  define(DTF, "constructor", DateTimeFormat);
  define(DateTimeFormat, "supportedLocalesOf", RealDTF.supportedLocalesOf);
  define(Intl, "DateTimeFormat", DateTimeFormat);
  const noDate = (what) => new DeterminismError("Intl.DateTimeFormat " + what + " without a date", "It formats the current time; pass the date to format.");
  objectDefineProperty(DTF, "format", {
    __proto__: null,
    configurable: true,
    get() {
      const real = apply(dtfFormat, this, []);
      let f = apply(weakGet, boundFormats, [real]);
      if (f === undefined) {
        f = (date) => { if (date === undefined) throw noDate("format()"); return real(date); };
        apply(weakSet, boundFormats, [real, f]);
      }
      return f;
    },
  });
  hidden(DTF, "formatToParts", function formatToParts(date) {
    if (date === undefined) { apply(dtfResolved, this, []); throw noDate("formatToParts()"); }
    return apply(dtfFormatToParts, this, [date]);
  });
  hidden(DTF, "resolvedOptions", function resolvedOptions() {
    const r = apply(dtfResolved, this, []);
    if (!apply(weakHas, givenZone, [this])) {
      objectDefineProperty(r, "timeZone", {
        __proto__: null,
        enumerable: true,
        configurable: true,
        get() { throw new DeterminismError("resolvedOptions().timeZone of a formatter made without a timeZone", "That zone is the machine's; give the formatter a timeZone (it defaults to UTC in a script)."); },
      });
    }
    return r;
  });
  for (const k of ["toLocaleString", "toLocaleDateString", "toLocaleTimeString"]) {
    const real = dateMethod(k);
    hidden(D, k, { [k](locales, options) { return apply(real, this, [locales, zoneOf(options)[0]]); } }[k]);
  }

  define(Math, "random", function random() {
    throw new DeterminismError("Math.random()", "Vary prompts by index or by args instead.");
  });
  define(G, "performance", freeze({ now() { throw new DeterminismError("performance.now()", "Timing is recorded by weft for every agent."); } }));
  const noRandom = () => { throw new DeterminismError("crypto random values", "Derive ids from the index or from args."); };
  define(G, "crypto", freeze({ randomUUID: noRandom, getRandomValues: noRandom }));
  if (G.Temporal !== undefined) { try { delete G.Temporal; } catch {} }
  // Nothing that evaluates strings (code generation is off for the context) and nothing that runs
  // script code outside a timed slice (S06, S07): FinalizationRegistry callbacks and WeakRef
  // targets are called or dropped by the garbage collector, when no slice is being timed.
  for (const k of ["WebAssembly", "SharedArrayBuffer", "Atomics", "FinalizationRegistry", "WeakRef"]) { try { delete G[k]; } catch {} }

  // ---- the door out ----
  // send is a host function: at the edge of the stack its own frame can overflow, and that
  // RangeError is the host's. It never reaches the script: a refused send is reported as false.
  function post(kind, a, b, c) {
    try { send(kind, a, b, c); return true; } catch { return false; }
  }
  const tooDeep = () => new RealRangeError("the call stack is too deep to reach weft from here");

  // ---- bridge ----
  let nextId = 1;
  const pending = create(null);
  let pendingCount = 0;
  function await_(id, site, map) {
    return new RealPromise((resolve, reject) => {
      pending[id] = { __proto__: null, resolve, reject, site, map };
      pendingCount++;
    });
  }
  function forget(id) {
    if (pending[id] === undefined) return undefined;
    const p = pending[id];
    delete pending[id];
    pendingCount--;
    return p;
  }
  const spent = { __proto__: null, tokens: 0, agents: 0, costUsd: 0 };
  const IDENT = /^[A-Za-z_$][\w$]*$/;
  const pathOf = (base, key) => (typeof key === "number" ? base + "[" + key + "]" : matches(IDENT, key) ? base + "." + key : base + "[" + stringify(key) + "]");

  // S02: one pass that reads each property and each toJSON once and writes the JSON text from
  // what it read, so what was checked is what is recorded. Values JSON cannot carry fail with
  // their path; NaN and the infinities become null with one warning naming where.
  function toJson(value, root) {
    const stack = create(null);
    let depth = 0;
    const nonFinite = [];
    let nonFiniteCount = 0;
    const fail = (path, what) => { throw new RealTypeError(path + " is " + what); };
    function ser(v, key, path, inArray) {
      if ((v !== null && typeof v === "object") || typeof v === "function") {
        const toJSON = v.toJSON;
        if (typeof toJSON === "function") v = apply(toJSON, v, [key]);
      }
      if (v !== null && typeof v === "object") {
        // Wrapper objects are read by their internal value, as JSON does, but without valueOf.
        try { v = apply(numberValueOf, v, []); } catch {}
      }
      if (v !== null && typeof v === "object") { try { v = apply(stringValueOf, v, []); } catch {} }
      if (v !== null && typeof v === "object") { try { v = apply(booleanValueOf, v, []); } catch {} }
      if (v !== null && typeof v === "object") {
        let big = false;
        try { apply(bigintValueOf, v, []); big = true; } catch {}
        if (big) fail(path, "a bigint, which JSON cannot carry; convert it to a string or number");
      }
      switch (typeof v) {
        case "string": return stringify(v);
        case "boolean": return v ? "true" : "false";
        case "number":
          if (isFiniteNumber(v)) return stringify(v);
          if (nonFiniteCount++ < 3) own(nonFinite, nonFinite.length, path + " is " + text(v));
          return "null";
        case "undefined": return inArray ? "null" : undefined;
        case "function": return fail(path, "a function, which JSON cannot carry");
        case "symbol": return fail(path, "a symbol, which JSON cannot carry");
        case "bigint": return fail(path, "a bigint, which JSON cannot carry; convert it to a string or number");
      }
      if (v === null) return "null";
      for (let i = 0; i < depth; i++) if (stack[i] === v) fail(path, "a reference back to itself (a cycle), which JSON cannot carry");
      let isMap = false, isSet = false;
      try { apply(mapSize, v, []); isMap = true; } catch {}
      try { apply(setSize, v, []); isSet = true; } catch {}
      if (isMap || isSet) fail(path, "a " + (isMap ? "Map" : "Set") + ", which JSON cannot carry; convert it (Object.fromEntries(map), [...set])");
      const then = v.then;
      // JSON would turn these into {} without a word; pi-dynamic-workflows refuses a promise too.
      if (typeof then === "function") fail(path, "a promise, which JSON cannot carry: await it (a missing await before agent(), parallel() or pipeline()?)");
      stack[depth++] = v;
      let out;
      if (isArray(v)) {
        const n = v.length;
        out = "[";
        for (let i = 0; i < n; i++) out += (i > 0 ? "," : "") + ser(v[i], RealString(i), pathOf(path, i), true);
        out += "]";
      } else {
        const keys = objectKeys(v);
        out = "{";
        let first = true;
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i];
          const s = ser(k === "then" ? then : v[k], k, pathOf(path, k), false);
          if (s === undefined) continue;
          out += (first ? "" : ",") + stringify(k) + ":" + s;
          first = false;
        }
        out += "}";
      }
      depth--;
      return out;
    }
    const json = ser(value, "", root, false);
    if (nonFiniteCount > 0) {
      let where = nonFinite[0];
      for (let i = 1; i < nonFinite.length; i++) where += ", " + nonFinite[i];
      if (nonFiniteCount > nonFinite.length) where += " and " + (nonFiniteCount - nonFinite.length) + " more";
      post("warn", where + ": JSON cannot carry " + (nonFiniteCount > 1 ? "these numbers" : "this number") + ", so " + (nonFiniteCount > 1 ? "they are" : "it is") + " recorded as null");
    }
    return json === undefined ? "null" : json;
  }

  function errorInfo(e) {
    if (e !== null && (typeof e === "object" || typeof e === "function")) {
      let n, m, name = "Error", message = "", stack = "";
      try { n = e.name; } catch {}
      try { m = e.message; } catch {}
      if (n === undefined && m === undefined) {
        return { __proto__: null, name, message: "the script threw a non-error value: " + text(e), stack: "" };
      }
      if (n !== undefined && n !== "") name = text(n);
      if (m !== undefined) message = text(m);
      try { const s = e.stack; if (typeof s === "string") stack = s; } catch {}
      return { __proto__: null, name, message, stack };
    }
    return { __proto__: null, name: "Error", message: "the script threw a non-error value: " + text(e), stack: "" };
  }
  const fail = (e) => { post("error", stringify(errorInfo(e))); };

  // E01: a refusal (options, schema, a limit) carries the stack of the call that was refused, so
  // an uncaught one names the script's line, not the bridge's.
  function withSite(e, site) {
    if (site) {
      try {
        const s = site.stack;
        if (typeof s === "string") { const nl = indexOf(s, "\n", 0); hidden(e, "stack", e.name + ": " + e.message + (nl < 0 ? "" : slice(s, nl))); }
      } catch {}
    }
    return e;
  }

  // One request to the engine; the promise is the context's and is settled by deliver().
  function request(kind, name, argsJson, map) {
    const id = nextId++;
    const p = await_(id, new RealError(), map);
    if (!post(kind, name, argsJson, id)) { const q = forget(id); q.reject(tooDeep()); }
    return p;
  }

  function agent(prompt, opts) {
    if (typeof prompt !== "string") return rejected(new RealTypeError("agent(prompt, opts): prompt must be a string, got " + (prompt === null ? "null" : typeof prompt)));
    if (opts !== undefined && (opts === null || typeof opts !== "object" || isArray(opts))) return rejected(new RealTypeError("agent(prompt, opts): opts must be an object"));
    let optsJson = "{}";
    if (opts !== undefined) {
      try { optsJson = toJson(opts, "opts"); } catch (e) { return rejected(e); }
    }
    return request("call", prompt, optsJson);
  }

  // W04: apply finished worktree agents' patches to the main tree; agents by number or label.
  function integrate(which, opts) {
    let argsJson;
    try {
      if (which !== undefined && which !== null && !isArray(which)) throw new RealTypeError("integrate(agents?, opts?): agents must be a list of agent numbers or labels");
      let list = "";
      if (isArray(which)) {
        const n = which.length;
        for (let i = 0; i < n; i++) {
          const w = which[i];
          if (typeof w !== "number" && typeof w !== "string") throw new RealTypeError("integrate(): each agent is a number or a label");
          list += (i > 0 ? "," : "") + (typeof w === "number" && !isFiniteNumber(w) ? "null" : stringify(w));
        }
      }
      const allowDirty = opts !== null && opts !== undefined && opts.allowDirty === true;
      argsJson = "{" + (isArray(which) ? '"which":[' + list + "]," : "") + '"allowDirty":' + (allowDirty ? "true" : "false") + "}";
    } catch (e) { return rejected(e); }
    return request("op", "integrate", argsJson);
  }

  // A11: a saved workflow or {scriptPath} run inline, sharing this run's limits and stop. The
  // engine finds and checks the script, then the worker compiles it in this context and calls
  // startNested, whose body gets its own args and a workflow() that refuses to nest deeper.
  function workflow(ref, wargs) {
    let refJson;
    try {
      if (typeof ref === "string" && ref !== "") refJson = '{"name":' + stringify(ref);
      else if (ref !== null && typeof ref === "object" && !isArray(ref)) {
        const path = ref.scriptPath;
        if (typeof path !== "string" || path === "") throw new RealTypeError("workflow(nameOrRef, args?): give a saved workflow's name or { scriptPath }");
        refJson = '{"scriptPath":' + stringify(path);
      } else throw new RealTypeError("workflow(nameOrRef, args?): give a saved workflow's name or { scriptPath }");
      if (wargs !== undefined) refJson += ',"args":' + toJson(wargs, "args");
      refJson += "}";
    } catch (e) { return rejected(e); }
    return request("op", "workflow", refJson);
  }

  // A14: wait for a person's approval; the engine answers true (approved) or false (rejected).
  function gate(title, opts) {
    let argsJson;
    try {
      if (typeof title !== "string" || title === "") throw new RealTypeError("gate(title, opts?): title must be a non-empty string");
      if (opts !== undefined && (opts === null || typeof opts !== "object" || isArray(opts))) throw new RealTypeError("gate(title, opts?): opts must be an object like { details }");
      argsJson = '{"title":' + stringify(title);
      if (opts !== undefined) {
        const details = opts.details;
        if (details !== undefined) argsJson += ',"details":' + toJson(details, "details");
      }
      argsJson += "}";
    } catch (e) { return rejected(e); }
    return request("op", "gate", argsJson, (v) => v === true);
  }

  function callerOf(stack) {
    let at = indexOf(stack, "\n", 0);
    while (at >= 0) {
      const next = indexOf(stack, "\n", at + 1);
      const l = slice(stack, at + 1, next < 0 ? stack.length : next);
      at = next;
      if (indexOf(l, "weft:bootstrap", 0) >= 0) continue;
      const m = apply(regexExec, /\(?([^()\s]+:\d+:\d+)\)?\s*$/, [l]);
      if (m !== null) return m[1];
    }
    return undefined;
  }
  function nestedWorkflow() {
    let where;
    try { where = callerOf(new RealError().stack); } catch {}
    throw new WorkflowError("NestingError", (where ? where + ": " : "") + "workflow() inside a nested workflow: nesting is one level; call it from the top-level script instead");
  }

  // Settle a context promise from the script's own promise, with the captured then.
  function follow(promise, onValue, onError) {
    apply(promiseThen, promise, [
      (v) => { try { onValue(v); } catch {} },
      (e) => { try { onError(e); } catch {} },
    ]);
  }

  function startNested(id, body, argsJson) {
    try {
      const p = forget(id);
      if (p === undefined) return;
      // No longer waiting on the engine: what the nested body awaits is pending instead (stall checks).
      let result;
      try { result = body(argsJson === undefined ? undefined : parse(argsJson), nestedWorkflow); }
      catch (e) { p.reject(e); return; }
      follow(result, p.resolve, p.reject);
    } catch {}
  }

  function checkList(list, fn) {
    if (!isArray(list)) throw new RealTypeError(fn + "() takes an array, got " + (list === null ? "null" : typeof list));
    const n = list.length;
    if (n > settings.maxListItems) {
      // C06: the engine counts it as a refusal by a limit (the run ends budget_exhausted).
      const reason = fn + "() got " + n + " items, more than the limit of " + settings.maxListItems + " (setting maxListItems)";
      post("refused", reason);
      throw new RealRangeError(reason);
    }
    return n;
  }
  const isDeterminism = (e) => { try { return e instanceof DeterminismError; } catch { return false; } };
  const described = (e) => { const i = errorInfo(e); return i.name + ": " + i.message; };

  // Promise.all without the script's Promise, then or array iterator: n slots, run(i) for each.
  function all(n, run) {
    return new RealPromise((resolve, reject) => {
      const out = [];
      let left = n;
      if (n === 0) { resolve(out); return; }
      for (let i = 0; i < n; i++) {
        follow(run(i), (v) => { own(out, i, v); if (--left === 0) resolve(out); }, reject);
      }
    });
  }

  function parallel(thunks) {
    let n;
    try { n = checkList(thunks, "parallel"); } catch (e) { return rejected(e); }
    const list = [];
    for (let i = 0; i < n; i++) own(list, i, thunks[i]);
    return all(n, async (i) => {
      const t = list[i];
      try { return await (typeof t === "function" ? t() : t); }
      catch (e) {
        if (isDeterminism(e)) throw e;
        post("warn", "parallel(): slot " + i + " threw " + described(e) + "; its result is null");
        return null;
      }
    });
  }

  function pipeline(items, ...stages) {
    let n;
    const list = [];
    try {
      n = checkList(items, "pipeline");
      for (let s = 0; s < stages.length; s++) if (typeof stages[s] !== "function") throw new RealTypeError("pipeline(items, ...stages): every stage must be a function");
      for (let i = 0; i < n; i++) own(list, i, items[i]);
    } catch (e) { return rejected(e); }
    return all(n, async (index) => {
      const item = list[index];
      let prev = item;
      for (let s = 0; s < stages.length; s++) {
        try { prev = await stages[s](prev, item, index); }
        catch (e) {
          if (isDeterminism(e)) throw e;
          post("warn", "pipeline(): item " + index + " stage " + (s + 1) + " threw " + described(e) + "; the item is null");
          return null;
        }
        if (prev === undefined) prev = null;
        // A05, as Claude Code: an item whose value became null (a stage returned null, or its
        // agent failed or was stopped) skips its later stages, which would start agents on nothing.
        if (prev === null) return null;
      }
      return prev;
    });
  }

  function show(x) {
    if (typeof x === "string") return x;
    try { const s = stringify(x); if (typeof s === "string") return s; } catch {}
    return text(x);
  }
  const fmt = (a) => { let s = ""; for (let i = 0; i < a.length; i++) s += (i > 0 ? " " : "") + show(a[i]); return s; };
  // A07; { budget } is the Pi ports' token sub-budget of the phase (A10's unit), checked by the engine.
  function phase(title, opts) {
    let budgetText = "";
    if (opts !== undefined && opts !== null && typeof opts !== "object") {
      // Claude Code's phase() takes a title only; a stray second argument must not fail a script.
      post("warn", "phase(title, opts?): the second argument is read only as { budget }; " + typeof opts + " ignored");
    } else if (opts !== undefined && opts !== null) {
      const b = opts.budget;
      if (b !== undefined && b !== null) {
        if (typeof b !== "number" || !isFiniteNumber(b) || b <= 0 || floor(b) !== b) throw new RealTypeError("phase(title, { budget }): budget must be a positive whole number of tokens");
        budgetText = RealString(b);
      }
    }
    post("phase", text(title), budgetText);
  }

  // ---- timers (S06, S07) ----
  // setTimeout asks the engine, which answers when the time has come, like an agent call: the
  // callback then runs inside a delivered batch, a timed slice of script work. The handle is a
  // number of the bridge's own (no host object crosses in), and a pending timer keeps the script
  // from counting as stalled. The run's end clears them all (the engine forgets its own timers).
  const MAX_DELAY = 2147483647;
  function setTimeout_(callback, ms, ...extra) {
    if (typeof callback !== "function") throw new RealTypeError("setTimeout(callback, ms): callback must be a function (a string is never evaluated)");
    let delay = +ms;
    if (!(delay >= 1)) delay = 1;
    if (delay > MAX_DELAY) {
      // As Node does (TimeoutOverflowWarning): a delay past 2^31 - 1 ms is 1 ms.
      post("warn", "setTimeout(): " + delay + " ms does not fit in a 32-bit signed integer; the delay is set to 1 ms");
      delay = 1;
    }
    delay = floor(delay);
    const list = [];
    for (let i = 0; i < extra.length; i++) own(list, i, extra[i]);
    const id = nextId++;
    pending[id] = { __proto__: null, resolve: () => fire(callback, list), reject: noop, site: undefined, map: undefined, timer: true };
    pendingCount++;
    if (!post("timer", RealString(delay), "", id)) { forget(id); throw tooDeep(); }
    return id;
  }
  function fire(callback, list) {
    try { apply(callback, undefined, list); }
    catch (e) {
      // As in Node, an exception in a timer callback is uncaught: the run fails with it.
      if (finished) return;
      finished = true;
      const info = errorInfo(e);
      info.message = "a setTimeout callback threw: " + info.message;
      post("error", stringify(info));
    }
  }
  function clearTimeout_(handle) {
    if (typeof handle !== "number") return;
    const p = pending[handle];
    if (p === undefined || p.timer !== true) return;
    forget(handle);
    post("untimer", RealString(handle));
  }
  function log(...a) { post("log", fmt(a)); }
  const warn = (...a) => { post("warn", fmt(a)); };
  const consoleObj = freeze({ log, info: log, debug: log, warn, error: warn });

  // Without a limit remaining() is Infinity, as in Claude Code and pi-dynamic-workflows: their
  // scripts loop "while (budget.remaining() > 50_000)", and with null such a loop would never run.
  const counter = (key, total) => freeze({
    total,
    spent: () => spent[key],
    remaining: () => (total === null ? Infinity : max(0, total - spent[key])),
  });
  const tokenBudget = counter("tokens", settings.budget);
  const budget = freeze({
    total: tokenBudget.total, spent: tokenBudget.spent, remaining: tokenBudget.remaining,
    agents: counter("agents", settings.maxAgents),
    costUsd: counter("costUsd", settings.maxCostUsd),
  });

  // The Pi ports' helpers and checkpoint(), made of the functions above (bootstrap-helpers.ts).
${HELPERS_SOURCE}
  define(G, "agent", agent);
  define(G, "parallel", parallel);
  define(G, "integrate", integrate);
  define(G, "workflow", workflow);
  define(G, "gate", gateEntry);
  define(G, "pipeline", pipeline);
  define(G, "phase", phase);
  define(G, "setTimeout", function setTimeout(callback, ms, ...extra) { return setTimeout_(callback, ms, ...extra); });
  define(G, "clearTimeout", function clearTimeout(handle) { clearTimeout_(handle); });
  define(G, "log", log);
  define(G, "console", consoleObj);
  define(G, "budget", budget);
  define(G, "args", settings.args === undefined ? undefined : parse(settings.args));
  define(G, "DeterminismError", DeterminismError);
  // pi-dynamic-workflows scripts read cwd and process.cwd(); nothing else of process exists.
  define(G, "cwd", settings.cwd);
  define(G, "process", freeze({ cwd: () => settings.cwd }));

  const field = (o, k) => (o !== null && typeof o === "object" && hasOwn(o, k) ? o[k] : undefined);
  function deliver(batchJson) {
    try {
      const batch = parse(batchJson);
      const s = field(batch, "spent");
      if (s !== undefined) { spent.tokens = field(s, "tokens"); spent.agents = field(s, "agents"); spent.costUsd = field(s, "costUsd"); }
      const results = field(batch, "results");
      for (let i = 0; i < results.length; i++) {
        try {
          const r = results[i];
          const p = forget(field(r, "id"));
          if (p === undefined) continue;
          if (field(r, "ok") === true) {
            const v = field(r, "value");
            const value = v === undefined ? null : v;
            p.resolve(p.map === undefined ? value : p.map(value));
          } else {
            const e = field(r, "error");
            p.reject(withSite(new WorkflowError(text(field(e, "name")), text(field(e, "message"))), p.site));
          }
        } catch {}
      }
    } catch {}
  }

  let finished = false;
  function start(body) {
    try {
      let result;
      try { result = body(); } catch (e) { finished = true; fail(e); return; }
      follow(result, (v) => {
        if (finished) return;
        finished = true;
        let json;
        try { json = toJson(v, "result"); } catch (e) { fail(e); return; }
        post("done", json);
      }, (e) => { if (!finished) { finished = true; fail(e); } });
    } catch {}
  }

  // A rejection nothing handled fails the run, as in Node; its reason is read here, in the
  // context, never by Node's own reporting in the host (S06).
  function unhandled(reason) {
    try {
      if (finished) return;
      finished = true;
      const info = errorInfo(reason);
      info.message = "a promise was rejected and nothing handled it: " + info.message;
      post("error", stringify(info));
    } catch {}
  }

  return freeze({ __proto__: null, deliver, start, startNested, unhandled, pendingCount: () => pendingCount });
})`;
