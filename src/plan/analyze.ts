/**
 * `weft plan` (SPEC U06): reads a workflow script without running it. The script is loaded with
 * the same checks as a run (meta, forbidden syntax, TypeScript stripped with positions kept),
 * then its syntax tree is read for phase() calls, literal agent() calls with their options,
 * fan-out sites and what they iterate, and an estimate of how many agents it starts.
 *
 * Nothing here is a promise: a script decides at run time. Every number that rests on an
 * assumption says which (a fan-out over something unknown, a loop, a call under a condition).
 */
import { parse } from "acorn";
import { type LoadedScript, SCRIPT_PARSE_OPTIONS, type WorkflowMeta } from "../script/load.js";
import { clip, evaluate, type Origin, type Scope, type StaticValue } from "./static-value.js";

// acorn nodes, read by field name; `loc` is always there (parsed with locations).
type AnyNode = Record<string, any>;

export interface Count {
  n: number;
  exact: boolean;
  /** What the number assumes, one line each. */
  assumptions: string[];
}

export interface PlanOption {
  name: string;
  /** Given only when this holds (a conditional spread in the script). */
  when?: string;
  /** The option as written. */
  source: string;
  known: boolean;
  value?: unknown;
}

export interface PlanAgent {
  /** Number in source order, from 1 (not the run's agent numbers, which follow call order). */
  n: number;
  line: number;
  col: number;
  /** The prompt: its text when literal, a template with `${...}` kept, or the expression. */
  prompt: string;
  label?: string;
  /** The phase it would run in: `opts.phase`, or the last phase() call before it in the source. */
  phase?: string;
  options: PlanOption[];
  /** Lines of the fan-out sites it runs under, outermost first. */
  fanOuts: number[];
  /** Named function it is written in, whose calls decide how often it runs. */
  inFunction?: string;
  /** Under an if, a ternary, `&&`/`||`, a switch case or a catch. */
  conditional: boolean;
  /** How many times it is expected to run. */
  runs: Count;
}

export type FanOutKind =
  | "parallel"
  | "pipeline"
  | "map"
  | "flatMap"
  | "forEach"
  | "Array.from"
  | "for-of"
  | "for-in"
  | "loop";

export interface FanOut {
  line: number;
  kind: FanOutKind;
  /** The expression iterated, as written. */
  over: string;
  origin: Origin | { kind: "loop" };
  /** Items it iterates (for parallel, the thunks); for a literal `parallel([...])` its length. */
  count: Count;
  /** Agent calls written inside it. */
  agents: number[];
  /** Line of the parallel() call that runs the thunks this site makes, when one does. */
  parallel?: number;
}

export interface Plan {
  path: string;
  meta: WorkflowMeta;
  /** meta.phases, then the phase() calls of the script in source order. */
  phases: { title: string; detail?: string; lines: number[]; source: "meta" | "script" }[];
  agents: PlanAgent[];
  fanOuts: FanOut[];
  /** workflow() and integrate() calls: work the estimate does not count, or that writes files. */
  others: { line: number; call: string; note: string }[];
  estimate: {
    agents: Count;
    tokensPerAgent: number;
    tokensPerAgentSource: string;
    tokens: number;
    defaultFanOut: number;
    notCounted: string[];
  };
  args: { given: boolean; value?: unknown };
}

export interface PlanOptions {
  /** The args the run would get; undefined when not given. */
  args?: unknown;
  argsGiven?: boolean;
  /** Items assumed for a fan-out over something unknown before running. */
  defaultFanOut?: number;
  tokensPerAgent?: number;
  tokensPerAgentSource?: string;
}

export const DEFAULT_FAN_OUT = 8;
/** A stated guess: a coding agent's session with a few files read and a short answer. */
export const DEFAULT_TOKENS_PER_AGENT = 50_000;

const ITERATORS = new Set(["map", "flatMap", "forEach"]);
/** A14: the Pi ports' helpers that start agents of their own (not literal agent() calls), and checkpoint(). */
const HELPER_NOTES: Record<string, string> = {
  verify: "the Pi ports' verify(): starts `reviewers` agents (default 2), not counted here",
  judgePanel: "the Pi ports' judgePanel(): starts `judges` agents (default 3) per attempt, not counted here",
  completenessCheck: "the Pi ports' completenessCheck(): starts one agent, not counted here",
  checkpoint: "asks a person (where nobody can answer, takes its default at once)",
};
const isFunction = (n: AnyNode | undefined) =>
  n?.type === "ArrowFunctionExpression" ||
  n?.type === "FunctionExpression" ||
  n?.type === "FunctionDeclaration";
const calleeName = (n: AnyNode) => (n.callee?.type === "Identifier" ? (n.callee.name as string) : undefined);

export function planScript(script: LoadedScript, opts: PlanOptions = {}): Plan {
  const defaultFanOut = opts.defaultFanOut ?? DEFAULT_FAN_OUT;
  // Parsed as the stripped JavaScript; shown as written (same positions, types included).
  const source = script.code;
  const shown = script.source;
  const ast = parse(source, SCRIPT_PARSE_OPTIONS) as AnyNode;

  const parent = new Map<AnyNode, AnyNode>();
  const declarations = new Map<string, AnyNode[]>();
  const declare = (name: string, node: AnyNode) => {
    const list = declarations.get(name) ?? [];
    list.push(node);
    declarations.set(name, list);
  };
  const agentCalls: AnyNode[] = [];
  /** Lines where a variable is assigned after its declaration: its declared value may not last. */
  const assigned = new Map<string, number[]>();
  const phaseCalls: AnyNode[] = [];
  const identifiers: AnyNode[] = [];
  const otherCalls: AnyNode[] = [];
  walk(ast, undefined, (n, p) => {
    if (p) parent.set(n, p);
    if (n.type === "VariableDeclarator") for (const id of bound(n.id)) declare(id, n);
    if (isFunction(n)) {
      if (n.type === "FunctionDeclaration" && n.id) declare(n.id.name, n);
      for (const param of n.params)
        for (const id of bound(param)) declare(id, { type: "Param", start: n.start, fn: n });
    }
    if (n.type === "Identifier") identifiers.push(n);
    if (n.type === "AssignmentExpression" && n.left.type === "Identifier") {
      const list = assigned.get(n.left.name) ?? [];
      list.push(n.loc.start.line);
      assigned.set(n.left.name, list);
    }
    if (n.type === "CallExpression") {
      const name = calleeName(n);
      if (name === "agent") agentCalls.push(n);
      else if (name === "phase") phaseCalls.push(n);
      else if (name === "workflow" || name === "integrate" || (name && HELPER_NOTES[name]))
        otherCalls.push(n);
    }
  });

  const agentLineOf = new Map(agentCalls.map((c) => [c, c.loc.start.line as number]));
  const scope: Scope = {
    source: shown,
    args: opts.args,
    argsGiven: opts.argsGiven ?? opts.args !== undefined,
    declarationOf(name, at) {
      const list = declarations.get(name);
      if (!list) return undefined;
      let best: AnyNode | undefined;
      for (const d of list) if (d.start <= at && (!best || d.start > best.start)) best = d;
      return best ?? list[0];
    },
    agentLine(node) {
      return agentLineOf.get(node);
    },
  };
  const value = (n: AnyNode): StaticValue => evaluate(n, scope);
  const initOf = (id: AnyNode): AnyNode | undefined => {
    const d = scope.declarationOf(id.name, id.start);
    return d?.type === "VariableDeclarator" && d.id.type === "Identifier" ? d.init : undefined;
  };
  const text = (n: AnyNode) => clip(shown.slice(n.start, n.end));

  // Fan-out sites, found from the agent calls up: only sites with agents under them matter.
  const sites = new Map<AnyNode, FanOut>();
  /** `counted`: the expression whose length is the count, when not `over` itself (Array.from). */
  const siteOf = (node: AnyNode, kind: FanOutKind, over: AnyNode | undefined, counted = over): FanOut => {
    let site = sites.get(node);
    if (!site) {
      site = {
        line: node.loc.start.line,
        kind,
        over: over ? text(over) : text(node.test ?? node),
        origin: over ? value(over).origin : { kind: "loop" },
        count: counted
          ? countOf(counted, node.loc.start.line)
          : assumed(`the ${kind} at line ${node.loc.start.line}`),
        agents: [],
      };
      sites.set(node, site);
    }
    return site;
  };
  const assumed = (what: string): Count => ({
    n: defaultFanOut,
    exact: false,
    assumptions: [`${what}: assumed ${defaultFanOut} iterations (--fan-out)`],
  });
  const countOf = (over: AnyNode, line: number): Count => {
    const v = value(over);
    const notes = v.note ? [`line ${line}: ${v.note}`] : [];
    let root = over;
    while (
      root.type === "MemberExpression" ||
      root.type === "ChainExpression" ||
      root.type === "CallExpression"
    ) {
      root =
        root.type === "ChainExpression"
          ? root.expression
          : root.type === "CallExpression"
            ? root.callee
            : root.object;
    }
    const again = root.type === "Identifier" ? assigned.get(root.name) : undefined;
    if (again) {
      notes.push(
        `line ${line}: \`${root.name}\` is assigned again at line ${again.join(", ")}; counted from its declaration`,
      );
    }
    if (v.known && Array.isArray(v.value)) {
      if (v.upperBound) {
        return {
          n: v.value.length,
          exact: false,
          assumptions: [...notes, `line ${line}: at most ${v.value.length} (a filtered list)`],
        };
      }
      return { n: v.value.length, exact: true, assumptions: notes };
    }
    const o = v.origin;
    const why =
      o.kind === "args"
        ? v.known
          ? `${o.path} is not a list in the given args`
          : `${o.path} (not given: pass --args)`
        : o.kind === "agent"
          ? `the result of the agent() at line ${o.line}`
          : `\`${o.kind === "unknown" ? o.source : text(over)}\`, known only at run time`;
    return {
      n: defaultFanOut,
      exact: false,
      assumptions: [...notes, `line ${line}: ${why}: assumed ${defaultFanOut} items (--fan-out)`],
    };
  };

  /** The factors between `node` and the named function (or the program) it is written in. */
  const climb = (
    node: AnyNode,
    onSite?: (s: FanOut) => void,
  ): { count: Count; fn?: AnyNode; conditional: boolean; lines: number[] } => {
    let count: Count = { n: 1, exact: true, assumptions: [] };
    let conditional = false;
    const lines: number[] = [];
    const times = (c: Count) => {
      count = {
        n: count.n * c.n,
        exact: count.exact && c.exact,
        assumptions: [...count.assumptions, ...c.assumptions],
      };
    };
    let child = node;
    for (let p = parent.get(node); p; child = p, p = parent.get(p)) {
      let site: FanOut | undefined;
      if (
        p.type === "CallExpression" &&
        p.arguments.includes(child) &&
        (isFunction(child) || child.type === "Identifier")
      ) {
        const callee = p.callee.type === "ChainExpression" ? p.callee.expression : p.callee;
        const method =
          callee.type === "MemberExpression" && !callee.computed
            ? (callee.property.name as string)
            : undefined;
        if (method && ITERATORS.has(method)) site = siteOf(p, method as FanOutKind, callee.object);
        else if (
          method === "from" &&
          callee.object.type === "Identifier" &&
          callee.object.name === "Array" &&
          p.arguments[1] === child
        )
          // `Array.from({ length: 20 }, fn)` makes as many items as the list it builds: count that.
          site = siteOf(p, "Array.from", p.arguments[0], p);
        else if (calleeName(p) === "pipeline" && p.arguments.indexOf(child) >= 1)
          site = siteOf(p, "pipeline", p.arguments[0]);
      }
      if ((p.type === "ForOfStatement" || p.type === "ForInStatement") && p.body === child) {
        site = siteOf(p, p.type === "ForOfStatement" ? "for-of" : "for-in", p.right);
      }
      if (
        (p.type === "ForStatement" || p.type === "WhileStatement" || p.type === "DoWhileStatement") &&
        p.body === child
      ) {
        site = siteOf(p, "loop", undefined);
      }
      if (site) {
        times(site.count);
        lines.unshift(site.line);
        onSite?.(site);
      }
      if (calleeName(p) === "parallel") {
        const arg = p.arguments[0];
        const inner = arg === child ? sites.get(child) : undefined;
        if (inner) {
          // `parallel(xs.map((x) => () => agent(...)))`: one fan-out, the map's (which knows
          // what it iterates), run by parallel(); listed once.
          inner.parallel = p.loc.start.line;
        } else {
          const s = siteOf(p, "parallel", arg);
          if (arg?.type === "ArrayExpression")
            s.count = { n: arg.elements.length, exact: true, assumptions: [] };
          lines.unshift(s.line);
          onSite?.(s);
        }
      }
      const branch = (p.type === "IfStatement" || p.type === "ConditionalExpression") && p.test !== child;
      const test = branch ? value(p.test) : undefined;
      if (test?.known) {
        // A condition known from the args or the script's constants: taken, or never reached.
        const taken = Boolean(test.value) === (p.consequent === child);
        if (!taken) {
          times({
            n: 0,
            exact: true,
            assumptions: [
              `line ${p.loc.start.line}: \`${text(p.test)}\` is ${Boolean(test.value)}: not reached`,
            ],
          });
        }
      } else if (
        branch ||
        (p.type === "LogicalExpression" && p.right === child) ||
        p.type === "SwitchCase" ||
        p.type === "CatchClause"
      ) {
        conditional = true;
      }
      if (isFunction(p) && child !== p) {
        const name = functionName(p, parent);
        // A function passed along inline belongs to its caller; a named one to its call sites.
        if (name && !(parent.get(p)?.type === "CallExpression" && parent.get(p)!.arguments.includes(p))) {
          return { count, fn: p, conditional, lines };
        }
      }
    }
    return { count, conditional, lines };
  };

  const refsOf = (fn: AnyNode): AnyNode[] => {
    const name = functionName(fn, parent)!;
    return identifiers.filter((id) => {
      if (id.name !== name) return false;
      const p = parent.get(id);
      if (!p) return false;
      if (p.type === "VariableDeclarator" && p.id === id) return false;
      if (p.type === "FunctionDeclaration" && p.id === id) return false;
      if (p.type === "MemberExpression" && p.property === id && !p.computed) return false;
      if (p.type === "Property" && p.key === id && !p.shorthand) return false;
      return scope.declarationOf(name, id.start) === declOf(fn, parent);
    });
  };

  const runsOf = (
    node: AnyNode,
    depth: number,
    onSite?: (s: FanOut) => void,
  ): { count: Count; conditional: boolean; fn?: string } => {
    const c = climb(node, onSite);
    if (!c.fn) return { count: c.count, conditional: c.conditional };
    const name = functionName(c.fn, parent)!;
    if (depth > 8) {
      return {
        count: {
          ...c.count,
          exact: false,
          assumptions: [...c.count.assumptions, `${name}: calls nested too deep to follow, counted once`],
        },
        conditional: c.conditional,
        fn: name,
      };
    }
    let total: Count = { n: 0, exact: true, assumptions: [] };
    let conditional = c.conditional;
    for (const ref of refsOf(c.fn)) {
      const r = runsOf(ref, depth + 1, onSite);
      conditional ||= r.conditional;
      total = {
        n: total.n + r.count.n,
        exact: total.exact && r.count.exact,
        assumptions: [...total.assumptions, ...r.count.assumptions],
      };
    }
    return {
      count: {
        n: c.count.n * total.n,
        exact: c.count.exact && total.exact,
        assumptions: [...c.count.assumptions, ...total.assumptions],
      },
      conditional,
      fn: name,
    };
  };

  const phasesInSource = phaseCalls
    .map((c) => {
      const v = c.arguments[0] ? value(c.arguments[0]) : undefined;
      return {
        title: v?.known ? String(v.value) : c.arguments[0] ? `‹${text(c.arguments[0])}›` : "",
        line: c.loc.start.line as number,
        start: c.start as number,
      };
    })
    .sort((a, b) => a.start - b.start);

  const agents: PlanAgent[] = agentCalls
    .sort((a, b) => a.start - b.start)
    .map((c, i) => {
      const options = optionsOf(c.arguments[1], value, text, initOf);
      const get = (k: string) => options.find((o) => o.name === k);
      const display = (o: PlanOption | undefined) =>
        o ? (o.known && typeof o.value === "string" ? o.value : `‹${o.source}›`) : undefined;
      const touched: FanOut[] = [];
      const r = runsOf(c, 0, (s) => touched.push(s));
      for (const s of touched) if (!s.agents.includes(i + 1)) s.agents.push(i + 1);
      const before = phasesInSource.filter((p) => p.start < c.start).at(-1);
      const runs = r.conditional
        ? {
            ...r.count,
            exact: false,
            assumptions: [
              ...r.count.assumptions,
              `line ${c.loc.start.line}: under a condition, counted as if it runs`,
            ],
          }
        : r.count;
      return {
        n: i + 1,
        line: c.loc.start.line,
        col: c.loc.start.column + 1,
        prompt: promptOf(c.arguments[0], value, script.source),
        label: display(get("label")),
        phase: display(get("phase")) ?? before?.title,
        options,
        fanOuts: [...new Set(climb(c).lines)],
        inFunction: r.fn,
        conditional: r.conditional,
        runs,
      };
    });

  const total = agents.reduce<Count>(
    (t, a) => ({
      n: t.n + a.runs.n,
      exact: t.exact && a.runs.exact,
      assumptions: [...t.assumptions, ...a.runs.assumptions],
    }),
    { n: 0, exact: true, assumptions: [] },
  );
  total.assumptions = [...new Set(total.assumptions)];
  const others = otherCalls
    .sort((a, b) => a.start - b.start)
    .map((c) => ({
      line: c.loc.start.line as number,
      call: text(c),
      note:
        HELPER_NOTES[calleeName(c)!] ??
        (calleeName(c) === "workflow"
          ? "a nested workflow: its agents are not counted here (plan that script on its own)"
          : "applies worktree agents' patches to the working tree"),
    }));
  // A14: helpers start agents the count does not see: the figure is no longer exact.
  if (otherCalls.some((c) => /^(verify|judgePanel|completenessCheck)$/.test(calleeName(c) ?? "")))
    total.exact = false;
  const tokensPerAgent = opts.tokensPerAgent ?? DEFAULT_TOKENS_PER_AGENT;
  return {
    path: script.displayPath,
    meta: script.meta,
    phases: mergePhases(script.meta.phases ?? [], phasesInSource),
    agents,
    fanOuts: [...sites.entries()].sort(([a], [b]) => a.start - b.start).map(([, s]) => s),
    others,
    estimate: {
      agents: total,
      tokensPerAgent,
      tokensPerAgentSource: opts.tokensPerAgentSource ?? "default, --tokens-per-agent",
      tokens: total.n * tokensPerAgent,
      defaultFanOut,
      notCounted: [
        "retries, schema repairs and verify repairs (each one more start of an agent)",
        "early returns and thrown errors (every call is counted as reached)",
        ...(others.some((o) => o.call.startsWith("workflow")) ? ["agents of nested workflow() calls"] : []),
        ...(others.some((o) => /^(verify|judgePanel|completenessCheck)\b/.test(o.call))
          ? ["agents started by verify(), judgePanel() and completenessCheck()"]
          : []),
      ],
    },
    args: { given: scope.argsGiven, value: opts.args },
  };
}

/** meta.phases in order, each with the lines of its phase() calls; then phases only the script names. */
function mergePhases(
  declared: { title: string; detail?: string }[],
  called: { title: string; line: number }[],
): Plan["phases"] {
  const out: Plan["phases"] = declared.map((p) => ({
    title: p.title,
    detail: p.detail,
    lines: called.filter((c) => c.title === p.title).map((c) => c.line),
    source: "meta",
  }));
  for (const c of called) {
    const known = out.find((p) => p.title === c.title);
    if (known) {
      if (!known.lines.includes(c.line)) known.lines.push(c.line);
    } else out.push({ title: c.title, lines: [c.line], source: "script" });
  }
  return out;
}

function promptOf(node: AnyNode | undefined, value: (n: AnyNode) => StaticValue, source: string): string {
  if (!node) return "";
  const v = value(node);
  if (v.known && typeof v.value === "string") return v.value;
  if (node.type === "BinaryExpression" && node.operator === "+") {
    return promptOf(node.left, value, source) + promptOf(node.right, value, source);
  }
  if (node.type === "TemplateLiteral") {
    let s = "";
    node.quasis.forEach((q: AnyNode, i: number) => {
      s += q.value.cooked;
      const e = node.expressions[i];
      if (e) {
        const ev = value(e);
        s +=
          ev.known && (typeof ev.value === "string" || typeof ev.value === "number")
            ? String(ev.value)
            : `\${${source.slice(e.start, e.end)}}`;
      }
    });
    return s;
  }
  return `\${${source.slice(node.start, node.end)}}`;
}

/** A value with no part left unknown (unknown parts of a list or object are `undefined`). */
function complete(v: unknown): boolean {
  if (v === undefined) return false;
  if (Array.isArray(v)) return v.every(complete);
  if (v && typeof v === "object") return Object.values(v).every(complete);
  return true;
}

/**
 * The options of an agent() call. Spreads are followed through constants and conditionals
 * (`...(args.verify ? { verify: args.verify } : {})`), so an option given only sometimes is
 * still listed, with the condition it depends on.
 */
function optionsOf(
  node: AnyNode | undefined,
  value: (n: AnyNode) => StaticValue,
  text: (n: AnyNode) => string,
  initOf: (id: AnyNode) => AnyNode | undefined,
  when?: string,
  depth = 0,
): PlanOption[] {
  if (!node || depth > 8) return [];
  const cond = (o: PlanOption): PlanOption => (when ? { ...o, when } : o);
  if (node.type === "Identifier") {
    const init = initOf(node);
    if (init) return optionsOf(init, value, text, initOf, when, depth + 1);
  }
  if (node.type === "ConditionalExpression") {
    const test = text(node.test);
    return [
      ...optionsOf(node.consequent, value, text, initOf, when ? `${when} and ${test}` : test, depth + 1),
      ...optionsOf(
        node.alternate,
        value,
        text,
        initOf,
        when ? `${when} and not ${test}` : `not ${test}`,
        depth + 1,
      ),
    ];
  }
  if (node.type === "LogicalExpression" && node.operator === "&&") {
    const test = text(node.left);
    return optionsOf(node.right, value, text, initOf, when ? `${when} and ${test}` : test, depth + 1);
  }
  if (node.type !== "ObjectExpression") {
    const v = value(node);
    if (v.known && v.value && typeof v.value === "object") {
      return Object.entries(v.value).map(([name, val]) =>
        cond({ name, source: JSON.stringify(val), known: true, value: val }),
      );
    }
    return [cond({ name: "…", source: text(node), known: false })];
  }
  return (node.properties as AnyNode[]).flatMap((p) => {
    if (p.type === "SpreadElement") return optionsOf(p.argument, value, text, initOf, when, depth + 1);
    const name = p.computed
      ? `[${text(p.key)}]`
      : p.key.type === "Identifier"
        ? p.key.name
        : String(p.key.value);
    const v = value(p.value);
    const known = v.known && complete(v.value);
    return [cond({ name, source: text(p.value), known, ...(known ? { value: v.value } : {}) })];
  });
}

function functionName(fn: AnyNode, parent: Map<AnyNode, AnyNode>): string | undefined {
  if (fn.type === "FunctionDeclaration") return fn.id?.name;
  const p = parent.get(fn);
  if (p?.type === "VariableDeclarator" && p.init === fn && p.id.type === "Identifier") return p.id.name;
  return undefined;
}

function declOf(fn: AnyNode, parent: Map<AnyNode, AnyNode>): AnyNode {
  return fn.type === "FunctionDeclaration" ? fn : parent.get(fn)!;
}

/** Names a binding pattern introduces. */
function bound(pattern: AnyNode): string[] {
  switch (pattern?.type) {
    case "Identifier":
      return [pattern.name];
    case "ObjectPattern":
      return pattern.properties.flatMap((p: AnyNode) =>
        bound(p.type === "RestElement" ? p.argument : p.value),
      );
    case "ArrayPattern":
      return pattern.elements.flatMap((e: AnyNode | null) => (e ? bound(e) : []));
    case "AssignmentPattern":
      return bound(pattern.left);
    case "RestElement":
      return bound(pattern.argument);
  }
  return [];
}

function walk(
  node: AnyNode,
  parentNode: AnyNode | undefined,
  visit: (n: AnyNode, p: AnyNode | undefined) => void,
): void {
  visit(node, parentNode);
  for (const key in node) {
    if (key === "loc") continue;
    const v = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c.type === "string") walk(c, node, visit);
    } else if (v && typeof v === "object" && typeof v.type === "string") {
      walk(v, node, visit);
    }
  }
}
