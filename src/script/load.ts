/**
 * Loads a workflow script: read, strip TypeScript (positions kept), parse, check `meta` (S01) and
 * forbidden syntax (S03). Errors are ScriptErrors pointing into the original file (E01, S04).
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type Node, parse } from "acorn";
import { positionOf, ScriptError } from "./errors.js";
import { checkMeta, literalValue, MetaProblem, type WorkflowMeta } from "./meta.js";

export type { WorkflowMeta } from "./meta.js";

export interface LoadedScript {
  /** The path as the user gave it (used in every error and stack trace). */
  displayPath: string;
  absPath?: string;
  /** The original text. */
  source: string;
  /** Plain JavaScript with the same line and column positions as `source`; `meta` stays declared. */
  code: string;
  meta: WorkflowMeta;
  isTs: boolean;
  /** The script has a "worktree" string literal: it may ask for worktree isolation (W06 is checked before the run). */
  usesWorktrees: boolean;
}

type AnyNode = Node & Record<string, any>;

const isTsPath = (p: string) => /\.[cm]?ts$/.test(p);

export async function loadScriptFile(pathAsGiven: string, cwd: string): Promise<LoadedScript> {
  const absPath = resolve(cwd, pathAsGiven);
  let source: string;
  try {
    source = await readFile(absPath, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "it is a directory" : err.message;
    throw new ScriptError(pathAsGiven, 1, 1, "ScriptError", `cannot read script: ${why}`);
  }
  return { ...(await loadScriptSource(source, pathAsGiven, isTsPath(pathAsGiven))), absPath };
}

export async function loadScriptSource(
  source: string,
  displayPath: string,
  isTs: boolean,
): Promise<LoadedScript> {
  const fail = (offset: number, kind: string, message: string): never => {
    const { line, col } = positionOf(source, offset);
    throw new ScriptError(displayPath, line, col, kind, message);
  };

  let js = source;
  if (isTs) {
    // Loaded on demand: the TypeScript compiler behind ts-blank-space takes ~0.6 s to import,
    // which every `weft` command would otherwise pay.
    const { default: tsBlankSpace } = await import("ts-blank-space");
    let unsupported: { pos: number; kind: number } | undefined;
    js = tsBlankSpace(source, (n) => {
      // n.pos includes the leading trivia (the node has no source file to ask for its start).
      let pos = n.pos;
      while (pos < source.length && /\s/.test(source[pos]!)) pos++;
      unsupported ??= { pos, kind: n.kind };
    });
    if (unsupported) {
      fail(
        unsupported.pos,
        "UnsupportedTypeScript",
        "this TypeScript syntax has run-time meaning (enum, namespace, parameter property, ...) and cannot be stripped; use plain objects and functions",
      );
    }
  }

  let ast: AnyNode;
  try {
    ast = parse(js, {
      ecmaVersion: "latest",
      sourceType: "module",
      allowReturnOutsideFunction: true,
      allowAwaitOutsideFunction: true,
      locations: true,
    }) as AnyNode;
  } catch (e) {
    const err = e as SyntaxError & { pos?: number; loc?: { line: number; column: number } };
    const message = err.message.replace(/ \(\d+:\d+\)$/, "");
    if (err.loc) throw new ScriptError(displayPath, err.loc.line, err.loc.column + 1, "SyntaxError", message);
    throw new ScriptError(displayPath, 1, 1, "SyntaxError", message);
  }

  const body = ast.body as AnyNode[];
  const first = body[0];
  const decl = first?.type === "ExportNamedDeclaration" ? first.declaration : undefined;
  const declarator =
    decl?.type === "VariableDeclaration" && decl.kind === "const" ? decl.declarations[0] : undefined;
  if (
    !first ||
    !declarator ||
    decl.declarations.length !== 1 ||
    declarator.id.type !== "Identifier" ||
    declarator.id.name !== "meta" ||
    !declarator.init
  ) {
    fail(
      first?.start ?? 0,
      "MetaError",
      "the first statement must be `export const meta = { name, description, ... }`",
    );
  }
  if (declarator.init.type !== "ObjectExpression") {
    fail(declarator.init.start, "MetaError", "meta must be an object literal");
  }
  let meta: WorkflowMeta;
  try {
    const value = literalValue(declarator.init) as Record<string, unknown>;
    const at = (key: string) =>
      (declarator.init.properties as AnyNode[]).find(
        (p) => (p.key?.type === "Identifier" ? p.key.name : p.key?.value) === key,
      )?.value?.start ?? declarator.init.start;
    meta = checkMeta(value, at);
  } catch (e) {
    if (e instanceof MetaProblem) fail(e.offset, "MetaError", e.message);
    throw e;
  }

  for (const stmt of body.slice(1)) {
    if (stmt.type.startsWith("Export")) {
      fail(stmt.start, "ForbiddenSyntax", "only `export const meta` may be exported from a workflow script");
    }
  }
  let usesWorktrees = false;
  walk(ast, (n) => {
    if (n.type === "Literal" && n.value === "worktree") usesWorktrees = true;
    if (n.type === "TemplateElement" && n.value.cooked === "worktree") usesWorktrees = true;
    if (n.type === "ImportDeclaration") {
      fail(
        n.start,
        "ForbiddenSyntax",
        "import is not available in workflow scripts: the script runs in a sandbox without modules",
      );
    }
    if (n.type === "ImportExpression") {
      fail(
        n.start,
        "ForbiddenSyntax",
        "import() is not available in workflow scripts: the script runs in a sandbox without modules",
      );
    }
    if (n.type === "MetaProperty" && n.meta.name === "import") {
      fail(n.start, "ForbiddenSyntax", "import.meta is not available in workflow scripts");
    }
    if (n.type === "CallExpression" && n.callee.type === "Identifier" && n.callee.name === "require") {
      fail(
        n.start,
        "ForbiddenSyntax",
        "require is not available in workflow scripts: the script has no Node API; ask an agent to do the work",
      );
    }
  });

  // `export` becomes spaces so the body is a plain script with unchanged positions.
  const at = first!.start;
  const code = `${js.slice(0, at)}${" ".repeat("export".length)}${js.slice(at + "export".length)}`;
  return { displayPath, source, code, meta, isTs, usesWorktrees };
}

function walk(node: AnyNode, visit: (n: AnyNode) => void): void {
  visit(node);
  for (const key in node) {
    if (key === "loc") continue;
    const v = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c.type === "string") walk(c, visit);
    } else if (v && typeof v === "object" && typeof v.type === "string") {
      walk(v, visit);
    }
  }
}
