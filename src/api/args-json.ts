/**
 * A run's `args` as JSON text (SPEC S02: "the same rules hold for --args"), on the host side, with
 * the sandbox's rules for a result (src/sandbox/bootstrap-source.ts, toJson): values JSON cannot
 * carry (functions, symbols, bigints, cycles, Promise, Map, Set) are refused naming their path;
 * NaN and the infinities become null with one warning naming where (`--args '{"n": 1e400}'`
 * parses to Infinity); undefined inside objects is dropped, inside arrays it is null.
 *
 * One pass that reads each property and each toJSON once, so what was checked is what is
 * recorded, as in the sandbox.
 */

export class ArgsJsonError extends Error {}

const IDENT = /^[A-Za-z_$][\w$]*$/;
const pathOf = (base: string, key: string | number) =>
  typeof key === "number"
    ? `${base}[${key}]`
    : IDENT.test(key)
      ? `${base}.${key}`
      : `${base}[${JSON.stringify(key)}]`;

/** How many non-finite paths the warning names before "and N more". */
const NAMED = 3;

export function argsToJson(value: unknown, root = "args"): { json: string; warning?: string } {
  const stack: object[] = [];
  const nonFinite: string[] = [];
  let count = 0;
  const fail = (path: string, what: string): never => {
    throw new ArgsJsonError(`${path} is ${what}`);
  };

  const ser = (input: unknown, key: string, path: string, inArray: boolean): string | undefined => {
    let v = input;
    if (v !== null && (typeof v === "object" || typeof v === "function")) {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") v = toJSON.call(v, key);
    }
    // Wrapper objects are read by their internal value, as JSON does.
    if (v instanceof Number) v = Number(v.valueOf());
    else if (v instanceof String) v = v.valueOf();
    else if (v instanceof Boolean) v = v.valueOf();
    switch (typeof v) {
      case "string":
        return JSON.stringify(v);
      case "boolean":
        return v ? "true" : "false";
      case "number":
        if (Number.isFinite(v)) return JSON.stringify(v);
        if (count++ < NAMED) nonFinite.push(`${path} is ${String(v)}`);
        return "null";
      case "undefined":
        return inArray ? "null" : undefined;
      case "function":
        return fail(path, "a function, which JSON cannot carry");
      case "symbol":
        return fail(path, "a symbol, which JSON cannot carry");
      case "bigint":
        return fail(path, "a bigint, which JSON cannot carry; convert it to a string or number");
    }
    if (v === null) return "null";
    const o = v as object;
    if (o instanceof BigInt)
      fail(path, "a bigint, which JSON cannot carry; convert it to a string or number");
    if (stack.includes(o)) fail(path, "a reference back to itself (a cycle), which JSON cannot carry");
    if (o instanceof Map || o instanceof Set) {
      fail(
        path,
        `a ${o instanceof Map ? "Map" : "Set"}, which JSON cannot carry; convert it (Object.fromEntries(map), [...set])`,
      );
    }
    if (typeof (o as { then?: unknown }).then === "function") {
      fail(path, "a promise, which JSON cannot carry: await it");
    }
    stack.push(o);
    let out: string;
    if (Array.isArray(o)) {
      out = `[${o.map((item, i) => ser(item, String(i), pathOf(path, i), true)).join(",")}]`;
    } else {
      const parts: string[] = [];
      for (const k of Object.keys(o)) {
        const s = ser((o as Record<string, unknown>)[k], k, pathOf(path, k), false);
        if (s !== undefined) parts.push(`${JSON.stringify(k)}:${s}`);
      }
      out = `{${parts.join(",")}}`;
    }
    stack.pop();
    return out;
  };

  const json = ser(value, "", root, false) ?? "null";
  if (count === 0) return { json };
  let where = nonFinite.join(", ");
  if (count > nonFinite.length) where += ` and ${count - nonFinite.length} more`;
  const warning = `${where}: JSON cannot carry ${count > 1 ? "these numbers" : "this number"}, so ${count > 1 ? "they are" : "it is"} recorded as null`;
  return { json, warning };
}
