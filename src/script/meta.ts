/**
 * `export const meta = {...}` (SPEC S01): a pure literal, turned into JSON by walking the AST;
 * the script is never evaluated to read it.
 */
import type { Node } from "acorn";

export interface WorkflowMeta {
  name: string;
  description: string;
  whenToUse?: string;
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

export function literalValue(node: AnyNode): unknown {
  switch (node.type) {
    case "Literal":
      if (node.regex || typeof node.value === "bigint")
        throw new MetaProblem(
          node.start,
          `a ${node.regex ? "regular expression" : "bigint"} is not JSON; ${WHY}`,
        );
      return node.value;
    case "TemplateLiteral":
      if (node.expressions.length > 0) {
        throw new MetaProblem(node.expressions[0].start, `an interpolated template is not allowed; ${WHY}`);
      }
      return node.quasis[0].value.cooked;
    case "UnaryExpression":
      if (
        node.operator === "-" &&
        node.argument.type === "Literal" &&
        typeof node.argument.value === "number"
      ) {
        return -node.argument.value;
      }
      break;
    case "ArrayExpression":
      return node.elements.map((el: AnyNode | null, i: number) => {
        if (el === null) throw new MetaProblem(node.start, `array hole at index ${i}; ${WHY}`);
        if (el.type === "SpreadElement") throw new MetaProblem(el.start, `a spread is not allowed; ${WHY}`);
        return literalValue(el);
      });
    case "ObjectExpression": {
      const out: Record<string, unknown> = {};
      for (const p of node.properties as AnyNode[]) {
        if (p.type === "SpreadElement") throw new MetaProblem(p.start, `a spread is not allowed; ${WHY}`);
        if (p.computed) throw new MetaProblem(p.key.start, `a computed key is not allowed; ${WHY}`);
        if (p.kind !== "init" || p.method)
          throw new MetaProblem(p.start, `methods, getters and setters are not allowed; ${WHY}`);
        if (p.shorthand)
          throw new MetaProblem(p.start, `shorthand property "${p.key.name}" refers to a variable; ${WHY}`);
        const key = p.key.type === "Identifier" ? p.key.name : String(p.key.value);
        out[key] = literalValue(p.value);
      }
      return out;
    }
    case "Identifier":
      throw new MetaProblem(node.start, `identifier "${node.name}" is not allowed; ${WHY}`);
    case "CallExpression":
    case "NewExpression":
      throw new MetaProblem(node.start, `a call is not allowed; ${WHY}`);
  }
  throw new MetaProblem(node.start, `${node.type} is not allowed; ${WHY}`);
}

/** Check the shape S01 requires; `at` gives the offset of a key's value for errors. */
export function checkMeta(value: Record<string, unknown>, at: (key: string) => number): WorkflowMeta {
  const str = (key: string, required: boolean) => {
    const v = value[key];
    if (v === undefined && !required) return;
    if (typeof v !== "string" || v.trim() === "") {
      throw new MetaProblem(
        at(key),
        `meta.${key} must be a non-empty string${required ? " (required)" : ""}`,
      );
    }
  };
  str("name", true);
  str("description", true);
  str("whenToUse", false);
  const phases = value.phases;
  if (phases !== undefined) {
    const ok =
      Array.isArray(phases) &&
      phases.every(
        (p) =>
          p !== null &&
          typeof p === "object" &&
          typeof (p as Record<string, unknown>).title === "string" &&
          ["detail", "model"].every((k) => {
            const v = (p as Record<string, unknown>)[k];
            return v === undefined || typeof v === "string";
          }),
      );
    if (!ok)
      throw new MetaProblem(
        at("phases"),
        "meta.phases must be a list of {title, detail?, model?} with string values",
      );
  }
  const args = value.args;
  if (args !== undefined && (args === null || typeof args !== "object" || Array.isArray(args))) {
    throw new MetaProblem(at("args"), "meta.args must be a JSON Schema object");
  }
  return value as WorkflowMeta;
}
