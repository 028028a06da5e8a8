/**
 * What an expression of a workflow script is worth without running it (U06): literals, `args`
 * paths read from the args given to `weft plan`, constants declared in the script, and a few
 * array methods. Anything else is unknown, with a description of where it comes from, so that
 * the plan can say why it had to guess.
 */

type AnyNode = Record<string, any>;

export type Origin =
  | { kind: "literal" }
  | { kind: "args"; path: string }
  | { kind: "agent"; line: number }
  | { kind: "unknown"; source: string };

export interface StaticValue {
  /** The value is known (it may be `undefined`, as a missing `args` field is). */
  known: boolean;
  value?: unknown;
  origin: Origin;
  /** Known only as an upper bound (a `.filter` of a known list). */
  upperBound?: boolean;
  /** How the value was arrived at when it rests on an assumption. */
  note?: string;
}

export interface Scope {
  source: string;
  /** `args` as the run would see them; `argsKnown` false means `weft plan` was given none to go on. */
  args: unknown;
  argsGiven: boolean;
  /** The declaration that binds a name, nearest before `at`; undefined when there is none. */
  declarationOf(name: string, at: number): AnyNode | undefined;
  /** The agent() call inside an expression, if the expression is (an await of) one. */
  agentLine(node: AnyNode): number | undefined;
}

const unknown = (scope: Scope, node: AnyNode): StaticValue => ({
  known: false,
  origin: { kind: "unknown", source: clip(scope.source.slice(node.start, node.end)) },
});

export const clip = (s: string, max = 80): string => {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
};

/** `args.a.b` (also `args?.a`) as its path, or undefined when `node` is not rooted at `args`. */
export function argsPath(node: AnyNode): string | undefined {
  let n = node.type === "ChainExpression" ? node.expression : node;
  const parts: string[] = [];
  while (n.type === "MemberExpression") {
    if (n.computed) {
      if (n.property.type !== "Literal") return undefined;
      parts.unshift(String(n.property.value));
    } else parts.unshift(n.property.name);
    n = n.object;
  }
  return n.type === "Identifier" && n.name === "args" ? ["args", ...parts].join(".") : undefined;
}

function getPath(value: unknown, path: string): unknown {
  let v = value;
  for (const p of path.split(".").slice(1)) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

export function evaluate(node: AnyNode, scope: Scope, depth = 0): StaticValue {
  if (depth > 20) return unknown(scope, node);
  const ev = (n: AnyNode) => evaluate(n, scope, depth + 1);
  switch (node.type) {
    case "Literal":
      return { known: !node.regex, value: node.value, origin: { kind: "literal" } };
    case "TemplateLiteral": {
      const parts = node.expressions.map(ev);
      if (parts.every((p: StaticValue) => p.known)) {
        let s = "";
        node.quasis.forEach((q: AnyNode, i: number) => {
          s += q.value.cooked + (i < parts.length ? String(parts[i].value) : "");
        });
        return { known: true, value: s, origin: { kind: "literal" } };
      }
      return unknown(scope, node);
    }
    case "ArrayExpression": {
      const items: unknown[] = [];
      let known = true;
      for (const el of node.elements as (AnyNode | null)[]) {
        if (!el) items.push(undefined);
        else if (el.type === "SpreadElement") {
          const v = ev(el.argument);
          if (v.known && Array.isArray(v.value)) items.push(...v.value);
          else known = false;
        } else {
          // The list's length is what a fan-out needs: unknown elements still count.
          const v = ev(el);
          items.push(v.known ? v.value : undefined);
        }
      }
      return known ? { known, value: items, origin: { kind: "literal" } } : unknown(scope, node);
    }
    case "ObjectExpression": {
      const out: Record<string, unknown> = {};
      for (const p of node.properties as AnyNode[]) {
        if (p.type !== "Property" || p.computed) return unknown(scope, node);
        const v = ev(p.value);
        out[p.key.type === "Identifier" ? p.key.name : String(p.key.value)] = v.known ? v.value : undefined;
      }
      return { known: true, value: out, origin: { kind: "literal" } };
    }
    case "UnaryExpression":
      if (node.operator === "!") {
        const v = ev(node.argument);
        return v.known ? { known: true, value: !v.value, origin: { kind: "literal" } } : v;
      }
      if (node.operator === "-" && node.argument.type === "Literal") {
        return { known: true, value: -node.argument.value, origin: { kind: "literal" } };
      }
      return unknown(scope, node);
    case "BinaryExpression": {
      if (node.operator !== "+") return unknown(scope, node);
      const l = ev(node.left);
      const r = ev(node.right);
      if (l.known && r.known && (typeof l.value === "string" || typeof r.value === "string")) {
        return { known: true, value: String(l.value) + String(r.value), origin: { kind: "literal" } };
      }
      if (l.known && r.known && typeof l.value === "number" && typeof r.value === "number") {
        return { known: true, value: l.value + r.value, origin: { kind: "literal" } };
      }
      return unknown(scope, node);
    }
    case "AwaitExpression":
    case "ParenthesizedExpression":
      return ev(node.argument ?? node.expression);
    case "ChainExpression":
      return ev(node.expression);
    case "LogicalExpression": {
      const left = ev(node.left);
      if (!left.known) {
        // Without --args, `args?.x ?? fallback` is read as the script's own fallback, and said so.
        if (left.origin.kind === "args" && node.operator !== "&&") {
          const right = ev(node.right);
          return { ...right, note: `${left.origin.path} not given (--args): the script's fallback` };
        }
        return left;
      }
      const v = left.value;
      const takeRight =
        node.operator === "??" ? v === null || v === undefined : node.operator === "||" ? !v : !!v;
      return takeRight ? ev(node.right) : left;
    }
    case "Identifier": {
      if (node.name === "args") {
        return { known: scope.argsGiven, value: scope.args, origin: { kind: "args", path: "args" } };
      }
      if (node.name === "undefined") return { known: true, value: undefined, origin: { kind: "literal" } };
      const decl = scope.declarationOf(node.name, node.start);
      if (!decl) return unknown(scope, node);
      return fromDeclaration(decl, node.name, scope, depth);
    }
    case "MemberExpression": {
      const path = argsPath(node);
      if (path) {
        return scope.argsGiven
          ? { known: true, value: getPath(scope.args, path), origin: { kind: "args", path } }
          : { known: false, origin: { kind: "args", path } };
      }
      const obj = ev(node.object);
      const key = node.computed ? ev(node.property) : { known: true, value: node.property.name };
      if (obj.known && key.known && obj.value !== null && typeof obj.value === "object") {
        const value = (obj.value as Record<string, unknown>)[String(key.value)];
        return { ...obj, value };
      }
      if (!obj.known && obj.origin.kind === "agent") return obj;
      return obj.known ? unknown(scope, node) : { ...obj, origin: deeper(obj.origin, node, scope) };
    }
    case "CallExpression":
      return call(node, scope, depth);
  }
  return unknown(scope, node);
}

/** A property of something unknown is unknown for the same reason (an agent's result, a parameter). */
function deeper(origin: Origin, node: AnyNode, scope: Scope): Origin {
  return origin.kind === "unknown"
    ? { kind: "unknown", source: clip(scope.source.slice(node.start, node.end)) }
    : origin;
}

function call(node: AnyNode, scope: Scope, depth: number): StaticValue {
  const ev = (n: AnyNode) => evaluate(n, scope, depth + 1);
  const line = scope.agentLine(node);
  if (line !== undefined) return { known: false, origin: { kind: "agent", line } };
  const callee = node.callee.type === "ChainExpression" ? node.callee.expression : node.callee;
  if (callee.type !== "MemberExpression" || callee.computed) return unknown(scope, node);
  const method = callee.property.name as string;
  // Array.from({ length: n }) and Object.keys/values/entries(x).
  if (callee.object.type === "Identifier" && callee.object.name === "Array" && method === "from") {
    const src = node.arguments[0] ? ev(node.arguments[0]) : undefined;
    if (src?.known && src.value && typeof src.value === "object") {
      const o = src.value as { length?: unknown };
      const list = Array.isArray(o)
        ? o
        : typeof o.length === "number"
          ? Array.from({ length: o.length })
          : undefined;
      if (list) return { known: true, value: list, origin: src.origin };
    }
    return src && !src.known ? src : unknown(scope, node);
  }
  if (callee.object.type === "Identifier" && callee.object.name === "Object" && node.arguments[0]) {
    const src = ev(node.arguments[0]);
    if (!src.known) return src;
    if (src.value && typeof src.value === "object" && ["keys", "values", "entries"].includes(method)) {
      const o = src.value as Record<string, unknown>;
      const value =
        method === "keys" ? Object.keys(o) : method === "values" ? Object.values(o) : Object.entries(o);
      return { ...src, value };
    }
    return unknown(scope, node);
  }
  const target = ev(callee.object);
  if (!target.known) return target;
  if (!Array.isArray(target.value)) return unknown(scope, node);
  const list = target.value;
  switch (method) {
    case "slice": {
      const a = node.arguments.map(ev);
      if (a.every((x: StaticValue) => x.known)) {
        return { ...target, value: list.slice(...(a.map((x: StaticValue) => x.value) as number[])) };
      }
      return unknown(scope, node);
    }
    case "map":
    case "concat":
      return method === "map" ? { ...target, value: list.map(() => undefined) } : unknown(scope, node);
    case "filter":
      // Which items pass is only known by running: the list's length is an upper bound.
      return { ...target, upperBound: true };
  }
  return unknown(scope, node);
}

function fromDeclaration(decl: AnyNode, name: string, scope: Scope, depth: number): StaticValue {
  // decl is a VariableDeclarator, a parameter, or a for-of binding.
  if (decl.type === "VariableDeclarator" && decl.init) {
    const whole = evaluate(decl.init, scope, depth + 1);
    if (decl.id.type === "Identifier") return whole;
    // `const { files } = await agent(...)`: the field of the whole.
    const key = patternKey(decl.id, name);
    if (key === undefined) return { known: false, origin: whole.origin };
    if (!whole.known) return whole;
    const v = whole.value as Record<string, unknown> | undefined;
    return { ...whole, value: v?.[key] };
  }
  return { known: false, origin: { kind: "unknown", source: name } };
}

function patternKey(pattern: AnyNode, name: string): string | undefined {
  if (pattern.type !== "ObjectPattern") return undefined;
  for (const p of pattern.properties as AnyNode[]) {
    const target = p.value?.type === "AssignmentPattern" ? p.value.left : p.value;
    if (p.type === "Property" && target?.type === "Identifier" && target.name === name && !p.computed) {
      return p.key.type === "Identifier" ? p.key.name : String(p.key.value);
    }
  }
  return undefined;
}
