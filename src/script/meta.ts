/**
 * `export const meta = {...}` (SPEC S01): a pure literal, turned into JSON by walking the AST;
 * the script is never evaluated to read it, so nothing runs before the checks pass.
 */
import type { Node } from "acorn";

export interface WorkflowMeta {
  name: string;
  description: string;
  whenToUse?: string;
  /** Default model of the run's agents (S01). */
  model?: string;
  phases?: { title: string; detail?: string; model?: string }[];
  /** A JSON Schema the run's args must satisfy. */
  args?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Where and what is wrong, by character offset; the loader turns it into a ScriptError. */
export class MetaProblem extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

type AnyNode = Node & Record<string, any>;

const WHY = "meta must be a literal: no identifiers, calls, spreads, computed keys or interpolated templates";

const WHAT: Record<string, string> = {
  ArrowFunctionExpression: "a function",
  FunctionExpression: "a function",
  ClassExpression: "a class",
  CallExpression: "a call",
  NewExpression: "a `new` expression",
  MemberExpression: "a property access",
  ChainExpression: "a property access",
  BinaryExpression: "an operator expression",
  LogicalExpression: "an operator expression",
  ConditionalExpression: "a conditional expression",
  AssignmentExpression: "an assignment",
  UpdateExpression: "an update expression",
  SequenceExpression: "a comma expression",
  TaggedTemplateExpression: "a tagged template",
  AwaitExpression: "an await expression",
  ThisExpression: "`this`",
  UnaryExpression: "an operator expression (only `-` before a number is allowed)",
};

function refuse(node: AnyNode, what: string): never {
  throw new MetaProblem(node.start, `${what} is not allowed; ${WHY}`);
}

function keyOf(p: AnyNode): string {
  return p.key.type === "Identifier" ? p.key.name : String(p.key.value);
}

/** The JSON value of a literal node; anything that is not plainly JSON is a MetaProblem at its node. */
export function literalValue(node: AnyNode): unknown {
  switch (node.type) {
    case "Literal":
      if (node.regex) refuse(node, "a regular expression");
      if (node.bigint !== undefined) refuse(node, "a bigint");
      if (typeof node.value === "number" && !Number.isFinite(node.value)) {
        refuse(node, "a number JSON cannot hold");
      }
      return node.value;
    case "TemplateLiteral":
      if (node.expressions.length > 0) refuse(node.expressions[0], "an interpolated template");
      return node.quasis[0].value.cooked;
    case "UnaryExpression":
      if (
        node.operator === "-" &&
        node.argument.type === "Literal" &&
        typeof node.argument.value === "number"
      ) {
        return -(literalValue(node.argument) as number);
      }
      return refuse(node, WHAT.UnaryExpression!);
    case "ArrayExpression":
      return node.elements.map((el: AnyNode | null, i: number) => {
        // A hole has no node; the array is the nearest place to point at.
        if (el === null) return refuse(node, `a hole in an array (index ${i})`);
        if (el.type === "SpreadElement") return refuse(el, "a spread (`...`)");
        return literalValue(el);
      });
    case "ObjectExpression": {
      const out: Record<string, unknown> = {};
      for (const p of node.properties as AnyNode[]) {
        if (p.type === "SpreadElement") refuse(p, "a spread (`...`)");
        if (p.computed) refuse(p.key, "a computed key (`[...]`)");
        if (p.kind !== "init" || p.method) refuse(p, "a method, getter or setter");
        if (p.shorthand) refuse(p, `the shorthand property \`${p.key.name}\` (it reads a variable)`);
        const key = keyOf(p);
        // In a literal, `__proto__: x` sets the prototype at run time instead of making a key, so
        // the script's `meta` would not be the meta that was checked.
        if (key === "__proto__") refuse(p.key, "a `__proto__` key");
        out[key] = literalValue(p.value);
      }
      return out;
    }
    case "Identifier":
      return refuse(node, `the identifier \`${node.name}\``);
  }
  return refuse(node, WHAT[node.type] ?? node.type);
}

/** The node a value path leads to (last duplicate key wins, as in JavaScript), or the nearest one. */
function nodeAt(root: AnyNode, path: (string | number)[]): AnyNode {
  let node = root;
  for (const step of path) {
    let next: AnyNode | undefined;
    if (typeof step === "number" && node.type === "ArrayExpression") next = node.elements[step];
    if (typeof step === "string" && node.type === "ObjectExpression") {
      next = (node.properties as AnyNode[]).findLast((p) => keyOf(p) === step)?.value;
    }
    if (!next) return node;
    node = next;
  }
  return node;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Reads `meta` from its object literal and checks the shape S01 requires. */
export function readMeta(init: AnyNode): WorkflowMeta {
  const value = literalValue(init) as Record<string, unknown>;
  const problem = (path: (string | number)[], message: string) =>
    new MetaProblem(nodeAt(init, path).start, message);
  const str = (obj: Record<string, unknown>, path: (string | number)[], required: boolean) => {
    const key = path[path.length - 1] as string;
    const v = obj[key];
    const shown = `meta.${path.join(".")}`;
    if (v === undefined) {
      if (required) throw problem(path.slice(0, -1), `${shown} is required (a non-empty string)`);
      return;
    }
    if (typeof v !== "string" || v.trim() === "") throw problem(path, `${shown} must be a non-empty string`);
  };

  str(value, ["name"], true);
  str(value, ["description"], true);
  str(value, ["whenToUse"], false);
  str(value, ["model"], false);
  if (value.phases !== undefined) {
    if (!Array.isArray(value.phases)) {
      throw problem(["phases"], "meta.phases must be a list of {title, detail?, model?}");
    }
    value.phases.forEach((phase: unknown, i: number) => {
      if (!isObject(phase))
        throw problem(["phases", i], `meta.phases.${i} must be an object {title, detail?, model?}`);
      str(phase, ["phases", i, "title"], true);
      str(phase, ["phases", i, "detail"], false);
      str(phase, ["phases", i, "model"], false);
    });
  }
  if (value.args !== undefined && !isObject(value.args)) {
    throw problem(["args"], "meta.args must be an object (a JSON Schema for the run's args)");
  }
  return value as WorkflowMeta;
}
